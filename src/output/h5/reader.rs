//! Reading txt2h5 files back: the parts of a merge and the output an append adds to.
//!
//! Every opener checks what it reads before trusting it, from metadata alone (no row of
//! `/data` is read): `/data`, `/sources` and `/index` are hard links to objects of this
//! file of the kind and rank txt2h5 writes (an external link would read another file's
//! rows under this file's sources); `/sources` accounts for every row of `/data`, in order;
//! the index runs cover those rows exactly, each inside its source, and the anchors lie in
//! them. A file that fails is not a consistent txt2h5 output (exit 2, saying what
//! disagrees), never read with a short or wrong answer.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hdf5::types::{TypeDescriptor, VarLenUnicode};
use hdf5::{Dataset, Datatype, File, H5Type, LocationType};
use hdf5_sys::h5d::{H5Dget_chunk_info_by_coord, H5Dget_space, H5Dread, H5Dread_chunk};
use hdf5_sys::h5l::{H5L_info2_t, H5L_type_t, H5Lget_info2};
use hdf5_sys::h5p::H5P_DEFAULT;
use hdf5_sys::h5s::{H5S_seloper_t, H5Sclose, H5Screate_simple, H5Sselect_hyperslab};

use super::filters::{register_plugins, with_decode_limit, Compression, MAX_CHUNK_BYTES};
use super::index::{check_index, read_index, IndexError, IndexMismatch};
use super::sources::{check_sources, SourcesMismatch};
use super::writer::check;
use super::{LegacySourceRow, SourceRow};
use crate::index::{Anchor, PositionIndex};
use crate::output::codec::check_header;
use crate::schema::Schema;

/// What an existing txt2h5 output holds: its layout, provenance and `/sources`, read once.
/// The file is closed again; [`ExistingOutput::rows_reader`] reopens it to read the rows.
pub struct ExistingOutput {
    pub path: PathBuf,
    pub dataset_name: String,
    pub schema: Schema,
    pub rows: u64,
    pub chunk_rows: usize,
    pub compression: Compression,
    pub shard: Option<String>,
    pub input_set: Option<String>,
    pub sources: Vec<SourceRow>,
    /// The position index; `None` for outputs written before it existed.
    pub index: Option<PositionIndex>,
}

/// The rows of an [`ExistingOutput`], open for reading. Opened one file at a time: an open
/// HDF5 file holds megabytes of caches, so a merge of thousands of parts keeps only their
/// metadata in memory and reads their rows in turn.
pub struct RowReader {
    data: Dataset,
    record_type: Datatype,
    /// Bytes of one chunk of records: what a stored chunk decodes to.
    chunk_bytes: usize,
    compression: Compression,
    /// Size of the file: no stored chunk is larger.
    file_bytes: u64,
    _file: File,
}

/// Why a file cannot be read as a txt2h5 output. Each cause has its own exit code: a file
/// that cannot be read is an I/O failure, a file that is not ours or not consistent a
/// usage error.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The file cannot be opened or read (permissions, a symlink loop, a disk error).
    #[error("{0}")]
    Io(#[source] std::io::Error),
    /// Readable, but not an HDF5 file written by txt2h5.
    #[error("not a txt2h5 output: {0}")]
    NotOurs(String),
    /// A txt2h5 output whose metadata disagrees with itself or its rows.
    #[error("not a consistent txt2h5 output: {0}")]
    Inconsistent(Box<Inconsistent>),
    /// A part of a `merge --virtual` dataset that cannot be read.
    #[error("not a txt2h5 output: {0}")]
    Part(Box<PartFailure>),
    /// An HDF5 file the library fails to read (corrupt or truncated).
    #[error("HDF5 error: {0}")]
    Hdf5(#[from] hdf5::Error),
}

// Boxed: the common case, `Ok`, should not carry the size of the rarest error.
impl From<Inconsistent> for OpenError {
    fn from(inconsistent: Inconsistent) -> Self {
        OpenError::Inconsistent(Box::new(inconsistent))
    }
}

/// A part of a `merge --virtual` dataset that cannot be read, and where it maps.
#[derive(Debug, thiserror::Error)]
#[error(
    "a part of the virtual dataset {}, rows {first_row}..{end_row}: {why}",
    study.display()
)]
pub struct PartFailure {
    pub study: PathBuf,
    pub first_row: u64,
    pub end_row: u64,
    pub why: PartError,
}

/// What is wrong with a txt2h5 output's metadata.
#[derive(Debug, thiserror::Error)]
pub enum Inconsistent {
    #[error("it has no {0}")]
    Missing(String),
    #[error("{member} is {kind}; txt2h5 reads only objects stored in the file itself")]
    Link { member: String, kind: &'static str },
    #[error("{0} is not a dataset")]
    NotDataset(String),
    #[error("{0} is not a group")]
    NotGroup(String),
    #[error("{member} has {rank} dimensions, not 1")]
    Rank { member: String, rank: usize },
    #[error("{member} has chunks of {chunk_rows} rows, which HDF5 does not store")]
    ChunkSize { member: String, chunk_rows: usize },
    #[error(transparent)]
    Sources(#[from] SourcesMismatch),
    #[error(transparent)]
    Index(#[from] IndexMismatch),
    #[error(transparent)]
    Virtual(#[from] VirtualMismatch),
}

/// What is wrong with the mappings of a `merge --virtual` dataset.
#[derive(Debug, thiserror::Error)]
pub enum VirtualMismatch {
    #[error(
        "its virtual dataset's mapping {mapping} selects from a {space} of {rank} dimensions; \
         txt2h5 maps one-dimensional parts"
    )]
    Rank {
        mapping: usize,
        space: &'static str,
        rank: i32,
    },
    #[error(
        "its virtual dataset's mapping {mapping} does not map one range of rows to one range \
         of rows of the same length"
    )]
    NotARange { mapping: usize },
    #[error("its virtual dataset does not map whole parts, one after another")]
    NotWholeParts,
    #[error("its virtual dataset maps {mapped} rows of {rows}")]
    Rows { mapped: u64, rows: u64 },
}

/// Why a part of a `merge --virtual` dataset cannot be read with the virtual dataset's
/// schema. Shared (`Arc`) where it holds an open error, so that a study can be cloned.
#[derive(Clone, Debug, thiserror::Error)]
pub enum PartError {
    #[error("missing")]
    Missing,
    #[error("cannot open it: {0}")]
    Open(hdf5::Error),
    #[error("it has no dataset {0:?}")]
    NoDataset(String),
    #[error("it has {found} rows, the mapping {mapped}")]
    TooFewRows { found: u64, mapped: u64 },
    #[error("its records are ({found}), the virtual dataset's ({expected})")]
    OtherSchema { found: String, expected: String },
    #[error("{0}")]
    Unreadable(Arc<OpenError>),
}

impl OpenError {
    /// The run's error for `path`, which was opened to `purpose` ("merge", "append to").
    pub fn into_error(self, path: &Path, purpose: &str) -> crate::error::Error {
        use crate::error::Error;
        match self {
            OpenError::Io(source) => Error::io(path, source),
            OpenError::Hdf5(source) => Error::hdf5(path, source),
            error @ (OpenError::NotOurs(_)
            | OpenError::Inconsistent(_)
            | OpenError::Part { .. }) => {
                Error::usage(format!("{}: cannot {purpose} it: {error}", path.display()))
            }
        }
    }
}

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
    let member = member(file, path, LocationType::Dataset)?;
    let dataset = file.dataset(path)?;
    let rank = dataset.ndim();
    if rank != 1 {
        return Err(Inconsistent::Rank { member, rank }.into());
    }
    Ok(dataset)
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

/// The type of the link `path` (which exists) of `file`.
fn link_type(file: &File, path: &str) -> hdf5::Result<H5L_type_t> {
    let name = std::ffi::CString::new(path).map_err(|_| "a name holds a NUL byte")?;
    let mut info = std::mem::MaybeUninit::<H5L_info2_t>::uninit();
    hdf5::sync::sync(|| {
        // SAFETY: the file id is valid while `file` lives, `name` is a NUL-terminated
        // string and `info` is a writable H5L_info2_t, which HDF5 fills on success.
        check(unsafe { H5Lget_info2(file.id(), name.as_ptr(), info.as_mut_ptr(), H5P_DEFAULT) })
    })?;
    // SAFETY: H5Lget_info2 succeeded (checked above), so it filled `info`.
    Ok(unsafe { info.assume_init() }.type_)
}

/// The schema of a txt2h5 dataset.
pub(super) fn schema_of(data: &Dataset) -> Result<Schema, OpenError> {
    let descriptor = data.dtype()?.to_descriptor()?;
    Schema::from_descriptor(&descriptor).map_err(|why| not_ours(&why))
}

/// Rows per chunk and filters of a chunked txt2h5 dataset.
pub(super) fn chunk_layout(data: &Dataset) -> Result<(usize, Compression), OpenError> {
    let chunk_rows = match data.chunk().as_deref() {
        Some([rows]) => *rows,
        _ => {
            return Err(not_ours(
                "its dataset is not chunked in one dimension (a merge --virtual output \
                 can be read, not appended to or merged again)",
            ))
        }
    };
    // A chunk's size sizes the buffers it is decoded into.
    let record_size = data.dtype()?.size();
    if chunk_rows == 0
        || chunk_rows
            .checked_mul(record_size)
            .is_none_or(|bytes| bytes > MAX_CHUNK_BYTES)
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
             deflate, zstd or lz4)"
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

/// `/sources`, from outputs written before or after format presets (by field names). Every
/// field a reader uses must be there: HDF5 would fill a missing one with zeros.
pub(super) fn read_sources(sources: &Dataset) -> Result<Vec<SourceRow>, OpenError> {
    let names: Vec<String> = match sources.dtype()?.to_descriptor()? {
        TypeDescriptor::Compound(compound) => compound
            .fields
            .into_iter()
            .map(|field| field.name)
            .collect(),
        _ => return Err(not_ours("its sources table is not a compound dataset")),
    };
    let has_format = names.iter().any(|name| name == "format");
    let needed: &[&'static str] = if has_format {
        &[
            "path",
            "size",
            "mtime_ns",
            "xxh3_128",
            "first_row",
            "rows",
            "format",
            "skipped",
        ]
    } else {
        &["path", "size", "mtime_ns", "xxh3_128", "first_row", "rows"]
    };
    if let Some(missing) = needed
        .iter()
        .find(|field| !names.iter().any(|name| name == *field))
    {
        return Err(Inconsistent::from(SourcesMismatch::NoField(missing)).into());
    }
    Ok(if has_format {
        sources.read_raw::<SourceRow>()?
    } else {
        sources
            .read_raw::<LegacySourceRow>()?
            .into_iter()
            .map(SourceRow::from)
            .collect()
    })
}

impl ExistingOutput {
    pub fn open(path: &Path) -> Result<Self, OpenError> {
        let opened = open_ours(path)?;
        let (chunk_rows, compression) = chunk_layout(&opened.data)?;
        let (sources, index) = tables(&opened)?;
        Ok(Self {
            path: path.to_path_buf(),
            rows: opened.rows,
            shard: string_attr(&opened.file, "shard"),
            input_set: string_attr(&opened.file, "input_set"),
            dataset_name: opened.dataset_name,
            schema: opened.schema,
            chunk_rows,
            compression,
            sources,
            index,
        })
    }

    /// The layout of this file's dataset, for a file that continues it.
    pub fn writer_options(&self) -> super::WriterOptions {
        super::WriterOptions {
            dataset: self.dataset_name.clone(),
            schema: self.schema,
            chunk_rows: self.chunk_rows,
            compression: self.compression,
        }
    }

    /// Opens the file again to read its rows (see [`RowReader`]).
    pub fn rows_reader(&self) -> Result<RowReader, OpenError> {
        RowReader::open(
            &self.path,
            &self.dataset_name,
            &self.schema,
            self.chunk_rows,
            self.compression,
        )
    }
}

impl RowReader {
    /// Opens `dataset` of the file at `path` to read records of `schema`, stored in chunks
    /// of `chunk_rows` with `compression` (as [`chunk_layout`] found them).
    pub fn open(
        path: &Path,
        dataset: &str,
        schema: &Schema,
        chunk_rows: usize,
        compression: Compression,
    ) -> Result<Self, OpenError> {
        register_plugins();
        let file_bytes = std::fs::metadata(path).map_err(OpenError::Io)?.len();
        let file = File::open(path)?;
        let data = file.dataset(dataset)?;
        // The reads below pass one coordinate to HDF5 for each dimension.
        let rank = data.ndim();
        if rank != 1 {
            return Err(Inconsistent::Rank {
                member: format!("/{}", dataset.trim_start_matches('/')),
                rank,
            }
            .into());
        }
        let record_type = Datatype::from_descriptor(&schema.type_descriptor())?;
        Ok(RowReader {
            data,
            chunk_bytes: chunk_rows.saturating_mul(record_type.size()),
            record_type,
            compression,
            file_bytes,
            _file: file,
        })
    }

    /// Reads `count` records from row `start` as packed bytes into `out`. A stored chunk
    /// that does not decode is an error saying why (see [`with_decode_limit`]).
    pub fn read_rows(&self, start: u64, count: u64, out: &mut Vec<u8>) -> hdf5::Result<()> {
        out.resize(count as usize * self.record_type.size(), 0);
        if count == 0 {
            return Ok(());
        }
        let (result, damage) = with_decode_limit(self.chunk_bytes, || {
            hdf5::sync::sync(|| {
                // SAFETY: ids are valid while `self` lives or are created and closed here;
                // the dataset has rank 1 (checked in `open`), so the file selection takes
                // one start and one count, and the memory space of rank 1 holds `count`
                // elements of the packed record type, as `out` holds `count * record_size`
                // bytes.
                unsafe {
                    let file_space = check(H5Dget_space(self.data.id()))?;
                    let memory_space = H5Screate_simple(1, &count, std::ptr::null());
                    let mut status = H5Sselect_hyperslab(
                        file_space,
                        H5S_seloper_t::H5S_SELECT_SET,
                        &start,
                        std::ptr::null(),
                        &count,
                        std::ptr::null(),
                    );
                    if status >= 0 && memory_space >= 0 {
                        status = H5Dread(
                            self.data.id(),
                            self.record_type.id(),
                            memory_space,
                            file_space,
                            H5P_DEFAULT,
                            out.as_mut_ptr().cast(),
                        );
                    }
                    if memory_space >= 0 {
                        H5Sclose(memory_space);
                    }
                    H5Sclose(file_space);
                    check(if memory_space < 0 { -1 } else { status })?;
                    Ok(())
                }
            })
        });
        match (result, damage) {
            (Err(_), Some(why)) => Err(hdf5::Error::from(format!(
                "rows {start}..{}: a stored chunk is damaged: {why}",
                start + count
            ))),
            (result, _) => result,
        }
    }

    /// The stored (filtered) bytes of chunk `index`, if every filter was applied to it;
    /// an error if its size or its header (lz4, zstd) cannot be that of one of its chunks,
    /// so that a damaged chunk is not copied on as stored.
    pub fn read_stored_chunk(
        &self,
        index: u64,
        chunk_rows: usize,
        out: &mut Vec<u8>,
    ) -> hdf5::Result<bool> {
        let offset = index * chunk_rows as u64;
        let damaged = |why: String| {
            hdf5::Error::from(format!(
                "stored chunk {index} (rows {offset}..{}) is damaged: {why}",
                offset + chunk_rows as u64
            ))
        };
        let applied = hdf5::sync::sync(|| {
            // SAFETY: the dataset id is valid; it has rank 1 (checked in `open`), so
            // `offset` is its one coordinate; the buffer is sized from the chunk's stored
            // size, checked against the file's size first, and that size is passed to
            // H5Dread_chunk, which writes at most that many bytes.
            unsafe {
                let (mut mask, mut address, mut size) = (0u32, 0u64, 0u64);
                check(H5Dget_chunk_info_by_coord(
                    self.data.id(),
                    &offset,
                    &mut mask,
                    &mut address,
                    &mut size,
                ))?;
                if mask != 0 {
                    return Ok(false);
                }
                if size > self.file_bytes {
                    return Err(damaged(format!(
                        "it claims {size} bytes, more than the file's {}",
                        self.file_bytes
                    )));
                }
                out.resize(size as usize, 0);
                let mut buffer_size = out.len();
                check(H5Dread_chunk(
                    self.data.id(),
                    H5P_DEFAULT,
                    &offset,
                    &mut mask,
                    out.as_mut_ptr().cast(),
                    &mut buffer_size,
                ))?;
                out.truncate(buffer_size);
                Ok(mask == 0)
            }
        })?;
        if applied {
            check_header(self.compression, out, self.chunk_bytes)
                .map_err(|why| damaged(why.to_string()))?;
        }
        Ok(applied)
    }
}
