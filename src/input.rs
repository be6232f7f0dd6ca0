//! Everything about the input files before their bytes are parsed.
//!
//! Operands are expanded and ordered ([`discover`]), optionally cut to one shard of the
//! whole set ([`shard`]); each file's storage is told by content ([`encoding`]); plain files
//! are cut into newline-aligned pieces ([`split`]), BGZF files at block boundaries
//! ([`crate::bgzf::reader`]); a worker pulls each unit's text through one [`reader`] (a plain
//! piece, a gzip stream, a BGZF piece) and parses what it is given; and every file's bytes
//! are checksummed for `/sources` ([`checksum`]). [`head`] reads the start of a file's
//! text, from which `--format auto` tells its format.

pub mod checksum;
pub mod discover;
pub mod encoding;
pub mod head;
pub mod reader;
pub mod shard;
pub mod split;
