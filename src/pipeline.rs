//! The parallel pipeline: workers parse, one writer appends in order.
//!
//! ```text
//!  units (load order) ──► rayon pool: parse into pooled mmap buffers ──► bounded channel
//!        ▲                                                                    │
//!        └──────── buffers return to the pool ◄── writer: reorder, append ◄───┘
//! ```
//!
//! The writer runs on the calling thread, the workers on the rayon pool the command built
//! ([`crate::ordered::thread_pool`]), one per thread. Memory is bounded by the buffer pool
//! plus one text block per worker. The writer handles parts strictly in `(unit, part)`
//! order, so the output and the error reported (the first in load order) do not depend on
//! timing or thread count.
//!
//! Why the workers are not jobs of [`crate::ordered::Ordered`], as the other stages are: a
//! unit streams many parts to the writer while it runs (a gzip file is one unit of any
//! size), and the buffer pool's backpressure, spilling and head reservation act on those
//! parts, not on whole results; and a worker with no buffer runs the chunker's compression
//! jobs. What the load shares with the other stages is `ordered`'s: the pool, the reorder
//! buffer ([`crate::ordered::Reorder`]), the panic capture ([`crate::ordered::catch_panic`])
//! and the first-failure rule ([`crate::ordered::Cutoff`]); the chunker's compression jobs
//! are an `Ordered` lane on the workers.

pub mod buffer;
pub mod plan;
pub mod refusal;
pub mod spill;
pub mod worker;
pub mod writer;

use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver};

use crate::error::Result;
use crate::h5::{ExistingOutput, OutputWriter, WriterOptions};
use crate::index::build::IndexBuilder;
use crate::index::PositionIndex;
use crate::input::discover::Input;
use crate::ordered::Cutoff;
use crate::output::chunker::Chunker;
use crate::output::copy::{copy_rows, index_of, CopyTarget};
use crate::pipeline::buffer::BufferPool;
use crate::pipeline::plan::LoadPlan;
use crate::pipeline::spill::spill_dir;
use crate::pipeline::worker::{work, FileReading, Part, WorkContext};
use crate::pipeline::writer::{FileTally, OrderedWriter};
use crate::progress::Progress;
use crate::schema::Fields;
use crate::settings::SpillPolicy;
use crate::signals::Interrupt;

/// How the pipeline is sized.
#[derive(Clone, Copy)]
pub struct PipelineOptions<'a> {
    /// The output's final path: named in errors; spill files go beside it.
    pub output: &'a Path,
    /// The workers' threads, built by the command: one worker per thread, each parsing and
    /// compressing.
    pub pool: &'a rayon::ThreadPool,
    pub buffer_rows: usize,
    pub buffers: usize,
    /// When units ahead of the writer spill.
    pub spill: SpillPolicy,
    /// How the output dataset is stored: its record schema, chunk size and filters.
    pub storage: &'a WriterOptions,
    /// An existing output whose rows come first (append).
    pub prefix: Option<&'a ExistingOutput>,
    /// How each input is read.
    pub readings: &'a [FileReading],
}

/// What the pipeline did.
#[derive(Debug)]
pub struct PipelineReport {
    pub tallies: Vec<FileTally>,
    /// Record bytes that went through spill files (units finished ahead of the writer).
    pub spilled_bytes: u64,
    /// The position index of every row of the output.
    pub index: PositionIndex,
}

/// Parses the units of `inputs` and appends their records to `writer` in order.
pub fn run(
    inputs: &[Input],
    plan: &LoadPlan,
    options: PipelineOptions<'_>,
    writer: &mut OutputWriter,
    progress: &Progress,
    interrupt: &Interrupt,
) -> Result<PipelineReport> {
    let pool = BufferPool::new(
        options.storage.schema.record_size(),
        options.buffer_rows,
        options.buffers,
    );
    if options.spill == SpillPolicy::Always {
        pool.always_spill();
    }
    let next_unit = AtomicUsize::new(0);
    let spilled_bytes = AtomicU64::new(0);
    let cutoff = Cutoff::default();
    let spill_dir = spill_dir(options.output);
    let context = WorkContext {
        inputs,
        units: &plan.units,
        dispatch: &plan.dispatch,
        bgzf_blocks: &plan.bgzf_blocks,
        readings: options.readings,
        fields: Fields::of(&options.storage.schema),
        pool: &pool,
        next_unit: &next_unit,
        cutoff: &cutoff,
        progress,
        spill_dir: &spill_dir,
        spilled_bytes: &spilled_bytes,
    };
    // Buffers bound the parts in flight; the slack covers terminal parts, which hold none.
    let threads = options.pool.current_num_threads();
    let (sender, receiver) = sync_channel(options.buffers + 2 * threads);
    let (tallies, index) = options.pool.in_place_scope(|scope| {
        for _ in 0..threads {
            let sender = sender.clone();
            let context = &context;
            scope.spawn(move |_| work(context, sender));
        }
        drop(sender);
        let ordered = OrderedWriter {
            inputs,
            units: &plan.units,
            pool: &pool,
            progress,
            interrupt,
            output: options.output,
            fields: Fields::of(&options.storage.schema),
            source_base: options
                .prefix
                .map_or(0, |prefix| prefix.study.sources.len() as u32),
        };
        let result = write_in_order(&options, writer, ordered, receiver, inputs.len(), interrupt);
        // Every chunk is stored (or the run failed): workers serving jobs may leave.
        pool.close_jobs();
        if result.is_err() {
            // Workers see the cutoff between units and the cancelled pool inside one.
            cutoff.stop();
            pool.cancel();
        }
        result
    })?;
    Ok(PipelineReport {
        tallies,
        spilled_bytes: spilled_bytes.load(Ordering::Relaxed),
        index,
    })
}

/// The writer thread's whole job: the existing rows of an append first, then the parts in
/// load order, through one chunker.
fn write_in_order(
    options: &PipelineOptions<'_>,
    writer: &mut OutputWriter,
    ordered: OrderedWriter<'_>,
    receiver: Receiver<Part>,
    file_count: usize,
    interrupt: &Interrupt,
) -> Result<(Vec<FileTally>, PositionIndex)> {
    // The workers compress the chunks between the buffers they parse.
    let threads = options.pool.current_num_threads();
    let mut chunker = Chunker::on_executor(writer, options.storage, ordered.pool, threads)?;
    let mut index = IndexBuilder::default();
    if let Some(prefix) = options.prefix {
        let prefix_index = index_of(prefix, interrupt)?;
        let target = CopyTarget {
            chunker: &mut chunker,
            index: &mut index,
            compression: options.storage.compression,
            source_base: 0,
            output: options.output,
        };
        copy_rows(prefix, &prefix_index, target, interrupt)?;
    }
    ordered.run(receiver, chunker, file_count, index)
}
