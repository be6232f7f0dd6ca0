//! A txt2h5 output opened for reading back (`inspect`, `export`): plain, appended, merged,
//! or a `merge --virtual` dataset whose rows live in its parts.

use std::path::{Path, PathBuf};

use hdf5::dataset::Layout;
use hdf5::Dataset;

use super::reader::{
    chunk_layout, not_ours, open_ours, read_sources, schema_of, stored_index, string_attr,
};
use super::writer::check;
use super::{Compression, OpenError, RowReader, SourceRow};
use crate::index::PositionIndex;
use crate::schema::Schema;

/// Where the rows of a study are stored.
#[derive(Clone, Debug)]
pub enum Storage {
    /// In the file itself, in chunks.
    Chunked {
        chunk_rows: usize,
        compression: Compression,
        /// Bytes the dataset's chunks take in the file.
        stored_bytes: u64,
    },
    /// In other files (`merge --virtual`), mapped in order.
    Virtual { parts: Vec<VirtualPart> },
}

/// One source dataset of a virtual dataset.
#[derive(Clone, Debug)]
pub struct VirtualPart {
    /// The file name as the mapping records it (relative to the output's directory).
    pub recorded: String,
    /// Where that is from here.
    pub path: PathBuf,
    pub dataset: String,
    /// Rows of the virtual dataset it holds, from `first_row`.
    pub first_row: u64,
    pub rows: u64,
    /// Its layout if it can be read with the virtual dataset's schema, else why not.
    pub status: Result<(usize, Compression), String>,
}

/// Who wrote the file, when and how (the root group's attributes).
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Provenance {
    pub tool_version: Option<String>,
    pub created: Option<String>,
    pub command_line: Option<String>,
    pub shard: Option<String>,
    pub input_set: Option<String>,
}

/// A txt2h5 output, opened for reading.
#[derive(Clone, Debug)]
pub struct Study {
    pub path: PathBuf,
    pub dataset_name: String,
    pub schema: Schema,
    pub rows: u64,
    pub sources: Vec<SourceRow>,
    pub index: Option<PositionIndex>,
    pub provenance: Provenance,
    pub storage: Storage,
    /// Size of the file itself.
    pub file_bytes: u64,
}

/// Rows `first_row..first_row + rows` of a study, stored chunked in one dataset.
pub struct Segment {
    pub path: PathBuf,
    pub first_row: u64,
    pub rows: u64,
    pub chunk_rows: usize,
    pub compression: Compression,
    pub reader: RowReader,
}

impl Study {
    pub fn open(path: &Path) -> Result<Self, OpenError> {
        let (file, dataset_name, data, schema) = open_ours(path)?;
        let rows = data.shape().first().copied().unwrap_or(0) as u64;
        let storage = if data.dcpl()?.layout() == Layout::Virtual {
            Storage::Virtual {
                parts: virtual_parts(path, &data, &schema, rows)?,
            }
        } else {
            let (chunk_rows, compression) = chunk_layout(&data)?;
            Storage::Chunked {
                chunk_rows,
                compression,
                stored_bytes: data.storage_size(),
            }
        };
        let provenance = Provenance {
            tool_version: string_attr(&file, "tool_version"),
            created: string_attr(&file, "created"),
            command_line: string_attr(&file, "command_line"),
            shard: string_attr(&file, "shard"),
            input_set: string_attr(&file, "input_set"),
        };
        Ok(Self {
            path: path.to_path_buf(),
            rows,
            sources: read_sources(&file.dataset("sources")?)?,
            index: stored_index(&file, &schema)?,
            provenance,
            storage,
            dataset_name,
            schema,
            file_bytes: std::fs::metadata(path).map_err(OpenError::Io)?.len(),
        })
    }

    /// The stored pieces of the rows, opened for reading, in row order. A virtual
    /// dataset's part that is missing or unreadable is an error naming it: HDF5 would
    /// read its rows as fill values.
    pub fn segments(&self) -> Result<Vec<Segment>, (PathBuf, OpenError)> {
        match &self.storage {
            Storage::Chunked {
                chunk_rows,
                compression,
                ..
            } => {
                let reader = RowReader::open(&self.path, &self.dataset_name, &self.schema)
                    .map_err(|error| (self.path.clone(), error))?;
                Ok(vec![Segment {
                    path: self.path.clone(),
                    first_row: 0,
                    rows: self.rows,
                    chunk_rows: *chunk_rows,
                    compression: *compression,
                    reader,
                }])
            }
            Storage::Virtual { parts } => parts
                .iter()
                .map(|part| {
                    let (chunk_rows, compression) = part.status.clone().map_err(|why| {
                        (
                            part.path.clone(),
                            not_ours(&format!(
                                "a part of the virtual dataset {}, rows {}..{}: {why}",
                                self.path.display(),
                                part.first_row,
                                part.first_row + part.rows
                            )),
                        )
                    })?;
                    let reader = RowReader::open(&part.path, &part.dataset, &self.schema)
                        .map_err(|error| (part.path.clone(), error))?;
                    Ok(Segment {
                        path: part.path.clone(),
                        first_row: part.first_row,
                        rows: part.rows,
                        chunk_rows,
                        compression,
                        reader,
                    })
                })
                .collect(),
        }
    }
}

/// The parts a virtual dataset maps, in row order, each checked.
fn virtual_parts(
    path: &Path,
    data: &Dataset,
    schema: &Schema,
    rows: u64,
) -> Result<Vec<VirtualPart>, OpenError> {
    let dir = path.parent().unwrap_or(Path::new(""));
    let mut parts = Vec::new();
    let mut next_row = 0u64;
    for mapping in virtual_mappings(data)? {
        if mapping.first_row != next_row || mapping.source_first_row != 0 {
            return Err(not_ours(
                "its virtual dataset does not map whole parts, one after another",
            ));
        }
        let part_path = if mapping.file == "." {
            path.to_path_buf()
        } else {
            dir.join(&mapping.file)
        };
        let status = check_part(&part_path, &mapping.dataset, schema, mapping.rows);
        parts.push(VirtualPart {
            recorded: mapping.file,
            path: part_path,
            dataset: mapping.dataset,
            first_row: mapping.first_row,
            rows: mapping.rows,
            status,
        });
        next_row += mapping.rows;
    }
    if next_row != rows {
        return Err(not_ours(&format!(
            "its virtual dataset maps {next_row} rows of {rows}"
        )));
    }
    Ok(parts)
}

/// One mapping of a one-dimensional virtual dataset, as stored.
struct Mapping {
    file: String,
    dataset: String,
    /// Rows `first_row..first_row + rows` of the virtual dataset...
    first_row: u64,
    rows: u64,
    /// ...are rows from `source_first_row` of the source dataset.
    source_first_row: u64,
}

/// The mappings of a virtual dataset, read with the C API: hdf5-metno's `virtual_map`
/// returns none for a dataset read back from a file (it cannot describe the selections).
fn virtual_mappings(data: &Dataset) -> Result<Vec<Mapping>, OpenError> {
    use hdf5_sys::h5i::hid_t;
    use hdf5_sys::h5p::{
        H5Pget_virtual_count, H5Pget_virtual_dsetname, H5Pget_virtual_filename,
        H5Pget_virtual_srcspace, H5Pget_virtual_vspace,
    };
    use hdf5_sys::h5s::{H5Sclose, H5Sget_select_bounds};

    let dcpl = data.dcpl()?;
    let id = dcpl.id();
    /// `(start, end)` of a space's selection, inclusive; the space is closed.
    fn bounds(space: hid_t) -> hdf5::Result<(u64, u64)> {
        let space = check(space)?;
        let (mut start, mut end) = (0u64, 0u64);
        // SAFETY: `space` is a valid dataspace id (checked above) of rank 1, so one
        // hsize_t each is written through the pointers; it is closed once, here.
        let status = unsafe { H5Sget_select_bounds(space, &mut start, &mut end) };
        unsafe { H5Sclose(space) };
        check(status)?;
        Ok((start, end))
    }
    /// A string property of mapping `index`, asked for its length first.
    fn text(
        get: unsafe extern "C" fn(hid_t, usize, *mut std::ffi::c_char, usize) -> isize,
        id: hid_t,
        index: usize,
    ) -> hdf5::Result<String> {
        // SAFETY: with a null buffer HDF5 only returns the length; then the buffer holds
        // that many bytes and the NUL HDF5 writes after them.
        let length = check(unsafe { get(id, index, std::ptr::null_mut(), 0) })? as usize;
        let mut buffer = vec![0u8; length + 1];
        check(unsafe { get(id, index, buffer.as_mut_ptr().cast(), buffer.len()) })?;
        buffer.truncate(length);
        Ok(String::from_utf8_lossy(&buffer).into_owned())
    }
    hdf5::sync::sync(|| {
        let mut count = 0usize;
        // SAFETY: `id` is a valid dataset creation property list; one size_t is written.
        check(unsafe { H5Pget_virtual_count(id, &mut count) })?;
        (0..count)
            .map(|index| {
                // SAFETY: `index` is below the mapping count; each call returns a new
                // dataspace id, which `bounds` checks and closes.
                let (start, end) = bounds(unsafe { H5Pget_virtual_vspace(id, index) })?;
                let (source_start, _) = bounds(unsafe { H5Pget_virtual_srcspace(id, index) })?;
                Ok(Mapping {
                    file: text(H5Pget_virtual_filename, id, index)?,
                    dataset: text(H5Pget_virtual_dsetname, id, index)?,
                    first_row: start,
                    rows: end - start + 1,
                    source_first_row: source_start,
                })
            })
            .collect::<hdf5::Result<Vec<_>>>()
    })
    .map_err(OpenError::Hdf5)
}

/// Whether a part can be read: present, HDF5, with the dataset, rows and schema mapped.
fn check_part(
    path: &Path,
    dataset: &str,
    schema: &Schema,
    rows: u64,
) -> Result<(usize, Compression), String> {
    if !path.exists() {
        return Err("missing".to_string());
    }
    super::register_plugins();
    let file = hdf5::File::open(path).map_err(|error| format!("cannot open it: {error}"))?;
    let data = file
        .dataset(dataset)
        .map_err(|_| format!("it has no dataset {dataset:?}"))?;
    let found_rows = data.shape().first().copied().unwrap_or(0) as u64;
    if found_rows < rows {
        return Err(format!("it has {found_rows} rows, the mapping {rows}"));
    }
    match schema_of(&data) {
        Ok(found) if found == *schema => {}
        Ok(found) => {
            return Err(format!(
                "its records are ({}), the virtual dataset's ({})",
                found.summary(),
                schema.summary()
            ))
        }
        Err(error) => return Err(error.to_string()),
    }
    chunk_layout(&data).map_err(|error| error.to_string())
}
