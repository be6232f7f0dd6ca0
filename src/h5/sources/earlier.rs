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

/// What a `/sources` row written from format presets until the flat layout adds to the
/// first layout's fields (read apart: HDF5 reads the fields a memory type names).
#[derive(H5Type, Clone, Debug)]
#[repr(C)]
struct PresetFields {
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

/// The field names of a compound type.
fn field_names<T: H5Type>() -> Vec<String> {
    match T::type_descriptor() {
        TypeDescriptor::Compound(compound) => compound
            .fields
            .into_iter()
            .map(|field| field.name)
            .collect(),
        _ => unreachable!("a /sources row type is a compound"),
    }
}

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
    let (flat_layout, presets) = (has("mtime_s"), has("format"));
    let needed = if flat_layout {
        field_names::<SourceRow>()
    } else if presets {
        [
            field_names::<FirstSourceRow>(),
            field_names::<PresetFields>(),
        ]
        .concat()
    } else {
        field_names::<FirstSourceRow>()
    };
    if let Some(missing) = needed.into_iter().find(|field| !has(field)) {
        return Err(Inconsistent::from(SourcesMismatch::NoField(missing)).into());
    }
    if flat_layout {
        return Ok(sources.read_raw::<SourceRow>()?);
    }
    let first = sources.read_raw::<FirstSourceRow>()?;
    Ok(if presets {
        let added = sources.read_raw::<PresetFields>()?;
        first
            .into_iter()
            .zip(added)
            .map(|(row, added)| flat(row, added.format, added.skipped))
            .collect()
    } else {
        let native: VarLenUnicode = "native".parse().expect("no NUL byte");
        first
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
