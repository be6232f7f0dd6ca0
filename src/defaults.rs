//! Every default of the command line, in one place that both the flag definitions
//! ([`crate::cli`]) and their validation ([`crate::settings`]) read, so that neither
//! depends on the other for a number; and the fixed limits that no flag changes, which the
//! readers ([`crate::input`]) and the parser ([`crate::parse`]) both obey.

/// Bytes in the `chr` field: numpy's `S10` of the reference pipelines.
pub const CHR_WIDTH: usize = 10;

/// Rows per HDF5 chunk: 1.7 MB of 26-byte records, a good unit for deflate and for reads.
pub const CHUNK_ROWS: usize = 65_536;

/// The largest chunk `load` writes and the largest chunk the readers take where its rows do
/// not fill it (a crafted shape): 256 MiB, about 150 times the default chunk (65,536 rows
/// of 26 bytes). Every read decodes whole chunks, so a chunk's size sizes buffers.
pub const MAX_CHUNK_BYTES: u64 = 256 << 20;

/// Chunk compression: shuffle + deflate level 1 (docs/guide.md, "Why `gzip:1` by default").
pub const COMPRESSION: &str = "gzip:1";

/// Level of a bare `--compression gzip`, h5py's default.
pub const GZIP_LEVEL: u8 = 4;

/// Level of a bare `--compression zstd`: zstd's own default, and hdf5plugin's.
pub const ZSTD_LEVEL: u8 = 3;

/// What a bare `--compression blosc` means: the codec chosen by measurement (see the
/// performance document, "Compression codecs").
pub const BLOSC: &str = "blosc:zstd";

/// Blosc level of a bare `--compression blosc:zstd`: blosc's level 1, zstd's level 1.
pub const BLOSC_LEVEL: u8 = 1;

/// Bytes per piece of a large uncompressed file.
pub const PIECE_BYTES: u64 = 4 << 20;

/// Records per memory-mapped buffer.
pub const BUFFER_ROWS: usize = 65_536;

/// Buffers in the pool for `threads` workers: two each and two more (docs/internals.md,
/// "How it works", for the memory this bounds).
pub const fn buffers(threads: usize) -> usize {
    2 * threads + 2
}

/// The longest line accepted, in bytes, newline excluded. A methylation call line is under
/// 200 bytes; a longer "line" is a file with no newlines (binary data, CR-only line ends).
/// Every reader bounds the text it holds by this limit, so such a file is refused with its
/// line number while memory stays flat, instead of being buffered whole.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Text `--format auto` and the methylKit preset look at per file, from its start
/// (inflated, for compressed files).
pub const HEAD_BYTES: usize = 64 << 10;
