//! Rows of an existing txt2h5 output into a new one, for merge and append.
//!
//! Where a chunk of the source lands exactly on a chunk of the output (the output is at a
//! chunk boundary, the source's chunk is whole, and chunk size and filters agree) its stored
//! bytes are copied as they are; everything else is read as records and re-chunked. An
//! append always starts at row 0, so all of the existing file's whole chunks copy as stored.

use std::path::Path;

use crate::error::{Error, Result};
use crate::output::chunker::Chunker;
use crate::output::h5::{Compression, ExistingOutput};
use crate::signals::Interrupt;

/// How rows were copied.
#[derive(Clone, Copy, Debug, Default)]
pub struct Copied {
    pub stored_chunks: u64,
    pub rechunked_rows: u64,
}

/// Appends every row of `source` to `chunker`, whose output has `compression`.
pub fn copy_rows(
    source: &ExistingOutput,
    chunker: &mut Chunker<'_>,
    compression: Compression,
    interrupt: &Interrupt,
    output: &Path,
) -> Result<Copied> {
    let output_error = |error| Error::hdf5(output, error);
    let source_error = |error| Error::hdf5(&source.path, error);
    let chunk = chunker.chunk_rows() as u64;
    let same_layout = source.chunk_rows as u64 == chunk && source.compression == compression;
    let reader = source
        .rows_reader()
        .map_err(|error| error.into_error(&source.path, "read"))?;
    let mut copied = Copied::default();
    let mut buffer = Vec::new();
    let mut row = 0;
    while row < source.rows {
        if let Some(signal) = interrupt.received() {
            return Err(Error::Interrupted { signal });
        }
        let count = chunk.min(source.rows - row);
        // A whole chunk of the source that lands on a whole chunk of the output.
        let aligned =
            same_layout && count == chunk && chunker.at_chunk_boundary() && row % chunk == 0;
        if aligned
            && reader
                .read_stored_chunk(row / chunk, source.chunk_rows, &mut buffer)
                .map_err(source_error)?
        {
            chunker
                .push_stored(std::mem::take(&mut buffer))
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
