//! A txt2h5 output, opened and checked: a [`Study`] for reading back (plain, appended,
//! merged, or a `merge --virtual` dataset whose rows live in its parts), an
//! [`ExistingOutput`] where its rows must be stored here in chunks (what an append continues
//! and a merge copies). Both are opened by [`Study::open`].
//!
//! Besides what [`super::open`] checks, the opener checks the chunks of a chunked dataset
//! (and of each part of a virtual one) before anything is sized by them: every chunk that
//! holds rows is stored, and a chunk larger than the rows is bounded
//! ([`defaults::MAX_CHUNK_BYTES`]).

use std::path::{Path, PathBuf};

use hdf5::dataset::Layout;
use hdf5::Dataset;

use super::error::{Inconsistent, OpenError, PartError, PartFailure, VirtualMismatch};
use super::ffi::{self, RowDataset, Selected};
use super::open::{chunk_storage, not_ours, open_ours, rank_one, schema_of, string_attr, tables};
use super::{RowReader, SourceRow, WriterOptions};
use crate::codec::Compression;
use crate::defaults;
use crate::index::PositionIndex;
use crate::schema::Schema;

/// Where the rows of a study are stored.
#[derive(Clone, Debug)]
pub enum Storage {
    /// In the file itself, in chunks.
    Chunked {
        chunk_rows: usize,
        compression: Compression,
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
    /// Its chunk rows and codec if the virtual dataset's schema reads it, else why not.
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

/// A study whose rows are stored in the file itself, in chunks: what `load --append`
/// continues and `merge` copies. The file is closed again; [`ExistingOutput::rows_reader`]
/// reopens it to read the rows.
pub struct ExistingOutput {
    pub study: Study,
    pub chunk_rows: usize,
    pub compression: Compression,
}

impl ExistingOutput {
    /// Opens and checks the output at `path` as [`Study::open`] does; a virtual dataset,
    /// whose rows live in other files, is refused.
    pub fn open(path: &Path) -> Result<Self, OpenError> {
        let study = Study::open(path)?;
        match study.storage {
            Storage::Chunked {
                chunk_rows,
                compression,
            } => Ok(Self {
                study,
                chunk_rows,
                compression,
            }),
            Storage::Virtual { .. } => Err(not_ours(
                "its dataset is virtual (a merge --virtual output can be read, not appended \
                 to or merged again)",
            )),
        }
    }

    /// The storage options of this file's dataset, for a file that continues it.
    pub fn writer_options(&self) -> WriterOptions {
        WriterOptions {
            dataset: self.study.dataset_name.clone(),
            schema: self.study.schema,
            chunk_rows: self.chunk_rows,
            compression: self.compression,
        }
    }

    /// Opens the file again to read its rows (see [`RowReader`]).
    pub fn rows_reader(&self) -> Result<RowReader, OpenError> {
        let study = &self.study;
        RowReader::open(
            &study.path,
            &study.dataset_name,
            &study.schema,
            self.chunk_rows,
            self.compression,
        )
    }
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
    /// Opens and checks the output at `path` (see [`super::open`] for what is checked).
    pub fn open(path: &Path) -> Result<Self, OpenError> {
        let opened = open_ours(path)?;
        let (data, rows) = (&opened.data, opened.rows);
        let storage = if data.dcpl()?.layout() == Layout::Virtual {
            Storage::Virtual {
                parts: virtual_parts(path, data, &opened.schema, rows)?,
            }
        } else {
            let (chunk_rows, compression) = chunk_storage(data)?;
            check_chunks(data, rows, chunk_rows)?;
            Storage::Chunked {
                chunk_rows,
                compression,
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

    /// Bytes the dataset's chunks take in the file; `None` for a virtual dataset. HDF5
    /// walks the chunk index to answer, so only `inspect` asks.
    pub fn stored_bytes(&self) -> Result<Option<u64>, OpenError> {
        match self.storage {
            Storage::Chunked { .. } => {
                let file = hdf5::File::open(&self.path)?;
                Ok(Some(file.dataset(&self.dataset_name)?.storage_size()))
            }
            Storage::Virtual { .. } => Ok(None),
        }
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
                        Ok(storage) => *storage,
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

/// The mappings of a virtual dataset, each checked to take one range of a one-dimensional
/// source to one range of rows.
fn virtual_mappings(data: &Dataset) -> Result<Vec<Mapping>, OpenError> {
    /// The first element and the count of a selection that is one whole range (`Whole`:
    /// from 0, `rows` of them), or why it is not.
    fn range(
        selected: Selected,
        mapping: usize,
        space: &'static str,
        rows: Option<u64>,
    ) -> Result<(u64, u64), OpenError> {
        let not_a_range = || Inconsistent::from(VirtualMismatch::NotARange { mapping }).into();
        match (selected, rows) {
            (Selected::Whole, Some(rows)) => Ok((0, rows)),
            (Selected::Rank(rank), _) => Err(Inconsistent::from(VirtualMismatch::Rank {
                mapping,
                space,
                rank,
            })
            .into()),
            (Selected::Rows { start, end, count }, _) if count > 0 && end - start + 1 == count => {
                Ok((start, count))
            }
            _ => Err(not_a_range()),
        }
    }
    ffi::virtual_mappings(&data.dcpl()?)?
        .into_iter()
        .enumerate()
        .map(|(index, raw)| {
            let (first_row, rows) = range(raw.virtual_space, index, "virtual dataset", None)?;
            let (source_first_row, source_rows) =
                range(raw.source_space, index, "source dataset", Some(rows))?;
            if source_rows != rows {
                return Err(
                    Inconsistent::from(VirtualMismatch::NotARange { mapping: index }).into(),
                );
            }
            Ok(Mapping {
                file: raw.file,
                dataset: raw.dataset,
                first_row,
                rows,
                source_first_row,
            })
        })
        .collect()
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
    super::open::check_regular(path)
        .map_err(|error| PartError::Unreadable(std::sync::Arc::new(error)))?;
    super::register_plugins();
    let file = hdf5::File::open(path).map_err(PartError::Open)?;
    let data = file
        .dataset(dataset)
        .map_err(|_| PartError::NoDataset(dataset.to_string()))?;
    let unreadable = |error: OpenError| PartError::Unreadable(std::sync::Arc::new(error));
    // Its rows are read with one coordinate each.
    let data = rank_one(data, dataset)
        .map_err(|error| unreadable(error.into()))?
        .into_dataset();
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
    let (chunk_rows, compression) = chunk_storage(&data).map_err(unreadable)?;
    check_chunks(&data, found_rows, chunk_rows).map_err(unreadable)?;
    Ok((chunk_rows, compression))
}

/// Checks the chunks of `data`, which holds `rows` rows in chunks of `chunk_rows`, before
/// anything is sized by them: a chunk larger than the rows is at most
/// [`defaults::MAX_CHUNK_BYTES`], and every chunk that holds rows is stored. A chunk never
/// written reads as fill values, so a `/data` grown (with h5py's `resize`) to rows nobody
/// wrote would be read, merged and appended to as rows of zeros.
///
/// A read decodes whole chunks (HDF5 and txt2h5's own decoders alike), and `merge` and
/// `load --append` write chunks of the size they read, so the chunk shape a file states
/// sizes buffers: a dataset of 80,000 rows in one chunk of 150 million made them take 3.7
/// GB. A chunk that its rows fill is as large as the user asked for when loading; one that
/// they do not fill is bounded.
fn check_chunks(data: &Dataset, rows: u64, chunk_rows: usize) -> Result<(), OpenError> {
    let member = format!("/{}", data.name().trim_start_matches('/'));
    // `chunk_storage` bounded the product by HDF5's largest chunk.
    let chunk_bytes = chunk_rows as u64 * data.dtype()?.size() as u64;
    if chunk_rows as u64 > rows && chunk_bytes > defaults::MAX_CHUNK_BYTES {
        return Err(Inconsistent::SparseChunk {
            member,
            chunk_rows,
            chunk_bytes,
            rows,
            max_bytes: defaults::MAX_CHUNK_BYTES,
        }
        .into());
    }
    let size = chunk_rows as u64;
    let expected = rows.div_ceil(size);
    let data = RowDataset::new(data.clone()).map_err(|rank| Inconsistent::Rank {
        member: member.clone(),
        rank,
    })?;
    let stored = data.stored_chunks()?;
    if stored >= expected {
        return Ok(());
    }
    // Chunks lie inside the extent (HDF5 drops the others when a dataset shrinks), so one
    // of the first `stored + 1` is missing: at most that many look-ups.
    let mut missing = stored;
    for chunk in 0..expected.min(stored + 1) {
        if data.chunk_info(chunk * size)?.1 == 0 {
            missing = chunk;
            break;
        }
    }
    Err(Inconsistent::Unwritten {
        member,
        rows,
        chunk_rows,
        expected,
        stored,
        missing,
        first_row: missing * size,
        end_row: rows.min((missing + 1) * size),
    }
    .into())
}
