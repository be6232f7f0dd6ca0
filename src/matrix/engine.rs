//! The matrix run: one thread reads stored chunks and writes stored row blocks (HDF5), the
//! pool decodes chunks into stream rows, merges complete windows into blocks and compresses
//! row blocks. Each stage's results are taken in order; a bounded number is in flight, so
//! memory does not grow with the study.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{channel, Sender};

use crate::error::{panic_message, Error, Result};
use crate::h5::{MatrixWriter, Segment};
use crate::progress::Progress;
use crate::query::chunks::{decode_bytes_and_work, read_stored, ChunkTask};
use crate::query::region::Regions;
use crate::reorder::Sequence;
use crate::schema::Fields;
use crate::signals::Interrupt;

use super::assemble::{compress, Assembler, ChunkRow, RegionSums, Shape, StoredRow};
use super::block::{merge, Block, Entry, Keys, WindowRows};
use super::plan::Plan;

/// What the run reads and how it makes rows.
pub struct Job<'a> {
    pub plan: &'a Plan,
    pub segments: &'a [Segment],
    pub fields: Fields,
    pub regions: Option<&'a Regions>,
    pub strand_collapse: bool,
    pub keys: Keys,
    pub min_samples: usize,
    pub names: &'a [String],
    pub shape: Shape,
    pub threads: usize,
}

/// What the run did.
#[derive(Debug, Default)]
pub struct Done {
    pub rows: u64,
    pub dropped: u64,
}

/// Windows merged between two calls of [`crate::memory::give_back_free_memory`]: the stream
/// buffers come and go in every size, and glibc would keep their holes resident (at 64
/// samples, 166 MiB resident for 117 MiB in use without it).
const TRIM_EVERY: usize = 16;

enum Message {
    Decoded(usize, Result<Vec<(usize, Vec<Entry>)>>),
    Merged(usize, Result<Block>),
    Compressed(u64, Result<StoredRow>),
}

/// Runs `job`, writing to `writer`; with `region_sums`, blocks are summed per region and
/// written at the end.
pub fn run(
    job: &Job<'_>,
    writer: &mut MatrixWriter,
    mut region_sums: Option<RegionSums>,
    progress: &Progress,
    interrupt: &Interrupt,
) -> Result<Done> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(job.threads)
        .thread_name(|index| format!("txt2h5-matrix-{index}"))
        .build()
        .map_err(|error| Error::Resource {
            what: "start the matrix threads",
            source: std::io::Error::other(error),
        })?;
    let plan = job.plan;
    let bytes = read_bytes(&job.fields);
    let bytes = &bytes;
    let max_decodes = 2 * job.threads + 2;
    let max_others = job.threads + 2;
    let (sender, receiver) = channel::<Message>();
    pool.in_place_scope(|scope| {
        let mut buffers: Vec<Vec<Entry>> = vec![Vec::new(); plan.streams.len()];
        let (mut decoded, mut merged, mut stored) = (
            Sequence::default(),
            Sequence::default(),
            Sequence::default(),
        );
        let (mut next_read, mut consumed, mut next_window) = (0usize, 0usize, 0usize);
        let (mut decodes, mut others) = (0usize, 0usize);
        let mut merges_out = 0usize;
        let mut assembler = Assembler::new(job.shape);
        let mut done = Done::default();
        let mut flushed = false;
        loop {
            if let Some(signal) = interrupt.received() {
                return Err(Error::Interrupted { signal });
            }
            // Read no further than the pieces of the window after the next to merge: a
            // piece brings the rows of a group of windows from its first, so the buffers
            // hold about a group's rows of each stream (`HELD_ENTRIES` in all), not the
            // study's rest.
            let horizon = plan
                .windows
                .get(next_window + 1)
                .map_or(plan.pieces.len(), |window| window.piece_end);
            while next_read < horizon && decodes < max_decodes && others < max_others {
                let number = next_read;
                let piece = &plan.pieces[number];
                let segment = &job.segments[piece.task.segment];
                let stored_chunk = read_stored(segment, &piece.task, job.fields.record_size)?;
                spawn(scope, &sender, move || {
                    let result = guarded(|| {
                        decode_bytes_and_work(
                            segment,
                            &piece.task,
                            job.fields.record_size,
                            bytes,
                            stored_chunk,
                            &|task, records| extract(job, number, task, records),
                        )
                    });
                    Message::Decoded(number, result)
                });
                next_read += 1;
                decodes += 1;
            }
            // Windows whose pieces are all in the buffers go to the pool.
            while next_window < plan.windows.len()
                && plan.windows[next_window].piece_end <= consumed
                && others < max_others
            {
                let rows = take_window(plan, next_window, &mut buffers);
                let number = next_window;
                let (samples, keys) = (job.shape.samples, job.keys);
                let min_samples = if region_sums.is_some() {
                    0
                } else {
                    job.min_samples
                };
                spawn(scope, &sender, move || {
                    Message::Merged(
                        number,
                        guarded(|| Ok(merge(rows, samples, keys, min_samples))),
                    )
                });
                next_window += 1;
                others += 1;
            }
            if !flushed && next_window == plan.windows.len() && merges_out == plan.windows.len() {
                flushed = true;
                let mut rows_out = Vec::new();
                if let Some(sums) = region_sums.take() {
                    for (chr, block) in sums.into_blocks(job.min_samples) {
                        done.dropped += block.dropped;
                        assembler.push(&block, &chr, job.names, &mut |row| rows_out.push(row))?;
                    }
                }
                assembler.finish(&mut |row| rows_out.push(row));
                for row in rows_out {
                    spawn_compress(scope, &sender, row, job.shape);
                    others += 1;
                }
            }
            if flushed && others == 0 && decodes == 0 {
                done.rows = assembler.rows;
                return Ok(done);
            }
            let message = receiver
                .recv()
                .expect("the sender lives in this scope, so the channel cannot close");
            match message {
                Message::Decoded(number, result) => {
                    decodes -= 1;
                    decoded.insert(number as u64, result);
                    while let Some(result) = decoded.pop_next() {
                        let piece = &plan.pieces[consumed];
                        progress.add_rows(piece.progress_rows);
                        for (stream, entries) in result? {
                            let buffer = &mut buffers[stream];
                            if buffer.is_empty() {
                                *buffer = entries;
                            } else {
                                // Exact: what the buffers hold is the run's memory, and
                                // doubling room would add up over the streams.
                                buffer.reserve_exact(entries.len());
                                buffer.extend_from_slice(&entries);
                            }
                        }
                        consumed += 1;
                    }
                }
                Message::Merged(number, result) => {
                    others -= 1;
                    merged.insert(number as u64, result);
                    while let Some(block) = merged.pop_next() {
                        let block = block?;
                        merges_out += 1;
                        if merges_out % TRIM_EVERY == 0 {
                            crate::memory::give_back_free_memory();
                        }
                        let chr = &plan.chromosomes[block.chr];
                        match &mut region_sums {
                            Some(sums) => sums.add(&block, chr),
                            None => {
                                done.dropped += block.dropped;
                                let mut rows_out = Vec::new();
                                assembler
                                    .push(&block, chr, job.names, &mut |row| rows_out.push(row))?;
                                for row in rows_out {
                                    spawn_compress(scope, &sender, row, job.shape);
                                    others += 1;
                                }
                            }
                        }
                    }
                }
                Message::Compressed(block, result) => {
                    others -= 1;
                    stored.insert(block, result);
                    while let Some(row) = stored.pop_next() {
                        write_row(writer, &row?, job.shape.chunk_rows as u64)?;
                    }
                }
            }
        }
    })
}

/// Runs `task` on the pool; its message arrives on `sender`'s channel.
fn spawn<'s>(
    scope: &rayon::Scope<'s>,
    sender: &Sender<Message>,
    task: impl FnOnce() -> Message + Send + 's,
) {
    let sender = sender.clone();
    scope.spawn(move |_| {
        // The reader may have stopped on an error; then nobody needs the result.
        let _ = sender.send(task());
    });
}

fn spawn_compress(scope: &rayon::Scope<'_>, sender: &Sender<Message>, row: ChunkRow, shape: Shape) {
    spawn(scope, sender, move || {
        Message::Compressed(row.block, guarded(|| compress(&row, &shape)))
    });
}

/// `work`, with a panic (a bug) turned into an error so that its result still arrives.
fn guarded<T>(work: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|panic| {
        Err(Error::internal(format!(
            "a matrix task panicked: {}",
            panic_message(&*panic)
        )))
    })
}

/// The rows of piece `number` for each stream it feeds: pos (shifted for a - strand C with
/// `--strand-collapse`), c and t, of the keys the piece is read for, inside the selected
/// regions. The rows are checked against the index's claims, and a negative count kept is
/// refused ([`crate::query::claims`]).
fn extract(
    job: &Job<'_>,
    number: usize,
    task: &ChunkTask,
    records: &[u8],
) -> Result<Vec<(usize, Vec<Entry>)>> {
    let fields = job.fields;
    let size = fields.record_size;
    let piece = &job.plan.pieces[number];
    if let Some(claims) = &job.plan.claims {
        claims.check(task.from, records)?;
    }
    // A negative count is named by its row in the file that holds it (a part, for a
    // virtual study).
    let segment = &job.segments[task.segment];
    piece
        .feeds
        .iter()
        .map(|feed| {
            let intervals = job.regions.map(|regions| {
                regions.on(&job.plan.chromosomes[job.plan.streams[feed.stream].chr])
            });
            let mut entries = Vec::with_capacity((feed.rows.end - feed.rows.start) as usize);
            let sample = &job.names[job.plan.streams[feed.stream].sample];
            for row in feed.rows.clone() {
                let record = &records[(row - task.from) as usize * size..][..size];
                let pos = fields.pos(record);
                let minus = job.strand_collapse && fields.strand(record) == Some(b"-");
                let key = pos - i64::from(minus);
                if !feed.keys.contains(&key) {
                    continue;
                }
                if let Some(intervals) = intervals {
                    if !Regions::within(intervals, pos) {
                        continue;
                    }
                }
                let (c, t) = (fields.c(record), fields.t(record));
                let row_in_file = row - segment.first_row;
                crate::query::claims::check_counts(&segment.path, row_in_file, sample, c, t)?;
                entries.push(Entry { pos: key, c, t });
            }
            // A read of a chunk for some of its windows keeps only their rows.
            entries.shrink_to_fit();
            Ok((feed.stream, entries))
        })
        .collect()
}

/// The bytes of a record [`extract`] reads (chr, pos, c, t and, where there is one, strand):
/// of each stored chunk only those byte planes are unshuffled.
fn read_bytes(fields: &Fields) -> Vec<std::ops::Range<usize>> {
    let pos_width = if fields.wide_pos { 8 } else { 4 };
    let mut bytes = vec![
        0..fields.chr_width,
        fields.pos_offset..fields.pos_offset + pos_width,
        fields.c_offset..fields.c_offset + 4,
        fields.t_offset..fields.t_offset + 4,
    ];
    bytes.extend(fields.strand_offset.map(|at| at..at + 1));
    bytes
}

/// Takes out of each stream of window `number` its rows below the window's bound.
fn take_window(plan: &Plan, number: usize, buffers: &mut [Vec<Entry>]) -> WindowRows {
    let window = &plan.windows[number];
    let mut parts = Vec::with_capacity(window.streams.len());
    for stream in window.streams.clone() {
        let buffer = &mut buffers[stream];
        // A stream's pieces can arrive out of row order (a piece is read in the first window
        // that needs any of its rows, maybe another stream's), and the strand shift moves a
        // row back by one: sort, which is a check when nothing moved.
        if !buffer.is_sorted_by_key(|entry| entry.pos) {
            buffer.sort_by_key(|entry| entry.pos);
        }
        let end = buffer.partition_point(|entry| entry.pos < window.hi);
        let taken: Vec<Entry> = buffer.drain(..end).collect();
        // The room of the rows taken is given back (all of it once the chromosome is
        // done), or it would add up over the study's streams.
        if buffer.capacity() > buffer.len() + buffer.len() / 4 + 1024 {
            buffer.shrink_to_fit();
        }
        if !taken.is_empty() {
            parts.push((plan.streams[stream].sample, taken));
        }
    }
    WindowRows {
        chr: window.chr,
        parts,
    }
}

/// Stores a compressed row block, the datasets grown to hold it.
fn write_row(writer: &mut MatrixWriter, row: &StoredRow, chunk_rows: u64) -> Result<()> {
    let output = writer.output().to_path_buf();
    let hdf5_error = |error| Error::Hdf5 {
        path: output.clone(),
        source: error,
    };
    writer
        .set_rows(row.block * chunk_rows + row.rows as u64)
        .map_err(hdf5_error)?;
    for (matrix, sample, bytes) in &row.matrices {
        writer
            .write_matrix_chunk(*matrix, *sample, row.block, bytes)
            .map_err(hdf5_error)?;
    }
    for (label, bytes) in &row.labels {
        writer
            .write_label_chunk(*label, row.block, bytes)
            .map_err(hdf5_error)?;
    }
    Ok(())
}
