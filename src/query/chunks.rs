//! The stored chunks that hold some rows, decompressed on a pool and handed on in row
//! order.
//!
//! One thread (the caller's) reads stored chunk bytes through HDF5, which serializes every
//! call anyway; the pool inflates and unshuffles them with libdeflate and runs the
//! command's work on the records (filter, format, compress) while they are in cache. The
//! results are consumed in row order ([`crate::ordered`]). At most `2 * threads + 2` chunks
//! are in flight, which bounds memory whatever the selection.

use std::cell::RefCell;

use crate::codec::{ChunkDecompressor, Compression};
use crate::error::{Error, Result};
use crate::h5::Segment;
use crate::ordered::{self, Lane};
use crate::signals::Interrupt;

/// One stored chunk to read: chunk `chunk` of segment `segment`, which holds rows
/// `first_row..first_row + rows` of the study, of which rows `from..to` hold every
/// selected row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkTask {
    pub segment: usize,
    pub chunk: u64,
    pub first_row: u64,
    pub rows: u64,
    pub from: u64,
    pub to: u64,
}

/// Where a segment's rows lie and how they are chunked.
#[derive(Clone, Copy, Debug)]
pub struct Span {
    pub first_row: u64,
    pub rows: u64,
    pub chunk_rows: usize,
}

impl From<&Segment> for Span {
    fn from(segment: &Segment) -> Self {
        Span {
            first_row: segment.first_row,
            rows: segment.rows,
            chunk_rows: segment.chunk_rows,
        }
    }
}

/// The chunks that hold rows of `ranges` (sorted, disjoint) in `segments` (in row order),
/// in row order, each once.
pub fn chunk_tasks(segments: &[Span], ranges: &[(u64, u64)]) -> Vec<ChunkTask> {
    let mut tasks: Vec<ChunkTask> = Vec::new();
    for &(lo, hi) in ranges {
        // Segments are in row order: start at the first that ends after `lo`.
        let first = segments.partition_point(|segment| segment.first_row + segment.rows <= lo);
        for (number, segment) in segments.iter().enumerate().skip(first) {
            let (start, end) = (segment.first_row, segment.first_row + segment.rows);
            if start >= hi {
                break;
            }
            if end <= lo || segment.rows == 0 {
                continue;
            }
            let size = segment.chunk_rows as u64;
            let first_chunk = (lo.max(start) - start) / size;
            let last_chunk = (hi.min(end) - start - 1) / size;
            for chunk in first_chunk..=last_chunk {
                let first_row = start + chunk * size;
                let rows = size.min(segment.rows - chunk * size);
                let (from, to) = (lo.max(first_row), hi.min(first_row + rows));
                match tasks.last_mut() {
                    Some(last) if last.segment == number && last.chunk == chunk => last.to = to,
                    _ => tasks.push(ChunkTask {
                        segment: number,
                        chunk,
                        first_row,
                        rows,
                        from,
                        to,
                    }),
                }
            }
        }
    }
    tasks
}

/// Whether to go on after consuming a result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// The consumer has what it wants (a closed pipe): stop reading.
    Stop,
}

/// A chunk as read: stored bytes to decompress, or records HDF5 already decoded.
pub(crate) enum Stored {
    Filtered(Vec<u8>),
    Records(Vec<u8>),
}

thread_local! {
    static DECOMPRESSOR: RefCell<ChunkDecompressor> = RefCell::new(ChunkDecompressor::default());
    static RECORDS: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Reads every task's chunk, runs `work` on the records of its rows `from..to` on `pool`,
/// and gives `consume` the results in task order.
pub fn run_in_order<T: Send>(
    pool: &rayon::ThreadPool,
    segments: &[Segment],
    tasks: &[ChunkTask],
    record_size: usize,
    interrupt: &Interrupt,
    work: &(dyn Fn(&ChunkTask, &[u8]) -> Result<T> + Sync),
    mut consume: impl FnMut(T) -> Result<Flow>,
) -> Result<()> {
    let lane = Lane {
        stage: "chunk reader",
        bound: 2 * pool.current_num_threads() + 2,
    };
    ordered::in_scope(pool, &[lane], interrupt, |ordered| {
        let mut next_read = 0usize;
        loop {
            while next_read < tasks.len() && ordered.has_room(0) {
                let task = tasks[next_read];
                let segment = &segments[task.segment];
                let stored = read_stored(segment, &task, record_size)?;
                ordered.submit(0, move || {
                    decode_and_work(segment, &task, record_size, stored, work)
                });
                next_read += 1;
            }
            let Some((_, result)) = ordered.wait_next()? else {
                return Ok(());
            };
            if consume(result)? == Flow::Stop {
                return Ok(());
            }
        }
    })
}

/// The stored bytes of a task's chunk, or the records of its rows `from..to` where they
/// are stored raw or a filter was skipped on the chunk.
pub(crate) fn read_stored(
    segment: &Segment,
    task: &ChunkTask,
    record_size: usize,
) -> Result<Stored> {
    let hdf5_error = |error| Error::hdf5(&segment.path, error);
    let records = |bytes: &mut Vec<u8>| {
        segment
            .reader
            .read_rows(task.from - segment.first_row, task.to - task.from, bytes)
            .map_err(hdf5_error)
    };
    let mut bytes = Vec::new();
    if segment.compression == Compression::None {
        records(&mut bytes)?;
        return Ok(Stored::Records(bytes));
    }
    if segment
        .reader
        .read_stored_chunk_unchecked(task.chunk, segment.chunk_rows, &mut bytes)
        .map_err(hdf5_error)?
    {
        Ok(Stored::Filtered(bytes))
    } else {
        records(&mut bytes)?;
        debug_assert_eq!(bytes.len(), (task.to - task.from) as usize * record_size);
        Ok(Stored::Records(bytes))
    }
}

/// Decodes a task's chunk as read and runs `work` on the records of its rows `from..to`.
fn decode_and_work<T>(
    segment: &Segment,
    task: &ChunkTask,
    record_size: usize,
    stored: Stored,
    work: &(dyn Fn(&ChunkTask, &[u8]) -> Result<T> + Sync),
) -> Result<T> {
    decode_bytes_and_work(
        segment,
        task,
        record_size,
        std::slice::from_ref(&(0..record_size)),
        stored,
        work,
    )
}

/// [`decode_and_work`] for a `work` that reads only the bytes `bytes` (ranges of offsets
/// in a record) of each record: of a shuffled chunk only those byte planes are unshuffled,
/// and the other bytes of the records `work` gets are unspecified.
pub(crate) fn decode_bytes_and_work<T>(
    segment: &Segment,
    task: &ChunkTask,
    record_size: usize,
    bytes: &[std::ops::Range<usize>],
    stored: Stored,
    work: &(dyn Fn(&ChunkTask, &[u8]) -> Result<T> + Sync),
) -> Result<T> {
    match stored {
        Stored::Records(records) => work(task, &records),
        Stored::Filtered(mut stored_bytes) => RECORDS.with(|records| {
            // The checksum and header are checked here, on the pool, not on the thread
            // that reads the chunks.
            segment
                .reader
                .check_stored_chunk(task.chunk, segment.chunk_rows, &mut stored_bytes)
                .map_err(|error| Error::hdf5(&segment.path, error))?;
            let mut records = records.borrow_mut();
            let rows = (task.from - task.first_row) as usize..(task.to - task.first_row) as usize;
            records.resize(rows.len() * record_size, 0);
            DECOMPRESSOR
                .with(|decompressor| {
                    decompressor.borrow_mut().decompress_bytes(
                        segment.compression,
                        &stored_bytes,
                        record_size,
                        segment.chunk_rows,
                        rows,
                        bytes,
                        &mut records,
                    )
                })
                .map_err(|why| Error::Damaged {
                    path: segment.path.clone(),
                    message: format!(
                        "stored chunk {} (rows {}..{}) is damaged: {why}",
                        task.chunk,
                        task.first_row,
                        task.first_row + task.rows
                    ),
                })?;
            work(task, &records)
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row of every range is in exactly one task, and no task holds none of them.
    #[test]
    fn tasks_cover_the_ranges_once() {
        let spans = [
            Span {
                first_row: 0,
                rows: 100,
                chunk_rows: 16,
            },
            Span {
                first_row: 100,
                rows: 0,
                chunk_rows: 16,
            },
            Span {
                first_row: 100,
                rows: 37,
                chunk_rows: 10,
            },
            Span {
                first_row: 137,
                rows: 64,
                chunk_rows: 64,
            },
        ];
        let cases: [&[(u64, u64)]; 4] = [
            &[(0, 201)],
            &[(5, 6), (7, 8), (15, 17), (99, 101), (136, 138)],
            &[(200, 201)],
            &[],
        ];
        for ranges in cases {
            let tasks = chunk_tasks(&spans, ranges);
            for &(lo, hi) in ranges {
                for row in lo..hi {
                    let holding = tasks
                        .iter()
                        .filter(|task| (task.from..task.to).contains(&row))
                        .count();
                    assert_eq!(holding, 1, "row {row} of {ranges:?}");
                }
            }
            for task in &tasks {
                let span = spans[task.segment];
                assert_eq!(
                    task.first_row,
                    span.first_row + task.chunk * span.chunk_rows as u64
                );
                assert!(task.first_row <= task.from && task.from < task.to);
                assert!(task.to <= task.first_row + task.rows);
                assert!(ranges
                    .iter()
                    .any(|&(lo, hi)| lo < task.to && task.from < hi));
            }
            assert!(tasks
                .windows(2)
                .all(|pair| pair[0].first_row < pair[1].first_row));
        }
    }
}
