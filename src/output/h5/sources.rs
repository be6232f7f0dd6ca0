//! The `/sources` table: which input file every row came from.
//!
//! One row per input, in load order. `first_row` and `rows` map dataset rows back to files;
//! `size`, `mtime_ns` and the content checksum identify a file's exact bytes so that later
//! runs can tell an already-loaded file from a changed one.

use hdf5::types::{FixedAscii, VarLenUnicode};
use hdf5::{File, H5Type};

use super::attributes::write_string_attr;

/// One row of `/sources`.
#[derive(H5Type, Clone, Debug)]
#[repr(C)]
pub struct SourceRow {
    /// The path as given on the command line, or as found below a given directory.
    pub path: VarLenUnicode,
    /// Size of the file on disk in bytes (compressed size for gzip inputs).
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    pub mtime_ns: i64,
    /// XXH3-128 of the file's bytes as stored on disk, 32 lowercase hex digits.
    pub xxh3_128: FixedAscii<32>,
    /// Index in `/data` of this file's first row.
    pub first_row: u64,
    /// Rows this file contributed.
    pub rows: u64,
}

impl SourceRow {
    pub fn new(
        path: &str,
        size: u64,
        mtime_ns: i64,
        checksum: u128,
        first_row: u64,
        rows: u64,
    ) -> Self {
        let hex = format!("{checksum:032x}");
        Self {
            // Lossless: `path` is a &str without NUL bytes (Unix paths cannot hold one).
            path: path.parse().expect("a path has no NUL byte"),
            size,
            mtime_ns,
            xxh3_128: FixedAscii::from_ascii(hex.as_bytes()).expect("hex is ASCII"),
            first_row,
            rows,
        }
    }
}

pub(super) fn write_sources(file: &File, rows: &[SourceRow]) -> hdf5::Result<()> {
    let dataset = file
        .new_dataset_builder()
        .with_data(rows)
        .create("sources")?;
    write_string_attr(
        &dataset,
        "description",
        "one row per input file in load order: path as given, size in bytes, mtime_ns \
         (nanoseconds since the Unix epoch), xxh3_128 (XXH3-128 of the file's bytes as \
         stored, hex), first_row (index in the data dataset of its first row), rows",
    )
}
