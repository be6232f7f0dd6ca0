//! The writer's side of the pipeline: parts arrive in any order, leave in load order.
//!
//! The writer runs on the calling thread. It asks the [`Reorder`] queue for the next
//! `(unit, part)` key, feeds record buffers (or spilled records) to the chunker, returns
//! buffers to the pool and keeps each file's tally. The first failure in load order ends
//! the run with that failure, whatever happened later in the other workers. When a file's
//! last unit is written, every byte of it has been read: the writer then checks that the
//! file still has the size and modification time it had when the run began, so that a file
//! still being written is an error rather than silently cut at its starting size.

use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::format::filter::Skipped;
use crate::index::build::IndexBuilder;
use crate::index::stretches::Stretch;
use crate::index::PositionIndex;
use crate::input::discover::{check_unchanged, Input};
use crate::memory::reserve;
use crate::ordered::Reorder;
use crate::output::chunker::{ChunkError, Chunker};
use crate::pipeline::buffer::BufferPool;
use crate::pipeline::plan::Unit;
use crate::pipeline::spill::{spill_dir, SpilledRecords};
use crate::pipeline::worker::{Part, Payload};
use crate::progress::Progress;
use crate::schema::Fields;
use crate::signals::Interrupt;

/// What the run learned about one input (the writer counts it as it writes).
#[derive(Clone, Copy, Debug, Default)]
pub struct FileTally {
    pub first_row: u64,
    pub rows: u64,
    pub checksum: u128,
    /// Rows left out on purpose, by reason.
    pub skipped: Skipped,
    started: bool,
}

/// Parts waiting for their turn, by `(unit, part)`.
type Waiting = Reorder<(usize, u32), Payload>;

/// Why the workers stopped before the writer had every part: a failure they sent, held
/// behind parts that never came because the failure stopped the run. The first such failure
/// in load order is the run's error.
fn stopped_early(waiting: &mut Waiting) -> Error {
    match waiting.take_first(|payload| matches!(payload, Payload::Failed(_))) {
        Some(Payload::Failed(error)) => error,
        _ => Error::internal("the workers stopped before they sent every part"),
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
    pub inputs: &'a [Input],
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

/// What the written parts have built so far.
struct WriterState<'c> {
    chunker: Chunker<'c>,
    index: IndexBuilder,
    tallies: Vec<FileTally>,
    /// Spilled records read back, one part at a time.
    spilled: Vec<u8>,
}

impl OrderedWriter<'_> {
    /// Writes every part; returns each file's tally and the output's position index
    /// (`index` holds that of rows written before, as by an append).
    pub fn run(
        &self,
        receiver: Receiver<Part>,
        chunker: Chunker<'_>,
        file_count: usize,
        index: IndexBuilder,
    ) -> Result<(Vec<FileTally>, PositionIndex)> {
        let mut written = WriterState {
            chunker,
            index,
            tallies: vec![FileTally::default(); file_count],
            spilled: Vec::new(),
        };
        let mut waiting = Waiting::default();
        let (mut head, mut seq) = (0usize, 0u32);
        let mut starved = false;
        self.pool.set_head(0);
        while head < self.units.len() {
            if let Some(signal) = self.interrupt.received() {
                return Err(Error::Interrupted { signal });
            }
            let Some(payload) = waiting.take((head, seq)) else {
                self.receive(&receiver, &mut waiting, &mut starved)?;
                continue;
            };
            if starved {
                starved = false;
                self.pool.set_writer_starved(false);
            }
            let last = payload.is_last();
            self.write_part(&mut written, head, payload)?;
            if last {
                self.unit_written(head)?;
                head += 1;
                seq = 0;
                self.pool.set_head(head);
            } else {
                seq += 1;
            }
        }
        let anchors = written
            .chunker
            .finish()
            .map_err(|error| self.chunk_error(error))?;
        written.index.add_anchors(anchors);
        Ok((written.tallies, written.index.finish()))
    }

    /// Waits for the next part from the workers and holds it. A short wait is the head
    /// worker finishing a buffer; a longer one means the workers are the slowest stage, and
    /// the pool lets those ahead spill (`starved`).
    fn receive(
        &self,
        receiver: &Receiver<Part>,
        waiting: &mut Waiting,
        starved: &mut bool,
    ) -> Result<()> {
        let timeout = if *starved { WAIT } else { STARVED_AFTER };
        match receiver.recv_timeout(timeout) {
            Ok(part) => waiting.insert((part.unit, part.seq), part.payload),
            Err(RecvTimeoutError::Timeout) if !*starved => {
                *starved = true;
                self.pool.set_writer_starved(true);
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return Err(stopped_early(waiting)),
        }
        Ok(())
    }

    /// Writes one part of unit `unit`, in order, and counts it in its file's tally.
    fn write_part(
        &self,
        written: &mut WriterState<'_>,
        unit: usize,
        payload: Payload,
    ) -> Result<()> {
        let file = self.units[unit].file;
        let tally = &mut written.tallies[file];
        if !tally.started {
            tally.started = true;
            tally.first_row = written.chunker.rows();
        }
        match payload {
            Payload::Rows { buffer, stretches } => {
                self.write_records(written, file, buffer.as_bytes(), &stretches)?;
                self.pool.release(buffer);
            }
            Payload::Spilled { records, stretches } => {
                let mut spilled = std::mem::take(&mut written.spilled);
                self.read_spilled(&records, &mut spilled)?;
                let result = self.write_records(written, file, &spilled, &stretches);
                written.spilled = spilled;
                result?;
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
        Ok(())
    }

    /// Appends records of input `file` to the output and to its index.
    fn write_records(
        &self,
        written: &mut WriterState<'_>,
        file: usize,
        records: &[u8],
        stretches: &[Stretch],
    ) -> Result<()> {
        let source = self.source_base + file as u32;
        let first_row = written.chunker.rows();
        written
            .index
            .add_stretches(source, first_row, records, &self.fields, stretches);
        written
            .chunker
            .push(records)
            .map_err(|error| self.chunk_error(error))?;
        written.tallies[file].rows += (records.len() / written.chunker.record_size()) as u64;
        self.progress.set_rows(written.chunker.rows());
        Ok(())
    }

    /// Reads spilled records back into `buffer`.
    fn read_spilled(&self, records: &SpilledRecords, buffer: &mut Vec<u8>) -> Result<()> {
        reserve(buffer, records.bytes, "spilled records read back")?;
        records
            .read_into(buffer)
            .map_err(|error| Error::io(spill_dir(self.output).join("(spill file)"), error))
    }

    /// After the last part of `unit`: if it is its file's last unit, every byte of the file
    /// has been read, and the file must be as it was when the run began.
    fn unit_written(&self, unit: usize) -> Result<()> {
        let file = self.units[unit].file;
        let file_ends = self
            .units
            .get(unit + 1)
            .is_none_or(|next| next.file != file);
        if file_ends {
            check_unchanged(&self.inputs[file])?;
        }
        Ok(())
    }

    fn chunk_error(&self, error: ChunkError) -> Error {
        error.into_error(self.output)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::sync_channel;

    use super::*;
    use crate::codec::Compression;
    use crate::h5::{OutputWriter, WriterOptions};
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
            inputs: &[],
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
