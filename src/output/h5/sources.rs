//! The `/sources` table: which input file every row came from.
//!
//! One row per input, in load order. `first_row` and `rows` map dataset rows back to files;
//! `size`, `mtime_ns` and the content checksum identify a file's exact bytes so that later
//! runs can tell an already-loaded file from a changed one.

use hdf5::types::{FixedAscii, VarLenUnicode};
use hdf5::{File, H5Type};

use super::attributes::write_string_attr;
use crate::format::filter::Skipped;

/// Rows of one input left out on purpose, by reason (the `skipped` column of `/sources`).
#[derive(H5Type, Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[repr(C)]
pub struct SkippedRow {
    /// `pct` would be derived from `c + t = 0`.
    pub zero_coverage: u64,
    /// Not the `--context` asked for.
    pub context: u64,
    /// Not one of the `--mod-code` codes.
    pub mod_code: u64,
}

impl From<Skipped> for SkippedRow {
    fn from(skipped: Skipped) -> Self {
        Self {
            zero_coverage: skipped.zero_coverage(),
            context: skipped.context(),
            mod_code: skipped.mod_code(),
        }
    }
}

/// A `/sources` row as written before format presets (no `format`, no `skipped`): read
/// from older outputs, which are all `native` and left nothing out.
#[derive(H5Type, Clone, Debug)]
#[repr(C)]
pub struct LegacySourceRow {
    pub path: VarLenUnicode,
    pub size: u64,
    pub mtime_ns: i64,
    pub xxh3_128: FixedAscii<32>,
    pub first_row: u64,
    pub rows: u64,
}

impl From<LegacySourceRow> for SourceRow {
    fn from(row: LegacySourceRow) -> Self {
        Self {
            path: row.path,
            size: row.size,
            mtime_ns: row.mtime_ns,
            xxh3_128: row.xxh3_128,
            first_row: row.first_row,
            rows: row.rows,
            format: "native".parse().expect("no NUL byte"),
            skipped: SkippedRow::default(),
        }
    }
}

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
    /// How the file was read: a preset's name (`native`, `bismark-cov`, ...),
    /// `columns:SPEC`, or `empty` (`auto` on a file with no data line).
    pub format: VarLenUnicode,
    /// Data lines left out on purpose, by reason.
    pub skipped: SkippedRow,
}

/// What a load learned about one input, for its `/sources` row.
pub struct SourceFacts<'a> {
    pub path: &'a str,
    pub size: u64,
    pub mtime_ns: i64,
    pub checksum: u128,
    pub first_row: u64,
    pub rows: u64,
    pub format: &'a str,
    pub skipped: Skipped,
}

impl SourceRow {
    pub fn new(facts: SourceFacts<'_>) -> Self {
        let SourceFacts {
            path,
            size,
            mtime_ns,
            checksum,
            first_row,
            rows,
            format,
            skipped,
        } = facts;
        let hex = format!("{checksum:032x}");
        Self {
            // Lossless: `path` is a &str without NUL bytes (Unix paths cannot hold one).
            path: path.parse().expect("a path has no NUL byte"),
            size,
            mtime_ns,
            xxh3_128: FixedAscii::from_ascii(hex.as_bytes()).expect("hex is ASCII"),
            first_row,
            rows,
            format: format
                .replace('\0', "\u{fffd}")
                .parse()
                .expect("no NUL byte"),
            skipped: skipped.into(),
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
         stored, hex), first_row (index in the data dataset of its first row), rows, format \
         (the input layout: a preset name such as native or bismark-cov, columns:SPEC, or \
         empty), skipped (data lines left out on purpose: zero_coverage where pct would be \
         derived from c + t = 0, context and mod_code by the --context and --mod-code \
         filters)",
    )
}
