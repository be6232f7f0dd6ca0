//! Chunk codecs, below both HDF5 sides: what `--compression` means as an HDF5 filter
//! pipeline ([`compression`]), the byte formats each filter stores ([`frame`]), and whole
//! chunks shuffled and compressed, or decoded and unshuffled, on txt2h5's pool ([`chunk`]).
//! The writer, the readers (`query/`) and the filters registered with HDF5 ([`crate::h5`])
//! all use these; nothing here calls HDF5.

pub mod blosc;
pub mod chunk;
pub mod compression;
pub mod frame;

pub use blosc::BloscCodec;
pub use chunk::{shuffle, unshuffle_rows, ChunkCompressor, ChunkDecompressor};
pub use compression::{Compression, BLOSC_FILTER, LZ4_FILTER, ZSTD_FILTER};
pub use frame::{check_header, claimed_size, CodecError, Decoder, Encoder};
