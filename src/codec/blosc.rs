//! Blosc chunks (HDF5 filter 32001, c-blosc's format version 2), the one fast codec that
//! both h5py (hdf5plugin) and R (rhdf5filters) decode.
//!
//! A blosc frame is a 16-byte header (format version 2, codec version 1, flags, type size,
//! then the decoded size, block size and frame size as little-endian u32), the start
//! offset of every block (u32 each), and the blocks. Each block is byte-shuffled with the
//! type size (the record), then compressed on its own, and stored as a u32 size and the
//! compressed bytes, or the shuffled bytes as they are when compressing did not shrink
//! them (then the size equals the block's). A frame that would not shrink at all is stored
//! whole after the header, unshuffled (the "memcpyed" flag).
//!
//! txt2h5 writes one stream per block (the "don't split" flag, which c-blosc sets for zstd
//! and honours since it added zstd), and reads split blocks too, as c-blosc decides them,
//! so that frames of other writers decode. Bit-shuffled frames and the codecs other than
//! lz4 and zstd (blosclz, snappy, zlib) are refused with what they are.
//!
//! Why by hand and not through a library (decided by measurement, December 2026):
//! - `blosc` (0.3.1): its manifest marks it deprecated; it links the system's libblosc through
//!   `blosc-sys` (which a minimal Debian lacks), and returns a new buffer from every
//!   compression, where the chunker hands each encoder its own reused buffers.
//! - `blosc-src` (0.3.8, c-blosc 1.21 built with `cc`, no cmake) would fit the pool: its
//!   `blosc_compress_ctx` writes into the caller's buffer with a context per call. But it
//!   adds two C libraries to the build, c-blosc and lz4 (`lz4-sys`), and rebuilds zstd-sys
//!   with more features: 23 s wall (7.5 s of CPU) more for a fresh release build on the
//!   project's 2-core machine, measured in a scratch crate that already built zstd-sys and
//!   zlib (2 min 19 s): `cargo build --release` with and without
//!   `blosc-src = { version = "=0.3.8", features = ["zstd", "lz4"] }`. It would also decode
//!   frames read from files, hostile input, in C behind FFI, where the decoder below checks
//!   every size and offset against the frame and the chunk before it touches memory.
//! - hdf5-metno's `blosc` feature registers that same c-blosc as an HDF5 filter, which runs
//!   inside HDF5's global lock on one core: what txt2h5 writes its chunks itself to avoid.
//!   It would serve reads through HDF5 only.
//!
//! What the library would give, frames any c-blosc reads, this gives too: h5py
//! (hdf5plugin's c-blosc) and R (rhdf5filters) read txt2h5's frames in the tests, and
//! frames c-blosc wrote decode here (`frames_of_c_blosc_decode`).

use super::error::CodecError;
use super::shuffle::{shuffle_into, unshuffle_rows};
use super::zstd_decoder::ZstdDecoder;

/// The codec inside a blosc frame, with its code in the HDF5 filter's client values
/// (`compcode`) and in a frame's flags (its library format).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BloscCodec {
    Lz4,
    Zstd,
}

impl BloscCodec {
    /// The filter's `compcode` client value (c-blosc's `BLOSC_LZ4`, `BLOSC_ZSTD`).
    pub fn compcode(self) -> u32 {
        match self {
            BloscCodec::Lz4 => 1,
            BloscCodec::Zstd => 5,
        }
    }

    /// The codec of a `compcode`, if txt2h5 writes it.
    pub fn of_compcode(code: u32) -> Option<Self> {
        match code {
            1 => Some(BloscCodec::Lz4),
            5 => Some(BloscCodec::Zstd),
            _ => None,
        }
    }

    /// The library format in bits 5-7 of a frame's flags.
    fn format(self) -> u8 {
        match self {
            BloscCodec::Lz4 => 1,
            BloscCodec::Zstd => 4,
        }
    }

    /// The codec of a frame's library format, if txt2h5 decodes it.
    fn of_format(format: u8) -> Option<Self> {
        [BloscCodec::Lz4, BloscCodec::Zstd]
            .into_iter()
            .find(|codec| codec.format() == format)
    }

    pub fn name(self) -> &'static str {
        match self {
            BloscCodec::Lz4 => "lz4",
            BloscCodec::Zstd => "zstd",
        }
    }
}

/// Blosc's level 9 for lz4: acceleration 10 - 9 = 1, LZ4's default, which is what
/// lz4_flex does (it has no other speed).
pub const LZ4_LEVEL: u8 = 9;

/// The zstd level of a blosc level (1..=9), as c-blosc maps them: 2 L - 1, except that 8
/// is zstd's maximum less 2 and 9 its maximum.
pub fn zstd_level(level: u8) -> i32 {
    let max = zstd::zstd_safe::max_c_level();
    match level {
        9.. => max,
        8 => max - 2,
        _ => 2 * i32::from(level.max(1)) - 1,
    }
}

/// Bytes of a frame's header.
pub const HEADER: usize = 16;
/// The most bytes a frame holds: c-blosc's sizes are signed 32-bit, header included.
pub const MAX_BYTES: usize = i32::MAX as usize - HEADER;
/// The format version c-blosc 1.x writes and the only one it reads.
const VERSION: u8 = 2;
/// The version of the lz4 and zstd formats inside a frame.
const CODEC_VERSION: u8 = 1;
const DOSHUFFLE: u8 = 0x1;
const MEMCPYED: u8 = 0x2;
const DOBITSHUFFLE: u8 = 0x4;
/// A flag c-blosc 1.x never sets; a frame with it is from a future format.
const FUTURE: u8 = 0x8;
const DONT_SPLIT: u8 = 0x10;
/// c-blosc copies buffers below this size instead of compressing them.
const MIN_BUFFER: usize = 128;
/// c-blosc splits blocks of types up to this size (when it splits at all).
const MAX_SPLITS: usize = 16;
/// The largest type size a frame records; hdf5-blosc stores larger records with type
/// size 1 (no shuffle), and so does txt2h5.
const MAX_TYPESIZE: usize = 255;

/// Bytes per block: at most 4 MiB, a multiple of the record size, so that a chunk of the
/// default 65,536 rows (1.7 MB) is one block. Longer byte planes compress better: on the
/// benchmark's 16 files, blosc:zstd:1 stored 170 MB with 256 KiB blocks, 150 MB with 1 MiB
/// and 142 MB with whole chunks (zstd:1's own size), with load times within the runs' noise
/// (1.4 to 2.0 s, two runs each); lz4 changed under 3%.
/// A reader that runs blosc on several threads splits a chunk by blocks, which this gives up.
pub const BLOCK_BYTES: usize = 4 << 20;

/// The type size a frame records for records of `element_size` bytes.
pub fn typesize(element_size: usize) -> usize {
    if (1..=MAX_TYPESIZE).contains(&element_size) {
        element_size
    } else {
        1
    }
}

/// The block size of a frame of `bytes` bytes of `typesize`-byte records.
fn block_size(bytes: usize, typesize: usize) -> usize {
    let block = (BLOCK_BYTES / typesize).max(1) * typesize;
    block.min(bytes)
}

/// One thread's blosc encoder for one codec, level and record size.
pub struct BloscEncoder {
    codec: BloscCodec,
    typesize: usize,
    zstd: Option<zstd::bulk::Compressor<'static>>,
}

impl BloscEncoder {
    pub fn new(codec: BloscCodec, level: u8, element_size: usize) -> Self {
        let zstd = (codec == BloscCodec::Zstd).then(|| {
            zstd::bulk::Compressor::new(zstd_level(level)).expect("zstd allocates its context")
        });
        Self {
            codec,
            typesize: typesize(element_size),
            zstd,
        }
    }

    /// The largest frame [`Self::encode`] writes for `bytes` bytes: the header and the
    /// bytes as they are.
    pub fn bound(bytes: usize) -> usize {
        bytes + HEADER
    }

    /// What [`Self::encode`] needs of `scratch` for `bytes` bytes: a shuffled block and
    /// the compress bound of one block (lz4_flex asks for 110% and 20 bytes).
    pub fn scratch_bound(bytes: usize) -> usize {
        2 * bytes + bytes / 8 + 128
    }

    /// Encodes `input` into `out` (replacing its content), within [`Self::bound`].
    /// `scratch` keeps its length from call to call.
    pub fn encode(&mut self, input: &[u8], scratch: &mut Vec<u8>, out: &mut Vec<u8>) {
        let bytes = input.len();
        assert!(
            bytes <= MAX_BYTES,
            "settings keep blosc chunks within a frame"
        );
        let frame_size = (bytes + HEADER) as u32;
        let block = block_size(bytes, self.typesize);
        let blocks = if block == 0 { 0 } else { bytes.div_ceil(block) };
        let shuffles = self.typesize > 1;
        let mut flags = DONT_SPLIT | (self.codec.format() << 5);
        if shuffles {
            flags |= DOSHUFFLE;
        }
        out.clear();
        out.extend_from_slice(&[VERSION, CODEC_VERSION, flags, self.typesize as u8]);
        out.extend_from_slice(&(bytes as u32).to_le_bytes());
        out.extend_from_slice(&(block as u32).to_le_bytes());
        out.extend_from_slice(&frame_size.to_le_bytes());
        let compressed =
            bytes >= MIN_BUFFER && self.encode_blocks(input, block, blocks, shuffles, scratch, out);
        if !compressed {
            out.truncate(HEADER);
            out[2] |= MEMCPYED;
            out[12..16].copy_from_slice(&frame_size.to_le_bytes());
            out.extend_from_slice(input);
            return;
        }
        let size = out.len() as u32;
        out[12..16].copy_from_slice(&size.to_le_bytes());
    }

    /// Appends the block starts and the blocks to `out`; false if the frame would not be
    /// smaller than the input stored as it is.
    fn encode_blocks(
        &mut self,
        input: &[u8],
        block: usize,
        blocks: usize,
        shuffles: bool,
        scratch: &mut Vec<u8>,
        out: &mut Vec<u8>,
    ) -> bool {
        let limit = input.len() + HEADER;
        let starts = out.len();
        out.resize(starts + 4 * blocks, 0);
        let bound = lz4_flex::block::get_maximum_output_size(block)
            .max(zstd::zstd_safe::compress_bound(block));
        if scratch.len() < block + bound {
            scratch.resize(block + bound, 0);
        }
        let (shuffled, compressed) = scratch.split_at_mut(block);
        for (index, raw) in input.chunks(block).enumerate() {
            let start = out.len() as u32;
            out[starts + 4 * index..][..4].copy_from_slice(&start.to_le_bytes());
            let source = if shuffles {
                let whole = raw.len() / self.typesize * self.typesize;
                shuffle_into(&raw[..whole], self.typesize, &mut shuffled[..whole]);
                shuffled[whole..raw.len()].copy_from_slice(&raw[whole..]);
                &shuffled[..raw.len()]
            } else {
                raw
            };
            let written = match self.codec {
                BloscCodec::Lz4 => lz4_flex::block::compress_into(source, compressed).ok(),
                BloscCodec::Zstd => self
                    .zstd
                    .as_mut()
                    .expect("made for zstd")
                    .compress_to_buffer(source, &mut compressed[..])
                    .ok(),
            };
            // c-blosc's rule: a stream as long as its block is the block as it is.
            let stream = match written {
                Some(written) if written < source.len() => &compressed[..written],
                _ => source,
            };
            if out.len() + 4 + stream.len() > limit {
                return false;
            }
            out.extend_from_slice(&(stream.len() as u32).to_le_bytes());
            out.extend_from_slice(stream);
        }
        true
    }
}

/// A frame's header, read and checked.
struct FrameHeader {
    flags: u8,
    typesize: usize,
    bytes: usize,
    block: usize,
    frame: usize,
}

fn damaged(why: &'static str) -> CodecError {
    CodecError::BloscDamaged(why)
}

fn le32(bytes: &[u8], at: usize) -> Option<usize> {
    let word: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
    Some(u32::from_le_bytes(word) as usize)
}

fn header(stored: &[u8]) -> Result<FrameHeader, CodecError> {
    if stored.len() < HEADER {
        return Err(damaged("is shorter than its 16-byte header"));
    }
    if stored[0] != VERSION {
        let version = stored[0];
        return Err(CodecError::BloscUnsupported(format!(
            "format version {version}"
        )));
    }
    let field = |at| le32(stored, at).expect("inside the header");
    let header = FrameHeader {
        flags: stored[2],
        typesize: usize::from(stored[3]),
        bytes: field(4),
        block: field(8),
        frame: field(12),
    };
    if header.flags & FUTURE != 0 {
        return Err(CodecError::BloscUnsupported(
            "flags of a later format".into(),
        ));
    }
    if header.frame > stored.len() || header.frame < HEADER {
        return Err(damaged("claims a frame size its chunk does not hold"));
    }
    Ok(header)
}

/// The decoded size a frame's header claims.
pub fn claimed_size(stored: &[u8]) -> Result<u64, CodecError> {
    header(stored).map(|header| header.bytes as u64)
}

/// One thread's blosc decoding state: a block's shuffled bytes.
#[derive(Default)]
pub struct BloscDecoder {
    block: Vec<u8>,
}

impl BloscDecoder {
    /// Decodes the frame `stored` into `out`, which must be exactly its decoded size (see
    /// [`claimed_size`], bounded by the chunk). Every size and offset in the frame is
    /// checked against the frame and `out`; none sizes an allocation beyond `out.len()`.
    /// `zstd` is the thread's zstd context (see [`super::Decoder`]).
    pub fn decode(
        &mut self,
        stored: &[u8],
        out: &mut [u8],
        zstd: &mut ZstdDecoder,
    ) -> Result<(), CodecError> {
        let header = header(stored)?;
        if header.bytes != out.len() {
            return Err(CodecError::WrongSize {
                codec: "blosc",
                claimed: header.bytes as u64,
                expected: out.len(),
            });
        }
        let frame = &stored[..header.frame];
        if out.is_empty() {
            return Ok(());
        }
        if header.flags & MEMCPYED != 0 {
            let body = frame
                .get(HEADER..)
                .filter(|body| body.len() == out.len())
                .ok_or(damaged("holds a copy of another size than it claims"))?;
            out.copy_from_slice(body);
            return Ok(());
        }
        let frame = Frame::new(&header, frame)?;
        let block = header.block.min(out.len());
        let blocks = out.len().div_ceil(block);
        if blocks > (frame.bytes.len() - HEADER) / 4 {
            return Err(damaged("has fewer block starts than blocks"));
        }
        if frame.unshuffle {
            self.block
                .try_reserve_exact(block.saturating_sub(self.block.len()))
                .map_err(|_| CodecError::NoMemory(block))?;
            self.block.resize(block, 0);
        }
        for (index, target) in out.chunks_mut(block).enumerate() {
            let start = le32(frame.bytes, HEADER + 4 * index).expect("counted above");
            self.decode_block(&frame, start, target, zstd)?;
        }
        Ok(())
    }

    /// Decodes the block whose streams start at `start` into `target`: each split into its
    /// part (through the thread's block buffer when the block is shuffled), then unshuffled.
    fn decode_block(
        &mut self,
        frame: &Frame<'_>,
        start: usize,
        target: &mut [u8],
        zstd: &mut ZstdDecoder,
    ) -> Result<(), CodecError> {
        let header = frame.header;
        let leftover = target.len() < header.block;
        let splits = if header.flags & DONT_SPLIT == 0
            && header.typesize <= MAX_SPLITS
            && header.block / header.typesize >= MIN_BUFFER
            && !leftover
        {
            header.typesize
        } else {
            1
        };
        if target.len() % splits != 0 {
            return Err(damaged("splits a block that is not whole records"));
        }
        let len = target.len();
        let staged = if frame.unshuffle {
            &mut self.block[..len]
        } else {
            &mut target[..]
        };
        let mut at = start;
        for part in staged.chunks_mut(len / splits) {
            at = frame.decode_stream(at, part, zstd)?;
        }
        if frame.unshuffle {
            let whole = len / header.typesize * header.typesize;
            let records = whole / header.typesize;
            unshuffle_rows(
                &self.block[..whole],
                header.typesize,
                0..records,
                &mut target[..whole],
            );
            target[whole..].copy_from_slice(&self.block[whole..len]);
        }
        Ok(())
    }
}

/// A compressed frame, its header checked and its codec known.
struct Frame<'a> {
    header: &'a FrameHeader,
    bytes: &'a [u8],
    codec: BloscCodec,
    /// Whether the blocks are byte-shuffled (and so decoded through the block buffer).
    unshuffle: bool,
}

impl<'a> Frame<'a> {
    /// The frame `bytes` (not a plain copy) with its `header`: the sizes that split blocks
    /// are not 0, and the codec and shuffle are ones this reader decodes.
    fn new(header: &'a FrameHeader, bytes: &'a [u8]) -> Result<Self, CodecError> {
        if header.typesize == 0 {
            return Err(damaged("has a type size of 0"));
        }
        if header.block == 0 {
            return Err(damaged("has a block size of 0"));
        }
        let format = header.flags >> 5;
        let codec = match (bytes[1], BloscCodec::of_format(format)) {
            (CODEC_VERSION, Some(codec)) => codec,
            (version, Some(_)) => {
                return Err(CodecError::BloscUnsupported(format!(
                    "version {version} of codec format {format}"
                )))
            }
            (_, None) => {
                let name = ["blosclz", "lz4", "snappy", "zlib", "zstd"]
                    .get(usize::from(format))
                    .unwrap_or(&"an unknown codec");
                return Err(CodecError::BloscUnsupported(format!("codec {name}")));
            }
        };
        let unshuffle = header.flags & DOSHUFFLE != 0 && header.typesize > 1;
        if header.flags & DOBITSHUFFLE != 0 && !unshuffle && header.block >= header.typesize {
            return Err(CodecError::BloscUnsupported("bit shuffle".into()));
        }
        Ok(Self {
            header,
            bytes,
            codec,
            unshuffle,
        })
    }

    /// Decodes the stream at `at` (its 4-byte size, then its bytes: stored as they are
    /// when the size is the part's) into `part`; returns where the next stream starts.
    fn decode_stream(
        &self,
        at: usize,
        part: &mut [u8],
        zstd: &mut ZstdDecoder,
    ) -> Result<usize, CodecError> {
        let size = le32(self.bytes, at).ok_or(damaged("ends inside a block"))?;
        let at = at + 4;
        let stream = self
            .bytes
            .get(at..at.saturating_add(size))
            .ok_or(damaged("ends inside a block"))?;
        let next = at + size;
        if size == part.len() {
            part.copy_from_slice(stream);
            return Ok(next);
        }
        let decoded = match self.codec {
            BloscCodec::Lz4 => {
                lz4_flex::block::decompress_into(stream, part).map_err(CodecError::Lz4Block)?
            }
            BloscCodec::Zstd => zstd.decode(stream, part)?,
        };
        if decoded != part.len() {
            return Err(CodecError::Length {
                decoded,
                expected: part.len(),
            });
        }
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::shuffle;
    use crate::codec::zstd_decoder::ZstdDecoder;

    /// The bytes of every test chunk, as tests/support/blosc_frames.py makes them.
    fn sample(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 7 + i / 26 % 3) as u8).collect()
    }

    fn round_trip(codec: BloscCodec, level: u8, typesize: usize, input: &[u8]) -> Vec<u8> {
        let (mut scratch, mut stored) = (Vec::new(), Vec::new());
        let mut encoder = BloscEncoder::new(codec, level, typesize);
        encoder.encode(input, &mut scratch, &mut stored);
        assert!(stored.len() <= BloscEncoder::bound(input.len()));
        assert!(scratch.len() <= BloscEncoder::scratch_bound(input.len()));
        assert_eq!(claimed_size(&stored).unwrap(), input.len() as u64);
        let mut back = vec![0xee; input.len()];
        BloscDecoder::default()
            .decode(&stored, &mut back, &mut ZstdDecoder::default())
            .unwrap_or_else(|why| panic!("{codec:?} {typesize} {}: {why}", input.len()));
        assert_eq!(back, input, "{codec:?} {typesize} {}", input.len());
        stored
    }

    #[test]
    fn frames_decode_to_what_was_encoded() {
        for codec in [BloscCodec::Lz4, BloscCodec::Zstd] {
            for typesize in [1, 4, 26, 27, 300] {
                for records in [0, 1, 3, 1000, 40_000, 170_003] {
                    let input = sample(records * typesize);
                    round_trip(codec, 5, typesize, &input);
                }
            }
        }
        // Bytes that are not whole records: the tail is kept as it is.
        round_trip(BloscCodec::Zstd, 1, 26, &sample(26 * 50_000 + 7));
        let noise = crate::test_support::noise(1 << 21, 0x2545_f491_4f6c_dd1du64);
        let stored = round_trip(BloscCodec::Lz4, 9, 26, &noise);
        assert_eq!(stored[2] & MEMCPYED, MEMCPYED, "noise is stored as a copy");
        assert_eq!(stored.len(), noise.len() + HEADER);
    }

    /// The header as c-blosc writes it: version 2, codec version 1, byte shuffle, one
    /// stream per block, the codec's format, the type size, then the sizes; the block
    /// starts follow, each block a size and its stream.
    #[test]
    fn frames_have_c_blosc_layout() {
        let input = sample(26 * 400_000);
        let stored = round_trip(BloscCodec::Zstd, 1, 26, &input);
        assert_eq!(stored[..4], [2, 1, DOSHUFFLE | DONT_SPLIT | (4 << 5), 26]);
        let block = le32(&stored, 8).unwrap();
        assert_eq!(block % 26, 0);
        assert!(block <= BLOCK_BYTES && block > BLOCK_BYTES - 26);
        assert_eq!(le32(&stored, 4).unwrap(), input.len());
        assert_eq!(le32(&stored, 12).unwrap(), stored.len());
        let blocks = input.len().div_ceil(block);
        assert_eq!(blocks, 3);
        let first = le32(&stored, HEADER).unwrap();
        assert_eq!(first, HEADER + 4 * blocks);
        let size = le32(&stored, first).unwrap();
        assert_eq!(le32(&stored, HEADER + 4).unwrap(), first + 4 + size);
        // The first block's stream is a zstd frame of the shuffled block.
        let stream = &stored[first + 4..first + 4 + size];
        let mut planes = Vec::new();
        shuffle(&input[..block], 26, &mut planes);
        assert_eq!(zstd::bulk::decompress(stream, block).unwrap(), planes);
        let lz4 = round_trip(BloscCodec::Lz4, 9, 26, &input);
        assert_eq!(lz4[2], DOSHUFFLE | DONT_SPLIT | (1 << 5));
    }

    fn fixture(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/blosc")
            .join(format!("{name}.blosc"));
        std::fs::read(&path).unwrap_or_else(|why| panic!("{}: {why}", path.display()))
    }

    /// Frames c-blosc wrote (through hdf5plugin; tests/support/blosc_frames.py): split
    /// lz4 streams of a 4-byte type, several blocks with a leftover, no shuffle.
    #[test]
    fn frames_of_c_blosc_decode() {
        for (name, size) in [
            ("lz4-t4-shuffle-65536", 65536),
            ("lz4-t26-shuffle-520000", 520_000),
            ("zstd-t26-shuffle-520000", 520_000),
            ("zstd-t4-noshuffle-65536", 65536),
        ] {
            let stored = fixture(name);
            assert_eq!(claimed_size(&stored).unwrap(), size as u64, "{name}");
            let mut back = vec![0; size];
            BloscDecoder::default()
                .decode(&stored, &mut back, &mut ZstdDecoder::default())
                .unwrap_or_else(|why| panic!("{name}: {why}"));
            assert_eq!(back, sample(size), "{name}");
        }
        assert_eq!(fixture("lz4-t4-shuffle-65536")[2] & DONT_SPLIT, 0, "split");
    }

    #[test]
    fn what_txt2h5_does_not_decode_is_named() {
        let refused = |stored: &[u8], size| {
            let mut back = vec![0; size];
            BloscDecoder::default()
                .decode(stored, &mut back, &mut ZstdDecoder::default())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            refused(&fixture("lz4-t4-bitshuffle-65536"), 65536),
            "its blosc frame uses bit shuffle, which txt2h5 does not decode"
        );
        assert_eq!(
            refused(&fixture("blosclz-t26-shuffle-52000"), 52000),
            "its blosc frame uses codec blosclz, which txt2h5 does not decode"
        );
        let mut future = fixture("zstd-t26-shuffle-520000");
        future[0] = 3;
        assert_eq!(
            refused(&future, 520_000),
            "its blosc frame uses format version 3, which txt2h5 does not decode"
        );
    }

    /// A damaged frame is an error, never a panic or an allocation it sizes: every byte
    /// of the header and the block starts changed, and every cut.
    #[test]
    fn damaged_frames_are_errors() {
        let input = sample(26 * 50_000);
        for codec in [BloscCodec::Lz4, BloscCodec::Zstd] {
            let stored = round_trip(codec, 5, 26, &input);
            let mut back = vec![0; input.len()];
            let mut decoder = BloscDecoder::default();
            for at in 0..HEADER + 12 {
                for value in [0u8, 1, 0x7f, 0xff] {
                    let mut changed = stored.clone();
                    changed[at] = value;
                    // Some changes leave a valid frame (a flag that does not matter);
                    // what matters is that decoding returns.
                    let _ = decoder.decode(&changed, &mut back, &mut ZstdDecoder::default());
                }
            }
            for cut in [0, 1, 15, 16, 20, stored.len() / 2, stored.len() - 1] {
                assert!(
                    decoder
                        .decode(&stored[..cut], &mut back, &mut ZstdDecoder::default())
                        .is_err(),
                    "{cut}"
                );
            }
            let mut short = vec![0; input.len() - 1];
            let error = decoder
                .decode(&stored, &mut short, &mut ZstdDecoder::default())
                .unwrap_err();
            assert!(matches!(error, CodecError::WrongSize { .. }), "{error}");
        }
        let mut huge = fixture("zstd-t26-shuffle-520000");
        huge[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(claimed_size(&huge).unwrap(), u64::from(u32::MAX));
    }
}
