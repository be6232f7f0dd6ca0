//! The writer's side of the pipeline: parts arrive in any order, leave in load order.
//!
//! The writer runs on the calling thread. It asks the [`Reorder`] queue for the next
//! `(unit, part)` key, feeds record buffers (or spilled records) to the chunker, returns
//! buffers to the pool and keeps each file's tally. The first failure in load order ends
//! the run with that failure, whatever happened later in the other workers.

use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::output::chunker::Chunker;
use crate::pipeline::buffer::BufferPool;
use crate::pipeline::plan::Unit;
use crate::pipeline::reorder::Reorder;
use crate::pipeline::worker::{Part, Payload};
use crate::pipeline::FileTally;
use crate::progress::Progress;
use crate::signals::Interrupt;

/// The writer's side: takes parts in `(unit, part)` order and feeds the chunker.
pub struct OrderedWriter<'a> {
    pub units: &'a [Unit],
    pub pool: &'a BufferPool,
    pub progress: &'a Progress,
    pub interrupt: &'a Interrupt,
    pub output: &'a Path,
}

impl OrderedWriter<'_> {
    pub fn run(
        &self,
        receiver: Receiver<Part>,
        mut chunker: Chunker<'_>,
        file_count: usize,
    ) -> Result<Vec<FileTally>> {
        let (units, pool, progress, interrupt) =
            (self.units, self.pool, self.progress, self.interrupt);
        let hdf5_error = |source| Error::Hdf5 {
            path: self.output.to_path_buf(),
            source,
        };
        let mut tallies = vec![FileTally::default(); file_count];
        let record_size = chunker.record_size();
        let mut spilled = Vec::new();
        let mut waiting = Reorder::default();
        let (mut head, mut seq) = (0usize, 0u32);
        pool.set_head(0);
        while head < units.len() {
            if let Some(signal) = interrupt.received() {
                return Err(Error::Interrupted { signal });
            }
            let Some(payload) = waiting.take(head, seq) else {
                match receiver.recv_timeout(Duration::from_millis(100)) {
                    Ok(part) => waiting.insert(part.unit, part.seq, part.payload),
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => {
                        return Err(Error::io(
                            "worker threads",
                            std::io::Error::other(
                                "workers stopped before finishing (a bug: please report it)",
                            ),
                        ))
                    }
                }
                continue;
            };
            let tally = &mut tallies[units[head].file];
            if !tally.started {
                tally.started = true;
                tally.first_row = chunker.rows();
            }
            let last = payload.is_last();
            match payload {
                Payload::Rows(buffer) => {
                    chunker.push(buffer.as_bytes()).map_err(hdf5_error)?;
                    tally.rows += buffer.rows() as u64;
                    pool.release(buffer);
                    progress.set_rows(chunker.rows());
                }
                Payload::Spilled(records) => {
                    records
                        .read_into(&mut spilled)
                        .map_err(|error| Error::io("spill file", error))?;
                    chunker.push(&spilled).map_err(hdf5_error)?;
                    tally.rows += (spilled.len() / record_size) as u64;
                    progress.set_rows(chunker.rows());
                }
                Payload::Checksum(checksum) => tally.checksum = checksum,
                Payload::Done => {}
                Payload::Failed(error) => return Err(error),
            }
            if last {
                head += 1;
                seq = 0;
                pool.set_head(head);
            } else {
                seq += 1;
            }
        }
        chunker.finish().map_err(hdf5_error)?;
        Ok(tallies)
    }
}
