//! The position index: where each chromosome's rows of each source lie in `/data`, so that
//! a region query reads a few chunks instead of the whole dataset.
//!
//! Stored under `/index` as two plain datasets any HDF5 reader can use (docs/layout.md,
//! "`/index`"):
//!
//! - `runs`: one row per run of consecutive rows of one source with the same `chr`: the
//!   source's row in `/sources`, `chr`, `first_row`, `rows`, `min_pos`, `max_pos`, and
//!   `sorted` (pos never decreases inside the run);
//! - `anchors`: `row` and `pos` of every row that starts a stored chunk (of a part, for a
//!   virtual dataset), in row order. Inside a sorted run they bound where a position can
//!   be, so a query reads only the chunks that may hold it.
//!
//! The workers cut each record buffer they fill into [`stretches`] (cheap, and off the
//! writer's thread); the writer joins them into runs with the [`build::IndexBuilder`],
//! and the chunker notes an anchor for each chunk it stores.

pub mod build;
pub mod stretches;

use hdf5::H5Type;

/// Consecutive rows of one source with the same `chr`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    /// Row of `/sources` the rows came from.
    pub source: u32,
    /// The chromosome name, without the field's NUL padding.
    pub chr: Vec<u8>,
    pub first_row: u64,
    pub rows: u64,
    pub min_pos: i64,
    pub max_pos: i64,
    /// Whether pos never decreases from one row of the run to the next.
    pub sorted: bool,
}

impl Run {
    /// One past the run's last row.
    pub fn end_row(&self) -> u64 {
        self.first_row + self.rows
    }
}

/// The position of a row that starts a stored chunk.
#[derive(H5Type, Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct Anchor {
    pub row: u64,
    pub pos: i64,
}

/// The whole index of one output.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PositionIndex {
    /// In row order.
    pub runs: Vec<Run>,
    /// In row order.
    pub anchors: Vec<Anchor>,
}

impl PositionIndex {
    /// The anchor at exactly `row`, if there is one.
    pub fn anchor_at(&self, row: u64) -> Option<Anchor> {
        self.anchors
            .binary_search_by_key(&row, |anchor| anchor.row)
            .ok()
            .map(|at| self.anchors[at])
    }

    /// Rows `[lo, hi)` of a sorted `run` that can hold positions `start..=end`: the run,
    /// less the rows before the last anchor inside it whose pos is below `start` and the
    /// rows from the first anchor inside it whose pos is above `end`.
    pub fn narrow(&self, run: &Run, start: i64, end: i64) -> (u64, u64) {
        let (first, end_row) = (run.first_row, run.end_row());
        if !run.sorted {
            return (first, end_row);
        }
        let from = self.anchors.partition_point(|anchor| anchor.row < first);
        let to = self.anchors.partition_point(|anchor| anchor.row < end_row);
        let inside = &self.anchors[from..to];
        // Sorted run: anchor positions are non-decreasing with the row.
        let below = inside.partition_point(|anchor| anchor.pos < start);
        let lo = if below == 0 {
            first
        } else {
            inside[below - 1].row
        };
        let not_above = inside.partition_point(|anchor| anchor.pos <= end);
        let hi = inside.get(not_above).map_or(end_row, |anchor| anchor.row);
        (lo, hi.max(lo))
    }

    /// The index of rows shifted down by `row_base` and sources by `source_base`, as when
    /// this output's rows follow others in a merge or append.
    pub fn rebased(&self, row_base: u64, source_base: u32) -> PositionIndex {
        PositionIndex {
            runs: self
                .runs
                .iter()
                .map(|run| Run {
                    source: run.source + source_base,
                    first_row: run.first_row + row_base,
                    ..run.clone()
                })
                .collect(),
            anchors: self
                .anchors
                .iter()
                .map(|anchor| Anchor {
                    row: anchor.row + row_base,
                    pos: anchor.pos,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(first_row: u64, rows: u64, sorted: bool) -> Run {
        Run {
            source: 0,
            chr: b"chr1".to_vec(),
            first_row,
            rows,
            min_pos: 0,
            max_pos: 0,
            sorted,
        }
    }

    #[test]
    fn narrowing_keeps_every_row_that_can_match() {
        // Rows 10..110 hold pos = 10 * row; anchors every 16 rows from row 0.
        let index = PositionIndex {
            runs: vec![],
            anchors: (0..8)
                .map(|k| Anchor {
                    row: k * 16,
                    pos: 10 * (k as i64 * 16),
                })
                .collect(),
        };
        let sorted = run(10, 100, true);
        let pos = |row: u64| 10 * row as i64;
        for start in 0..1200 {
            for end in [start, start + 5, start + 100, start + 400] {
                let (lo, hi) = index.narrow(&sorted, start, end);
                for row in 10..110 {
                    if (start..=end).contains(&pos(row)) {
                        assert!((lo..hi).contains(&row), "{start}-{end}: row {row}");
                    }
                }
                assert!(lo >= 10 && hi <= 110 && lo <= hi);
            }
        }
        // A region inside one block reads at most that block and the edges.
        assert_eq!(index.narrow(&sorted, 500, 510), (48, 64));
        assert_eq!(index.narrow(&run(10, 100, false), 500, 510), (10, 110));
    }
}
