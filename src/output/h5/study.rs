//! A txt2h5 output opened for reading back (`inspect`, `export`): plain, appended, merged,
//! or a `merge --virtual` dataset whose rows live in its parts.

use std::path::{Path, PathBuf};

use hdf5::dataset::Layout;
use hdf5::Dataset;

use super::reader::{
    chunk_layout, open_ours, schema_of, string_attr, tables, Inconsistent, PartError, PartFailure,
    VirtualMismatch,
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
    pub status: Result<(usize, Compression), PartError>,
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
    /// Opens and checks the output at `path` (see [`super::reader`] for what is checked).
    pub fn open(path: &Path) -> Result<Self, OpenError> {
        let opened = open_ours(path)?;
        let (data, rows) = (&opened.data, opened.rows);
        let storage = if data.dcpl()?.layout() == Layout::Virtual {
            Storage::Virtual {
                parts: virtual_parts(path, data, &opened.schema, rows)?,
            }
        } else {
            let (chunk_rows, compression) = chunk_layout(data)?;
            Storage::Chunked {
                chunk_rows,
                compression,
                stored_bytes: data.storage_size(),
            }
        };
        let (sources, index) = tables(&opened)?;
        let file = &opened.file;
        let provenance = Provenance {
            tool_version: string_attr(file, "tool_version"),
            created: string_attr(file, "created"),
            command_line: string_attr(file, "command_line"),
            shard: string_attr(file, "shard"),
            input_set: string_attr(file, "input_set"),
        };
        Ok(Self {
            path: path.to_path_buf(),
            rows,
            sources,
            index,
            provenance,
            storage,
            dataset_name: opened.dataset_name,
            schema: opened.schema,
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
                let reader = RowReader::open(
                    &self.path,
                    &self.dataset_name,
                    &self.schema,
                    *chunk_rows,
                    *compression,
                )
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
                    let (chunk_rows, compression) = match &part.status {
                        Ok(layout) => *layout,
                        Err(why) => {
                            return Err((
                                part.path.clone(),
                                OpenError::Part(Box::new(PartFailure {
                                    study: self.path.clone(),
                                    first_row: part.first_row,
                                    end_row: part.first_row + part.rows,
                                    why: why.clone(),
                                })),
                            ))
                        }
                    };
                    let reader = RowReader::open(
                        &part.path,
                        &part.dataset,
                        &self.schema,
                        chunk_rows,
                        compression,
                    )
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
            return Err(Inconsistent::from(VirtualMismatch::NotWholeParts).into());
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
        next_row = next_row.saturating_add(mapping.rows);
    }
    if next_row != rows {
        return Err(Inconsistent::from(VirtualMismatch::Rows {
            mapped: next_row,
            rows,
        })
        .into());
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

/// A dataspace's selection, as far as a mapping needs it.
enum Selected {
    /// Elements `start..=end` of a one-dimensional space, `count` of them.
    Rows { start: u64, end: u64, count: u64 },
    /// All of a space whose extent the file does not store: how HDF5 reads back a source
    /// selection of the whole source dataset (as `merge --virtual` writes them).
    Whole,
    /// A space of another rank, whose bounds would not fit one coordinate.
    Rank(i32),
}

/// The mappings of a virtual dataset, read with the C API: hdf5-metno's `virtual_map`
/// returns none for a dataset read back from a file (it cannot describe the selections).
/// A mapping must take one range of a one-dimensional source to one range of rows.
fn virtual_mappings(data: &Dataset) -> Result<Vec<Mapping>, OpenError> {
    use hdf5_sys::h5i::hid_t;
    use hdf5_sys::h5p::{
        H5Pget_virtual_count, H5Pget_virtual_dsetname, H5Pget_virtual_filename,
        H5Pget_virtual_srcspace, H5Pget_virtual_vspace,
    };
    use hdf5_sys::h5s::{
        H5S_sel_type, H5Sclose, H5Sget_select_bounds, H5Sget_select_npoints, H5Sget_select_type,
        H5Sget_simple_extent_ndims,
    };

    let dcpl = data.dcpl()?;
    let id = dcpl.id();
    /// The selection of a dataspace id returned by HDF5; the space is closed.
    fn selected(space: hid_t) -> hdf5::Result<Selected> {
        let space = check(space)?;
        let selection = selection_of(space);
        // SAFETY: `space` is a valid dataspace id (checked above) that this function owns;
        // it is closed once, here.
        unsafe { H5Sclose(space) };
        selection
    }
    fn selection_of(space: hid_t) -> hdf5::Result<Selected> {
        // SAFETY: `space` is a valid dataspace id.
        let rank = check(unsafe { H5Sget_simple_extent_ndims(space) })?;
        // SAFETY: as above.
        let all = unsafe { H5Sget_select_type(space) } == H5S_sel_type::H5S_SEL_ALL;
        if all && rank == 0 {
            return Ok(Selected::Whole);
        }
        if rank != 1 {
            return Ok(Selected::Rank(rank));
        }
        // SAFETY: as above.
        let count = check(unsafe { H5Sget_select_npoints(space) })? as u64;
        if count == 0 {
            // No bounds to ask for; the caller refuses an empty mapping.
            return Ok(Selected::Rows {
                start: 0,
                end: 0,
                count,
            });
        }
        let (mut start, mut end) = (0u64, 0u64);
        // SAFETY: the space has rank 1 (checked just above), so HDF5 writes one hsize_t
        // through each pointer.
        check(unsafe { H5Sget_select_bounds(space, &mut start, &mut end) })?;
        Ok(Selected::Rows { start, end, count })
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
    /// The first element and the count of a selection that is one whole range (`Whole`:
    /// from 0, `rows` of them), or why it is not.
    fn range(
        selected: Selected,
        mapping: usize,
        space: &'static str,
        rows: Option<u64>,
    ) -> Result<(u64, u64), OpenError> {
        match selected {
            Selected::Whole if rows.is_some() => Ok((0, rows.unwrap_or_default())),
            Selected::Whole => {
                Err(Inconsistent::from(VirtualMismatch::NotARange { mapping }).into())
            }
            Selected::Rank(rank) => Err(Inconsistent::from(VirtualMismatch::Rank {
                mapping,
                space,
                rank,
            })
            .into()),
            Selected::Rows { start, end, count } if count > 0 && end - start + 1 == count => {
                Ok((start, count))
            }
            Selected::Rows { .. } => {
                Err(Inconsistent::from(VirtualMismatch::NotARange { mapping }).into())
            }
        }
    }
    hdf5::sync::sync(|| {
        let mut count = 0usize;
        // SAFETY: `id` is a valid dataset creation property list; one size_t is written.
        check(unsafe { H5Pget_virtual_count(id, &mut count) })?;
        (0..count)
            .map(|index| {
                // SAFETY: `index` is below the mapping count; each call returns a new
                // dataspace id, which `selected` checks and closes.
                let (start, rows) = range(
                    selected(unsafe { H5Pget_virtual_vspace(id, index) })?,
                    index,
                    "virtual dataset",
                    None,
                )?;
                let (source_start, source_rows) = range(
                    selected(unsafe { H5Pget_virtual_srcspace(id, index) })?,
                    index,
                    "source dataset",
                    Some(rows),
                )?;
                if source_rows != rows {
                    return Err(
                        Inconsistent::from(VirtualMismatch::NotARange { mapping: index }).into(),
                    );
                }
                Ok(Mapping {
                    file: text(H5Pget_virtual_filename, id, index)?,
                    dataset: text(H5Pget_virtual_dsetname, id, index)?,
                    first_row: start,
                    rows,
                    source_first_row: source_start,
                })
            })
            .collect::<Result<Vec<_>, OpenError>>()
    })
}

/// Whether a part can be read: present, HDF5, with the dataset, rows and schema mapped.
fn check_part(
    path: &Path,
    dataset: &str,
    schema: &Schema,
    rows: u64,
) -> Result<(usize, Compression), PartError> {
    if !path.exists() {
        return Err(PartError::Missing);
    }
    super::register_plugins();
    let file = hdf5::File::open(path).map_err(PartError::Open)?;
    let data = file
        .dataset(dataset)
        .map_err(|_| PartError::NoDataset(dataset.to_string()))?;
    let unreadable = |error: OpenError| PartError::Unreadable(std::sync::Arc::new(error));
    // Its rows are read with one coordinate each.
    let rank = data.ndim();
    if rank != 1 {
        return Err(unreadable(
            Inconsistent::Rank {
                member: format!("/{}", dataset.trim_start_matches('/')),
                rank,
            }
            .into(),
        ));
    }
    let found_rows = data.shape()[0] as u64;
    if found_rows < rows {
        return Err(PartError::TooFewRows {
            found: found_rows,
            mapped: rows,
        });
    }
    let found = schema_of(&data).map_err(unreadable)?;
    if found != *schema {
        return Err(PartError::OtherSchema {
            found: found.summary(),
            expected: schema.summary(),
        });
    }
    chunk_layout(&data).map_err(unreadable)
}
