//! The `/sources` table: which input file every row came from.
//!
//! One row per input, in load order. `first_row` and `rows` map dataset rows back to files;
//! `size`, `mtime_s`/`mtime_nsec` and the content checksum identify a file's exact bytes so
//! that later runs can tell an already-loaded file from a changed one.
//!
//! A path is recorded as text (h5py reads it as `str`). A path that is valid UTF-8 is
//! recorded as it is; in one that is not, each byte outside valid UTF-8 becomes U+FDD0
//! followed by the byte's two lowercase hex digits ([`record_path`]). U+FDD0 is a Unicode
//! noncharacter, never used in text, and a path holding it is refused, so the recorded text
//! names exactly one path: two names that differ only in such bytes stay two, and a re-run
//! of an `--append` finds each again.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use hdf5::types::{FixedAscii, VarLenUnicode};
use hdf5::{File, H5Type};

use super::attributes::write_string_attr;
use crate::format::filter::Skipped;

mod earlier;

pub(super) use earlier::read_sources;

/// Rows of one input left out on purpose, by reason: the `skipped_*` columns of
/// `/sources`, and the `skipped` object of the JSON reports.
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

/// One row of `/sources`. Every field is a plain number or a string, so that R's
/// `h5read` gives a data.frame with no NA: nothing nested, and the modification time as
/// seconds and nanoseconds (an int64 of nanoseconds since 1970 is past R's integers).
#[derive(H5Type, Clone, Debug)]
#[repr(C)]
pub struct SourceRow {
    /// The path as given on the command line, or as found below a given directory.
    pub path: VarLenUnicode,
    /// Size of the file on disk in bytes (compressed size for gzip inputs).
    pub size: u64,
    /// Modification time: whole seconds since the Unix epoch (`st_mtime`).
    pub mtime_s: i64,
    /// Modification time: nanoseconds past `mtime_s` (`st_mtim.tv_nsec`), 0..10^9.
    pub mtime_nsec: u32,
    /// XXH3-128 of the file's bytes as stored on disk, 32 lowercase hex digits.
    pub xxh3_128: FixedAscii<32>,
    /// Index in `/data` of this file's first row.
    pub first_row: u64,
    /// Rows this file contributed.
    pub rows: u64,
    /// How the file was read: a preset's name (`native`, `bismark-cov`, ...),
    /// `columns:SPEC`, or `empty` (`auto` on a file with no data line).
    pub format: VarLenUnicode,
    /// Data lines left out because `pct` would be derived from `c + t = 0`.
    pub skipped_zero_coverage: u64,
    /// Data lines left out as not the `--context` asked for.
    pub skipped_context: u64,
    /// Data lines left out as not one of the `--mod-code` codes.
    pub skipped_mod_code: u64,
}

impl SourceRow {
    /// The data lines left out on purpose, by reason.
    pub fn skipped(&self) -> SkippedRow {
        SkippedRow {
            zero_coverage: self.skipped_zero_coverage,
            context: self.skipped_context,
            mod_code: self.skipped_mod_code,
        }
    }
}

/// What a load learned about one input, for its `/sources` row.
pub struct SourceFacts<'a> {
    pub path: &'a str,
    pub size: u64,
    pub mtime: (i64, u32),
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
            mtime,
            checksum,
            first_row,
            rows,
            format,
            skipped,
        } = facts;
        let skipped = SkippedRow::from(skipped);
        let hex = format!("{checksum:032x}");
        Self {
            // Lossless: `path` is a &str without NUL bytes (Unix paths cannot hold one).
            path: path.parse().expect("a path has no NUL byte"),
            size,
            mtime_s: mtime.0,
            mtime_nsec: mtime.1,
            xxh3_128: FixedAscii::from_ascii(hex.as_bytes()).expect("hex is ASCII"),
            first_row,
            rows,
            format: format
                .replace('\0', "\u{fffd}")
                .parse()
                .expect("no NUL byte"),
            skipped_zero_coverage: skipped.zero_coverage,
            skipped_context: skipped.context,
            skipped_mod_code: skipped.mod_code,
        }
    }
}

/// The character that introduces a byte outside valid UTF-8 in a recorded path.
const BYTE_ESCAPE: char = '\u{fdd0}';

/// The text `/sources` records for `path` (see the module comment); an error where the path
/// holds U+FDD0 itself, which could not be told from an escaped byte.
pub fn record_path(path: &Path) -> Result<String, String> {
    let bytes = path.as_os_str().as_bytes();
    if bytes
        .utf8_chunks()
        .any(|chunk| chunk.valid().contains(BYTE_ESCAPE))
    {
        return Err(format!(
            "{}: the name holds U+FDD0, a Unicode noncharacter txt2h5 reserves to record \
             bytes that are not UTF-8 in /sources; rename the file",
            path.display()
        ));
    }
    Ok(escape_bytes(bytes))
}

/// `bytes` as text: valid UTF-8 as it is, each other byte as U+FDD0 and two hex digits.
/// Also how a `--source` glob given in such bytes is matched against recorded paths.
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        text.push_str(chunk.valid());
        for byte in chunk.invalid() {
            text.push(BYTE_ESCAPE);
            text.push_str(&format!("{byte:02x}"));
        }
    }
    text
}

pub(super) fn write_sources(file: &File, rows: &[SourceRow]) -> hdf5::Result<()> {
    let dataset = file
        .new_dataset_builder()
        .with_data(rows)
        .create("sources")?;
    write_string_attr(
        &dataset,
        "description",
        "one row per input file in load order: path as given, size in bytes, mtime_s and \
         mtime_nsec (the modification time: seconds since the Unix epoch and nanoseconds \
         past them), xxh3_128 (XXH3-128 of the file's bytes as \
         stored, hex), first_row (index in the data dataset of its first row), rows, format \
         (the input format: a preset name such as native or bismark-cov, columns:SPEC, or \
         empty), skipped_zero_coverage, skipped_context and skipped_mod_code (data lines \
         left out on purpose: where pct would be derived from c + t = 0, and by the \
         --context and --mod-code filters); a path byte that is not UTF-8 is recorded as U+FDD0 followed by its two \
         lowercase hex digits",
    )
}

/// What `/sources` gets wrong about the rows of the dataset.
#[derive(Debug, thiserror::Error)]
pub enum SourcesMismatch {
    #[error("/sources has no field {0}")]
    NoField(String),
    #[error("/sources: source {number} ({path}) starts at row {first_row}, not {expected}")]
    Start {
        number: usize,
        path: String,
        first_row: u64,
        expected: u64,
    },
    #[error(
        "/sources: field {field} is stored as {found}; txt2h5 reads it as {expected} (a \
         /sources table written by something else?)"
    )]
    FieldType {
        field: String,
        found: String,
        expected: String,
    },
    #[error("/sources: source {number} ({path}) has {field} {value}, which cannot be negative")]
    Negative {
        number: usize,
        path: String,
        field: String,
        value: i64,
    },
    #[error("/sources: source {number} ({path}) claims {rows} rows, past any row number")]
    Overflow {
        number: usize,
        path: String,
        rows: u64,
    },
    #[error("/{dataset} has {rows} rows, /sources accounts for {counted}")]
    RowCount {
        dataset: String,
        rows: u64,
        counted: u64,
    },
}

/// Checks that `/sources` maps every row of `dataset` (`rows` rows) to one source: each
/// source starts where the one before ends, the first at row 0, the last ends at `rows`.
/// Export, merge and append find rows through `/sources`, so rows it does not account for
/// would be dropped without a word.
pub(super) fn check_sources(
    sources: &[SourceRow],
    dataset: &str,
    rows: u64,
) -> Result<(), SourcesMismatch> {
    let mut next = 0u64;
    for (number, source) in sources.iter().enumerate() {
        let path = || source.path.as_str().to_string();
        if source.first_row != next {
            return Err(SourcesMismatch::Start {
                number,
                path: path(),
                first_row: source.first_row,
                expected: next,
            });
        }
        next = next
            .checked_add(source.rows)
            .ok_or_else(|| SourcesMismatch::Overflow {
                number,
                path: path(),
                rows: source.rows,
            })?;
    }
    if next != rows {
        return Err(SourcesMismatch::RowCount {
            dataset: dataset.trim_start_matches('/').to_string(),
            rows,
            counted: next,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(first_row: u64, rows: u64) -> SourceRow {
        SourceRow::new(SourceFacts {
            path: "a.txt",
            size: 1,
            mtime: (0, 0),
            checksum: 0,
            first_row,
            rows,
            format: "native",
            skipped: Skipped::default(),
        })
    }

    #[test]
    fn sources_must_account_for_every_row_in_order() {
        check_sources(&[source(0, 3), source(3, 0), source(3, 2)], "data", 5).unwrap();
        check_sources(&[], "data", 0).unwrap();
        for (sources, rows, needle) in [
            (
                vec![source(0, 3)],
                4,
                "/data has 4 rows, /sources accounts for 3",
            ),
            (
                vec![source(1, 3)],
                4,
                "source 0 (a.txt) starts at row 1, not 0",
            ),
            (
                vec![source(0, 3), source(2, 1)],
                4,
                "source 1 (a.txt) starts at row 2, not 3",
            ),
            (
                vec![source(0, 3), source(3, u64::MAX)],
                4,
                "past any row number",
            ),
            (vec![], 1, "/data has 1 rows, /sources accounts for 0"),
        ] {
            let message = check_sources(&sources, "data", rows)
                .unwrap_err()
                .to_string();
            assert!(message.contains(needle), "{needle}: {message}");
        }
    }

    use std::ffi::OsStr;

    /// The recorded text back to the path's bytes, as a reader of `/sources` would do it.
    fn path_bytes(recorded: &str) -> Vec<u8> {
        let mut bytes = Vec::new();
        let mut chars = recorded.chars();
        while let Some(c) = chars.next() {
            if c == BYTE_ESCAPE {
                let hex: String = chars.by_ref().take(2).collect();
                bytes.push(u8::from_str_radix(&hex, 16).unwrap());
            } else {
                bytes.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
            }
        }
        bytes
    }

    fn path(bytes: &[u8]) -> &Path {
        Path::new(OsStr::from_bytes(bytes))
    }

    /// Regression: names were recorded with `to_string_lossy`, so `caf\xe9.txt` and
    /// `caf\xe8.txt` were both `caf\u{fffd}.txt`.
    #[test]
    fn recorded_paths_round_trip() {
        let names: [&[u8]; 7] = [
            b"calls/sample 1.txt",
            "calls/caf\u{e9}.txt".as_bytes(),
            b"caf\xe9.txt",
            b"caf\xe8.txt",
            b"\xff\xfe/x\xc3",
            "dir\u{fffd}/a".as_bytes(),
            b"\xe2\x82",
        ];
        let recorded: Vec<String> = names
            .iter()
            .map(|name| record_path(path(name)).unwrap())
            .collect();
        // UTF-8 names exactly as before.
        assert_eq!(recorded[0], "calls/sample 1.txt");
        assert_eq!(recorded[1], "calls/caf\u{e9}.txt");
        assert_eq!(recorded[5], "dir\u{fffd}/a");
        assert_eq!(recorded[2], "caf\u{fdd0}e9.txt");
        assert_eq!(recorded[6], "\u{fdd0}e2\u{fdd0}82");
        for (name, recorded) in names.iter().zip(&recorded) {
            assert_eq!(path_bytes(recorded), *name);
        }
        let mut distinct = recorded.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), names.len());
    }

    #[test]
    fn a_name_holding_the_escape_character_is_refused() {
        let error = record_path(Path::new("a\u{fdd0}e9.txt")).unwrap_err();
        assert!(error.contains("U+FDD0"), "{error}");
        let mut bytes = "a\u{fdd0}".as_bytes().to_vec();
        bytes.push(0xe9);
        assert!(record_path(path(&bytes)).is_err());
    }
}
