//! One pass over packed records: where `chr` changes, and each stretch's positions.
//!
//! Workers run this over every buffer they fill, while it is still in cache; the writer
//! only joins the few stretches per buffer into runs.

use crate::schema::{pos_at, Fields};

/// Consecutive records of one buffer with the same `chr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stretch {
    /// Index of the stretch's first record in the buffer.
    pub start: usize,
    pub rows: usize,
    pub first_pos: i64,
    pub last_pos: i64,
    pub min_pos: i64,
    pub max_pos: i64,
    /// Whether pos never decreases inside the stretch.
    pub sorted: bool,
}

impl Stretch {
    /// The stretch of the one record `start`, at `pos`.
    fn one(start: usize, pos: i64) -> Self {
        Self {
            start,
            rows: 1,
            first_pos: pos,
            last_pos: pos,
            min_pos: pos,
            max_pos: pos,
            sorted: true,
        }
    }
}

/// Appends to `out` the stretches of `records` (whole records of `fields.record_size`).
pub fn stretches(records: &[u8], fields: &Fields, out: &mut Vec<Stretch>) {
    if fields.wide_pos {
        scan::<true>(records, fields, out)
    } else {
        scan::<false>(records, fields, out)
    }
}

/// Whether two `chr` fields of `width` bytes are equal: two overlapping 8-byte loads for
/// the usual widths (8 to 16), a slice comparison otherwise.
#[inline(always)]
fn same_chr(a: &[u8], b: &[u8], width: usize) -> bool {
    if (8..=16).contains(&width) {
        let word = |field: &[u8], at: usize| {
            u64::from_ne_bytes(field[at..at + 8].try_into().expect("8 bytes"))
        };
        word(a, 0) == word(b, 0) && word(a, width - 8) == word(b, width - 8)
    } else {
        a[..width] == b[..width]
    }
}

fn scan<const WIDE: bool>(records: &[u8], fields: &Fields, out: &mut Vec<Stretch>) {
    let (size, width, at) = (fields.record_size, fields.chr_width, fields.pos_offset);
    let mut rows = records.chunks_exact(size).enumerate();
    let Some((_, first)) = rows.next() else {
        return;
    };
    let mut chr = first;
    let mut stretch = Stretch::one(0, pos_at::<WIDE>(first, at));
    for (index, record) in rows {
        let pos = pos_at::<WIDE>(record, at);
        if same_chr(record, chr, width) {
            stretch.sorted &= pos >= stretch.last_pos;
            stretch.min_pos = stretch.min_pos.min(pos);
            stretch.max_pos = stretch.max_pos.max(pos);
            stretch.last_pos = pos;
            stretch.rows += 1;
        } else {
            out.push(stretch);
            chr = record;
            stretch = Stretch::one(index, pos);
        }
    }
    out.push(stretch);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Schema, Shape};

    fn records(schema: &Schema, rows: &[(&str, i64)]) -> Vec<u8> {
        let size = schema.record_size();
        let mut out = vec![0; rows.len() * size];
        for (record, (chr, pos)) in out.chunks_exact_mut(size).zip(rows) {
            record[..chr.len()].copy_from_slice(chr.as_bytes());
            let at = schema.pos_offset();
            if schema.shape().wide_pos {
                record[at..at + 8].copy_from_slice(&pos.to_le_bytes());
            } else {
                record[at..at + 4].copy_from_slice(&(*pos as i32).to_le_bytes());
            }
        }
        out
    }

    /// The stretches by a plain loop over rows, to check the scan against.
    fn reference(rows: &[(&str, i64)]) -> Vec<(usize, usize, i64, i64, bool)> {
        let mut out: Vec<(usize, usize, i64, i64, bool)> = Vec::new();
        for (index, (chr, pos)) in rows.iter().enumerate() {
            match out.last_mut() {
                Some(last) if rows[last.0].0 == *chr => {
                    last.4 &= *pos >= rows[index - 1].1;
                    last.1 += 1;
                    last.2 = last.2.min(*pos);
                    last.3 = last.3.max(*pos);
                }
                _ => out.push((index, 1, *pos, *pos, true)),
            }
        }
        out
    }

    #[test]
    fn stretches_match_a_plain_loop_for_every_width() {
        let rows: Vec<(&str, i64)> = vec![
            ("chr1", 5),
            ("chr1", 9),
            ("chr1", 9),
            ("chr1", 3),
            ("chr10", 1),
            ("chr1", 7),
            ("chr1", 8),
            ("chrUn_KI270", 4),
            ("chrUn_KI270", 4),
            ("chrUn_KI271", 2),
            ("chr2", -1),
        ];
        for width in [11, 12, 16, 17, 40] {
            for wide_pos in [false, true] {
                let shape = Shape {
                    wide_pos,
                    strand: true,
                    context: false,
                };
                let schema = Schema::with_shape(width, shape).unwrap();
                let mut out = Vec::new();
                stretches(&records(&schema, &rows), &Fields::of(&schema), &mut out);
                let got: Vec<_> = out
                    .iter()
                    .map(|s| (s.start, s.rows, s.min_pos, s.max_pos, s.sorted))
                    .collect();
                assert_eq!(got, reference(&rows), "width {width}, wide {wide_pos}");
                assert_eq!((out[0].first_pos, out[0].last_pos), (5, 3));
            }
        }
        let schema = Schema::new(4).unwrap();
        let mut out = Vec::new();
        stretches(
            &records(&schema, &[("chr1", 1), ("chr2", 1)]),
            &Fields::of(&schema),
            &mut out,
        );
        assert_eq!(out.len(), 2);
        stretches(&[], &Fields::of(&schema), &mut out);
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn chr_drops_only_the_padding() {
        let schema = Schema::new(10).unwrap();
        let fields = Fields::of(&schema);
        let record = records(&schema, &[("chrX", 1)]);
        assert_eq!(fields.chr(&record), b"chrX");
    }
}
