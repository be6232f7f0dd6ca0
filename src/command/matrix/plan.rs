//! What a matrix reads, and in what order: the study's runs become streams, its stored
//! chunks tasks, and each chromosome's positions windows that the pool merges one at a time.
//!
//! A *stream* is one run of the index (rows of one source on one chromosome) whose source
//! belongs to a sample. Every stored chunk holding selected rows is read once, whatever
//! streams share it, and its rows go to their streams' buffers. A *window* is a range of
//! positions `[previous hi, hi)` of one chromosome; it is complete, and can be merged, once
//! every chunk that can hold one of its rows has been read. So each chunk is assigned to the
//! first window that needs any of its rows, and the chunks are read window by window. Window
//! bounds are the positions where the streams' chunks start (from the index's anchors): a
//! window holds about one chunk of rows of each stream, so the rows held at once stay near
//! two chunks per stream, whatever the study's size.
//!
//! A run that is not sorted is read whole in its chromosome's first window and sorted there.

use std::ops::Range;

use crate::error::{Error, Result};
use crate::h5::Study;
use crate::index::{PositionIndex, Run};
use crate::query::chunks::{chunk_tasks, ChunkTask, Span};
use crate::query::select::{merged, Selection};

/// One run of one sample's source on one chromosome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stream {
    pub sample: usize,
    pub chr: usize,
    pub first_row: u64,
    pub end_row: u64,
    pub min_pos: i64,
    pub sorted: bool,
}

/// A stored chunk to read, and which streams its rows `task.from..task.to` feed.
#[derive(Clone, Debug)]
pub struct Piece {
    pub task: ChunkTask,
    /// `(stream, rows)`: the rows of the task in each stream, in row order.
    pub streams: Vec<(usize, Range<u64>)>,
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
    /// The first window of its chromosome, where unsorted streams are sorted.
    pub first: bool,
}

/// Everything a matrix run reads.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// Chromosome names in the order they first appear in the study.
    pub chromosomes: Vec<Vec<u8>>,
    pub streams: Vec<Stream>,
    pub pieces: Vec<Piece>,
    pub windows: Vec<Window>,
    /// Rows the pieces read, for the progress bar.
    pub rows: u64,
}

/// How the plan's windows are cut.
#[derive(Clone, Copy, Debug)]
pub struct Cuts {
    /// 1 with `--strand-collapse`: a row at pos p may count for p - 1.
    pub shift: i64,
    /// With `--tile BP`, window bounds fall on tile bounds.
    pub tile: Option<u64>,
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
    let Some(index) = &study.index else {
        return Err(Error::usage(format!(
            "{} has no position index (written before txt2h5 had one); `txt2h5 merge {0} -o \
             NEW.h5` writes an indexed copy to build the matrix from",
            study.path.display()
        )));
    };
    let mut plan = Plan::default();
    // Runs by chromosome, in order of first appearance.
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
    // For each stream, the rows to read and the key of each chunk start in them.
    let mut ranges: Vec<(u64, u64)> = Vec::new();
    let (mut chr_bounds, mut first_windows): (Vec<Vec<i64>>, Vec<usize>) = (Vec::new(), Vec::new());
    for (chr, runs) in by_chr.iter().enumerate() {
        let first_stream = plan.streams.len();
        for run in runs {
            plan.streams.push(Stream {
                sample: sample_of[run.source as usize].expect("filtered above"),
                chr,
                first_row: run.first_row,
                end_row: run.end_row(),
                min_pos: run.min_pos,
                sorted: run.sorted,
            });
            match &selection.regions {
                None => ranges.push((run.first_row, run.end_row())),
                Some(regions) => {
                    for &(start, end) in regions.on(&run.chr) {
                        if end < run.min_pos || start > run.max_pos {
                            continue;
                        }
                        let (lo, hi) =
                            index.narrow(run, start.max(run.min_pos), end.min(run.max_pos));
                        if lo < hi {
                            ranges.push((lo, hi));
                        }
                    }
                }
            }
        }
        let streams = first_stream..plan.streams.len();
        let bounds = bounds(index, runs, cuts);
        first_windows.push(plan.windows.len());
        for (number, &hi) in bounds.iter().chain([&i64::MAX]).enumerate() {
            plan.windows.push(Window {
                chr,
                hi,
                piece_end: 0,
                streams: streams.clone(),
                first: number == 0,
            });
        }
        chr_bounds.push(bounds);
    }
    let ranges = merged(ranges);
    let tasks = chunk_tasks(spans, &ranges);
    // Each task, the streams it feeds and the window that first needs it.
    let mut pieces: Vec<(usize, Piece)> = Vec::with_capacity(tasks.len());
    // Streams hold disjoint rows: in row order, the ones a task overlaps are found by search.
    let mut by_row: Vec<usize> = (0..plan.streams.len()).collect();
    by_row.sort_by_key(|&number| plan.streams[number].first_row);
    for task in tasks {
        let mut streams = Vec::new();
        let mut window = usize::MAX;
        let start = by_row.partition_point(|&number| plan.streams[number].end_row <= task.from);
        for &number in &by_row[start..] {
            let stream = &plan.streams[number];
            if stream.first_row >= task.to {
                break;
            }
            let (lo, hi) = (task.from.max(stream.first_row), task.to.min(stream.end_row));
            streams.push((number, lo..hi));
            let first = first_windows[stream.chr];
            let needed = if stream.sorted {
                // The pos of the task's first row of the stream: a chunk start's anchor, or
                // else the run's own first row.
                let pos = index
                    .anchor_at(lo)
                    .map_or(stream.min_pos, |anchor| anchor.pos);
                let key = pos.saturating_sub(cuts.shift);
                first + chr_bounds[stream.chr].partition_point(|&bound| bound <= key)
            } else {
                first
            };
            window = window.min(needed);
        }
        if streams.is_empty() {
            continue;
        }
        plan.rows += task.to - task.from;
        pieces.push((window, Piece { task, streams }));
    }
    // Read window by window; within one, in row order (the tasks came in row order).
    pieces.sort_by_key(|(window, _)| *window);
    let mut next = 0;
    for (number, window) in plan.windows.iter_mut().enumerate() {
        while next < pieces.len() && pieces[next].0 <= number {
            next += 1;
        }
        window.piece_end = next;
    }
    plan.pieces = pieces.into_iter().map(|(_, piece)| piece).collect();
    Ok(plan)
}

/// The window bounds of one chromosome: every k-th chunk start of its sorted runs (k the
/// number of sorted runs), so that a window holds about one chunk of each; on tile bounds
/// with `--tile`.
fn bounds(index: &PositionIndex, runs: &[&Run], cuts: Cuts) -> Vec<i64> {
    let mut keys: Vec<i64> = Vec::new();
    let mut sorted_runs = 0;
    for run in runs.iter().filter(|run| run.sorted) {
        sorted_runs += 1;
        let from = index
            .anchors
            .partition_point(|anchor| anchor.row < run.first_row);
        let to = index
            .anchors
            .partition_point(|anchor| anchor.row < run.end_row());
        keys.push(run.min_pos.saturating_sub(cuts.shift));
        keys.extend(
            index.anchors[from..to]
                .iter()
                .map(|anchor| anchor.pos.saturating_sub(cuts.shift)),
        );
    }
    keys.sort_unstable();
    let step = sorted_runs.max(1);
    let mut bounds: Vec<i64> = keys.into_iter().skip(step).step_by(step).collect();
    if let Some(bases) = cuts.tile {
        let bases = i64::try_from(bases).unwrap_or(i64::MAX);
        for bound in &mut bounds {
            *bound = (*bound - 1).div_euclid(bases).saturating_mul(bases) + 1;
        }
    }
    bounds.dedup();
    bounds
}
