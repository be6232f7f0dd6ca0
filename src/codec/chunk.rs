//! Chunk compression done in parallel, outside HDF5.
//!
//! HDF5 runs its filters inside its global lock, on one core. So txt2h5 applies the same
//! filters itself, on a pool of threads, and hands HDF5 finished chunks (`H5Dwrite_chunk`):
//! the shuffle filter (byte `b` of every record, then byte `b + 1`, ...) followed by the
//! compression filter, deflate, zstd or lz4 (see [`super::frame`] for what each stores).
//! Any HDF5 reader with those filters decodes these chunks exactly as if HDF5 had written
//! them. libdeflate compresses several times faster than zlib at the same level and ratio.

use super::frame::{CodecError, Decoder, Encoder};
use super::Compression;
use crate::error::Error;
use crate::memory::reserve;

/// HDF5's shuffle filter: transposes `raw` from records of `element_size` bytes to byte
/// planes. `raw.len()` must be a multiple of `element_size` (a full chunk always is).
pub fn shuffle(raw: &[u8], element_size: usize, out: &mut Vec<u8>) {
    // Every byte is written: keep what is there rather than zero-fill a chunk again.
    out.resize(raw.len(), 0);
    shuffle_into(raw, element_size, out);
}

/// [`shuffle`] into `out`, a slice of exactly `raw.len()` bytes.
pub fn shuffle_into(raw: &[u8], element_size: usize, out: &mut [u8]) {
    assert_eq!(raw.len() % element_size, 0);
    assert_eq!(raw.len(), out.len());
    // The record sizes of the default schema and its usual variants get a copy of the loop
    // with the size known, which the compiler turns into fixed-stride loads.
    match element_size {
        26 => shuffle_sized::<26>(raw, out),
        27 => shuffle_sized::<27>(raw, out),
        29 => shuffle_sized::<29>(raw, out),
        30 => shuffle_sized::<30>(raw, out),
        _ => shuffle_any(raw, element_size, out),
    }
}

/// Records per block: small enough that a block's reads stay in L1 while each byte plane
/// is written sequentially.
const BLOCK: usize = 64;

fn shuffle_sized<const SIZE: usize>(raw: &[u8], out: &mut [u8]) {
    shuffle_blocks(raw, SIZE, out)
}

fn shuffle_any(raw: &[u8], element_size: usize, out: &mut [u8]) {
    shuffle_blocks(raw, element_size, out)
}

/// The shuffle loop, inlined into each caller so that a constant size stays constant.
#[inline(always)]
fn shuffle_blocks(raw: &[u8], element_size: usize, out: &mut [u8]) {
    let elements = raw.len() / element_size;
    for block_start in (0..elements).step_by(BLOCK) {
        let block_end = (block_start + BLOCK).min(elements);
        let records = &raw[block_start * element_size..block_end * element_size];
        for byte in 0..element_size {
            let plane = &mut out[byte * elements + block_start..byte * elements + block_end];
            for (slot, record) in plane.iter_mut().zip(records.chunks_exact(element_size)) {
                *slot = record[byte];
            }
        }
    }
}

/// The inverse of [`shuffle`] for records `rows` of the `planes.len() / element_size`
/// records the planes hold: `out` receives exactly those records.
pub fn unshuffle_rows(
    planes: &[u8],
    element_size: usize,
    rows: std::ops::Range<usize>,
    out: &mut [u8],
) {
    unshuffle_bytes(
        planes,
        element_size,
        rows,
        std::slice::from_ref(&(0..element_size)),
        out,
    );
}

/// [`unshuffle_rows`] for the bytes `bytes` (ranges of byte offsets in a record) alone:
/// those bytes of each record in `out` are set, the others left as they were. For a reader
/// of a few fields, which then skips the planes of the rest.
pub fn unshuffle_bytes(
    planes: &[u8],
    element_size: usize,
    rows: std::ops::Range<usize>,
    bytes: &[std::ops::Range<usize>],
    out: &mut [u8],
) {
    assert_eq!(planes.len() % element_size, 0);
    assert!(bytes.iter().all(|range| range.end <= element_size));
    let elements = planes.len() / element_size;
    assert!(rows.end <= elements);
    assert_eq!(out.len(), rows.len() * element_size);
    for block_start in rows.clone().step_by(BLOCK) {
        let block_end = (block_start + BLOCK).min(rows.end);
        let first = block_start - rows.start;
        let records = &mut out[first * element_size..(block_end - rows.start) * element_size];
        for byte in bytes.iter().cloned().flatten() {
            let plane = &planes[byte * elements + block_start..byte * elements + block_end];
            for (value, record) in plane.iter().zip(records.chunks_exact_mut(element_size)) {
                record[byte] = *value;
            }
        }
    }
}

/// Decodes and unshuffles one stored chunk, as HDF5 would on reading it.
#[derive(Default)]
pub struct ChunkDecompressor {
    decoder: Decoder,
    /// The decoded chunk: byte planes, or the records of a blosc chunk.
    shuffled: Vec<u8>,
}

impl ChunkDecompressor {
    /// Decodes `stored` (one chunk of `chunk_rows` records of `element_size` bytes,
    /// shuffled, then filtered by `compression`) and fills the bytes `bytes` of its records
    /// `rows` in `out` (all of them with `0..element_size`; see [`unshuffle_bytes`]); an
    /// error if the chunk is damaged or does not decode to exactly one chunk.
    #[allow(clippy::too_many_arguments)]
    pub fn decompress_bytes(
        &mut self,
        compression: Compression,
        stored: &[u8],
        element_size: usize,
        chunk_rows: usize,
        rows: std::ops::Range<usize>,
        bytes: &[std::ops::Range<usize>],
        out: &mut [u8],
    ) -> Result<(), CodecError> {
        let chunk_bytes = chunk_rows * element_size;
        self.decoder
            .decode(compression, stored, &mut self.shuffled, chunk_bytes)?;
        if compression.byte_shuffled() {
            unshuffle_bytes(&self.shuffled, element_size, rows, bytes, out);
        } else {
            copy_bytes(&self.shuffled, element_size, rows, bytes, out);
        }
        Ok(())
    }
}

/// [`unshuffle_bytes`] for a chunk that decodes to its records (raw, or blosc): the bytes
/// `bytes` of records `rows` of `records` are copied into `out`.
fn copy_bytes(
    records: &[u8],
    element_size: usize,
    rows: std::ops::Range<usize>,
    bytes: &[std::ops::Range<usize>],
    out: &mut [u8],
) {
    let source = &records[rows.start * element_size..rows.end * element_size];
    assert_eq!(out.len(), source.len());
    if bytes.len() == 1 && bytes[0] == (0..element_size) {
        out.copy_from_slice(source);
        return;
    }
    for (record, target) in source
        .chunks_exact(element_size)
        .zip(out.chunks_exact_mut(element_size))
    {
        for range in bytes {
            target[range.clone()].copy_from_slice(&record[range.clone()]);
        }
    }
}

/// Shuffles and encodes one chunk, reusing its buffers from chunk to chunk.
pub struct ChunkCompressor {
    encoder: Encoder,
    /// Whether the pipeline has HDF5's shuffle filter (blosc shuffles inside).
    byte_shuffled: bool,
    element_size: usize,
    shuffled: Vec<u8>,
    scratch: Vec<u8>,
}

impl ChunkCompressor {
    /// `None` for `Compression::None`, whose chunks are stored raw.
    pub fn new(compression: Compression, element_size: usize) -> Option<Self> {
        Some(Self {
            encoder: Encoder::new(compression, element_size)?,
            byte_shuffled: compression.byte_shuffled(),
            element_size,
            shuffled: Vec::new(),
            scratch: Vec::new(),
        })
    }

    /// The stored form of the raw chunk `raw`, in `out`; an error if the memory for the
    /// shuffled planes or the compressed output cannot be had.
    pub fn compress(&mut self, raw: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        // Every buffer gets its room here, fallibly, once: the encoders then write within
        // it and never allocate (an allocation that fails there would abort the process).
        reserve(
            &mut self.scratch,
            scratch_bound(raw.len()),
            "a compressed chunk",
        )?;
        out.clear();
        reserve(out, encoded_bound(raw.len()), "a compressed chunk")?;
        if !self.byte_shuffled {
            self.encoder.encode(raw, &mut self.scratch, out);
            return Ok(());
        }
        reserve(&mut self.shuffled, raw.len(), "a shuffled chunk")?;
        shuffle(raw, self.element_size, &mut self.shuffled);
        self.encoder.encode(&self.shuffled, &mut self.scratch, out);
        Ok(())
    }
}

/// At least the compress bound of deflate, zstd, lz4 and blosc for `bytes` bytes, header
/// included: each adds under `bytes / 64` plus a few hundred bytes (lz4 and blosc store
/// bytes that do not shrink as they are).
fn encoded_bound(bytes: usize) -> usize {
    bytes + bytes / 64 + 4096
}

/// At least what an encoder writes into its scratch buffer: lz4_flex asks for 110% of the
/// input plus 20 bytes, deflate for its compress bound, blosc for a shuffled block and the
/// bound of one compressed block.
fn scratch_bound(bytes: usize) -> usize {
    (bytes + bytes / 8 + 4096).max(super::blosc::BloscEncoder::scratch_bound(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::BloscCodec;
    use std::io::Read;

    #[test]
    fn unshuffling_some_bytes_sets_those_and_leaves_the_rest() {
        let raw: Vec<u8> = (0..26 * 100).map(|i| (i * 7 % 251) as u8).collect();
        let mut planes = Vec::new();
        shuffle(&raw, 26, &mut planes);
        let mut out = vec![0xee; 26 * 40];
        unshuffle_bytes(&planes, 26, 30..70, &[10..14, 18..26], &mut out);
        for (row, record) in out.chunks_exact(26).enumerate() {
            let original = &raw[(30 + row) * 26..][..26];
            for byte in 0..26 {
                let filled = (10..14).contains(&byte) || (18..26).contains(&byte);
                let want = if filled { original[byte] } else { 0xee };
                assert_eq!(record[byte], want, "row {row} byte {byte}");
            }
        }
    }

    #[test]
    fn shuffle_makes_byte_planes() {
        let raw = [1, 2, 3, 11, 12, 13, 21, 22, 23, 31, 32, 33];
        let mut out = Vec::new();
        shuffle(&raw, 3, &mut out);
        assert_eq!(out, [1, 11, 21, 31, 2, 12, 22, 32, 3, 13, 23, 33]);
    }

    /// The copies of the loop for known record sizes give what the general loop gives.
    #[test]
    fn sized_shuffles_equal_the_general_one() {
        for size in [26, 27, 29, 30, 31] {
            let raw: Vec<u8> = (0..size * 1000).map(|i| (i * 7 + i / 13) as u8).collect();
            let mut sized = Vec::new();
            shuffle(&raw, size, &mut sized);
            let mut general = vec![0; raw.len()];
            shuffle_any(&raw, size, &mut general);
            assert_eq!(sized, general, "{size}");
            let mut back = vec![0; raw.len()];
            unshuffle_rows(&sized, size, 0..1000, &mut back);
            assert_eq!(back, raw, "{size}");
        }
    }

    #[test]
    fn chunk_decompressor_undoes_the_compressor() {
        let raw: Vec<u8> = (0..22 * 700)
            .map(|i| (i * 13 % 11 + i / 22) as u8)
            .collect();
        for compression in [
            Compression::Gzip(1),
            Compression::Zstd(1),
            Compression::Lz4,
            Compression::Blosc(BloscCodec::Zstd, 1),
            Compression::Blosc(BloscCodec::Lz4, 9),
        ] {
            let mut stored = Vec::new();
            ChunkCompressor::new(compression, 22)
                .unwrap()
                .compress(&raw, &mut stored)
                .unwrap();
            let mut decompressor = ChunkDecompressor::default();
            let mut rows_of = |stored: &[u8], chunk_rows, rows: std::ops::Range<usize>| {
                let mut back = vec![0; rows.len() * 22];
                decompressor
                    .decompress_bytes(
                        compression,
                        stored,
                        22,
                        chunk_rows,
                        rows,
                        std::slice::from_ref(&(0..22)),
                        &mut back,
                    )
                    .map(|()| back)
            };
            for rows in [0..700, 0..1, 63..65, 100..699, 699..700, 5..5] {
                let back = rows_of(&stored, 700, rows.clone()).unwrap();
                assert_eq!(back, raw[rows.start * 22..rows.end * 22], "{rows:?}");
            }
            assert!(rows_of(&stored, 699, 0..1).is_err(), "{compression}");
            assert!(rows_of(&stored[..stored.len() / 2], 700, 0..1).is_err());
        }
    }

    /// The buffers are reserved up front to a bound that every codec stays within, so the
    /// encoders never grow them (where a failed allocation would abort): even for data
    /// that does not compress.
    #[test]
    fn compression_stays_within_the_reserved_bound() {
        let noise = crate::test_support::noise(26 * 4096, 0x2545_f491_4f6c_dd1du64);
        for compression in [
            Compression::Gzip(9),
            Compression::Zstd(19),
            Compression::Lz4,
            Compression::Blosc(BloscCodec::Zstd, 9),
            Compression::Blosc(BloscCodec::Lz4, 9),
        ] {
            let mut compressor = ChunkCompressor::new(compression, 26).unwrap();
            let mut stored = Vec::new();
            compressor.compress(&noise, &mut stored).unwrap();
            let capacities = (compressor.scratch.capacity(), stored.capacity());
            compressor.compress(&noise, &mut stored).unwrap();
            assert_eq!(
                capacities,
                (compressor.scratch.capacity(), stored.capacity()),
                "{compression}"
            );
            assert!(stored.len() <= encoded_bound(noise.len()), "{compression}");
        }
    }

    #[test]
    fn compressed_chunk_inflates_and_unshuffles_to_the_input() {
        let raw: Vec<u8> = (0..26 * 1000)
            .map(|i| (i * 31 % 7 + i / 26 % 3) as u8)
            .collect();
        let mut stored = Vec::new();
        ChunkCompressor::new(Compression::Gzip(4), 26)
            .unwrap()
            .compress(&raw, &mut stored)
            .unwrap();
        assert!(stored.len() < raw.len() / 4);
        let mut inflated = Vec::new();
        flate2::read::ZlibDecoder::new(&stored[..])
            .read_to_end(&mut inflated)
            .unwrap();
        let mut unshuffled = vec![0; raw.len()];
        for (byte, plane) in inflated.chunks_exact(1000).enumerate() {
            for (element, value) in plane.iter().enumerate() {
                unshuffled[element * 26 + byte] = *value;
            }
        }
        assert_eq!(unshuffled, raw);
    }
}
