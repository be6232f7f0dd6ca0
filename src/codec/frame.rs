//! The byte codecs behind the chunk filters, each producing exactly what its HDF5 filter
//! stores, so that any HDF5 reader with that filter decodes txt2h5's chunks:
//! - deflate (filter 1): a zlib stream, as HDF5's own filter writes with `compress2`;
//! - zstd (filter 32015, the HDF5 Zstandard plugin): one zstd frame that records its
//!   content size, as `ZSTD_compress` writes it;
//! - lz4 (filter 32004, HDF5's LZ4 plugin): an 8-byte big-endian original size, a 4-byte
//!   big-endian block size, then per block a 4-byte big-endian compressed size and the
//!   LZ4 block (or the block's bytes as they are when compressing did not shrink them);
//! - blosc (filter 32001): c-blosc's frames, see [`super::blosc`].
//!
//! Compressing is done on txt2h5's pool (see [`super::chunk`]); decoding serves export's
//! own chunk reads and the filter functions registered with HDF5 for txt2h5's own reads
//! (see [`crate::h5`]).

use libdeflater::{CompressionLvl, Compressor, Decompressor};

use super::blosc::{self, BloscDecoder, BloscEncoder};
use super::error::CodecError;
use super::zstd_decoder::ZstdDecoder;
use super::Compression;

/// One thread's encoder for one codec and level.
pub enum Encoder {
    Deflate(Compressor),
    Zstd(zstd::bulk::Compressor<'static>),
    Lz4,
    Blosc(BloscEncoder),
}

impl Encoder {
    /// The encoder for `compression` of `element_size`-byte records (blosc shuffles by
    /// it; the others see bytes); `None` stores raw chunks.
    pub fn new(compression: Compression, element_size: usize) -> Option<Self> {
        Some(match compression {
            Compression::None => return None,
            Compression::Gzip(level) => Encoder::Deflate(Compressor::new(
                CompressionLvl::new(i32::from(level)).expect("levels 1..=9 are valid"),
            )),
            Compression::Zstd(level) => Encoder::Zstd(
                zstd::bulk::Compressor::new(i32::from(level)).expect("zstd allocates its context"),
            ),
            Compression::Lz4 => Encoder::Lz4,
            Compression::Blosc(codec, level) => {
                Encoder::Blosc(BloscEncoder::new(codec, level, element_size))
            }
        })
    }

    /// Encodes `input` into `out` (replacing its content). `scratch` keeps its length from
    /// call to call, so that deflate's bound is not zero-filled for every chunk.
    pub fn encode(&mut self, input: &[u8], scratch: &mut Vec<u8>, out: &mut Vec<u8>) {
        out.clear();
        match self {
            Encoder::Deflate(compressor) => {
                let bound = compressor.zlib_compress_bound(input.len());
                scratch.resize(bound, 0);
                let written = compressor
                    .zlib_compress(input, scratch)
                    .expect("the output holds the compress bound");
                out.extend_from_slice(&scratch[..written]);
            }
            Encoder::Zstd(compressor) => {
                // Writes into the spare capacity: nothing to zero-fill.
                out.reserve(zstd::zstd_safe::compress_bound(input.len()));
                compressor
                    .compress_to_buffer(input, out)
                    .expect("the output holds the compress bound");
            }
            Encoder::Lz4 => lz4_encode(input, scratch, out),
            Encoder::Blosc(encoder) => encoder.encode(input, scratch, out),
        }
    }
}

/// The header of an lz4 chunk: original size, block size.
const LZ4_HEADER: usize = 12;

/// One block for the whole chunk (the plugin's default block size, 1 GiB, exceeds any
/// chunk txt2h5 writes).
fn lz4_encode(input: &[u8], scratch: &mut Vec<u8>, out: &mut Vec<u8>) {
    let block = u32::try_from(input.len()).expect("a chunk is far below 4 GiB");
    out.extend_from_slice(&(input.len() as u64).to_be_bytes());
    out.extend_from_slice(&block.to_be_bytes());
    if input.is_empty() {
        return;
    }
    scratch.resize(lz4_flex::block::get_maximum_output_size(input.len()), 0);
    let written =
        lz4_flex::block::compress_into(input, scratch).expect("the output holds the bound");
    if written >= input.len() {
        // The plugin's rule: a block that does not shrink is stored as it is, its size
        // equal to the block size.
        out.extend_from_slice(&block.to_be_bytes());
        out.extend_from_slice(input);
    } else {
        out.extend_from_slice(&(written as u32).to_be_bytes());
        out.extend_from_slice(&scratch[..written]);
    }
}

/// The size a stored lz4 or zstd chunk says it decodes to, refused if above `limit` (what a
/// chunk of the dataset holds), so that a damaged header never sizes an allocation.
/// Deflate records no size, and a raw chunk is its size.
pub fn claimed_size(
    compression: Compression,
    stored: &[u8],
    limit: usize,
) -> Result<usize, CodecError> {
    let (codec, claimed) = match compression {
        Compression::None | Compression::Gzip(_) => return Ok(limit),
        Compression::Lz4 => ("lz4", lz4_claimed_size(stored)?),
        Compression::Blosc(..) => ("blosc", blosc::claimed_size(stored)?),
        Compression::Zstd(_) => (
            "zstd",
            zstd::zstd_safe::get_frame_content_size(stored)
                .ok()
                .flatten()
                .ok_or(CodecError::UnknownZstdSize)?,
        ),
    };
    match usize::try_from(claimed) {
        Ok(size) if size <= limit => Ok(size),
        _ => Err(CodecError::TooLarge {
            codec,
            claimed,
            limit,
        }),
    }
}

/// The original size in an lz4 chunk's header.
fn lz4_claimed_size(stored: &[u8]) -> Result<u64, CodecError> {
    let header: [u8; 8] = stored
        .get(..8)
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(CodecError::ShortLz4Header)?;
    Ok(u64::from_be_bytes(header))
}

/// Checks that a stored chunk's header (lz4's and blosc's size, zstd's content size) says what the
/// chunk holds, `chunk_bytes`: cheap, and done before a chunk is copied as stored, so that
/// a damaged header is not passed on. Deflate has no size to check.
pub fn check_header(
    compression: Compression,
    stored: &[u8],
    chunk_bytes: usize,
) -> Result<(), CodecError> {
    let (codec, claimed) = match compression {
        Compression::None | Compression::Gzip(_) => return Ok(()),
        Compression::Lz4 => ("lz4", lz4_claimed_size(stored)?),
        Compression::Blosc(..) => ("blosc", blosc::claimed_size(stored)?),
        // A frame without a recorded size is decoded to the chunk's size when read.
        Compression::Zstd(_) => match zstd::zstd_safe::get_frame_content_size(stored) {
            Ok(Some(size)) => ("zstd", size),
            _ => return Ok(()),
        },
    };
    if claimed == chunk_bytes as u64 {
        Ok(())
    } else {
        Err(CodecError::WrongSize {
            codec,
            claimed,
            expected: chunk_bytes,
        })
    }
}

/// Decodes an lz4 chunk of any block size into `out`, which must be exactly its original
/// size (see [`claimed_size`]).
fn lz4_decode(stored: &[u8], out: &mut [u8]) -> Result<(), CodecError> {
    check_header(Compression::Lz4, stored, out.len())?;
    let original = out.len();
    let Some(block) = stored.get(8..LZ4_HEADER) else {
        return Err(CodecError::ShortLz4Header);
    };
    let mut block = u32::from_be_bytes(block.try_into().expect("4 bytes")) as usize;
    if block == 0 && original > 0 {
        return Err(CodecError::ZeroLz4Block);
    }
    let mut read = LZ4_HEADER;
    let mut written = 0;
    while written < original {
        // The header's block size only bounds a slice of `out`, never an allocation.
        block = block.min(original - written);
        let size = stored
            .get(read..read + 4)
            .map(|bytes| u32::from_be_bytes(bytes.try_into().expect("4 bytes")) as usize)
            .ok_or(CodecError::Lz4Cut)?;
        read += 4;
        let data = stored.get(read..read + size).ok_or(CodecError::Lz4Cut)?;
        let target = &mut out[written..written + block];
        if size == block {
            target.copy_from_slice(data);
        } else {
            let decoded =
                lz4_flex::block::decompress_into(data, target).map_err(CodecError::Lz4Block)?;
            if decoded != block {
                return Err(CodecError::Lz4BlockSize {
                    decoded,
                    expected: block,
                });
            }
        }
        read += size;
        written += block;
    }
    Ok(())
}

/// One thread's decoders; zstd's context is made on first use (and serves blosc's too).
#[derive(Default)]
pub struct Decoder {
    deflate: Option<Decompressor>,
    zstd: ZstdDecoder,
    blosc: BloscDecoder,
}

impl Decoder {
    /// Decodes a chunk stored with `compression` into `out`, which must be exactly the
    /// chunk's decoded size, `size` (from the dataset, or [`claimed_size`] bounded by it);
    /// an error names what is wrong with a damaged chunk.
    pub fn decode(
        &mut self,
        compression: Compression,
        stored: &[u8],
        out: &mut Vec<u8>,
        size: usize,
    ) -> Result<(), CodecError> {
        if let Compression::Zstd(_) = compression {
            // Its own size first: the library's "buffer too small" would not say it.
            check_header(compression, stored, size)?;
        }
        // One byte of room to tell a stream that is too long; a failed allocation is an
        // error of this chunk, not an abort of the process.
        let room = size.saturating_add(1);
        out.try_reserve_exact(room.saturating_sub(out.len()))
            .map_err(|_| CodecError::NoMemory(size))?;
        out.resize(room, 0);
        let decoded = match compression {
            Compression::None => {
                out.clear();
                out.extend_from_slice(stored);
                stored.len()
            }
            Compression::Gzip(_) => self
                .deflate
                .get_or_insert_with(Decompressor::new)
                .zlib_decompress(stored, out)
                .map_err(CodecError::Deflate)?,
            Compression::Zstd(_) => self.zstd.decode(stored, &mut out[..])?,
            Compression::Lz4 => {
                lz4_decode(stored, &mut out[..size])?;
                size
            }
            Compression::Blosc(..) => {
                self.blosc
                    .decode(stored, &mut out[..size], &mut self.zstd)?;
                size
            }
        };
        if decoded != size {
            return Err(CodecError::Length {
                decoded,
                expected: size,
            });
        }
        out.truncate(size);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 7 + i / 26 % 3) as u8).collect()
    }

    fn every_codec() -> [Compression; 6] {
        [
            Compression::Gzip(1),
            Compression::Zstd(1),
            Compression::Zstd(19),
            Compression::Lz4,
            Compression::Blosc(super::super::BloscCodec::Zstd, 1),
            Compression::Blosc(super::super::BloscCodec::Lz4, 9),
        ]
    }

    #[test]
    fn each_codec_decodes_what_it_encodes() {
        let mut decoder = Decoder::default();
        for compression in every_codec() {
            let mut encoder = Encoder::new(compression, 26).unwrap();
            for len in [0, 1, 26, 4096, 26 * 1000] {
                let input = sample(len);
                let (mut scratch, mut stored, mut back) = (Vec::new(), Vec::new(), Vec::new());
                encoder.encode(&input, &mut scratch, &mut stored);
                decoder
                    .decode(compression, &stored, &mut back, len)
                    .unwrap_or_else(|why| panic!("{compression} {len}: {why}"));
                assert_eq!(back, input, "{compression} {len}");
                // A wrong expected size, a cut chunk and a flipped header are errors.
                assert!(decoder
                    .decode(compression, &stored, &mut back, len + 1)
                    .is_err());
                if len > 0 {
                    let cut = &stored[..stored.len() - 1];
                    assert!(decoder.decode(compression, cut, &mut back, len).is_err());
                }
            }
        }
    }

    /// A header that claims more than a chunk holds is refused before anything is
    /// allocated for it, by the bound and by the exact decode.
    #[test]
    fn claimed_sizes_are_bounded_by_the_chunk() {
        let input = sample(1000);
        for compression in [
            Compression::Zstd(3),
            Compression::Lz4,
            Compression::Blosc(super::super::BloscCodec::Lz4, 9),
        ] {
            let (mut scratch, mut stored) = (Vec::new(), Vec::new());
            Encoder::new(compression, 26)
                .unwrap()
                .encode(&input, &mut scratch, &mut stored);
            assert_eq!(claimed_size(compression, &stored, 1000).unwrap(), 1000);
            check_header(compression, &stored, 1000).unwrap();
            let error = claimed_size(compression, &stored, 999).unwrap_err();
            assert!(
                matches!(error, CodecError::TooLarge { claimed: 1000, .. }),
                "{error}"
            );
            assert!(check_header(compression, &stored, 999).is_err());
        }
        let mut huge = (1u64 << 60).to_be_bytes().to_vec();
        huge.extend_from_slice(&[0; 8]);
        let error = claimed_size(Compression::Lz4, &huge, 1000).unwrap_err();
        assert_eq!(
            error.to_string(),
            "its lz4 header claims 1152921504606846976 bytes, more than a chunk holds (1000)"
        );
        assert!(Decoder::default()
            .decode(Compression::Lz4, &huge, &mut Vec::new(), 1000)
            .is_err());
        // A zstd frame claiming 2^60 bytes with one empty raw block.
        let mut frame = vec![0x28, 0xb5, 0x2f, 0xfd, 0xe0];
        frame.extend_from_slice(&(1u64 << 60).to_le_bytes());
        frame.extend_from_slice(&[1, 0, 0]);
        assert!(claimed_size(Compression::Zstd(3), &frame, 1000).is_err());
        let error = Decoder::default()
            .decode(Compression::Zstd(3), &frame, &mut Vec::new(), 1000)
            .unwrap_err();
        assert!(matches!(error, CodecError::WrongSize { .. }), "{error}");
        assert!(matches!(
            claimed_size(Compression::Lz4, &[0; 5], 1000),
            Err(CodecError::ShortLz4Header)
        ));
    }

    #[test]
    fn lz4_chunks_have_the_plugin_layout() {
        let input = sample(26 * 1000);
        let (mut scratch, mut stored) = (Vec::new(), Vec::new());
        Encoder::Lz4.encode(&input, &mut scratch, &mut stored);
        assert_eq!(stored[..8], (input.len() as u64).to_be_bytes());
        assert_eq!(stored[8..12], (input.len() as u32).to_be_bytes());
        let size = u32::from_be_bytes(stored[12..16].try_into().unwrap()) as usize;
        assert_eq!(stored.len(), 16 + size);
        assert_eq!(
            lz4_flex::block::decompress(&stored[16..], input.len()).unwrap(),
            input
        );
    }

    /// Bytes that do not compress are stored as they are, as the plugin does.
    #[test]
    fn lz4_keeps_incompressible_blocks_raw() {
        let input = crate::test_support::noise(5000, 0x9E37_79B9_7F4A_7C15u64);
        let (mut scratch, mut stored) = (Vec::new(), Vec::new());
        Encoder::Lz4.encode(&input, &mut scratch, &mut stored);
        assert_eq!(stored[12..16], 5000u32.to_be_bytes());
        assert_eq!(stored[16..], input[..]);
        let mut back = Vec::new();
        Decoder::default()
            .decode(Compression::Lz4, &stored, &mut back, 5000)
            .unwrap();
        assert_eq!(back, input);
    }

    /// Chunks written by other tools may use several blocks; they decode too.
    #[test]
    fn lz4_decodes_several_blocks() {
        let input = sample(10_000);
        let mut stored = (input.len() as u64).to_be_bytes().to_vec();
        stored.extend_from_slice(&4096u32.to_be_bytes());
        for block in input.chunks(4096) {
            let compressed = lz4_flex::block::compress(block);
            stored.extend_from_slice(&(compressed.len() as u32).to_be_bytes());
            stored.extend_from_slice(&compressed);
        }
        let mut back = Vec::new();
        Decoder::default()
            .decode(Compression::Lz4, &stored, &mut back, input.len())
            .unwrap();
        assert_eq!(back, input);
    }

    #[test]
    fn zstd_frames_record_their_size() {
        let input = sample(26 * 100);
        let (mut scratch, mut stored) = (Vec::new(), Vec::new());
        Encoder::new(Compression::Zstd(3), 26)
            .unwrap()
            .encode(&input, &mut scratch, &mut stored);
        assert_eq!(
            zstd::zstd_safe::get_frame_content_size(&stored).ok(),
            Some(Some(input.len() as u64))
        );
        assert_eq!(zstd::bulk::decompress(&stored, input.len()).unwrap(), input);
    }
}
