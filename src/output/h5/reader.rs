//! Reading txt2h5 files back: the parts of a merge and the output an append adds to.

use std::path::{Path, PathBuf};

use hdf5::types::{TypeDescriptor, VarLenUnicode};
use hdf5::{Dataset, Datatype, File};
use hdf5_sys::h5d::{H5Dget_chunk_info_by_coord, H5Dget_space, H5Dread, H5Dread_chunk};
use hdf5_sys::h5p::H5P_DEFAULT;
use hdf5_sys::h5s::{H5S_seloper_t, H5Sclose, H5Screate_simple, H5Sselect_hyperslab};

use super::filters::{register_plugins, Compression};
use super::index::{read_index, IndexError};
use super::writer::check;
use super::{LegacySourceRow, SourceRow};
use crate::index::PositionIndex;
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
    _file: File,
}

/// Why a file cannot be read as a txt2h5 output. Each cause has its own exit code: a file
/// that cannot be read is an I/O failure, a file that is not ours a usage error.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The file cannot be opened or read (permissions, a symlink loop, a disk error).
    #[error("{0}")]
    Io(#[source] std::io::Error),
    /// Readable, but not an HDF5 file written by txt2h5.
    #[error("not a txt2h5 output: {0}")]
    NotOurs(String),
    /// An HDF5 file the library fails to read (corrupt or truncated).
    #[error("HDF5 error: {0}")]
    Hdf5(#[from] hdf5::Error),
}

impl OpenError {
    /// The run's error for `path`, which was opened to `purpose` ("merge", "append to").
    pub fn into_error(self, path: &Path, purpose: &str) -> crate::error::Error {
        use crate::error::Error;
        match self {
            OpenError::Io(source) => Error::io(path, source),
            OpenError::NotOurs(why) => Error::usage(format!(
                "{}: cannot {purpose} it: not a txt2h5 output: {why}",
                path.display()
            )),
            OpenError::Hdf5(source) => Error::hdf5(path, source),
        }
    }
}

/// Opens `path` as a txt2h5 output: the file, its dataset's name, the dataset, the schema.
/// Tells "cannot read it" and "not HDF5" apart before the library reports either as its
/// own error.
pub(super) fn open_ours(path: &Path) -> Result<(File, String, Dataset, Schema), OpenError> {
    if !has_hdf5_signature(path).map_err(OpenError::Io)? {
        return Err(not_ours("not an HDF5 file"));
    }
    register_plugins();
    let file = File::open(path)?;
    let dataset_name =
        string_attr(&file, "dataset").ok_or_else(|| not_ours("no 'dataset' attribute"))?;
    let data = file.dataset(&dataset_name)?;
    let schema = schema_of(&data)?;
    Ok((file, dataset_name, data, schema))
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

/// The position index of a txt2h5 output, if it has one.
pub(super) fn stored_index(
    file: &File,
    schema: &Schema,
) -> Result<Option<PositionIndex>, OpenError> {
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

/// `/sources`, from outputs written before or after format presets (by field names).
pub(super) fn read_sources(sources: &Dataset) -> Result<Vec<SourceRow>, OpenError> {
    let has_format = match sources.dtype()?.to_descriptor()? {
        TypeDescriptor::Compound(compound) => {
            compound.fields.iter().any(|field| field.name == "format")
        }
        _ => return Err(not_ours("its sources table is not a compound dataset")),
    };
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
        // Tell "cannot read it" and "not HDF5" apart before the library reports either as
        // its own error.
        let (file, dataset_name, data, schema) = open_ours(path)?;
        let (chunk_rows, compression) = chunk_layout(&data)?;
        let sources = read_sources(&file.dataset("sources")?)?;
        let index = stored_index(&file, &schema)?;
        Ok(Self {
            path: path.to_path_buf(),
            rows: data.shape().first().copied().unwrap_or(0) as u64,
            dataset_name,
            schema,
            chunk_rows,
            compression,
            shard: string_attr(&file, "shard"),
            input_set: string_attr(&file, "input_set"),
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
        RowReader::open(&self.path, &self.dataset_name, &self.schema)
    }
}

impl RowReader {
    /// Opens `dataset` of the file at `path` to read records of `schema`.
    pub fn open(path: &Path, dataset: &str, schema: &Schema) -> Result<Self, OpenError> {
        register_plugins();
        let file = File::open(path)?;
        let data = file.dataset(dataset)?;
        let record_type = Datatype::from_descriptor(&schema.type_descriptor())?;
        Ok(RowReader {
            data,
            record_type,
            _file: file,
        })
    }

    /// Reads `count` records from row `start` as packed bytes into `out`.
    pub fn read_rows(&self, start: u64, count: u64, out: &mut Vec<u8>) -> hdf5::Result<()> {
        out.resize(count as usize * self.record_type.size(), 0);
        if count == 0 {
            return Ok(());
        }
        hdf5::sync::sync(|| {
            // SAFETY: ids are valid while `self` lives or are created and closed here; the
            // file selection and the memory space both hold `count` elements of the packed
            // record type, and `out` holds `count * record_size` bytes.
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
    }

    /// The stored (filtered) bytes of chunk `index`, if every filter was applied to it.
    pub fn read_stored_chunk(
        &self,
        index: u64,
        chunk_rows: usize,
        out: &mut Vec<u8>,
    ) -> hdf5::Result<bool> {
        let offset = index * chunk_rows as u64;
        hdf5::sync::sync(|| {
            // SAFETY: the dataset id is valid; `offset` points to one hsize_t (rank 1); the
            // buffer is sized from the chunk's stored size and its size is passed to
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
        })
    }
}
