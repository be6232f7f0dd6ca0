//! Stretches of buffers, in row order, become runs.

use super::stretches::Stretch;
use super::{Anchor, PositionIndex, Run};
use crate::schema::Fields;

/// Collects the index of an output as its rows are written, in row order.
#[derive(Debug, Default)]
pub struct IndexBuilder {
    runs: Vec<Run>,
    /// The run the next rows may continue, with the pos of its last row.
    open: Option<(Run, i64)>,
    anchors: Vec<Anchor>,
}

impl IndexBuilder {
    /// Adds the `stretches` of `records`, whose first record is row `first_row` of the
    /// output and came from `source`.
    pub fn add_stretches(
        &mut self,
        source: u32,
        first_row: u64,
        records: &[u8],
        fields: &Fields,
        stretches: &[Stretch],
    ) {
        for stretch in stretches {
            let record = &records[stretch.start * fields.record_size..];
            let chr = fields.chr(record);
            let row = first_row + stretch.start as u64;
            if let Some((run, last_pos)) = &mut self.open {
                if run.source == source && run.chr == chr && run.end_row() == row {
                    run.sorted &= stretch.sorted && stretch.first_pos >= *last_pos;
                    run.rows += stretch.rows as u64;
                    run.min_pos = run.min_pos.min(stretch.min_pos);
                    run.max_pos = run.max_pos.max(stretch.max_pos);
                    *last_pos = stretch.last_pos;
                    continue;
                }
            }
            self.close();
            let run = Run {
                source,
                chr: chr.to_vec(),
                first_row: row,
                rows: stretch.rows as u64,
                min_pos: stretch.min_pos,
                max_pos: stretch.max_pos,
                sorted: stretch.sorted,
            };
            self.open = Some((run, stretch.last_pos));
        }
    }

    /// Adds the runs of rows copied from an existing output, already rebased.
    pub fn add_runs(&mut self, runs: Vec<Run>) {
        self.close();
        self.runs.extend(runs);
    }

    /// Notes the pos of a row that starts a stored chunk.
    pub fn add_anchor(&mut self, anchor: Anchor) {
        self.anchors.push(anchor);
    }

    /// Notes anchors, in any order.
    pub fn add_anchors(&mut self, anchors: impl IntoIterator<Item = Anchor>) {
        self.anchors.extend(anchors);
    }

    fn close(&mut self) {
        if let Some((run, _)) = self.open.take() {
            self.runs.push(run);
        }
    }

    pub fn finish(mut self) -> PositionIndex {
        self.close();
        // Anchors from several sources (a chunker, a part's index) may arrive out of row
        // order; readers search them by row.
        self.anchors.sort_unstable_by_key(|anchor| anchor.row);
        self.anchors.dedup_by_key(|anchor| anchor.row);
        PositionIndex {
            runs: self.runs,
            anchors: self.anchors,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::stretches::stretches;
    use crate::schema::Schema;

    #[test]
    fn runs_continue_across_buffers_of_one_source_only() {
        let schema = Schema::new(6).unwrap();
        let fields = Fields::of(&schema);
        let buffer = |rows: &[(&str, i32)]| {
            let mut out = vec![0u8; rows.len() * 22];
            for (record, (chr, pos)) in out.chunks_exact_mut(22).zip(rows) {
                record[..chr.len()].copy_from_slice(chr.as_bytes());
                record[6..10].copy_from_slice(&pos.to_le_bytes());
            }
            out
        };
        let mut builder = IndexBuilder::default();
        let mut add = |source, first_row, rows: &[(&str, i32)]| {
            let records = buffer(rows);
            let mut found = Vec::new();
            stretches(&records, &fields, &mut found);
            builder.add_stretches(source, first_row, &records, &fields, &found);
        };
        add(0, 0, &[("chr1", 1), ("chr1", 5)]);
        add(0, 2, &[("chr1", 4), ("chr2", 1)]);
        add(0, 4, &[("chr2", 2)]);
        add(1, 5, &[("chr2", 3)]);
        let index = builder.finish();
        let summary: Vec<_> = index
            .runs
            .iter()
            .map(|run| {
                (
                    run.source,
                    String::from_utf8(run.chr.clone()).unwrap(),
                    run.first_row,
                    run.rows,
                    run.min_pos,
                    run.max_pos,
                    run.sorted,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (0, "chr1".to_string(), 0, 3, 1, 5, false),
                (0, "chr2".to_string(), 3, 2, 1, 2, true),
                (1, "chr2".to_string(), 5, 1, 3, 3, true),
            ]
        );
    }
}
