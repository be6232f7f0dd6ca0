//! One window's rows of every stream merged into a block of the matrix: the union of their
//! positions (or tiles), and per sample the sums of `c` and `c + t` there, as 2-D arrays.

use ndarray::Array2;

use crate::error::{Error, Result};

/// One row of a stream: its position (after the strand shift) and counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub pos: i64,
    pub c: i32,
    pub t: i32,
}

/// How positions become rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keys {
    Sites,
    Tiles(i64),
}

impl Keys {
    fn key(self, pos: i64) -> i64 {
        match self {
            Keys::Sites => pos,
            Keys::Tiles(bases) => (pos - 1).div_euclid(bases),
        }
    }

    /// The first and last position of the row of `key`.
    fn span(self, key: i64) -> (i64, i64) {
        match self {
            Keys::Sites => (key, key),
            Keys::Tiles(bases) => (
                key.saturating_mul(bases).saturating_add(1),
                key.saturating_add(1).saturating_mul(bases),
            ),
        }
    }
}

/// Rows of one chromosome: labels and counts of shape (samples, rows).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    pub chr: usize,
    pub starts: Vec<i64>,
    pub ends: Vec<i64>,
    pub m: Array2<i64>,
    pub cov: Array2<i64>,
    /// Rows left out by `--min-samples`.
    pub dropped: u64,
}

impl Block {
    pub fn rows(&self) -> usize {
        self.starts.len()
    }
}

/// The rows of one window: what each stream (by sample) holds in it.
pub struct WindowRows {
    pub chr: usize,
    pub parts: Vec<(usize, Vec<Entry>)>,
}

/// The block of `window`: one row per distinct key of its entries, in key order, the
/// entries of each sample summed (in 64 bits; [`Block`]'s consumer checks int32), rows
/// covered in fewer than `min_samples` samples left out.
pub fn merge(mut window: WindowRows, samples: usize, keys: Keys, min_samples: usize) -> Block {
    let total: usize = window.parts.iter().map(|(_, entries)| entries.len()).sum();
    let mut union: Vec<i64> = Vec::with_capacity(total);
    for (_, entries) in &mut window.parts {
        if !entries.is_sorted_by_key(|entry| entry.pos) {
            entries.sort_by_key(|entry| entry.pos);
        }
        union.extend(entries.iter().map(|entry| keys.key(entry.pos)));
    }
    // Each part is sorted: the stable sort finds those runs and merges them, in
    // O(n log parts) (the unstable one would sort from scratch).
    union.sort();
    union.dedup();
    let mut m = Array2::<i64>::zeros((samples, union.len()));
    let mut cov = Array2::<i64>::zeros((samples, union.len()));
    for (sample, entries) in &window.parts {
        let (mut m_row, mut cov_row) = (m.row_mut(*sample), cov.row_mut(*sample));
        let mut at = 0;
        for entry in entries {
            let key = keys.key(entry.pos);
            while union[at] < key {
                at += 1;
            }
            m_row[at] += i64::from(entry.c);
            cov_row[at] += i64::from(entry.c) + i64::from(entry.t);
        }
    }
    let mut block = Block {
        chr: window.chr,
        starts: union.iter().map(|&key| keys.span(key).0).collect(),
        ends: union.iter().map(|&key| keys.span(key).1).collect(),
        m,
        cov,
        dropped: 0,
    };
    if min_samples > 0 {
        keep_covered(&mut block, min_samples);
    }
    block
}

/// Leaves out the rows of `block` with Cov > 0 in fewer than `min_samples` samples.
pub(super) fn keep_covered(block: &mut Block, min_samples: usize) {
    let keep: Vec<usize> = (0..block.rows())
        .filter(|&row| {
            block
                .cov
                .column(row)
                .iter()
                .filter(|&&value| value > 0)
                .count()
                >= min_samples
        })
        .collect();
    if keep.len() == block.rows() {
        return;
    }
    block.dropped = (block.rows() - keep.len()) as u64;
    block.starts = keep.iter().map(|&row| block.starts[row]).collect();
    block.ends = keep.iter().map(|&row| block.ends[row]).collect();
    block.m = block.m.select(ndarray::Axis(1), &keep);
    block.cov = block.cov.select(ndarray::Axis(1), &keep);
}

/// `value` as int32, or an error naming what overflowed where.
pub fn to_i32(value: i64, what: impl FnOnce() -> String) -> Result<i32> {
    i32::try_from(value).map_err(|_| {
        Error::usage(format!(
            "{} is {value}, beyond int32 (2^31 - 1); the matrix holds int32 counts as bsseq \
             does: build it from fewer or smaller parts (smaller --tile or --sum-regions)",
            what()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(pos: i64, c: i32, t: i32) -> Entry {
        Entry { pos, c, t }
    }

    #[test]
    fn rows_are_the_union_and_a_sample_sums_its_streams() {
        let window = WindowRows {
            chr: 0,
            parts: vec![
                (0, vec![entry(10, 1, 2), entry(20, 3, 0)]),
                (1, vec![entry(20, 0, 5), entry(30, 2, 2)]),
                // A second stream of sample 0, out of order, with a duplicate.
                (0, vec![entry(30, 1, 0), entry(10, 4, 4), entry(30, 1, 1)]),
            ],
        };
        let block = merge(window, 3, Keys::Sites, 0);
        assert_eq!(block.starts, [10, 20, 30]);
        assert_eq!(block.ends, block.starts);
        assert_eq!(block.m.row(0).to_vec(), [5, 3, 2]);
        assert_eq!(block.cov.row(0).to_vec(), [11, 3, 3]);
        assert_eq!(block.m.row(1).to_vec(), [0, 0, 2]);
        assert_eq!(block.cov.row(1).to_vec(), [0, 5, 4]);
        assert_eq!(block.cov.row(2).to_vec(), [0, 0, 0]);
    }

    #[test]
    fn tiles_sum_their_sites_and_min_samples_counts_what_it_drops() {
        let window = WindowRows {
            chr: 2,
            parts: vec![
                (0, vec![entry(1, 1, 0), entry(100, 1, 1), entry(101, 2, 0)]),
                (1, vec![entry(150, 0, 3), entry(350, 1, 0)]),
            ],
        };
        let block = merge(window, 2, Keys::Tiles(100), 0);
        assert_eq!(block.starts, [1, 101, 301]);
        assert_eq!(block.ends, [100, 200, 400]);
        assert_eq!(block.m.row(0).to_vec(), [2, 2, 0]);
        assert_eq!(block.cov.row(0).to_vec(), [3, 2, 0]);
        assert_eq!(block.cov.row(1).to_vec(), [0, 3, 1]);
        let window = WindowRows {
            chr: 0,
            parts: vec![
                (0, vec![entry(5, 1, 0), entry(6, 0, 0)]),
                (1, vec![entry(5, 0, 1)]),
            ],
        };
        let block = merge(window, 2, Keys::Sites, 2);
        assert_eq!((block.starts.clone(), block.dropped), (vec![5], 1));
        assert_eq!(block.cov.column(0).to_vec(), [1, 1]);
    }
}
