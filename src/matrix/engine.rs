//! The matrix run: one thread reads stored chunks and writes stored row blocks (HDF5), the
//! pool decodes chunks into stream rows, merges complete windows into blocks and compresses
//! row blocks. The three stages are three lanes of one [`crate::ordered`] run: each lane's
//! results are taken in its order, a bounded number is in flight, so memory does not grow
//! with the study, and a panic or the first error of a lane stops the run.

use crate::error::{Error, Result};
use crate::h5::{MatrixStorage, MatrixWriter, Segment};
use crate::ordered::{self, Lane, Ordered};
use crate::progress::Progress;
use crate::query::chunks::{decode_bytes_and_work, read_stored, ChunkTask};
use crate::query::region::Regions;
use crate::schema::Fields;
use crate::signals::Interrupt;

use super::assemble::{compress, Assembler, ChunkRow, RegionSums, StoredRow};
use super::block::{merge, Block, Entry, Keys, WindowRows};
use super::plan::Plan;

/// What the run reads and how it makes rows.
pub struct MatrixRequest<'a> {
    pub plan: &'a Plan,
    pub segments: &'a [Segment],
    pub fields: Fields,
    pub regions: Option<&'a Regions>,
    pub strand_collapse: bool,
    pub keys: Keys,
    pub min_samples: usize,
    pub names: &'a [String],
    pub storage: MatrixStorage,
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

/// What a job of each lane makes.
enum Output {
    Decoded(Vec<(usize, Vec<Entry>)>),
    Merged(Block),
    Compressed(StoredRow),
}

/// The lanes of the run.
const DECODE: usize = 0;
const MERGE: usize = 1;
const COMPRESS: usize = 2;

/// Runs `job` on `pool`, writing to `writer`; with `region_sums`, blocks are summed per
/// region and written at the end.
pub fn run(
    job: &MatrixRequest<'_>,
    pool: &rayon::ThreadPool,
    writer: &mut MatrixWriter,
    region_sums: Option<RegionSums>,
    progress: &Progress,
    interrupt: &Interrupt,
) -> Result<Done> {
    let threads = pool.current_num_threads();
    let lanes = [
        Lane {
            stage: "matrix decoder",
            bound: 2 * threads + 2,
        },
        Lane {
            stage: "matrix merger",
            bound: threads + 2,
        },
        Lane {
            stage: "matrix compressor",
            bound: threads + 2,
        },
    ];
    let bytes = read_bytes(&job.fields);
    let mut steps = Steps {
        job,
        bytes: &bytes,
        max_others: threads + 2,
        buffers: vec![Vec::new(); job.plan.streams.len()],
        next_read: 0,
        consumed: 0,
        next_window: 0,
        merges_out: 0,
        assembler: Assembler::new(job.storage),
        region_sums,
        done: Done::default(),
        flushed: false,
    };
    ordered::in_scope(pool, &lanes, interrupt, |ordered| loop {
        steps.read_ahead(ordered)?;
        steps.merge_complete_windows(ordered);
        steps.flush_when_merged(ordered)?;
        let Some((_, output)) = ordered.wait_next()? else {
            if !steps.flushed {
                return Err(Error::internal(
                    "the matrix run stalled before its last row",
                ));
            }
            steps.done.rows = steps.assembler.rows;
            return Ok(std::mem::take(&mut steps.done));
        };
        match output {
            Output::Decoded(streams) => steps.hold_decoded(streams, progress),
            Output::Merged(block) => steps.assemble(block, ordered)?,
            Output::Compressed(row) => write_row(writer, &row, job.storage.chunk_rows as u64)?,
        }
    })
}

/// Where the run is between two results.
struct Steps<'r> {
    job: &'r MatrixRequest<'r>,
    /// The record bytes [`extract`] reads.
    bytes: &'r [std::ops::Range<usize>],
    /// Merges and compressions pending together: reading and merging wait while this many
    /// are, so that finished blocks are written before more are made.
    max_others: usize,
    /// Each stream's decoded rows not merged yet.
    buffers: Vec<Vec<Entry>>,
    /// The next piece to read, the pieces whose rows are in the buffers, the next window
    /// to merge and the windows merged.
    next_read: usize,
    consumed: usize,
    next_window: usize,
    merges_out: usize,
    assembler: Assembler,
    region_sums: Option<RegionSums>,
    done: Done,
    /// The last row blocks are handed on.
    flushed: bool,
}

impl<'r> Steps<'r> {
    fn others(ordered: &Ordered<'_, 'r, Output>) -> usize {
        ordered.pending(MERGE) + ordered.pending(COMPRESS)
    }

    /// Reads pieces and hands them to the pool to decode, while there is room: no further
    /// than the pieces of the window after the next to merge. A piece brings the rows of a
    /// group of windows from its first, so the buffers hold about a group's rows of each
    /// stream (`HELD_ENTRIES` in all), not the study's rest.
    fn read_ahead(&mut self, ordered: &mut Ordered<'_, 'r, Output>) -> Result<()> {
        let (job, plan, bytes) = (self.job, self.job.plan, self.bytes);
        let horizon = plan
            .windows
            .get(self.next_window + 1)
            .map_or(plan.pieces.len(), |window| window.piece_end);
        while self.next_read < horizon
            && ordered.has_room(DECODE)
            && Self::others(ordered) < self.max_others
        {
            let number = self.next_read;
            let piece = &plan.pieces[number];
            let segment = &job.segments[piece.task.segment];
            let stored_chunk = read_stored(segment, &piece.task, job.fields.record_size)?;
            ordered.submit(DECODE, move || {
                decode_bytes_and_work(
                    segment,
                    &piece.task,
                    job.fields.record_size,
                    bytes,
                    stored_chunk,
                    &|task, records| extract(job, number, task, records),
                )
                .map(Output::Decoded)
            });
            self.next_read += 1;
        }
        Ok(())
    }

    /// Hands the windows whose pieces are all in the buffers to the pool to merge.
    fn merge_complete_windows(&mut self, ordered: &mut Ordered<'_, 'r, Output>) {
        let plan = self.job.plan;
        while self.next_window < plan.windows.len()
            && plan.windows[self.next_window].piece_end <= self.consumed
            && Self::others(ordered) < self.max_others
        {
            let rows = take_window(plan, self.next_window, &mut self.buffers);
            let (samples, keys) = (self.job.storage.samples, self.job.keys);
            let min_samples = if self.region_sums.is_some() {
                0
            } else {
                self.job.min_samples
            };
            ordered.submit(MERGE, move || {
                Ok(Output::Merged(merge(rows, samples, keys, min_samples)))
            });
            self.next_window += 1;
        }
    }

    /// Once every window is merged: the region sums' blocks, then the last, partial row
    /// block, to the pool to compress.
    fn flush_when_merged(&mut self, ordered: &mut Ordered<'_, 'r, Output>) -> Result<()> {
        let windows = self.job.plan.windows.len();
        if self.flushed || self.next_window < windows || self.merges_out < windows {
            return Ok(());
        }
        self.flushed = true;
        let mut rows_out = Vec::new();
        if let Some(sums) = self.region_sums.take() {
            for (chr, block) in sums.into_blocks(self.job.min_samples) {
                self.done.dropped += block.dropped;
                self.assembler
                    .push(&block, &chr, self.job.names, &mut |row| rows_out.push(row))?;
            }
        }
        self.assembler.finish(&mut |row| rows_out.push(row));
        for row in rows_out {
            submit_compress(ordered, row, self.job.storage);
        }
        Ok(())
    }

    /// The next piece's decoded rows, into their streams' buffers.
    fn hold_decoded(&mut self, streams: Vec<(usize, Vec<Entry>)>, progress: &Progress) {
        progress.add_rows(self.job.plan.pieces[self.consumed].progress_rows);
        for (stream, entries) in streams {
            let buffer = &mut self.buffers[stream];
            if buffer.is_empty() {
                *buffer = entries;
            } else {
                // Exact: what the buffers hold is the run's memory, and doubling room would
                // add up over the streams.
                buffer.reserve_exact(entries.len());
                buffer.extend_from_slice(&entries);
            }
        }
        self.consumed += 1;
    }

    /// The next merged block: summed per region, or cut into row blocks that go to the
    /// pool to compress.
    fn assemble(&mut self, block: Block, ordered: &mut Ordered<'_, 'r, Output>) -> Result<()> {
        self.merges_out += 1;
        if self.merges_out % TRIM_EVERY == 0 {
            crate::memory::give_back_free_memory();
        }
        let chr = &self.job.plan.chromosomes[block.chr];
        match &mut self.region_sums {
            Some(sums) => sums.add(&block, chr),
            None => {
                self.done.dropped += block.dropped;
                let mut rows_out = Vec::new();
                self.assembler
                    .push(&block, chr, self.job.names, &mut |row| rows_out.push(row))?;
                for row in rows_out {
                    submit_compress(ordered, row, self.job.storage);
                }
            }
        }
        Ok(())
    }
}

/// Compresses a row block on the pool; it is written in block order.
fn submit_compress<'s>(
    ordered: &mut Ordered<'_, 's, Output>,
    row: ChunkRow,
    storage: MatrixStorage,
) {
    ordered.submit(COMPRESS, move || {
        compress(&row, &storage).map(Output::Compressed)
    });
}

/// The rows of piece `number` for each stream it feeds: pos (shifted for a - strand C with
/// `--strand-collapse`), c and t, of the keys the piece is read for, inside the selected
/// regions. The rows are checked against the index's claims, and a negative count kept is
/// refused ([`crate::query::claims`]).
fn extract(
    job: &MatrixRequest<'_>,
    number: usize,
    task: &ChunkTask,
    records: &[u8],
) -> Result<Vec<(usize, Vec<Entry>)>> {
    let fields = job.fields;
    let size = fields.record_size;
    let piece = &job.plan.pieces[number];
    job.plan.claims.check(task.from, records)?;
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
