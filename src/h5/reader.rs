//! Reading txt2h5 files back: parts to merge (and, later, files to append to).

use std::path::{Path, PathBuf};

use hdf5::filters::Filter;
use hdf5::types::{TypeDescriptor, VarLenUnicode};
use hdf5::{Dataset, Datatype, File};
use hdf5_sys::h5d::{H5Dget_chunk_info_by_coord, H5Dget_space, H5Dread, H5Dread_chunk};
use hdf5_sys::h5p::H5P_DEFAULT;
use hdf5_sys::h5s::{H5S_seloper_t, H5Sclose, H5Screate_simple, H5Sselect_hyperslab};

use super::writer::{check, Compression};
use super::SourceRow;
use crate::schema::Schema;

/// An existing txt2h5 output, opened read-only.
pub struct ExistingOutput {
    pub path: PathBuf,
    pub dataset_name: String,
    pub schema: Schema,
    pub rows: u64,
    pub chunk_rows: usize,
    pub compression: Option<Compression>,
    pub shard: Option<String>,
    pub input_set: Option<String>,
    pub sources: Vec<SourceRow>,
    data: Dataset,
    record_type: Datatype,
    _file: File,
}

/// Why a file cannot be read as a txt2h5 output.
pub fn not_ours(path: &Path, why: &str) -> hdf5::Error {
    hdf5::Error::from(format!("{} is not a txt2h5 output: {why}", path.display()))
}

fn string_attr(location: &hdf5::Location, name: &str) -> Option<String> {
    let attr = location.attr(name).ok()?;
    let value: VarLenUnicode = attr.read_scalar().ok()?;
    Some(value.as_str().to_string())
}

impl ExistingOutput {
    pub fn open(path: &Path) -> hdf5::Result<Self> {
        let file = File::open(path)?;
        let dataset_name = string_attr(&file, "dataset")
            .ok_or_else(|| not_ours(path, "no 'dataset' attribute"))?;
        let data = file.dataset(&dataset_name)?;
        let descriptor = data.dtype()?.to_descriptor()?;
        let chr_width = match &descriptor {
            TypeDescriptor::Compound(compound) => {
                match compound.fields.first().map(|field| &field.ty) {
                    Some(TypeDescriptor::FixedAscii(width)) => *width,
                    _ => {
                        return Err(not_ours(
                            path,
                            "the first field is not a fixed-width string",
                        ))
                    }
                }
            }
            _ => return Err(not_ours(path, "the dataset is not a compound dataset")),
        };
        let schema = Schema::new(chr_width);
        if descriptor != schema.type_descriptor() {
            return Err(not_ours(path, "the record layout differs from txt2h5's"));
        }
        let chunk_rows = match data.chunk().as_deref() {
            Some([rows]) => *rows,
            _ => {
                return Err(not_ours(
                    path,
                    "its dataset is not chunked in one dimension (a merge --virtual output \
                     can be read, not appended to or merged again)",
                ))
            }
        };
        let compression = match data.filters().as_slice() {
            [] => Some(Compression::None),
            [Filter::Shuffle, Filter::Deflate(level)] => Some(Compression::Gzip(*level)),
            _ => None,
        };
        let sources = file.dataset("sources")?.read_raw::<SourceRow>()?;
        Ok(Self {
            path: path.to_path_buf(),
            rows: data.shape().first().copied().unwrap_or(0) as u64,
            record_type: Datatype::from_descriptor(&schema.type_descriptor())?,
            dataset_name,
            schema,
            chunk_rows,
            compression,
            shard: string_attr(&file, "shard"),
            input_set: string_attr(&file, "input_set"),
            sources,
            data,
            _file: file,
        })
    }

    /// Reads `count` records from row `start` as packed bytes into `out`.
    pub fn read_rows(&self, start: u64, count: u64, out: &mut Vec<u8>) -> hdf5::Result<()> {
        out.resize(count as usize * self.schema.record_size(), 0);
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
    pub fn read_stored_chunk(&self, index: u64, out: &mut Vec<u8>) -> hdf5::Result<bool> {
        let offset = index * self.chunk_rows as u64;
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
