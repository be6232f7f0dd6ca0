//! Chunk compression done in parallel, outside HDF5.
//!
//! HDF5 runs its filters inside its global lock, on one core. So txt2h5 applies the same
//! filters itself, on a pool of threads, and hands HDF5 finished chunks (`H5Dwrite_chunk`):
//! the shuffle filter (byte `b` of every record, then byte `b + 1`, ...) followed by the
//! compression filter, deflate, zstd or lz4 (see [`super::frame`] for what each stores).
//! Any HDF5 reader with those filters decodes these chunks exactly as if HDF5 had written
//! them. libdeflate compresses several times faster than zlib at the same level and ratio.
//! The compressor also appends the last filter's Fletcher32 checksum ([`super::checksum`]),
//! so its output is the chunk exactly as the file stores it and the writing thread only
//! stores it; the decompressor is given a chunk whose checksum was checked and removed.

use super::checksum::{append_checksum, CHECKSUM_BYTES};
use super::error::CodecError;
use super::frame::{Decoder, Encoder};
use super::shuffle::{shuffle, unshuffle_bytes};
use super::Compression;
use crate::error::Error;
use crate::memory::reserve;

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
    /// `rows` in `out` (all of them with `0..element_size`; see
    /// [`super::shuffle::unshuffle_bytes`]); an error if the chunk is damaged or does not
    /// decode to exactly one chunk.
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

    /// The stored form of the raw chunk `raw`, its checksum last, in `out`; an error if the
    /// memory for the shuffled planes or the compressed output cannot be had.
    pub fn compress(&mut self, raw: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        self.encode(raw, out)?;
        // Within the reserved bound: no allocation.
        append_checksum(out);
        Ok(())
    }

    /// Shuffles and encodes `raw` into `out`, without the checksum.
    fn encode(&mut self, raw: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
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
/// bytes that do not shrink as they are); and the checksum after them.
fn encoded_bound(bytes: usize) -> usize {
    bytes + bytes / 64 + 4096 + CHECKSUM_BYTES
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
    use crate::codec::{verified, BloscCodec};
    use std::io::Read;

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
            let mut checked = Vec::new();
            ChunkCompressor::new(compression, 22)
                .unwrap()
                .compress(&raw, &mut checked)
                .unwrap();
            let stored = verified(&checked).unwrap();
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
                let back = rows_of(stored, 700, rows.clone()).unwrap();
                assert_eq!(back, raw[rows.start * 22..rows.end * 22], "{rows:?}");
            }
            assert!(rows_of(stored, 699, 0..1).is_err(), "{compression}");
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
        let mut checked = Vec::new();
        ChunkCompressor::new(Compression::Gzip(4), 26)
            .unwrap()
            .compress(&raw, &mut checked)
            .unwrap();
        let stored = verified(&checked).unwrap();
        assert!(stored.len() < raw.len() / 4);
        let mut inflated = Vec::new();
        flate2::read::ZlibDecoder::new(stored)
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
