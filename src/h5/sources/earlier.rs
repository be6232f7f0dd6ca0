//! Reading `/sources` in every version txt2h5 has written, by field names:
//!
//! - the first releases: no `format`, no skipped counts, `mtime_ns`;
//! - format presets: `format`, a nested compound `skipped` and `mtime_ns`, which R's
//!   `h5read` gave as NA;
//! - today's flat version ([`SourceRow`]).
//!
//! `--append` and `merge` read all three and write today's.

use hdf5::types::{
    CompoundField, CompoundType, FixedAscii, IntSize, TypeDescriptor, VarLenUnicode,
};
use hdf5::{Dataset, Datatype, H5Type};

use super::{SkippedRow, SourceRow, SourcesMismatch};
use crate::h5::error::{Inconsistent, OpenError};
use crate::h5::ffi::{self, ReadAllError};

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

/// What a `/sources` row written from format presets until the flat version adds to the
/// first version's fields (read apart: HDF5 reads the fields a memory type names).
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

/// The fields of a compound type.
fn fields<T: H5Type>() -> Vec<CompoundField> {
    match T::type_descriptor() {
        TypeDescriptor::Compound(compound) => compound.fields,
        _ => unreachable!("a /sources row type is a compound"),
    }
}

/// `/sources` in any of its versions, as today's rows. Every field a version has must be
/// there (HDF5 would fill a missing one with zeros), of a type that reads as the field's
/// without loss (HDF5 finds no conversion from an integer to a string, and clamps a
/// negative number read as unsigned to 0).
pub(in crate::h5) fn read_sources(sources: &Dataset) -> Result<Vec<SourceRow>, OpenError> {
    let stored: Vec<CompoundField> = match sources.dtype()?.to_descriptor()? {
        TypeDescriptor::Compound(compound) => compound.fields,
        _ => {
            return Err(OpenError::NotOurs(
                "its sources table is not a compound dataset".to_string(),
            ))
        }
    };
    let find = |name: &str| stored.iter().find(|field| field.name == name);
    let (flat_version, presets) = (find("mtime_s").is_some(), find("format").is_some());
    let needed = if flat_version {
        fields::<SourceRow>()
    } else if presets {
        [fields::<FirstSourceRow>(), fields::<PresetFields>()].concat()
    } else {
        fields::<FirstSourceRow>()
    };
    let mut signed = Vec::new();
    for field in &needed {
        let Some(found) = find(&field.name) else {
            return Err(Inconsistent::from(SourcesMismatch::NoField(field.name.clone())).into());
        };
        match (&found.ty, &field.ty) {
            (TypeDescriptor::Integer(_), TypeDescriptor::Unsigned(_)) => signed.push(&field.name),
            (found_type, expected) if !reads_as(found_type, expected) => {
                return Err(Inconsistent::from(SourcesMismatch::FieldType {
                    field: field.name.clone(),
                    found: type_name(found_type),
                    expected: type_name(expected),
                })
                .into());
            }
            _ => {}
        }
    }
    let rows = read_rows(sources, flat_version, presets)?;
    for field in signed {
        refuse_negative(sources, field, &rows)?;
    }
    Ok(rows)
}

/// Whether a field stored as `found` reads as `expected` with nothing lost: an integer as
/// an integer (a signed one read as unsigned is checked for negative values apart), a
/// string as a string of its kind, a compound field by field.
fn reads_as(found: &TypeDescriptor, expected: &TypeDescriptor) -> bool {
    use TypeDescriptor::{
        Compound, FixedAscii, FixedUnicode, Integer, Unsigned, VarLenAscii, VarLenUnicode,
    };
    match (found, expected) {
        (Integer(_) | Unsigned(_), Integer(_) | Unsigned(_)) => true,
        (VarLenAscii | VarLenUnicode, VarLenUnicode) => true,
        (FixedAscii(found) | FixedUnicode(found), FixedAscii(expected)) => found == expected,
        (Compound(found), Compound(expected)) => expected.fields.iter().all(|field| {
            found
                .fields
                .iter()
                .any(|stored| stored.name == field.name && reads_as(&stored.ty, &field.ty))
        }),
        _ => false,
    }
}

/// A stored type as a message names it ("a 64-bit signed integer").
fn type_name(ty: &TypeDescriptor) -> String {
    match ty {
        TypeDescriptor::Integer(size) => format!("a {}-bit signed integer", *size as usize * 8),
        TypeDescriptor::Unsigned(size) => {
            format!("a {}-bit unsigned integer", *size as usize * 8)
        }
        TypeDescriptor::Float(size) => format!("a {}-bit float", *size as usize * 8),
        TypeDescriptor::VarLenUnicode => "a variable-length UTF-8 string".to_string(),
        TypeDescriptor::VarLenAscii => "a variable-length ASCII string".to_string(),
        TypeDescriptor::FixedAscii(bytes) => format!("a {bytes}-byte ASCII string"),
        TypeDescriptor::FixedUnicode(bytes) => format!("a {bytes}-byte UTF-8 string"),
        TypeDescriptor::Compound(compound) => {
            let names: Vec<&str> = compound.fields.iter().map(|f| f.name.as_str()).collect();
            format!("a compound of ({})", names.join(", "))
        }
        other => other.to_string(),
    }
}

/// Refuses a negative value of the signed `field`, which txt2h5 reads as unsigned (a row
/// number, a count, a size): HDF5 would read it as 0, and a message would then report a
/// value the file does not hold.
fn refuse_negative(sources: &Dataset, field: &str, rows: &[SourceRow]) -> Result<(), OpenError> {
    let memory = Datatype::from_descriptor(&TypeDescriptor::Compound(CompoundType {
        fields: vec![CompoundField {
            name: field.to_string(),
            ty: TypeDescriptor::Integer(IntSize::U8),
            offset: 0,
            index: 0,
        }],
        size: 8,
    }))?;
    let values = ffi::read_all(sources, &memory).map_err(hdf5::Error::from)?;
    let negative = values
        .chunks_exact(8)
        .map(|value| i64::from_ne_bytes(value.try_into().expect("8 bytes")))
        .enumerate()
        .find(|(_, value)| *value < 0);
    match negative {
        Some((number, value)) => Err(Inconsistent::from(SourcesMismatch::Negative {
            number,
            path: rows
                .get(number)
                .map_or_else(String::new, |row| row.path.as_str().to_string()),
            field: field.to_string(),
            value,
        })
        .into()),
        None => Ok(()),
    }
}

/// Refuses an extent of `/sources` that its file cannot hold, before `read_raw` sizes a
/// buffer from it: each row is stored in at least its file datatype's size (a string is a
/// reference into the heap), so more rows than the file has room for is a crafted or damaged
/// extent, not rows to allocate for.
fn check_extent(sources: &Dataset) -> Result<(), OpenError> {
    match ffi::checked_extent(sources, sources.dtype()?.size()) {
        Ok(_) => Ok(()),
        Err(ReadAllError::Hdf5(error)) => Err(error.into()),
        Err(refused @ ReadAllError::TooLarge { .. }) => {
            Err(Inconsistent::Extent(refused.to_string()).into())
        }
    }
}

/// The rows of `/sources` in the version its fields name, as today's rows.
fn read_rows(
    sources: &Dataset,
    flat_version: bool,
    presets: bool,
) -> Result<Vec<SourceRow>, OpenError> {
    check_extent(sources)?;
    if flat_version {
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
    use super::*;

    #[test]
    fn only_types_that_read_without_loss_are_taken() {
        use TypeDescriptor::*;
        let u64 = Unsigned(IntSize::U8);
        assert!(reads_as(&Integer(IntSize::U4), &u64));
        assert!(reads_as(&u64, &Integer(IntSize::U8)));
        assert!(reads_as(&VarLenAscii, &VarLenUnicode));
        assert!(reads_as(&FixedAscii(32), &FixedAscii(32)));
        for (found, expected) in [
            (Integer(IntSize::U8), VarLenUnicode),
            (VarLenUnicode, u64.clone()),
            (Float(hdf5::types::FloatSize::U8), u64.clone()),
            (FixedAscii(16), FixedAscii(32)),
            (FixedAscii(32), VarLenUnicode),
        ] {
            assert!(!reads_as(&found, &expected), "{found} as {expected}");
        }
        assert_eq!(type_name(&Integer(IntSize::U8)), "a 64-bit signed integer");
        assert_eq!(type_name(&VarLenUnicode), "a variable-length UTF-8 string");
    }

    #[test]
    fn nanoseconds_split_as_stat_gives_them() {
        assert_eq!(split_mtime(1_700_000_000_000_000_005), (1_700_000_000, 5));
        assert_eq!(split_mtime(0), (0, 0));
        assert_eq!(split_mtime(-1), (-1, 999_999_999));
        assert_eq!(split_mtime(i64::MAX), (9_223_372_036, 854_775_807));
        assert_eq!(split_mtime(i64::MIN), (-9_223_372_037, 145_224_192));
    }
}
