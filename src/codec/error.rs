//! Why a stored chunk does not decode: one error type for every codec and the checksum,
//! a leaf that the codecs and their callers share.

/// Why a stored chunk does not decode: each says what is wrong with a damaged chunk.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("it is shorter than the lz4 header")]
    ShortLz4Header,
    /// The header's size (lz4) or the frame's content size (zstd) is not the chunk's.
    #[error("its {codec} header claims {claimed} bytes, but the chunk holds {expected}")]
    WrongSize {
        codec: &'static str,
        claimed: u64,
        expected: usize,
    },
    /// The header claims more than any chunk of the dataset can hold.
    #[error("its {codec} header claims {claimed} bytes, more than a chunk holds ({limit})")]
    TooLarge {
        codec: &'static str,
        claimed: u64,
        limit: usize,
    },
    #[error("its zstd frame does not record its size")]
    UnknownZstdSize,
    #[error("its lz4 block size is 0")]
    ZeroLz4Block,
    #[error("it ends inside the lz4 blocks")]
    Lz4Cut,
    #[error("an lz4 block does not decode ({0})")]
    Lz4Block(lz4_flex::block::DecompressError),
    #[error("an lz4 block decodes to {decoded} bytes, not {expected}")]
    Lz4BlockSize { decoded: usize, expected: usize },
    #[error("it does not inflate ({0})")]
    Deflate(libdeflater::DecompressionError),
    #[error("its zstd frame does not decode ({0})")]
    Zstd(std::io::Error),
    #[error("it decodes to {decoded} bytes, not the chunk's {expected}")]
    Length { decoded: usize, expected: usize },
    #[error("its blosc frame {0}")]
    BloscDamaged(&'static str),
    #[error("its blosc frame uses {0}, which txt2h5 does not decode")]
    BloscUnsupported(String),
    /// The Fletcher32 checksum after the chunk's bytes is not theirs: the chunk was
    /// changed after it was written.
    #[error(
        "its Fletcher32 checksum is wrong (stored {stored:#010x}, its bytes sum to \
         {computed:#010x}): it changed after it was written"
    )]
    Checksum { stored: u32, computed: u32 },
    /// A chunk of a dataset with the checksum filter is shorter than the checksum.
    #[error("it is {0} bytes long, too short to hold its Fletcher32 checksum")]
    NoChecksum(usize),
    /// The buffer for the decoded chunk cannot be allocated.
    #[error("no memory for its {0} decoded bytes")]
    NoMemory(usize),
}
