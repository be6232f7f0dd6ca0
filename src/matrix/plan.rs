//! What a matrix reads, and in what order: the study's runs become streams, its stored
//! chunks pieces, and each chromosome's positions windows that the pool merges one at a time.
//!
//! A *stream* is one run of the index (rows of one source on one chromosome) whose source
//! belongs to a sample. A *window* is a range of positions `[previous hi, hi)` of one
//! chromosome; it is complete, and can be merged, once every chunk that can hold one of its
//! rows has been read. Window bounds come from the index's anchors (the position where each
//! stored chunk starts), cut finer by interpolation, so that a window holds about
//! [`WINDOW_CELLS`] rows x streams whatever the number of samples: the block a window
//! merges into stays the same size for 8 samples or 500.
//!
//! A *piece* is one read of a stored chunk, for a group of consecutive windows: its rows in
//! those windows' positions go to their streams' buffers, the others are left for a later
//! piece of the same chunk. Groups are [`HELD_ENTRIES`] / [`WINDOW_CELLS`] windows long, so
//! the buffers hold about [`HELD_ENTRIES`] rows in all. With few samples a chunk spans fewer
//! windows than a group and is read once; with many, a chunk of `R` rows is read about
//! `R x samples / HELD_ENTRIES` times (each time from the page cache): memory stays flat in
//! samples, paid for in decoding.
//!
//! A run that is not sorted is read whole in its chromosome's first window and sorted there.

use std::ops::Range;

use crate::error::{Error, Result};
use crate::h5::Study;
use crate::index::{PositionIndex, Run};
use crate::query::chunks::{chunk_tasks, ChunkTask, Span};
use crate::query::claims::Claims;
use crate::query::select::{merged, Selection};

/// One run of one sample's source on one chromosome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stream {
    pub sample: usize,
    pub chr: usize,
    pub first_row: u64,
    pub end_row: u64,
    pub min_pos: i64,
    pub max_pos: i64,
    pub sorted: bool,
}

/// Rows a window aims at, summed over its streams: the cells of the block it merges into.
pub const WINDOW_CELLS: u64 = 1 << 18;

/// Rows the stream buffers aim to hold at once, over all streams.
pub const HELD_ENTRIES: u64 = 1 << 21;

/// Rows of one stream a piece feeds: `rows` of the chunk, of which those whose key (pos
/// after the strand shift) is in `keys` are kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Feed {
    pub stream: usize,
    pub rows: Range<u64>,
    pub keys: Range<i64>,
}

/// One read of a stored chunk, and which streams its rows `task.from..task.to` feed.
#[derive(Clone, Debug)]
pub struct Piece {
    pub task: ChunkTask,
    /// The streams it feeds, in row order.
    pub feeds: Vec<Feed>,
    /// Rows of the study this read counts for the progress bar: the task's on its first
    /// read, 0 on the reads after.
    pub progress_rows: u64,
}

/// Positions below `hi` of one chromosome that follow the previous window's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    pub chr: usize,
    /// Positions `< hi` (after the strand shift); `i64::MAX` for a chromosome's last.
    pub hi: i64,
    /// The pieces `..piece_end` are read when it is complete.
    pub piece_end: usize,
    /// The streams of its chromosome.
    pub streams: Range<usize>,
}

/// Everything a matrix run reads.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Chromosome names in the order they first appear in the study.
    pub chromosomes: Vec<Vec<u8>>,
    pub streams: Vec<Stream>,
    pub pieces: Vec<Piece>,
    pub windows: Vec<Window>,
    /// Rows of the study the pieces read (each once), for the progress bar.
    pub rows: u64,
    /// What the index claims about the rows, which every piece read is checked against:
    /// the plan trusts the runs' chr, positions and order to place rows in windows.
    pub claims: Claims,
}

/// How the plan's windows are cut.
#[derive(Clone, Copy, Debug)]
pub struct Cuts {
    /// 1 with `--strand-collapse`: a row at pos p may count for p - 1.
    pub shift: i64,
    /// With `--tile BP`, window bounds fall on tile bounds.
    pub tile: Option<u64>,
    /// Rows x streams a window aims at ([`WINDOW_CELLS`]).
    pub window_cells: u64,
    /// Rows the stream buffers aim to hold ([`HELD_ENTRIES`]).
    pub held_entries: u64,
}

/// The plan for the sources that make `samples` (the sample of each study source) in the
/// rows `selection` keeps, over the stored `spans`.
pub fn plan(
    study: &Study,
    selection: &Selection,
    sample_of: &[Option<usize>],
    spans: &[Span],
    cuts: Cuts,
) -> Result<Plan> {
    let index = position_index(study)?;
    let mut plan = Plan {
        chromosomes: Vec::new(),
        streams: Vec::new(),
        pieces: Vec::new(),
        windows: Vec::new(),
        rows: 0,
        claims: Claims::new(&study.path, index, crate::schema::Fields::of(&study.schema)),
    };
    let by_chr = runs_by_chromosome(&mut plan, index, selection, sample_of);
    let (ranges, layout) =
        streams_and_windows(&mut plan, index, &by_chr, selection, sample_of, cuts);
    let tasks = chunk_tasks(spans, &merged(ranges));
    let reading = Reading::new(&plan, index, layout, spans, cuts);
    let mut pieces: Vec<(usize, Piece)> = Vec::with_capacity(tasks.len());
    for task in tasks {
        reading.pieces_of(&mut plan, task, &mut pieces);
    }
    order_pieces(&mut plan, pieces);
    Ok(plan)
}

/// The study's position index, which a matrix needs to place rows in windows.
fn position_index(study: &Study) -> Result<&PositionIndex> {
    study.index.as_ref().ok_or_else(|| {
        Error::usage(format!(
            "{} has no position index (written before txt2h5 had one); `txt2h5 merge {0} -o \
             NEW.h5` writes an indexed copy to build the matrix from",
            study.path.display()
        ))
    })
}

/// The runs of the index that feed the matrix (not empty, of a source that makes a sample,
/// kept by `selection`), by chromosome; `plan.chromosomes` gets the chromosomes in order
/// of first appearance.
fn runs_by_chromosome<'i>(
    plan: &mut Plan,
    index: &'i PositionIndex,
    selection: &Selection,
    sample_of: &[Option<usize>],
) -> Vec<Vec<&'i Run>> {
    let mut by_chr: Vec<Vec<&Run>> = Vec::new();
    for run in &index.runs {
        let source = run.source as usize;
        if run.rows == 0 || sample_of.get(source).copied().flatten().is_none() {
            continue;
        }
        if !selection.has_source(source) {
            continue;
        }
        if let Some(regions) = &selection.regions {
            if regions.on(&run.chr).is_empty() {
                continue;
            }
        }
        let chr = match plan.chromosomes.iter().position(|known| *known == run.chr) {
            Some(chr) => chr,
            None => {
                plan.chromosomes.push(run.chr.clone());
                by_chr.push(Vec::new());
                plan.chromosomes.len() - 1
            }
        };
        by_chr[chr].push(run);
    }
    by_chr
}

/// Where each chromosome's windows are: their bounds, and the number of its first window.
struct WindowLayout {
    chr_bounds: Vec<Vec<i64>>,
    first_windows: Vec<usize>,
}

/// Adds a stream per run and the windows of each chromosome to `plan`; returns the rows to
/// read (not yet merged) and where the windows are.
fn streams_and_windows(
    plan: &mut Plan,
    index: &PositionIndex,
    by_chr: &[Vec<&Run>],
    selection: &Selection,
    sample_of: &[Option<usize>],
    cuts: Cuts,
) -> (Vec<(u64, u64)>, WindowLayout) {
    let mut ranges: Vec<(u64, u64)> = Vec::new();
    let mut layout = WindowLayout {
        chr_bounds: Vec::new(),
        first_windows: Vec::new(),
    };
    for (chr, runs) in by_chr.iter().enumerate() {
        let first_stream = plan.streams.len();
        for run in runs {
            plan.streams.push(Stream {
                sample: sample_of[run.source as usize].expect("filtered above"),
                chr,
                first_row: run.first_row,
                end_row: run.end_row(),
                min_pos: run.min_pos,
                max_pos: run.max_pos,
                sorted: run.sorted,
            });
            rows_to_read(index, run, selection, &mut ranges);
        }
        let streams = first_stream..plan.streams.len();
        let bounds = bounds(index, runs, cuts);
        layout.first_windows.push(plan.windows.len());
        for &hi in bounds.iter().chain([&i64::MAX]) {
            plan.windows.push(Window {
                chr,
                hi,
                piece_end: 0,
                streams: streams.clone(),
            });
        }
        layout.chr_bounds.push(bounds);
    }
    (ranges, layout)
}

/// Adds the rows of `run` to read to `ranges`: all of them, or those in the regions of
/// `selection`.
fn rows_to_read(
    index: &PositionIndex,
    run: &Run,
    selection: &Selection,
    ranges: &mut Vec<(u64, u64)>,
) {
    match &selection.regions {
        None => ranges.push((run.first_row, run.end_row())),
        Some(regions) => {
            for &(start, end) in regions.on(&run.chr) {
                if end < run.min_pos || start > run.max_pos {
                    continue;
                }
                let (lo, hi) = index.narrow(run, start.max(run.min_pos), end.min(run.max_pos));
                if lo < hi {
                    ranges.push((lo, hi));
                }
            }
        }
    }
}

/// How the chunk tasks become pieces: the windows, and how many of them one read serves.
struct Reading<'i> {
    index: &'i PositionIndex,
    layout: WindowLayout,
    cuts: Cuts,
    /// Windows one read of a sorted stream serves.
    group: usize,
    /// Whether a chunk is read once per chromosome it holds (many samples).
    split_chromosomes: bool,
    /// Stream numbers in row order (streams hold disjoint rows).
    by_row: Vec<usize>,
}

impl<'i> Reading<'i> {
    fn new(
        plan: &Plan,
        index: &'i PositionIndex,
        layout: WindowLayout,
        spans: &[Span],
        cuts: Cuts,
    ) -> Self {
        let most_streams = plan
            .windows
            .iter()
            .map(|window| window.streams.len() as u64)
            .max()
            .unwrap_or(0);
        let chunk_rows = spans
            .iter()
            .map(|span| span.chunk_rows as u64)
            .max()
            .unwrap_or(0);
        let split_chromosomes = most_streams.saturating_mul(chunk_rows) > cuts.held_entries;
        let group = usize::try_from((cuts.held_entries / cuts.window_cells.max(1)).max(1))
            .unwrap_or(usize::MAX);
        // Streams hold disjoint rows: in row order, the ones a task overlaps are found by
        // search.
        let mut by_row: Vec<usize> = (0..plan.streams.len()).collect();
        by_row.sort_by_key(|&number| plan.streams[number].first_row);
        Self {
            index,
            layout,
            cuts,
            group,
            split_chromosomes,
            by_row,
        }
    }

    /// Adds each read of `task` to `pieces`, with the window that first needs it, and
    /// counts the task's rows once in `plan.rows`.
    fn pieces_of(&self, plan: &mut Plan, task: ChunkTask, pieces: &mut Vec<(usize, Piece)>) {
        let spans = self.stream_spans(plan, &task);
        // One read per group of windows; with many samples, one per group of each
        // chromosome: a chunk that holds the end of one chromosome and the start of the
        // next is then read for each, or the first read would bring every stream's rows of
        // the next chromosome at once (a whole chunk per sample, past the budget).
        let mut reads: std::collections::BTreeMap<(usize, usize), (usize, Vec<Feed>)> =
            std::collections::BTreeMap::new();
        for (stream, rows, windows, per_read) in &spans {
            let chr = if self.split_chromosomes {
                plan.streams[*stream].chr
            } else {
                0
            };
            for (read, from) in windows.clone().step_by(*per_read).enumerate() {
                let to = (from + per_read).min(windows.end);
                let (first_window, feeds) =
                    reads.entry((chr, read)).or_insert((usize::MAX, Vec::new()));
                *first_window = (*first_window).min(from);
                feeds.push(Feed {
                    stream: *stream,
                    rows: rows.clone(),
                    keys: window_keys(&plan.windows, from..to),
                });
            }
        }
        let mut counted = false;
        for (first_window, feeds) in reads.into_values() {
            let progress_rows = if counted { 0 } else { task.to - task.from };
            counted = true;
            plan.rows += progress_rows;
            pieces.push((
                first_window,
                Piece {
                    task,
                    feeds,
                    progress_rows,
                },
            ));
        }
    }

    /// For each stream `task` feeds: its rows, the windows they can fall in, and how many
    /// of those one read serves (all of them for a stream not sorted: its rows can be
    /// anywhere, so it is read once).
    fn stream_spans(
        &self,
        plan: &Plan,
        task: &ChunkTask,
    ) -> Vec<(usize, Range<u64>, Range<usize>, usize)> {
        let mut spans = Vec::new();
        let start = self
            .by_row
            .partition_point(|&number| plan.streams[number].end_row <= task.from);
        for &number in &self.by_row[start..] {
            let stream = &plan.streams[number];
            if stream.first_row >= task.to {
                break;
            }
            let rows = task.from.max(stream.first_row)..task.to.min(stream.end_row);
            let windows = windows_of(
                plan,
                self.index,
                &self.layout.chr_bounds,
                &self.layout.first_windows,
                number,
                &rows,
                self.cuts,
            );
            let per_read = if stream.sorted {
                self.group
            } else {
                windows.len()
            };
            spans.push((number, rows, windows, per_read));
        }
        spans
    }
}

/// Sorts `pieces` by the window that first needs them and gives each window its
/// `piece_end`: read window by window; within one, in row order (the tasks came in row
/// order, and the sort is stable).
fn order_pieces(plan: &mut Plan, mut pieces: Vec<(usize, Piece)>) {
    pieces.sort_by_key(|(window, _)| *window);
    let mut next = 0;
    for (number, window) in plan.windows.iter_mut().enumerate() {
        while next < pieces.len() && pieces[next].0 <= number {
            next += 1;
        }
        window.piece_end = next;
    }
    plan.pieces = pieces.into_iter().map(|(_, piece)| piece).collect();
}

/// The windows the rows `rows` of stream `number` can fall in: for a sorted stream, from
/// the window of the first row's key to that of the last row's pos (bounded by the next
/// chunk's anchor); for one not sorted, every window of its chromosome, in one read.
fn windows_of(
    plan: &Plan,
    index: &PositionIndex,
    chr_bounds: &[Vec<i64>],
    first_windows: &[usize],
    number: usize,
    rows: &Range<u64>,
    cuts: Cuts,
) -> Range<usize> {
    let stream = &plan.streams[number];
    let first = first_windows[stream.chr];
    let bounds = &chr_bounds[stream.chr];
    let last = first + bounds.len();
    if !stream.sorted {
        return first..last + 1;
    }
    // The pos of the first row: a chunk start's anchor, or else the run's own first row.
    let low = index
        .anchor_at(rows.start)
        .map_or(stream.min_pos, |anchor| anchor.pos);
    // No row before the first anchor at or after the rows' end has a larger pos.
    let next = index
        .anchors
        .partition_point(|anchor| anchor.row < rows.end);
    let high = match index.anchors.get(next) {
        Some(anchor) if anchor.row < stream.end_row => anchor.pos,
        _ => stream.max_pos,
    };
    let key = low.saturating_sub(cuts.shift);
    let from = first + bounds.partition_point(|&bound| bound <= key);
    let to = first + bounds.partition_point(|&bound| bound <= high);
    from..to.max(from) + 1
}

/// The keys of windows `numbers` (consecutive, of one chromosome): from the bound before
/// the first (none for a chromosome's first window) to the last's `hi`.
fn window_keys(windows: &[Window], numbers: Range<usize>) -> Range<i64> {
    let first = numbers.start;
    let lo = match first.checked_sub(1).map(|before| &windows[before]) {
        Some(before) if before.chr == windows[first].chr => before.hi,
        _ => i64::MIN,
    };
    lo..windows[numbers.end - 1].hi
}

/// The window bounds of one chromosome: keys every `window_rows` rows of each of its k
/// sorted runs (`window_rows` = `cuts.window_cells` / k; the chunk starts from the anchors,
/// and points between them by linear interpolation of pos over rows), every k-th of them,
/// so that a window holds about `window_rows` rows of each; on tile bounds with `--tile`.
fn bounds(index: &PositionIndex, runs: &[&Run], cuts: Cuts) -> Vec<i64> {
    let sorted_runs = runs.iter().filter(|run| run.sorted).count().max(1);
    let window_rows = (cuts.window_cells / sorted_runs as u64).max(1);
    let mut keys: Vec<i64> = Vec::new();
    for run in runs.iter().filter(|run| run.sorted) {
        let from = index
            .anchors
            .partition_point(|anchor| anchor.row <= run.first_row);
        let to = index
            .anchors
            .partition_point(|anchor| anchor.row < run.end_row());
        let starts: Vec<(u64, i64)> = std::iter::once((run.first_row, run.min_pos))
            .chain(index.anchors[from..to].iter().map(|a| (a.row, a.pos)))
            .collect();
        let ends = starts[1..]
            .iter()
            .copied()
            .chain([(run.end_row(), run.max_pos)]);
        for (&(row, pos), (end_row, end_pos)) in starts.iter().zip(ends) {
            let parts = (end_row - row).div_ceil(window_rows).max(1);
            let width = i128::from(end_pos) - i128::from(pos);
            for part in 0..parts {
                let offset = width * i128::from(part) / i128::from(parts);
                let key = i64::try_from(i128::from(pos) + offset).expect("between two i64");
                keys.push(key.saturating_sub(cuts.shift));
            }
        }
    }
    keys.sort_unstable();
    let mut bounds: Vec<i64> = keys
        .into_iter()
        .skip(sorted_runs)
        .step_by(sorted_runs)
        .collect();
    if let Some(bases) = cuts.tile {
        let bases = i64::try_from(bases).unwrap_or(i64::MAX);
        for bound in &mut bounds {
            *bound = (*bound - 1).div_euclid(bases).saturating_mul(bases) + 1;
        }
    }
    bounds.dedup();
    bounds
}
