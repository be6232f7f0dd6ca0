//! `/index`: the position index as two plain datasets (see [`crate::index`]).

use hdf5::types::{CompoundField, CompoundType, IntSize, TypeDescriptor};
use hdf5::{Dataset, Datatype, File, Group};
use hdf5_sys::h5d::{H5Dread, H5Dwrite};
use hdf5_sys::h5p::H5P_DEFAULT;
use hdf5_sys::h5s::H5S_ALL;

use super::attributes::write_string_attr;
use super::writer::check;
use crate::index::{Anchor, PositionIndex, Run};

/// Version of the `/index` layout, an attribute of the group.
pub const INDEX_VERSION: u32 = 1;

const RUNS_DESCRIPTION: &str = "one row per run of consecutive rows of /data from one source \
     with the same chr: source (row of /sources), chr, first_row, rows, min_pos and max_pos \
     (the smallest and largest pos in the run), sorted (pos never decreases inside the run); \
     in row order";
const ANCHORS_DESCRIPTION: &str = "row and pos of every row of /data that starts a stored \
     chunk (of a part, for a virtual dataset), in row order; inside a sorted run, the rows \
     before the last anchor with pos < start and from the first anchor with pos > end cannot \
     hold start..end";

/// The packed type of `/index/runs` for a `chr` field of `chr_width` bytes.
fn runs_type(chr_width: usize) -> TypeDescriptor {
    let u = |size| TypeDescriptor::Unsigned(size);
    let i = |size| TypeDescriptor::Integer(size);
    let fields = [
        ("source", u(IntSize::U4), 4),
        ("chr", TypeDescriptor::FixedAscii(chr_width), chr_width),
        ("first_row", u(IntSize::U8), 8),
        ("rows", u(IntSize::U8), 8),
        ("min_pos", i(IntSize::U8), 8),
        ("max_pos", i(IntSize::U8), 8),
        ("sorted", TypeDescriptor::Boolean, 1),
    ];
    let mut offset = 0;
    let fields = fields
        .into_iter()
        .enumerate()
        .map(|(index, (name, ty, size))| {
            let field = CompoundField {
                name: name.to_string(),
                ty,
                offset,
                index,
            };
            offset += size;
            field
        })
        .collect();
    TypeDescriptor::Compound(CompoundType {
        fields,
        size: offset,
    })
}

fn run_size(chr_width: usize) -> usize {
    chr_width + 37
}

fn encode_runs(runs: &[Run], chr_width: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(runs.len() * run_size(chr_width));
    for run in runs {
        out.extend_from_slice(&run.source.to_le_bytes());
        let mut chr = run.chr.clone();
        chr.resize(chr_width, 0);
        out.extend_from_slice(&chr);
        for value in [run.first_row, run.rows] {
            out.extend_from_slice(&value.to_le_bytes());
        }
        for value in [run.min_pos, run.max_pos] {
            out.extend_from_slice(&value.to_le_bytes());
        }
        out.push(u8::from(run.sorted));
    }
    out
}

fn decode_runs(bytes: &[u8], chr_width: usize) -> Vec<Run> {
    let u64_at = |record: &[u8], at: usize| {
        u64::from_le_bytes(record[at..at + 8].try_into().expect("8 bytes"))
    };
    bytes
        .chunks_exact(run_size(chr_width))
        .map(|record| {
            let chr = &record[4..4 + chr_width];
            let len = chr.iter().rposition(|&b| b != 0).map_or(0, |last| last + 1);
            let at = 4 + chr_width;
            Run {
                source: u32::from_le_bytes(record[..4].try_into().expect("4 bytes")),
                chr: chr[..len].to_vec(),
                first_row: u64_at(record, at),
                rows: u64_at(record, at + 8),
                min_pos: u64_at(record, at + 16) as i64,
                max_pos: u64_at(record, at + 24) as i64,
                sorted: record[at + 32] != 0,
            }
        })
        .collect()
}

/// Writes `/index` with its runs (`chr` as wide as the data's) and anchors.
pub(super) fn write_index(
    file: &File,
    index: &PositionIndex,
    chr_width: usize,
) -> hdf5::Result<()> {
    let group = file.create_group("index")?;
    group
        .new_attr::<u32>()
        .shape(())
        .create("version")?
        .write_scalar(&INDEX_VERSION)?;
    write_string_attr(
        &group,
        "description",
        "position index of /data: runs (where each chr of each source lies) and anchors \
         (the pos at each stored chunk's first row); see the txt2h5 README",
    )?;
    let run_type = Datatype::from_descriptor(&runs_type(chr_width))?;
    let runs = group
        .new_dataset_builder()
        .empty_as(&run_type)
        .shape(index.runs.len())
        .create("runs")?;
    write_packed(&runs, &run_type, &encode_runs(&index.runs, chr_width))?;
    write_string_attr(&runs, "description", RUNS_DESCRIPTION)?;
    let anchors = group
        .new_dataset_builder()
        .with_data(&index.anchors)
        .create("anchors")?;
    write_string_attr(&anchors, "description", ANCHORS_DESCRIPTION)
}

/// Why `/index` could not be read. A file without one is `Ok(None)`.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("its /index is not one txt2h5 writes: {0}")]
    Foreign(String),
    #[error(transparent)]
    Hdf5(#[from] hdf5::Error),
}

/// `/index` of `file`, whose `chr` fields are `chr_width` bytes; `None` if it has none
/// (written before the index existed).
pub fn read_index(file: &File, chr_width: usize) -> Result<Option<PositionIndex>, IndexError> {
    if !file.link_exists("index") {
        return Ok(None);
    }
    let group: Group = file.group("index")?;
    let version: u32 = group
        .attr("version")
        .and_then(|attr| attr.read_scalar())
        .map_err(|_| IndexError::Foreign("no version attribute".into()))?;
    if version != INDEX_VERSION {
        return Err(IndexError::Foreign(format!(
            "version {version}; this txt2h5 reads version {INDEX_VERSION}"
        )));
    }
    let runs = group.dataset("runs")?;
    let expected = runs_type(chr_width);
    if runs.dtype()?.to_descriptor()? != expected {
        return Err(IndexError::Foreign("runs has another record type".into()));
    }
    let run_type = Datatype::from_descriptor(&expected)?;
    let bytes = read_packed(&runs, &run_type)?;
    let anchors: Vec<Anchor> = group.dataset("anchors")?.read_raw()?;
    Ok(Some(PositionIndex {
        runs: decode_runs(&bytes, chr_width),
        anchors,
    }))
}

/// Writes all of a one-dimensional `dataset` from packed bytes of `datatype`.
fn write_packed(dataset: &Dataset, datatype: &Datatype, bytes: &[u8]) -> hdf5::Result<()> {
    if bytes.is_empty() {
        return Ok(());
    }
    hdf5::sync::sync(|| {
        // SAFETY: both ids are valid while their owners live; with H5S_ALL HDF5 reads one
        // element of `datatype` per element of the dataset from the pointer, which the
        // caller sized as dataset length times the type's size.
        check(unsafe {
            H5Dwrite(
                dataset.id(),
                datatype.id(),
                H5S_ALL,
                H5S_ALL,
                H5P_DEFAULT,
                bytes.as_ptr().cast(),
            )
        })
    })?;
    Ok(())
}

/// Reads all of a one-dimensional `dataset` as packed bytes of `datatype`.
fn read_packed(dataset: &Dataset, datatype: &Datatype) -> hdf5::Result<Vec<u8>> {
    let elements = dataset.size();
    let mut out = vec![0u8; elements * datatype.size()];
    if elements == 0 {
        return Ok(out);
    }
    hdf5::sync::sync(|| {
        // SAFETY: as in `write_packed`; `out` holds every element of the dataset.
        check(unsafe {
            H5Dread(
                dataset.id(),
                datatype.id(),
                H5S_ALL,
                H5S_ALL,
                H5P_DEFAULT,
                out.as_mut_ptr().cast(),
            )
        })
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_encode_and_decode() {
        let runs = vec![Run {
            source: 7,
            chr: b"chrUn_KI27".to_vec(),
            first_row: 1 << 40,
            rows: 3,
            min_pos: -5,
            max_pos: i64::MAX,
            sorted: true,
        }];
        let bytes = encode_runs(&runs, 10);
        assert_eq!(bytes.len(), run_size(10));
        assert_eq!(decode_runs(&bytes, 10), runs);
        let TypeDescriptor::Compound(compound) = runs_type(10) else {
            unreachable!()
        };
        assert_eq!(compound.size, run_size(10));
    }
}
