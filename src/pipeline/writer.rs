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
use crate::index::build::IndexBuilder;
use crate::index::scan::Fields;
use crate::index::PositionIndex;
use crate::output::chunker::Chunker;
use crate::pipeline::buffer::BufferPool;
use crate::pipeline::plan::Unit;
use crate::pipeline::reorder::Reorder;
use crate::pipeline::worker::{Part, Payload};
use crate::pipeline::FileTally;
use crate::progress::Progress;
use crate::signals::Interrupt;

/// Why the workers stopped before the writer had every part: a failure they sent, held
/// behind parts that never came because the failure stopped the run. The first such failure
/// in load order is the run's error.
fn stopped_early(waiting: &mut Reorder<Payload>) -> Error {
    match waiting.take_first(|payload| matches!(payload, Payload::Failed(_))) {
        Some(Payload::Failed(error)) => error,
        _ => Error::io(
            "worker threads",
            std::io::Error::other("workers stopped before finishing (a bug: please report it)"),
        ),
    }
}

/// How long the writer waits for the head unit's next part before it counts as starved
/// (see [`crate::pipeline::buffer`]): longer than a worker takes to fill a buffer's worth of
/// a chunk when it is keeping up, short against a run.
const STARVED_AFTER: Duration = Duration::from_millis(2);

/// How long the writer waits between checks for a signal.
const WAIT: Duration = Duration::from_millis(100);

/// The writer's side: takes parts in `(unit, part)` order and feeds the chunker.
pub struct OrderedWriter<'a> {
    pub units: &'a [Unit],
    pub pool: &'a BufferPool,
    pub progress: &'a Progress,
    pub interrupt: &'a Interrupt,
    pub output: &'a Path,
    /// Where the index finds `chr` and `pos` in a record.
    pub fields: Fields,
    /// The row of `/sources` of the first input (after an append's earlier sources).
    pub source_base: u32,
}

impl OrderedWriter<'_> {
    /// Writes every part; returns each file's tally and the output's position index
    /// (`index` holds that of rows written before, as by an append).
    pub fn run(
        &self,
        receiver: Receiver<Part>,
        mut chunker: Chunker<'_>,
        file_count: usize,
        mut index: IndexBuilder,
    ) -> Result<(Vec<FileTally>, PositionIndex)> {
        let (units, pool, progress, interrupt) =
            (self.units, self.pool, self.progress, self.interrupt);
        let hdf5_error = |source| Error::hdf5(self.output, source);
        let mut tallies = vec![FileTally::default(); file_count];
        let record_size = chunker.record_size();
        let mut spilled = Vec::new();
        let mut waiting = Reorder::default();
        let (mut head, mut seq) = (0usize, 0u32);
        let mut starved = false;
        pool.set_head(0);
        while head < units.len() {
            if let Some(signal) = interrupt.received() {
                return Err(Error::Interrupted { signal });
            }
            let Some(payload) = waiting.take(head, seq) else {
                // A short wait is the head worker finishing a buffer; a longer one means
                // the workers are the slowest stage, and those ahead may spill.
                let timeout = if starved { WAIT } else { STARVED_AFTER };
                match receiver.recv_timeout(timeout) {
                    Ok(part) => waiting.insert(part.unit, part.seq, part.payload),
                    Err(RecvTimeoutError::Timeout) if !starved => {
                        starved = true;
                        pool.set_writer_starved(true);
                    }
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => return Err(stopped_early(&mut waiting)),
                }
                continue;
            };
            if starved {
                starved = false;
                pool.set_writer_starved(false);
            }
            let file = units[head].file;
            let source = self.source_base + file as u32;
            let tally = &mut tallies[file];
            if !tally.started {
                tally.started = true;
                tally.first_row = chunker.rows();
            }
            let last = payload.is_last();
            match payload {
                Payload::Rows { buffer, segments } => {
                    let records = buffer.as_bytes();
                    index.add_segments(source, chunker.rows(), records, &self.fields, &segments);
                    chunker.push(records).map_err(hdf5_error)?;
                    tally.rows += buffer.rows() as u64;
                    pool.release(buffer);
                    progress.set_rows(chunker.rows());
                }
                Payload::Spilled { records, segments } => {
                    records
                        .read_into(&mut spilled)
                        .map_err(|error| Error::io("spill file", error))?;
                    index.add_segments(source, chunker.rows(), &spilled, &self.fields, &segments);
                    chunker.push(&spilled).map_err(hdf5_error)?;
                    tally.rows += (spilled.len() / record_size) as u64;
                    progress.set_rows(chunker.rows());
                }
                Payload::Checksum(checksum) => tally.checksum = checksum,
                Payload::Done { skipped, checksum } => {
                    tally.skipped.add(skipped);
                    if let Some(checksum) = checksum {
                        tally.checksum = checksum;
                    }
                }
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
        index.add_anchors(chunker.finish().map_err(hdf5_error)?);
        Ok((tallies, index.finish()))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::sync_channel;

    use super::*;
    use crate::output::h5::{Compression, OutputWriter, WriterOptions};
    use crate::pipeline::plan::UnitKind;
    use crate::schema::Schema;

    /// Regression: a file's checksum unit runs first and fails (the file changed); the run
    /// stops before the file's pieces start, so the writer, waiting for the first piece,
    /// saw the workers disconnect and reported "workers stopped before finishing (a bug)"
    /// instead of the failure it was holding.
    #[test]
    fn a_held_failure_is_reported_when_the_workers_stop_early() {
        let dir = tempfile::tempdir().unwrap();
        let schema = Schema::new(10).unwrap();
        let options = WriterOptions {
            dataset: "data".to_string(),
            schema,
            chunk_rows: 16,
            compression: Compression::None,
        };
        let mut output = OutputWriter::create(&dir.path().join("out.h5"), &options).unwrap();
        let fields = Fields::of(&schema);
        let chunker = Chunker::uncompressed(&mut output, fields, 16);
        let piece = |start| Unit {
            file: 0,
            kind: UnitKind::Piece {
                start,
                end: start + 10,
            },
        };
        let units = [
            piece(0),
            piece(10),
            Unit {
                file: 0,
                kind: UnitKind::Checksum,
            },
        ];
        let pool = BufferPool::new(schema.record_size(), 4, 2);
        let progress = Progress::new(false, 0);
        let interrupt = Interrupt::never();
        let writer = OrderedWriter {
            units: &units,
            pool: &pool,
            progress: &progress,
            interrupt: &interrupt,
            output: dir.path(),
            fields,
            source_base: 0,
        };
        let (sender, receiver) = sync_channel(4);
        let changed = Error::BadInput {
            path: "in.txt".into(),
            message: "the file changed size while it was being loaded".to_string(),
        };
        sender
            .send(Part {
                unit: 2,
                seq: 0,
                payload: Payload::Failed(changed),
            })
            .unwrap();
        drop(sender);
        let error = writer
            .run(receiver, chunker, 1, IndexBuilder::default())
            .unwrap_err();
        assert!(
            matches!(&error, Error::BadInput { path, .. } if path.as_os_str() == "in.txt"),
            "{error}"
        );
    }
}
