//! Rows of an existing txt2h5 output into a new one, for merge and append.
//!
//! Where a chunk of the source lands exactly on a chunk of the output (the output is at a
//! chunk boundary, the source's chunk is whole, and chunk size and filters agree) its stored
//! bytes are copied as they are; everything else is read as records and re-chunked. An
//! append always starts at row 0, so all of the existing file's whole chunks copy as stored.
//! The source's position index moves along with its rows; a source written before the
//! index existed is indexed first by reading its rows ([`index_of`]).
//!
//! Nothing damaged is copied on. A chunk copied as stored is checked first: against its
//! Fletcher32 checksum ([`crate::codec::checksum`], by the row reader), which it keeps: the
//! chunk is summed once. A source
//! written before txt2h5 stored checksums has none to check, so each of its chunks is
//! decoded once ([`verify_by_decoding`]): that finds what the codec itself can tell, which
//! is all of a gzip chunk's damage (zlib's Adler-32), a zstd, lz4 or blosc chunk's damage
//! only where it breaks the stream's structure or sizes (a changed byte inside a literal
//! run decodes to wrong records without a word), and nothing of a raw chunk. Such a
//! source's chunks leave with a checksum from here on. Rows that are re-chunked are decoded
//! by HDF5, through the same filters and checks.

use std::borrow::Cow;
use std::path::Path;

use crate::codec::{append_checksum, ChunkDecompressor, Compression, CHECKSUM_BYTES};
use crate::error::{Error, Result};
use crate::h5::{damaged_chunk_error, ExistingOutput};
use crate::index::build::IndexBuilder;
use crate::index::stretches::stretches;
use crate::index::PositionIndex;
use crate::memory::reserve;
use crate::output::chunker::{ChunkError, Chunker};
use crate::schema::Fields;
use crate::signals::Interrupt;

/// How rows were copied.
#[derive(Clone, Copy, Debug, Default)]
pub struct Copied {
    pub stored_chunks: u64,
    pub rechunked_rows: u64,
}

/// Where copied rows go: the output's chunker and index, and the row of `/sources` the
/// source's first source becomes.
pub struct CopyTarget<'a, 'w> {
    pub chunker: &'a mut Chunker<'w>,
    pub index: &'a mut IndexBuilder,
    pub compression: Compression,
    pub source_base: u32,
    pub output: &'a Path,
}

/// Appends every row of `source`, whose index is `source_index` (see [`index_of`]).
pub fn copy_rows(
    source: &ExistingOutput,
    source_index: &PositionIndex,
    target: CopyTarget<'_, '_>,
    interrupt: &Interrupt,
) -> Result<Copied> {
    let CopyTarget {
        chunker,
        index,
        compression,
        source_base,
        output,
    } = target;
    let output_error = |error: ChunkError| error.into_error(output);
    let source_error = |error| Error::hdf5(&source.study.path, error);
    let chunk = chunker.chunk_rows() as u64;
    // The chunker notes the anchors of the output's own chunks.
    index.add_runs(source_index.rebased(chunker.rows(), source_base).runs);
    let same_storage = source.chunk_rows as u64 == chunk && source.compression == compression;
    let reader = source
        .rows_reader()
        .map_err(|error| error.into_error(&source.study.path, "read"))?;
    let mut copied = Copied::default();
    let mut buffer = Vec::new();
    let mut decoding = Decoding::default();
    let mut row = 0;
    while row < source.study.rows {
        if let Some(signal) = interrupt.received() {
            return Err(Error::Interrupted { signal });
        }
        let count = chunk.min(source.study.rows - row);
        // A whole chunk of the source that lands on a whole chunk of the output, whose
        // first pos the source's index gives.
        let first_pos = source_index.anchor_at(row).map(|anchor| anchor.pos);
        let aligned = same_storage
            && count == chunk
            && chunker.at_chunk_boundary()
            && row % chunk == 0
            && first_pos.is_some();
        if aligned
            && reader
                .read_stored_chunk_unchecked(row / chunk, source.chunk_rows, &mut buffer)
                .map_err(source_error)?
        {
            // A checksummed chunk keeps the sum it was verified against (HDF5 reads either
            // byte order), so it is summed once; one without gets its sum here.
            let sum: Option<[u8; CHECKSUM_BYTES]> = match reader.has_checksum() {
                true => buffer
                    .len()
                    .checked_sub(CHECKSUM_BYTES)
                    .map(|at| buffer[at..].try_into().expect("four bytes")),
                false => None,
            };
            reader
                .check_stored_chunk(row / chunk, source.chunk_rows, &mut buffer)
                .map_err(source_error)?;
            match sum {
                // `check_stored_chunk` only truncated: the room is there.
                Some(sum) => buffer.extend_from_slice(&sum),
                None => {
                    let stored = StoredChunk {
                        bytes: &buffer,
                        compression,
                        record_size: chunker.record_size(),
                        chunk_rows: source.chunk_rows,
                        index: row / chunk,
                    };
                    verify_by_decoding(&stored, &mut decoding).map_err(source_error)?;
                    let checked = buffer.len() + CHECKSUM_BYTES;
                    reserve(&mut buffer, checked, "a copied chunk")?;
                    append_checksum(&mut buffer);
                }
            }
            chunker
                .push_stored(std::mem::take(&mut buffer), first_pos.expect("aligned"))
                .map_err(output_error)?;
            copied.stored_chunks += 1;
        } else {
            reader
                .read_rows(row, count, &mut buffer)
                .map_err(source_error)?;
            chunker.push(&buffer).map_err(output_error)?;
            copied.rechunked_rows += count;
        }
        row += count;
    }
    Ok(copied)
}

/// A chunk of a source as stored, with what decoding it takes.
struct StoredChunk<'a> {
    bytes: &'a [u8],
    compression: Compression,
    record_size: usize,
    chunk_rows: usize,
    index: u64,
}

/// The decoder and records buffer [`verify_by_decoding`] reuses from chunk to chunk.
#[derive(Default)]
struct Decoding {
    decompressor: ChunkDecompressor,
    records: Vec<u8>,
}

/// Decodes a stored chunk that has no checksum (see the module doc) and returns an error
/// naming the chunk and its rows if it does not decode.
fn verify_by_decoding(chunk: &StoredChunk<'_>, decoding: &mut Decoding) -> hdf5::Result<()> {
    if chunk.compression == Compression::None {
        // Raw records: nothing to decode, nothing to check.
        return Ok(());
    }
    let bytes = chunk.chunk_rows * chunk.record_size;
    decoding.records.resize(bytes, 0);
    decoding
        .decompressor
        .decompress_bytes(
            chunk.compression,
            chunk.bytes,
            chunk.record_size,
            chunk.chunk_rows,
            0..chunk.chunk_rows,
            std::slice::from_ref(&(0..chunk.record_size)),
            &mut decoding.records,
        )
        .map_err(|why| damaged_chunk_error(chunk.index, chunk.chunk_rows, &why.to_string()))
}

/// The position index of `source`: its own, or, for an output written before the index
/// existed, one built by reading its rows, source by source.
pub fn index_of<'s>(
    source: &'s ExistingOutput,
    interrupt: &Interrupt,
) -> Result<Cow<'s, PositionIndex>> {
    if let Some(index) = &source.study.index {
        return Ok(Cow::Borrowed(index));
    }
    let source_error = |error| Error::hdf5(&source.study.path, error);
    let reader = source
        .rows_reader()
        .map_err(|error| error.into_error(&source.study.path, "read"))?;
    let fields = Fields::of(&source.study.schema);
    let chunk = source.chunk_rows as u64;
    let mut builder = IndexBuilder::default();
    let (mut buffer, mut found) = (Vec::new(), Vec::new());
    for (number, file) in source.study.sources.iter().enumerate() {
        let mut row = file.first_row;
        let end = file.first_row + file.rows;
        while row < end {
            if let Some(signal) = interrupt.received() {
                return Err(Error::Interrupted { signal });
            }
            // Up to the next chunk start, so that every chunk's first row is read.
            let count = (chunk - row % chunk).min(end - row);
            reader
                .read_rows(row, count, &mut buffer)
                .map_err(source_error)?;
            if row % chunk == 0 {
                builder.add_anchor(crate::index::Anchor {
                    row,
                    pos: fields.pos(&buffer),
                });
            }
            found.clear();
            stretches(&buffer, &fields, &mut found);
            builder.add_stretches(number as u32, row, &buffer, &fields, &found);
            row += count;
        }
    }
    Ok(Cow::Owned(builder.finish()))
}
