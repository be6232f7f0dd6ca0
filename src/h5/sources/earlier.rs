//! Reading `/sources` in every layout txt2h5 has written, by field names:
//!
//! - the first releases: no `format`, no skipped counts, `mtime_ns`;
//! - format presets: `format`, a nested compound `skipped` and `mtime_ns`, which R's
//!   `h5read` gave as NA;
//! - today's flat layout ([`SourceRow`]).
//!
//! `--append` and `merge` read all three and write today's.

use hdf5::types::{FixedAscii, TypeDescriptor, VarLenUnicode};
use hdf5::{Dataset, H5Type};

use super::{SkippedRow, SourceRow, SourcesMismatch};
use crate::h5::error::{Inconsistent, OpenError};

/// A `/sources` row as written before format presets: all `native`, nothing left out.
#[derive(H5Type, Clone, Debug)]
#[repr(C)]
struct FirstSourceRow {
    path: VarLenUnicode,
    size: u64,
    mtime_ns: i64,
    xxh3_128: FixedAscii<32>,
    first_row: u64,
    rows: u64,
}

/// A `/sources` row as written from format presets until the flat layout.
#[derive(H5Type, Clone, Debug)]
#[repr(C)]
struct PresetSourceRow {
    path: VarLenUnicode,
    size: u64,
    mtime_ns: i64,
    xxh3_128: FixedAscii<32>,
    first_row: u64,
    rows: u64,
    format: VarLenUnicode,
    skipped: SkippedRow,
}

/// Nanoseconds since the epoch as (seconds, nanoseconds past them), as `stat` gives them.
fn split_mtime(mtime_ns: i64) -> (i64, u32) {
    let nanoseconds = mtime_ns.rem_euclid(1_000_000_000);
    (
        mtime_ns.div_euclid(1_000_000_000),
        u32::try_from(nanoseconds).expect("below 10^9"),
    )
}

fn flat(row: FirstSourceRow, format: VarLenUnicode, skipped: SkippedRow) -> SourceRow {
    let (mtime_s, mtime_nsec) = split_mtime(row.mtime_ns);
    SourceRow {
        path: row.path,
        size: row.size,
        mtime_s,
        mtime_nsec,
        xxh3_128: row.xxh3_128,
        first_row: row.first_row,
        rows: row.rows,
        format,
        skipped_zero_coverage: skipped.zero_coverage,
        skipped_context: skipped.context,
        skipped_mod_code: skipped.mod_code,
    }
}

const FIRST_FIELDS: &[&str] = &["path", "size", "mtime_ns", "xxh3_128", "first_row", "rows"];
const PRESET_FIELDS: &[&str] = &[
    "path",
    "size",
    "mtime_ns",
    "xxh3_128",
    "first_row",
    "rows",
    "format",
    "skipped",
];
const FLAT_FIELDS: &[&str] = &[
    "path",
    "size",
    "mtime_s",
    "mtime_nsec",
    "xxh3_128",
    "first_row",
    "rows",
    "format",
    "skipped_zero_coverage",
    "skipped_context",
    "skipped_mod_code",
];

/// `/sources` in any of its layouts, as today's rows. Every field a layout has must be
/// there: HDF5 would fill a missing one with zeros.
pub(in crate::h5) fn read_sources(sources: &Dataset) -> Result<Vec<SourceRow>, OpenError> {
    let names: Vec<String> = match sources.dtype()?.to_descriptor()? {
        TypeDescriptor::Compound(compound) => compound
            .fields
            .into_iter()
            .map(|field| field.name)
            .collect(),
        _ => {
            return Err(OpenError::NotOurs(
                "its sources table is not a compound dataset".to_string(),
            ))
        }
    };
    let has = |field: &str| names.iter().any(|name| name == field);
    let needed = if has("mtime_s") {
        FLAT_FIELDS
    } else if has("format") {
        PRESET_FIELDS
    } else {
        FIRST_FIELDS
    };
    if let Some(missing) = needed.iter().find(|field| !has(field)) {
        return Err(Inconsistent::from(SourcesMismatch::NoField(missing)).into());
    }
    Ok(if needed == FLAT_FIELDS {
        sources.read_raw::<SourceRow>()?
    } else if needed == PRESET_FIELDS {
        sources
            .read_raw::<PresetSourceRow>()?
            .into_iter()
            .map(|row| {
                let first = FirstSourceRow {
                    path: row.path,
                    size: row.size,
                    mtime_ns: row.mtime_ns,
                    xxh3_128: row.xxh3_128,
                    first_row: row.first_row,
                    rows: row.rows,
                };
                flat(first, row.format, row.skipped)
            })
            .collect()
    } else {
        let native: VarLenUnicode = "native".parse().expect("no NUL byte");
        sources
            .read_raw::<FirstSourceRow>()?
            .into_iter()
            .map(|row| flat(row, native.clone(), SkippedRow::default()))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::split_mtime;

    #[test]
    fn nanoseconds_split_as_stat_gives_them() {
        assert_eq!(split_mtime(1_700_000_000_000_000_005), (1_700_000_000, 5));
        assert_eq!(split_mtime(0), (0, 0));
        assert_eq!(split_mtime(-1), (-1, 999_999_999));
        assert_eq!(split_mtime(i64::MAX), (9_223_372_036, 854_775_807));
        assert_eq!(split_mtime(i64::MIN), (-9_223_372_037, 145_224_192));
    }
}
