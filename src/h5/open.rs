//! Opening a txt2h5 file, and every check made before its contents are trusted.
//!
//! The checks read metadata alone (no row of `/data` is read): `/data`, `/sources` and
//! `/index` are hard links to objects of this file of the kind and rank txt2h5 writes (an
//! external link would read another file's rows under this file's sources); `/sources`
//! accounts for every row of `/data`, in order; the index runs cover those rows exactly,
//! each inside its source, and the anchors lie in them. A file that fails is not a
//! consistent txt2h5 output (exit 2, saying what disagrees), never read with a short or
//! wrong answer. [`super::Study::open`] is the one opener built on these.

use std::path::Path;

use hdf5::types::VarLenUnicode;
use hdf5::{Dataset, File, H5Type, LocationType};
use hdf5_sys::h5l::H5L_type_t;

use super::error::{Inconsistent, OpenError};
use super::ffi::{link_type, RowDataset};
use super::index::{check_index, read_index, IndexError};
use super::plugins::{register_plugins, HDF5_MAX_CHUNK_BYTES};
use super::sources::{check_sources, read_sources};
use super::SourceRow;
use crate::codec::Compression;
use crate::index::{Anchor, PositionIndex};
use crate::schema::Schema;

/// A txt2h5 output, opened: its `/data` checked to be a one-dimensional dataset of this
/// file with a txt2h5 schema.
pub(super) struct Opened {
    pub file: File,
    pub dataset_name: String,
    pub data: Dataset,
    pub schema: Schema,
    pub rows: u64,
}

/// Opens `path` as a txt2h5 output. Tells "cannot read it" and "not HDF5" apart before the
/// library reports either as its own error.
pub(super) fn open_ours(path: &Path) -> Result<Opened, OpenError> {
    check_regular(path)?;
    if !has_hdf5_signature(path).map_err(OpenError::Io)? {
        return Err(not_ours("not an HDF5 file"));
    }
    register_plugins();
    let file = File::open(path)?;
    let dataset_name =
        string_attr(&file, "dataset").ok_or_else(|| not_ours("no 'dataset' attribute"))?;
    let data = stored_dataset(&file, &dataset_name)?;
    let schema = schema_of(&data)?;
    let rows = data.shape()[0] as u64;
    Ok(Opened {
        file,
        dataset_name,
        data,
        schema,
        rows,
    })
}

/// `/sources` and `/index` of an opened output, each checked against the `rows` of its
/// dataset: what [`check_sources`] and [`check_index`] describe.
pub(super) fn tables(
    opened: &Opened,
) -> Result<(Vec<SourceRow>, Option<PositionIndex>), OpenError> {
    let Opened {
        file,
        dataset_name,
        schema,
        rows,
        ..
    } = opened;
    let sources = read_sources(&stored_dataset(file, "sources")?)?;
    check_sources(&sources, dataset_name, *rows).map_err(Inconsistent::from)?;
    let index = stored_index(file, schema)?;
    if let Some(index) = &index {
        let ranges: Vec<(u64, u64)> = sources
            .iter()
            .map(|source| (source.first_row, source.first_row + source.rows))
            .collect();
        check_index(index, &ranges, *rows).map_err(Inconsistent::from)?;
    }
    Ok((sources, index))
}

/// The dataset at `path` of `file`: a hard link all the way (a soft or external link could
/// stand for another file's object), to a dataset of rank 1.
pub(super) fn stored_dataset(file: &File, path: &str) -> Result<Dataset, OpenError> {
    member(file, path, LocationType::Dataset)?;
    Ok(rank_one(file.dataset(path)?, path)?.into_dataset())
}

/// `data`, stored at `path`, checked to have one dimension.
pub(super) fn rank_one(data: Dataset, path: &str) -> Result<RowDataset, Inconsistent> {
    RowDataset::new(data).map_err(|rank| Inconsistent::Rank {
        member: format!("/{}", path.trim_start_matches('/')),
        rank,
    })
}

/// Checks that `path` names, through hard links only, an object of `kind`; returns its
/// name as messages write it (`/index/runs`).
fn member(file: &File, path: &str, kind: LocationType) -> Result<String, OpenError> {
    let name = format!("/{}", path.trim_start_matches('/'));
    let mut prefix = String::new();
    for component in path.split('/').filter(|component| !component.is_empty()) {
        if !prefix.is_empty() {
            prefix.push('/');
        }
        prefix.push_str(component);
        if !file.link_exists(&prefix) {
            return Err(Inconsistent::Missing(name).into());
        }
        let kind = match link_type(file, &prefix)? {
            H5L_type_t::H5L_TYPE_HARD => continue,
            H5L_type_t::H5L_TYPE_SOFT => "a soft link",
            H5L_type_t::H5L_TYPE_EXTERNAL => "an external link (to another file)",
            _ => "a user-defined link",
        };
        return Err(Inconsistent::Link {
            member: format!("/{prefix}"),
            kind,
        }
        .into());
    }
    if prefix.is_empty() {
        return Err(Inconsistent::Missing(name).into());
    }
    let found = file.loc_type_by_name(&prefix)?;
    match kind {
        _ if found == kind => Ok(name),
        LocationType::Group => Err(Inconsistent::NotGroup(name).into()),
        _ => Err(Inconsistent::NotDataset(name).into()),
    }
}

/// The schema of a txt2h5 dataset.
pub(super) fn schema_of(data: &Dataset) -> Result<Schema, OpenError> {
    let descriptor = data.dtype()?.to_descriptor()?;
    Schema::from_descriptor(&descriptor).map_err(|why| not_ours(&why))
}

/// Rows per chunk and filters of a chunked txt2h5 dataset.
pub(super) fn chunk_storage(data: &Dataset) -> Result<(usize, Compression), OpenError> {
    let chunk_rows = match data.chunk().as_deref() {
        Some([rows]) => *rows,
        _ => return Err(not_ours("its dataset is not chunked in one dimension")),
    };
    // A chunk's size sizes the buffers it is decoded into.
    let record_size = data.dtype()?.size();
    if chunk_rows == 0
        || chunk_rows
            .checked_mul(record_size)
            .is_none_or(|bytes| bytes > HDF5_MAX_CHUNK_BYTES)
    {
        return Err(Inconsistent::ChunkSize {
            member: format!("/{}", data.name().trim_start_matches('/')),
            chunk_rows,
        }
        .into());
    }
    // Read the filters or fail: taking an unreadable pipeline for "no filters" would
    // copy deflated chunks as raw records (hdf5-metno's `Dataset::filters` does that).
    let filters = data.dcpl()?.get_filters()?;
    let compression = Compression::of_filters(&filters).ok_or_else(|| {
        not_ours(&format!(
            "its filters {filters:?} are not ones txt2h5 writes (none, or shuffle + \
             deflate, zstd or lz4; or blosc with lz4 or zstd)"
        ))
    })?;
    Ok((chunk_rows, compression))
}

/// The position index of a txt2h5 output, if it has one: `/index` a group of this file
/// with its two datasets.
pub(super) fn stored_index(
    file: &File,
    schema: &Schema,
) -> Result<Option<PositionIndex>, OpenError> {
    if !file.link_exists("index") {
        return Ok(None);
    }
    member(file, "index", LocationType::Group)?;
    let anchors = stored_dataset(file, "index/anchors")?;
    stored_dataset(file, "index/runs")?;
    if anchors.dtype()?.to_descriptor()? != Anchor::type_descriptor() {
        return Err(not_ours(
            "its /index is not one txt2h5 writes: anchors has another record type",
        ));
    }
    read_index(file, schema.chr_width()).map_err(|error| match error {
        error @ IndexError::Foreign(_) => OpenError::NotOurs(error.to_string()),
        IndexError::Hdf5(error) => OpenError::Hdf5(error),
    })
}

pub(super) fn not_ours(why: &str) -> OpenError {
    OpenError::NotOurs(why.to_string())
}

/// Refuses a path that is not a regular file (links followed) before anything opens it:
/// opening a FIFO blocks until a writer comes, so `inspect fifo` would hang forever, and
/// HDF5 reads a file at offsets, which a pipe, socket or device does not have. `stat` does
/// not open the file, so it cannot block.
pub(super) fn check_regular(path: &Path) -> Result<(), OpenError> {
    let metadata = std::fs::metadata(path).map_err(OpenError::Io)?;
    if metadata.is_file() {
        return Ok(());
    }
    Err(not_ours(&format!(
        "it is {}; txt2h5 reads its HDF5 files from regular files only",
        crate::error::file_kind(&metadata)
    )))
}

/// HDF5's format signature, at offset 0 or a power of two from 512 (HDF5 file format
/// specification, "Format Signature").
const HDF5_SIGNATURE: &[u8; 8] = b"\x89HDF\r\n\x1a\n";

/// Whether the file's bytes carry the HDF5 signature where the library looks for it.
fn has_hdf5_signature(path: &Path) -> std::io::Result<bool> {
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    let mut offset = 0u64;
    while offset + 8 <= size {
        let mut head = [0u8; 8];
        file.read_exact_at(&mut head, offset)?;
        if &head == HDF5_SIGNATURE {
            return Ok(true);
        }
        offset = if offset == 0 { 512 } else { offset * 2 };
    }
    Ok(false)
}

pub(super) fn string_attr(location: &hdf5::Location, name: &str) -> Option<String> {
    let attr = location.attr(name).ok()?;
    let value: VarLenUnicode = attr.read_scalar().ok()?;
    Some(value.as_str().to_string())
}
