//! BGZF, the blocked gzip of bgzip, tabix and htslib: its reader and its writer side by
//! side, as noodles keeps them, because both sides share the format's rules.
//!
//! A BGZF file is a chain of independent gzip members ("blocks") of at most 64 KiB of data,
//! each giving its own compressed size in a `BC` extra field, and ends with one empty block
//! (SAM/BAM specification, section 4.1). Every gzip reader reads it as one stream; a reader
//! that knows the format lists the blocks from their headers and inflates them in parallel.
//!
//! [`reader`] lists and inflates the blocks of an input (the load reads a BGZF file in
//! pieces, see [`crate::input::reader`]); [`writer`] compresses exported text into blocks
//! (`export -o NAME.gz`), which the load then reads in parallel. Both sit here, below
//! `input/` and `command/export`, so that each side depends downwards on one definition.

pub mod reader;
pub mod writer;

/// The most data a BGZF block holds.
pub const MAX_BLOCK_DATA: usize = 65_536;

/// The empty block every BGZF file ends with (SAM/BAM specification, section 4.1.2).
pub const EOF_BLOCK: [u8; 28] = [
    0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 0xff, 6, 0, b'B', b'C', 2, 0, 0x1b, 0, 3, 0, 0, 0, 0, 0, 0, 0,
    0, 0,
];

/// The fixed first 16 bytes of a block's header: gzip's ID1 ID2 CM FLG(FEXTRA), MTIME,
/// XFL, OS (unknown), then XLEN = 6 and the `BC` subfield's SI1 SI2 SLEN = 2. BSIZE (the
/// block's size less one, 2 bytes) follows. The writer puts these bytes; the reader checks
/// all but MTIME, XFL and OS, which other writers set as they like.
pub const HEADER_START: [u8; 16] = [
    0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 0xff, 6, 0, b'B', b'C', 2, 0,
];

/// A block's header: [`HEADER_START`] and BSIZE.
pub const HEADER_LEN: usize = 18;

/// A block's trailer: CRC-32 and the data size (ISIZE), both little-endian.
pub const TRAILER_LEN: usize = 8;
