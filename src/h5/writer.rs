//! The `/data` compound dataset: created chunked and resizable, filled chunk by chunk in
//! load order (see [`crate::output::chunker`]).
//!
//! Every chunk is stored with its Fletcher32 checksum, the pipeline's last filter. The
//! chunks come with it: it is appended where their stored bytes are made (see
//! [`crate::codec::checksum`]), on the compression pool or in the raw chunk's own buffer,
//! so that this thread, the one that writes the file, stores the bytes as they come, with
//! no copy and no pass over them; the cost on the load is measured in docs/layout.md.

use std::path::Path;

use hdf5::types::TypeDescriptor;
use hdf5::{Datatype, File};

use super::attributes::{write_string_attr, RunInfo};
use super::ffi::RowDataset;
use super::index::write_index;
use super::plugins::register_plugins;
use super::sources::{write_sources, SourceRow};
use crate::codec::Compression;
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
    data: RowDataset,
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
            .set_filters(
                &options
                    .compression
                    .filters(record_type.size(), record_type.size() * options.chunk_rows),
            );
        // The type object goes to H5Dcreate as is: the stored type is exactly the schema's.
        let data = builder
            .empty_as(&record_type)
            .shape(0..)
            .create(options.dataset.as_str())?;
        Ok(Self {
            file,
            data: RowDataset::new(data).expect("created with one dimension"),
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
            data: RowDataset::new(data).expect("created with one dimension"),
            chunk_rows: options.chunk_rows as u64,
            extent: total,
            chr_width: options.schema.chr_width(),
        })
    }

    /// Grows the dataset to `rows` rows (never shrinks it).
    pub fn set_extent(&mut self, rows: u64) -> hdf5::Result<()> {
        if rows > self.extent {
            self.data.set_extent(rows)?;
            self.extent = rows;
        }
        Ok(())
    }

    /// Stores chunk `index` (rows `index * chunk_rows ..`): `checked` is the records without
    /// compression, or shuffled and compressed when the dataset has those filters, followed
    /// by their checksum. The chunk must lie inside the current extent.
    pub fn write_chunk(&mut self, index: u64, checked: &[u8]) -> hdf5::Result<()> {
        let offset = index * self.chunk_rows;
        debug_assert!(offset < self.extent);
        // Filter mask 0: every filter of the dataset was applied by the caller: the codec's
        // (see crate::codec::chunk) and the checksum.
        self.data.write_chunk(offset, checked)?;
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
        info.write(&self.file, self.data.dataset())?;
        write_string_attr(
            self.data.dataset(),
            "description",
            "one row per input data line, in input order; /sources maps rows back to files",
        )?;
        self.file.flush()?;
        drop(self.data);
        self.file.close()
    }
}
