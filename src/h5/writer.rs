//! The `/data` compound dataset: created chunked and resizable, appended to in input order.

use std::path::Path;

use hdf5::types::TypeDescriptor;
use hdf5::{Dataset, Datatype, File};
use hdf5_sys::h5d::{H5Dget_space, H5Dset_extent, H5Dwrite};
use hdf5_sys::h5p::H5P_DEFAULT;
use hdf5_sys::h5s::{H5S_seloper_t, H5Sclose, H5Screate_simple, H5Sselect_hyperslab};

use super::attributes::{write_string_attr, RunInfo};
use super::sources::{write_sources, SourceRow};
use crate::schema::Schema;

/// Filters applied to the stored chunks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    /// Deflate at this level (1..=9), always after the byte shuffle filter.
    Gzip(u8),
}

impl std::fmt::Display for Compression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Compression::None => f.write_str("none"),
            Compression::Gzip(level) => write!(f, "gzip:{level}"),
        }
    }
}

/// How to lay out the output dataset.
#[derive(Clone, Debug)]
pub struct WriterOptions {
    pub dataset: String,
    pub schema: Schema,
    pub chunk_rows: usize,
    pub compression: Compression,
}

/// An open output file with its `/data` dataset, appended to by one thread.
pub struct OutputWriter {
    file: File,
    data: Dataset,
    record_type: Datatype,
    record_size: usize,
    rows: u64,
}

impl OutputWriter {
    /// Creates (truncating) the file at `path` with an empty dataset.
    pub fn create(path: &Path, options: &WriterOptions) -> hdf5::Result<Self> {
        let file = File::create(path)?;
        let descriptor: TypeDescriptor = options.schema.type_descriptor();
        let record_type = Datatype::from_descriptor(&descriptor)?;
        let chunk_bytes = options.chunk_rows * options.schema.record_size();
        // A few chunks of cache let HDF5 assemble chunks that appends fill piecewise,
        // without reading back (and, when compressed, re-inflating) a chunk it just wrote.
        let mut builder = file
            .new_dataset_builder()
            .chunk_cache(1021, 4 * chunk_bytes, 1.0)
            .chunk(options.chunk_rows);
        if let Compression::Gzip(level) = options.compression {
            builder = builder.shuffle().deflate(level);
        }
        // The type object goes to H5Dcreate as is: the stored layout is exactly the schema's.
        let data = builder
            .empty_as(&record_type)
            .shape(0..)
            .create(options.dataset.as_str())?;
        Ok(Self {
            file,
            data,
            record_type,
            record_size: options.schema.record_size(),
            rows: 0,
        })
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Appends packed records (a whole number of them) at the end of the dataset.
    pub fn append(&mut self, records: &[u8]) -> hdf5::Result<()> {
        assert_eq!(records.len() % self.record_size, 0);
        let count = (records.len() / self.record_size) as u64;
        if count == 0 {
            return Ok(());
        }
        let start = self.rows;
        let new_len = start + count;
        hdf5::sync::sync(|| {
            // SAFETY: every id is valid for the duration of the call (owned by `self`, or
            // created and closed here); the hyperslab selects exactly `count` elements, the
            // memory space has `count` elements, and `records` holds `count` records of the
            // memory type `record_type`, whose size is `record_size`, so H5Dwrite reads
            // exactly `records.len()` bytes from the pointer.
            unsafe {
                check(H5Dset_extent(self.data.id(), &new_len))?;
                let file_space = check(H5Dget_space(self.data.id()))?;
                let memory_space = H5Screate_simple(1, &count, std::ptr::null());
                let status = if memory_space < 0 {
                    -1
                } else {
                    let selected = H5Sselect_hyperslab(
                        file_space,
                        H5S_seloper_t::H5S_SELECT_SET,
                        &start,
                        std::ptr::null(),
                        &count,
                        std::ptr::null(),
                    );
                    if selected < 0 {
                        selected
                    } else {
                        H5Dwrite(
                            self.data.id(),
                            self.record_type.id(),
                            memory_space,
                            file_space,
                            H5P_DEFAULT,
                            records.as_ptr().cast(),
                        )
                    }
                };
                if memory_space >= 0 {
                    H5Sclose(memory_space);
                }
                H5Sclose(file_space);
                check(status)?;
                Ok::<(), hdf5::Error>(())
            }
        })?;
        self.rows = new_len;
        Ok(())
    }

    /// Writes `/sources` and the attributes, then flushes and closes the file.
    pub fn finish(self, sources: &[SourceRow], info: &RunInfo) -> hdf5::Result<()> {
        write_sources(&self.file, sources)?;
        info.write(&self.file, &self.data)?;
        write_string_attr(
            &self.data,
            "description",
            "one row per input data line, in input order; /sources maps rows back to files",
        )?;
        self.file.flush()?;
        drop(self.data);
        self.file.close()
    }
}

/// Turns a negative HDF5 return code into the library's current error stack.
fn check<T: Copy + PartialOrd + Default>(code: T) -> hdf5::Result<T> {
    if code < T::default() {
        Err(hdf5::Error::query().unwrap_or_else(|error| error))
    } else {
        Ok(code)
    }
}
