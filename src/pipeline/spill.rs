//! Records that are ready before the writer wants them go to a temporary file.
//!
//! The writer takes units strictly in load order, and record buffers are few, so a worker
//! ahead of the writer (a later gzip file, a later piece) would otherwise stop and wait,
//! and one big file at the head would run on one core. Instead, when the pool has no buffer
//! to spare, the worker appends its full buffer to a spill file of its own unit and reuses
//! the buffer; the writer reads the records back when their turn comes. Memory stays
//! bounded; the disk holds at most the records of units ahead of the writer. The file is
//! created unlinked (O_TMPFILE) beside the output, so no exit, not even SIGKILL, leaves it
//! behind.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// An unnamed temporary file holding one unit's spilled records, appended to in order.
pub struct Spill {
    file: Arc<File>,
    length: u64,
}

/// A run of records in a spill file, as the writer receives it.
pub struct SpilledRecords {
    pub file: Arc<File>,
    pub offset: u64,
    pub bytes: usize,
}

impl Spill {
    pub fn create(dir: &Path) -> std::io::Result<Self> {
        Ok(Self {
            file: Arc::new(tempfile::tempfile_in(dir)?),
            length: 0,
        })
    }

    /// Appends `records` and says where they are.
    pub fn append(&mut self, records: &[u8]) -> std::io::Result<SpilledRecords> {
        (&*self.file).write_all(records)?;
        let offset = self.length;
        self.length += records.len() as u64;
        Ok(SpilledRecords {
            file: Arc::clone(&self.file),
            offset,
            bytes: records.len(),
        })
    }
}

impl SpilledRecords {
    /// Reads the records back into `buffer` (resized to fit).
    pub fn read_into(&self, buffer: &mut Vec<u8>) -> std::io::Result<()> {
        buffer.resize(self.bytes, 0);
        self.file.read_exact_at(buffer, self.offset)
    }
}

/// Where spill files go: beside the output, on a file system known to be writable.
pub fn spill_dir(output: &Path) -> PathBuf {
    match output.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spilled_records_read_back_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let mut spill = Spill::create(dir.path()).unwrap();
        let first = spill.append(b"first run").unwrap();
        let second = spill.append(b"second").unwrap();
        let mut buffer = Vec::new();
        second.read_into(&mut buffer).unwrap();
        assert_eq!(buffer, b"second");
        first.read_into(&mut buffer).unwrap();
        assert_eq!(buffer, b"first run");
        // Unnamed: nothing appears in the directory.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
