//! The `/data` compound dataset: created chunked and resizable, filled chunk by chunk in
//! load order (see [`crate::output::chunker`]).

use std::path::Path;

use hdf5::types::TypeDescriptor;
use hdf5::{Dataset, Datatype, File};
use hdf5_sys::h5d::{H5Dset_extent, H5Dwrite_chunk};
use hdf5_sys::h5p::H5P_DEFAULT;

use super::attributes::{write_string_attr, RunInfo};
use super::filters::{register_plugins, Compression};
use super::index::write_index;
use super::sources::{write_sources, SourceRow};
use crate::index::PositionIndex;
use crate::schema::Schema;

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
    chunk_rows: u64,
    extent: u64,
    chr_width: usize,
}

impl OutputWriter {
    /// Creates (truncating) the file at `path` with an empty dataset.
    pub fn create(path: &Path, options: &WriterOptions) -> hdf5::Result<Self> {
        register_plugins();
        let file = File::create(path)?;
        let descriptor: TypeDescriptor = options.schema.type_descriptor();
        let record_type = Datatype::from_descriptor(&descriptor)?;
        // Chunks arrive whole through H5Dwrite_chunk, which bypasses the chunk cache.
        let builder = file
            .new_dataset_builder()
            .chunk(options.chunk_rows)
            .set_filters(&options.compression.filters());
        // The type object goes to H5Dcreate as is: the stored layout is exactly the schema's.
        let data = builder
            .empty_as(&record_type)
            .shape(0..)
            .create(options.dataset.as_str())?;
        Ok(Self {
            file,
            data,
            chunk_rows: options.chunk_rows as u64,
            extent: 0,
            chr_width: options.schema.chr_width(),
        })
    }

    /// Creates (truncating) the file at `path` with a virtual dataset that maps, in order,
    /// the `(file, dataset, rows)` sources: relative file names resolve against the
    /// directory of the output.
    pub fn create_virtual(
        path: &Path,
        options: &WriterOptions,
        sources: &[(String, String, u64)],
    ) -> hdf5::Result<Self> {
        let file = File::create(path)?;
        let record_type = Datatype::from_descriptor(&options.schema.type_descriptor())?;
        let total: u64 = sources.iter().map(|(_, _, rows)| rows).sum();
        let mut builder = file.new_dataset_builder();
        let mut offset = 0usize;
        for (source, dataset, rows) in sources.iter().filter(|(_, _, rows)| *rows > 0) {
            let rows = *rows as usize;
            builder = builder.virtual_map(
                source,
                dataset,
                rows,
                0..rows,
                total as usize,
                offset..offset + rows,
            );
            offset += rows;
        }
        let data = builder
            .empty_as(&record_type)
            .shape(total as usize)
            .create(options.dataset.as_str())?;
        Ok(Self {
            file,
            data,
            chunk_rows: options.chunk_rows as u64,
            extent: total,
            chr_width: options.schema.chr_width(),
        })
    }

    /// Grows the dataset to `rows` rows (never shrinks it).
    pub fn set_extent(&mut self, rows: u64) -> hdf5::Result<()> {
        if rows > self.extent {
            // SAFETY: the dataset id is valid while `self` lives; the dims pointer refers to
            // one hsize_t, matching the dataset's rank of 1.
            hdf5::sync::sync(|| check(unsafe { H5Dset_extent(self.data.id(), &rows) }))?;
            self.extent = rows;
        }
        Ok(())
    }

    /// Stores chunk `index` (rows `index * chunk_rows ..`) as given: raw without filters,
    /// or already shuffled and compressed when the dataset has those filters. The chunk must
    /// lie inside the current extent.
    pub fn write_chunk(&mut self, index: u64, stored: &[u8]) -> hdf5::Result<()> {
        let offset = index * self.chunk_rows;
        debug_assert!(offset < self.extent);
        hdf5::sync::sync(|| {
            // SAFETY: the dataset id is valid while `self` lives; `offset` points to one
            // hsize_t (rank 1); HDF5 reads exactly `stored.len()` bytes from the pointer.
            // Filter mask 0 declares that every filter of the dataset was applied, which the
            // caller guarantees (see crate::output::compress).
            check(unsafe {
                H5Dwrite_chunk(
                    self.data.id(),
                    H5P_DEFAULT,
                    0,
                    &offset,
                    stored.len(),
                    stored.as_ptr().cast(),
                )
            })
        })?;
        Ok(())
    }

    /// Writes `/sources`, `/index` and the attributes, then flushes and closes the file.
    pub fn finish(
        self,
        sources: &[SourceRow],
        index: &PositionIndex,
        info: &RunInfo,
    ) -> hdf5::Result<()> {
        write_sources(&self.file, sources)?;
        write_index(&self.file, index, self.chr_width)?;
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
pub(super) fn check<T: Copy + PartialOrd + Default>(code: T) -> hdf5::Result<T> {
    if code < T::default() {
        Err(hdf5::Error::query().unwrap_or_else(|error| error))
    } else {
        Ok(code)
    }
}
