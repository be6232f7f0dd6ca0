//! Chunk codecs, below both HDF5 sides: what `--compression` means as an HDF5 filter
//! pipeline ([`compression`]), the byte formats each filter stores ([`frame`], [`blosc`]),
//! whole chunks shuffled and compressed, or decoded and unshuffled, on txt2h5's pool
//! ([`chunk`]), and the Fletcher32 checksum that ends every pipeline ([`checksum`]). The
//! writers, the readers (`query/`) and the filters registered with HDF5 ([`crate::h5`]) all
//! use these; nothing here calls HDF5.
//!
//! Stages depend downwards only: `chunk` uses `frame`, which uses `blosc`; all three use
//! the leaves `shuffle`, `zstd_decoder` and `error` (and `checksum` uses `error`), which
//! use nothing here.

pub mod blosc;
pub mod checksum;
pub mod chunk;
pub mod compression;
pub mod error;
pub mod frame;
pub mod shuffle;
pub mod zstd_decoder;

pub use blosc::BloscCodec;
pub use checksum::{append_checksum, seal, verified, CHECKSUM_BYTES};
pub use chunk::{ChunkCompressor, ChunkDecompressor};
pub use compression::{has_checksum, Compression, BLOSC_FILTER, LZ4_FILTER, ZSTD_FILTER};
pub use error::CodecError;
pub use frame::{check_header, claimed_size, Decoder, Encoder};
pub use shuffle::{shuffle, unshuffle_rows};
