//! The rows of a txt2h5 dataset, read as packed records or as the chunks they are stored
//! in. Every read is bounded by what the dataset's chunks can hold (see
//! [`super::plugins::with_decode_limit`]), so a damaged chunk is an error, not an abort.

use std::path::Path;

use hdf5::{Datatype, File};

use super::error::OpenError;
use super::ffi::RowDataset;
use super::open::rank_one;
use super::plugins::{register_plugins, stores_checksum, with_decode_limit};
use crate::codec::{check_header, verified, Compression};
use crate::schema::Schema;

/// The rows of a stored dataset, open for reading. Opened one file at a time: an open
/// HDF5 file holds megabytes of caches, so a merge of thousands of parts keeps only their
/// metadata in memory and reads their rows in turn.
pub struct RowReader {
    data: RowDataset,
    record_type: Datatype,
    /// Bytes of one chunk of records: what a stored chunk decodes to.
    chunk_bytes: usize,
    compression: Compression,
    /// Whether the stored chunks end with the Fletcher32 checksum (not in older files).
    checksum: bool,
    /// Size of the file: no stored chunk is larger.
    file_bytes: u64,
    _file: File,
}

impl RowReader {
    /// Opens `dataset` of the file at `path` to read records of `schema`, stored in chunks
    /// of `chunk_rows` with `compression` (as [`super::open::chunk_storage`] found them).
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
        let stored = file.dataset(dataset)?;
        let checksum = stores_checksum(&stored)?;
        let data = rank_one(stored, dataset)?;
        let record_type = Datatype::from_descriptor(&schema.type_descriptor())?;
        Ok(RowReader {
            data,
            chunk_bytes: chunk_rows.saturating_mul(record_type.size()),
            record_type,
            compression,
            checksum,
            file_bytes,
            _file: file,
        })
    }

    /// Whether the stored chunks end with the Fletcher32 checksum, which
    /// [`Self::read_stored_chunk`] checks: files written before txt2h5 added it have none.
    pub fn has_checksum(&self) -> bool {
        self.checksum
    }

    /// Reads `count` records from row `start` as packed bytes into `out`. A stored chunk
    /// that does not decode is an error saying why (see [`with_decode_limit`]).
    pub fn read_rows(&self, start: u64, count: u64, out: &mut Vec<u8>) -> hdf5::Result<()> {
        out.resize(count as usize * self.record_type.size(), 0);
        if count == 0 {
            return Ok(());
        }
        let (result, damage) = with_decode_limit(self.chunk_bytes, || {
            self.data.read_rows(&self.record_type, start, count, out)
        });
        match (result, damage) {
            // HDF5 checks the checksum itself and says only that a read failed: find the
            // chunk that is damaged, and say so.
            (Err(error), None) if self.checksum => {
                Err(self.damaged_chunk(start, count).unwrap_or(error))
            }
            (Err(_), Some(why)) => {
                let chunk_rows = (self.chunk_bytes / self.record_type.size()).max(1) as u64;
                Err(hdf5::Error::from(format!(
                    "rows {start}..{} (stored chunks {}..={}): a stored chunk is damaged: {why}",
                    start + count,
                    start / chunk_rows,
                    (start + count - 1) / chunk_rows
                )))
            }
            (result, _) => result,
        }
    }

    /// The error of the first chunk holding rows `start..start + count` whose checksum is
    /// wrong, if one is.
    fn damaged_chunk(&self, start: u64, count: u64) -> Option<hdf5::Error> {
        let chunk_rows = (self.chunk_bytes / self.record_type.size()).max(1);
        let mut stored = Vec::new();
        let chunks = start / chunk_rows as u64..=(start + count - 1) / chunk_rows as u64;
        chunks
            .filter_map(|index| self.read_stored_chunk(index, chunk_rows, &mut stored).err())
            .next()
    }

    /// The stored (filtered) bytes of chunk `index`, if every filter was applied to it,
    /// without the checksum, which is checked; an error if the checksum is wrong or its
    /// size or header (lz4, zstd, blosc) cannot be that of one of its chunks, so that a
    /// damaged chunk is neither decoded nor copied on as stored.
    pub fn read_stored_chunk(
        &self,
        index: u64,
        chunk_rows: usize,
        out: &mut Vec<u8>,
    ) -> hdf5::Result<bool> {
        let applied = self.read_stored_chunk_unchecked(index, chunk_rows, out)?;
        if applied {
            self.check_stored_chunk(index, chunk_rows, out)?;
        }
        Ok(applied)
    }

    /// [`RowReader::read_stored_chunk`] without the checks of the bytes read (their size
    /// is checked against the file): the chunk reader reads on one thread and checks on
    /// the pool, with [`RowReader::check_stored_chunk`], before it decodes.
    pub fn read_stored_chunk_unchecked(
        &self,
        index: u64,
        chunk_rows: usize,
        out: &mut Vec<u8>,
    ) -> hdf5::Result<bool> {
        let offset = index * chunk_rows as u64;
        let (mask, size) = self.data.chunk_info(offset)?;
        if mask != 0 {
            return Ok(false);
        }
        // HDF5 reports a chunk that was never written as 0 bytes: its rows would be fill
        // values (the opener refuses such a dataset; this holds for one changed since).
        if size == 0 {
            return Err(damaged_chunk_error(
                index,
                chunk_rows,
                "it was never written (no stored bytes)",
            ));
        }
        // The buffer is sized from the chunk's stored size: no larger than the file.
        if size > self.file_bytes {
            let why = format!(
                "it claims {size} bytes, more than the file's {}",
                self.file_bytes
            );
            return Err(damaged_chunk_error(index, chunk_rows, &why));
        }
        out.resize(size as usize, 0);
        Ok(self.data.read_chunk(offset, out)? == 0)
    }

    /// Checks the stored bytes of chunk `index` as read with every filter applied: the
    /// checksum (then removed from `stored`), and the size or header the codec's chunks
    /// have. Touches no HDF5 object, so it runs on any thread.
    pub fn check_stored_chunk(
        &self,
        index: u64,
        chunk_rows: usize,
        stored: &mut Vec<u8>,
    ) -> hdf5::Result<()> {
        if self.checksum {
            let checked = verified(stored)
                .map_err(|why| damaged_chunk_error(index, chunk_rows, &why.to_string()))?
                .len();
            stored.truncate(checked);
        }
        check_header(self.compression, stored, self.chunk_bytes)
            .map_err(|why| damaged_chunk_error(index, chunk_rows, &why.to_string()))
    }
}

/// The error of stored chunk `index` (of `chunk_rows` rows) that is damaged: `why`.
pub fn damaged_chunk_error(index: u64, chunk_rows: usize, why: &str) -> hdf5::Error {
    let offset = index * chunk_rows as u64;
    hdf5::Error::from(format!(
        "stored chunk {index} (rows {offset}..{}) is damaged: {why}",
        offset + chunk_rows as u64
    ))
}
