//! The parallel pipeline: workers parse, one writer appends in order.
//!
//! ```text
//!  units (load order) ──► rayon pool: parse into pooled mmap buffers ──► bounded channel
//!        ▲                                                                    │
//!        └──────── buffers return to the pool ◄── writer: reorder, append ◄───┘
//! ```
//!
//! The writer runs on the calling thread, the workers on a rayon pool of `threads`
//! threads. Memory is bounded by the buffer pool plus one text block per worker. The
//! writer handles parts strictly in `(unit, part)` order, so the output and the error
//! reported (the first in load order) do not depend on timing or thread count.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError};
use std::time::Duration;

use crate::buffer::BufferPool;
use crate::chunker::Chunker;
use crate::copy::copy_rows;
use crate::discover::Input;
use crate::error::{Error, Result};
use crate::h5::{Compression, ExistingOutput, OutputWriter};
use crate::plan::{Plan, Unit};
use crate::progress::Progress;
use crate::reorder::Reorder;
use crate::schema::Schema;
use crate::signals::Interrupt;
use crate::spill::spill_dir;
use crate::worker::{work, Part, Payload, WorkContext};

/// How the pipeline is sized.
#[derive(Clone, Copy)]
pub struct PipelineOptions<'a> {
    /// The output's final path: named in errors; spill files go beside it.
    pub output: &'a Path,
    pub threads: usize,
    pub buffer_rows: usize,
    pub buffers: usize,
    pub schema: Schema,
    pub chunk_rows: usize,
    /// The output's chunk filters.
    pub compression: Compression,
    /// An existing output whose rows come first (append).
    pub prefix: Option<&'a ExistingOutput>,
}

/// What the run learned about one input.
#[derive(Clone, Copy, Debug, Default)]
pub struct FileTally {
    pub first_row: u64,
    pub rows: u64,
    pub checksum: u128,
    started: bool,
}

/// What the pipeline did.
#[derive(Debug)]
pub struct PipelineReport {
    pub tallies: Vec<FileTally>,
    /// Record bytes that went through spill files (units finished ahead of the writer).
    pub spilled_bytes: u64,
}

/// Parses the units of `inputs` and appends their records to `writer` in order.
pub fn run(
    inputs: &[Input],
    plan: &Plan,
    options: PipelineOptions<'_>,
    writer: &mut OutputWriter,
    progress: &Progress,
    interrupt: &Interrupt,
) -> Result<PipelineReport> {
    let pool = BufferPool::new(
        options.schema.record_size(),
        options.buffer_rows,
        options.buffers,
    );
    let next_unit = AtomicUsize::new(0);
    let spilled_bytes = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let units = &plan.units;
    let spill_dir = spill_dir(options.output);
    let context = WorkContext {
        inputs,
        units,
        dispatch: &plan.dispatch,
        bgzf_blocks: &plan.bgzf_blocks,
        schema: options.schema,
        pool: &pool,
        next_unit: &next_unit,
        stop: &stop,
        progress,
        spill_dir: &spill_dir,
        spilled_bytes: &spilled_bytes,
    };
    let threads = rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads)
        .thread_name(|index| format!("txt2h5-worker-{index}"))
        .build()
        .map_err(|error| Error::io("thread pool", std::io::Error::other(error)))?;
    // Buffers bound the parts in flight; the slack covers terminal parts, which hold none.
    let (sender, receiver) = sync_channel(options.buffers + 2 * options.threads);
    threads
        .in_place_scope(|scope| {
            for _ in 0..options.threads {
                let sender = sender.clone();
                let context = &context;
                scope.spawn(move |_| work(context, sender));
            }
            drop(sender);
            let result = Chunker::new(
                writer,
                options.schema.record_size(),
                options.chunk_rows,
                options.compression.gzip_level(),
                options.threads,
            )
            .map_err(|error| Error::io("thread pool", error))
            .and_then(|mut chunker| {
                if let Some(prefix) = options.prefix {
                    copy_rows(
                        prefix,
                        &mut chunker,
                        options.compression,
                        interrupt,
                        options.output,
                    )?;
                }
                let writer = OrderedWriter {
                    units,
                    pool: &pool,
                    progress,
                    interrupt,
                    output: options.output,
                };
                writer.run(receiver, chunker, inputs.len())
            });
            if result.is_err() {
                stop.store(true, Ordering::Relaxed);
                pool.cancel();
            }
            result
        })
        .map(|tallies| PipelineReport {
            tallies,
            spilled_bytes: spilled_bytes.load(Ordering::Relaxed),
        })
}

/// The writer's side: takes parts in `(unit, part)` order and feeds the chunker.
struct OrderedWriter<'a> {
    units: &'a [Unit],
    pool: &'a BufferPool,
    progress: &'a Progress,
    interrupt: &'a Interrupt,
    output: &'a Path,
}

impl OrderedWriter<'_> {
    fn run(
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
