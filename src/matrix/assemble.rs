//! Blocks of any length become the output's fixed chunks: an [`Assembler`] fills one row
//! block of `R` rows of every sample and hands it on full, to be compressed on the pool
//! ([`compress`]) and stored in order. [`RegionSums`] sums blocks per BED region instead.

use crate::codec::{append_checksum, ChunkCompressor, CHECKSUM_BYTES};
use crate::error::{Error, Result};
use crate::h5::{Label, Matrix, MatrixStorage};
use crate::memory::reserve;
use crate::query::region::Region;

use super::block::{to_i32, Block};

/// One row block of the output, padded to the chunk size: per sample `chunk_rows` values
/// (sample-major), and the row labels.
pub struct ChunkRow {
    pub block: u64,
    pub rows: usize,
    pub m: Vec<i32>,
    pub cov: Vec<i32>,
    pub chr: Vec<u8>,
    pub start: Vec<i64>,
    pub end: Vec<i64>,
}

/// A row block as stored.
pub struct StoredRow {
    pub block: u64,
    pub rows: usize,
    pub matrices: Vec<(Matrix, usize, Vec<u8>)>,
    pub labels: Vec<(Label, Vec<u8>)>,
}

/// Rows per chunk of the matrices: about 4 MiB of counts of every sample in a row block
/// (so the row blocks in flight stay within a few tens of MiB however many samples), at
/// least 4,096 rows, at most 262,144 (1 MiB chunks).
pub fn chunk_rows(samples: usize, rows_hint: u64) -> usize {
    let budget = (4usize << 20) / (samples.max(1) * 8);
    let rows = budget.clamp(4096, 1 << 18);
    let rows = 1usize << rows.ilog2();
    // A small matrix is one chunk, not mostly padding.
    rows.min(rows_hint.max(1).next_power_of_two() as usize)
}

/// Fills row blocks from blocks in order.
pub struct Assembler {
    storage: MatrixStorage,
    next: ChunkRow,
    blocks: u64,
    /// Rows handed on so far.
    pub rows: u64,
}

impl Assembler {
    pub fn new(storage: MatrixStorage) -> Self {
        Self {
            next: empty(&storage, 0),
            storage,
            blocks: 0,
            rows: 0,
        }
    }

    /// Adds the rows of `block` (on chromosome `chr`), handing on each row block it fills.
    /// A count beyond int32 is an error naming the sample and row.
    pub fn push(
        &mut self,
        block: &Block,
        chr: &[u8],
        names: &[String],
        emit: &mut dyn FnMut(ChunkRow),
    ) -> Result<()> {
        let storage = self.storage;
        if chr.len() > storage.chr_width {
            return Err(Error::internal(
                "a chromosome name wider than the chr field",
            ));
        }
        let label = |row: usize| {
            format!(
                "{}:{}-{}",
                String::from_utf8_lossy(chr),
                block.starts[row],
                block.ends[row]
            )
        };
        // Row-major, so that each sample's counts are one slice: borrowed where they are
        // (a merged block), copied where not (`select` of `--min-samples` gives columns).
        let (m, cov) = (block.m.as_standard_layout(), block.cov.as_standard_layout());
        let mut row = 0;
        while row < block.rows() {
            let at = self.next.rows;
            let rows = (storage.chunk_rows - at).min(block.rows() - row);
            let taken = row..row + rows;
            if !storage.wide_pos {
                if let Some(bad) = taken
                    .clone()
                    .find(|&row| i32::try_from(block.ends[row]).is_err())
                {
                    return Err(Error::usage(format!(
                        "the row {} ends beyond 2^31 - 1, which the study's <i4 positions \
                         cannot hold; load with --wide-pos",
                        label(bad)
                    )));
                }
            }
            for (sample, name) in names.iter().enumerate().take(storage.samples) {
                let slot =
                    sample * storage.chunk_rows + at..sample * storage.chunk_rows + at + rows;
                for (matrix, counts, out) in [
                    ("M", &m, &mut self.next.m[slot.clone()]),
                    ("Cov", &cov, &mut self.next.cov[slot.clone()]),
                ] {
                    let counts = counts.row(sample);
                    let counts = counts.as_slice().expect("standard layout, made so above");
                    if !narrow(&counts[taken.clone()], out) {
                        let bad = taken
                            .clone()
                            .find(|&row| i32::try_from(counts[row]).is_err())
                            .expect("narrow found one");
                        to_i32(counts[bad], || {
                            format!("{matrix} of sample {name:?} at {}", label(bad))
                        })?;
                    }
                }
            }
            for (offset, row) in taken.enumerate() {
                let at = at + offset;
                self.next.chr[at * storage.chr_width..][..chr.len()].copy_from_slice(chr);
                self.next.start[at] = block.starts[row];
                self.next.end[at] = block.ends[row];
            }
            self.next.rows += rows;
            row += rows;
            if self.next.rows == storage.chunk_rows {
                self.hand_on(emit);
            }
        }
        Ok(())
    }

    /// Hands on the last, partly filled row block, if any.
    pub fn finish(&mut self, emit: &mut dyn FnMut(ChunkRow)) {
        if self.next.rows > 0 {
            self.hand_on(emit);
        }
    }

    fn hand_on(&mut self, emit: &mut dyn FnMut(ChunkRow)) {
        self.blocks += 1;
        let full = std::mem::replace(&mut self.next, empty(&self.storage, self.blocks));
        self.rows += full.rows as u64;
        emit(full);
    }
}

/// `counts` as int32 into `out` (of the same length); false where one is beyond int32 (the
/// caller names it). One pass the compiler vectorizes, not a checked conversion per cell.
fn narrow(counts: &[i64], out: &mut [i32]) -> bool {
    let mut fits = true;
    for (out, &count) in out.iter_mut().zip(counts) {
        *out = count as i32;
        fits &= i64::from(*out) == count;
    }
    fits
}

fn empty(storage: &MatrixStorage, block: u64) -> ChunkRow {
    let cells = storage.samples * storage.chunk_rows;
    ChunkRow {
        block,
        rows: 0,
        m: vec![0; cells],
        cov: vec![0; cells],
        chr: vec![0; storage.chunk_rows * storage.chr_width],
        start: vec![0; storage.chunk_rows],
        end: vec![0; storage.chunk_rows],
    }
}

/// The stored form of a row block: every chunk shuffled and compressed (raw without
/// compression), as the datasets' filters expect, its checksum last (this runs on the
/// pool; the writing thread only stores the bytes).
pub fn compress(row: &ChunkRow, storage: &MatrixStorage) -> Result<StoredRow> {
    let stored = |mut raw: Vec<u8>, element_size: usize| -> Result<Vec<u8>> {
        match ChunkCompressor::new(storage.compression, element_size) {
            None => {
                let bytes = raw.len() + CHECKSUM_BYTES;
                reserve(&mut raw, bytes, "a matrix chunk")?;
                append_checksum(&mut raw);
                Ok(raw)
            }
            // Its output ends with the checksum.
            Some(mut compressor) => {
                let mut out = Vec::new();
                compressor.compress(&raw, &mut out)?;
                Ok(out)
            }
        }
    };
    let r = storage.chunk_rows;
    let mut matrices = Vec::with_capacity(storage.samples * (2 + usize::from(storage.beta)));
    for sample in 0..storage.samples {
        let m = &row.m[sample * r..][..r];
        let cov = &row.cov[sample * r..][..r];
        matrices.push((Matrix::M, sample, stored(le_bytes(m), 4)?));
        matrices.push((Matrix::Cov, sample, stored(le_bytes(cov), 4)?));
        if storage.beta {
            let beta: Vec<u8> = m
                .iter()
                .zip(cov)
                .flat_map(|(&m, &cov)| {
                    let value = if cov == 0 {
                        f32::NAN
                    } else {
                        (f64::from(m) / f64::from(cov)) as f32
                    };
                    value.to_le_bytes()
                })
                .collect();
            matrices.push((Matrix::Beta, sample, stored(beta, 4)?));
        }
    }
    let positions = |values: &[i64]| -> Vec<u8> {
        if storage.wide_pos {
            values
                .iter()
                .flat_map(|value| value.to_le_bytes())
                .collect()
        } else {
            // Checked to fit by the assembler.
            values
                .iter()
                .flat_map(|&value| (value as i32).to_le_bytes())
                .collect()
        }
    };
    let pos_size = if storage.wide_pos { 8 } else { 4 };
    let labels = vec![
        (Label::Chr, stored(row.chr.clone(), storage.chr_width)?),
        (Label::Start, stored(positions(&row.start), pos_size)?),
        (Label::End, stored(positions(&row.end), pos_size)?),
    ];
    Ok(StoredRow {
        block: row.block,
        rows: row.rows,
        matrices,
        labels,
    })
}

fn le_bytes(values: &[i32]) -> Vec<u8> {
    // Room for the checksum an uncompressed chunk gets, so that it is not copied to add it.
    let mut bytes = Vec::with_capacity(values.len() * 4 + CHECKSUM_BYTES);
    bytes.extend(values.iter().flat_map(|value| value.to_le_bytes()));
    bytes
}

/// Counts summed per region of a BED file, for every sample.
pub struct RegionSums {
    pub regions: Vec<Region>,
    /// Region numbers of each chromosome, by start.
    by_chr: std::collections::HashMap<Vec<u8>, Vec<usize>>,
    samples: usize,
    /// Sample-major: `m[sample * regions + region]`.
    m: Vec<i64>,
    cov: Vec<i64>,
}

impl RegionSums {
    pub fn new(regions: Vec<Region>, samples: usize) -> Self {
        let mut by_chr: std::collections::HashMap<Vec<u8>, Vec<usize>> = Default::default();
        for (number, region) in regions.iter().enumerate() {
            by_chr.entry(region.chr.clone()).or_default().push(number);
        }
        for numbers in by_chr.values_mut() {
            numbers.sort_by_key(|&number| regions[number].start);
        }
        let cells = samples * regions.len();
        Self {
            by_chr,
            samples,
            m: vec![0; cells],
            cov: vec![0; cells],
            regions,
        }
    }

    /// Adds the sites of `block` (on `chr`, one row per site, in position order) to the
    /// regions that hold them.
    pub fn add(&mut self, block: &Block, chr: &[u8]) {
        let (Some(numbers), Some(&first), Some(&last)) = (
            self.by_chr.get(chr),
            block.starts.first(),
            block.starts.last(),
        ) else {
            return;
        };
        let count = self.regions.len();
        let reaching = numbers.partition_point(|&number| self.regions[number].start <= last);
        for &number in &numbers[..reaching] {
            let region = &self.regions[number];
            if region.end < first {
                continue;
            }
            let lo = block.starts.partition_point(|&pos| pos < region.start);
            let hi = block.starts.partition_point(|&pos| pos <= region.end);
            for sample in 0..self.samples {
                let m = block.m.row(sample);
                let cov = block.cov.row(sample);
                self.m[sample * count + number] += (lo..hi).map(|row| m[row]).sum::<i64>();
                self.cov[sample * count + number] += (lo..hi).map(|row| cov[row]).sum::<i64>();
            }
        }
    }

    /// The regions as blocks in the file's order (one per stretch on one chromosome), each
    /// with the chromosome name; rows covered in fewer than `min_samples` samples left out.
    pub fn into_blocks(self, min_samples: usize) -> Vec<(Vec<u8>, Block)> {
        let count = self.regions.len();
        let mut out: Vec<(Vec<u8>, Block)> = Vec::new();
        let mut number = 0;
        while number < count {
            let chr = self.regions[number].chr.clone();
            let mut end = number;
            while end < count && self.regions[end].chr == chr {
                end += 1;
            }
            let rows = end - number;
            let grid = |values: &[i64]| {
                ndarray::Array2::from_shape_fn((self.samples, rows), |(sample, row)| {
                    values[sample * count + number + row]
                })
            };
            let mut block = Block {
                chr: 0,
                starts: self.regions[number..end].iter().map(|r| r.start).collect(),
                ends: self.regions[number..end].iter().map(|r| r.end).collect(),
                m: grid(&self.m),
                cov: grid(&self.cov),
                dropped: 0,
            };
            if min_samples > 0 {
                super::block::keep_covered(&mut block, min_samples);
            }
            out.push((chr, block));
            number = end;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// About 4 MiB of counts per row block, a power of two within [4096, 2^18] rows, and a
    /// small matrix one chunk of about its size.
    #[test]
    fn chunk_rows_keep_a_row_block_near_4_mib() {
        let many = 1u64 << 40;
        assert_eq!(chunk_rows(1, many), 1 << 18);
        assert_eq!(chunk_rows(3, many), 1 << 17);
        assert_eq!(chunk_rows(64, many), 8192);
        assert_eq!(chunk_rows(1000, many), 4096);
        assert_eq!(chunk_rows(64, 100), 128);
        assert_eq!(chunk_rows(64, 0), 1);
    }
}
