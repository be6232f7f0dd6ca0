//! What `/index` claims about the rows, checked against the rows as they are read.
//!
//! A region export and the matrix trust the index to skip rows: a run's chr says which
//! chromosome its rows are on, `min_pos..=max_pos` where their positions lie, `sorted` that
//! they never go down, and each anchor the pos of the row that starts a stored chunk. The
//! opener checks the index against itself and `/sources` (`check_index` in `h5::index`), but
//! not against the rows, which it does not read; an index edited or damaged so that it
//! disagrees with them made exports and matrices lose or misplace rows with exit 0. So every
//! row those readers take is checked here against the run and anchors that cover it, as it
//! is read: a few comparisons per row, no extra read. The first disagreement stops the run
//! with the row, what the index claims and what the row holds (exit 3).
//!
//! The matrix's negative counts are refused here too ([`check_counts`]): a count of reads
//! cannot be negative, and a matrix that bsseq reads would carry it on as coverage.

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::index::{PositionIndex, Run};
use crate::schema::Fields;

/// How a row disagrees with the index.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Disagreement {
    #[error(
        "row {row} holds chr {found}, but /index/runs run {run} (rows {first_row}..{end_row}) \
         claims {claimed}"
    )]
    Chr {
        row: u64,
        run: usize,
        first_row: u64,
        end_row: u64,
        claimed: String,
        found: String,
    },
    #[error(
        "row {row} holds pos {pos}, outside {min_pos}..={max_pos}, the positions /index/runs \
         run {run} (rows {first_row}..{end_row}) claims"
    )]
    Bounds {
        row: u64,
        run: usize,
        first_row: u64,
        end_row: u64,
        min_pos: i64,
        max_pos: i64,
        pos: i64,
    },
    #[error(
        "row {row} holds pos {pos}, below the {previous} of the row before it, but /index/runs \
         run {run} (rows {first_row}..{end_row}) claims its positions never decrease (sorted)"
    )]
    Order {
        row: u64,
        run: usize,
        first_row: u64,
        end_row: u64,
        previous: i64,
        pos: i64,
    },
    #[error("row {row} holds pos {pos}, but /index/anchors anchor {anchor} claims pos {claimed}")]
    Anchor {
        row: u64,
        anchor: usize,
        claimed: i64,
        pos: i64,
    },
    #[error(
        "row {row} holds pos {pos}, outside {low}..={high}, where the anchors around it put it \
         in /index/runs run {run} (rows {first_row}..{end_row}, sorted)"
    )]
    BetweenAnchors {
        row: u64,
        run: usize,
        first_row: u64,
        end_row: u64,
        low: i64,
        high: i64,
        pos: i64,
    },
}

/// The rows of a study checked against its index as they are read: one per reader, shared
/// by the threads that decode chunks.
#[derive(Clone, Debug)]
pub struct Claims {
    path: PathBuf,
    index: PositionIndex,
    fields: Fields,
}

impl Claims {
    /// The claims of `index`, the index of the study at `path`, whose records are `fields`.
    pub fn new(path: &Path, index: &PositionIndex, fields: Fields) -> Self {
        Self {
            path: path.to_path_buf(),
            index: index.clone(),
            fields,
        }
    }

    /// Checks rows `first..` of the study, held as packed records in `records` (of which
    /// the chr and pos bytes are read), against the index: an error naming the study, the
    /// row, the claim and the row's value at the first disagreement.
    pub fn check(&self, first: u64, records: &[u8]) -> Result<()> {
        check_rows(&self.index, &self.fields, first, records).map_err(|disagreement| {
            Error::BadInput {
                path: self.path.clone(),
                message: format!(
                    "/data disagrees with its /index: {disagreement}\n  hint: the index no \
                     longer describes the rows (the file was edited or damaged); reload the \
                     original files with `txt2h5 load`, or export the whole file (which reads \
                     no index) and load that"
                ),
            }
        })
    }
}

/// Checks rows `first..` held in `records` against the runs and anchors of `index`: each
/// row's chr is its run's, its pos inside the run's `min_pos..=max_pos`, a row that starts
/// a stored chunk has its anchor's pos, and in a sorted run no pos is below the one before
/// it (inside `records`) nor outside the anchors around it.
fn check_rows(
    index: &PositionIndex,
    fields: &Fields,
    first: u64,
    records: &[u8],
) -> Result<(), Disagreement> {
    let held = Held {
        fields,
        first,
        records,
    };
    let end = first + (records.len() / fields.record_size) as u64;
    let mut number = index.runs.partition_point(|run| run.end_row() <= first);
    // The first anchor at or after the row being checked.
    let mut next_anchor = index.anchors.partition_point(|anchor| anchor.row < first);
    while let Some(run) = index.runs.get(number).filter(|run| run.first_row < end) {
        let rows = first.max(run.first_row)..end.min(run.end_row());
        check_run(index, &held, number, rows, &mut next_anchor)?;
        number += 1;
    }
    Ok(())
}

/// Rows `first..` of the study, held as packed records.
struct Held<'a> {
    fields: &'a Fields,
    first: u64,
    records: &'a [u8],
}

impl Held<'_> {
    /// The chr and pos of study row `row`.
    fn chr_pos(&self, row: u64) -> (&[u8], i64) {
        let size = self.fields.record_size;
        let record = &self.records[(row - self.first) as usize * size..][..size];
        (self.fields.chr(record), self.fields.pos(record))
    }
}

/// Checks `rows` of run `number` (`next_anchor` is the first anchor at or after the first
/// of them; it moves past the anchors of these rows).
fn check_run(
    index: &PositionIndex,
    held: &Held<'_>,
    number: usize,
    rows: Range<u64>,
    next_anchor: &mut usize,
) -> Result<(), Disagreement> {
    let run = &index.runs[number];
    let anchors = &index.anchors;
    // The pos of the last anchor before the rows inside a sorted run bounds them from below.
    let mut low = match next_anchor.checked_sub(1).map(|at| anchors[at]) {
        Some(anchor) if run.sorted && anchor.row >= run.first_row => anchor.pos,
        _ => run.min_pos,
    };
    // The pos of the first anchor after the row inside the run bounds it from above.
    let high_of = |next: usize| {
        anchors
            .get(next)
            .filter(|anchor| anchor.row < run.end_row())
            .map_or(run.max_pos, |anchor| anchor.pos)
    };
    let mut high = high_of(*next_anchor);
    let mut previous: Option<i64> = None;
    for row in rows {
        let (chr, pos) = held.chr_pos(row);
        check_place(row, number, run, chr, pos)?;
        if let Some(anchor) = anchors.get(*next_anchor).filter(|anchor| anchor.row == row) {
            if anchor.pos != pos {
                return Err(Disagreement::Anchor {
                    row,
                    anchor: *next_anchor,
                    claimed: anchor.pos,
                    pos,
                });
            }
            low = pos;
            *next_anchor += 1;
            high = high_of(*next_anchor);
        }
        if !run.sorted {
            continue;
        }
        if let Some(previous) = previous.filter(|&previous| pos < previous) {
            return Err(order(row, number, run, previous, pos));
        }
        previous = Some(pos);
        if !(low..=high).contains(&pos) {
            return Err(Disagreement::BetweenAnchors {
                row,
                run: number,
                first_row: run.first_row,
                end_row: run.end_row(),
                low,
                high,
                pos,
            });
        }
    }
    Ok(())
}

/// Checks that row `row`, of run `number`, has the run's chr and a pos inside its bounds.
fn check_place(
    row: u64,
    number: usize,
    run: &Run,
    chr: &[u8],
    pos: i64,
) -> Result<(), Disagreement> {
    if chr != run.chr.as_slice() {
        return Err(Disagreement::Chr {
            row,
            run: number,
            first_row: run.first_row,
            end_row: run.end_row(),
            claimed: escaped(&run.chr),
            found: escaped(chr),
        });
    }
    if !(run.min_pos..=run.max_pos).contains(&pos) {
        return Err(Disagreement::Bounds {
            row,
            run: number,
            first_row: run.first_row,
            end_row: run.end_row(),
            min_pos: run.min_pos,
            max_pos: run.max_pos,
            pos,
        });
    }
    Ok(())
}

fn order(row: u64, number: usize, run: &Run, previous: i64, pos: i64) -> Disagreement {
    Disagreement::Order {
        row,
        run: number,
        first_row: run.first_row,
        end_row: run.end_row(),
        previous,
        pos,
    }
}

/// Bytes as a quoted string with every byte that is not printable ASCII escaped (`"chr\t1"`),
/// so that a message shows exactly what is stored.
pub fn escaped(bytes: &[u8]) -> String {
    format!("\"{}\"", bytes.escape_ascii())
}

/// Refuses a negative `c` or `t` of study row `row` (in the file at `path`), which feeds
/// `sample` of a matrix: the matrix counts reads, and a negative count would come out as
/// negative coverage and a beta outside [0, 1], or be dropped as uncovered.
pub fn check_counts(path: &Path, row: u64, sample: &str, c: i32, t: i32) -> Result<()> {
    let Some((name, value)) = [("c", c), ("t", t)].into_iter().find(|(_, v)| *v < 0) else {
        return Ok(());
    };
    Err(Error::BadInput {
        path: path.to_path_buf(),
        message: format!(
            "row {row} (sample {sample:?}) has {name} = {value}; a matrix counts reads, and a \
             negative count cannot be one\n  hint: `txt2h5 load` keeps negative counts as \
             numpy reads them; fix or drop those lines of the source file and load it again, \
             or leave its source out (--samples)"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::Anchor;
    use crate::schema::Schema;

    /// The fields of the seed's record with a 4-byte chr.
    fn fields() -> Fields {
        Fields::of(&Schema::new(4).unwrap())
    }

    /// Packed records of (chr, pos), other fields zero.
    fn records(rows: &[(&[u8], i32)]) -> Vec<u8> {
        let fields = fields();
        let mut out = vec![0u8; rows.len() * fields.record_size];
        for (record, (chr, pos)) in out.chunks_exact_mut(fields.record_size).zip(rows) {
            record[..chr.len()].copy_from_slice(chr);
            record[fields.pos_offset..][..4].copy_from_slice(&pos.to_le_bytes());
        }
        out
    }

    fn run(chr: &[u8], first_row: u64, rows: u64, positions: (i64, i64), sorted: bool) -> Run {
        Run {
            source: 0,
            chr: chr.to_vec(),
            first_row,
            rows,
            min_pos: positions.0,
            max_pos: positions.1,
            sorted,
        }
    }

    /// Six rows: chr1 at 10, 20, 30, 40 (sorted; chunks of 2 rows) and chr2 at 7, 5 (not).
    fn index() -> PositionIndex {
        PositionIndex {
            runs: vec![
                run(b"chr1", 0, 4, (10, 40), true),
                run(b"chr2", 4, 2, (5, 7), false),
            ],
            anchors: vec![
                Anchor { row: 0, pos: 10 },
                Anchor { row: 2, pos: 30 },
                Anchor { row: 4, pos: 7 },
            ],
        }
    }

    const ROWS: [(&[u8], i32); 6] = [
        (b"chr1", 10),
        (b"chr1", 20),
        (b"chr1", 30),
        (b"chr1", 40),
        (b"chr2", 7),
        (b"chr2", 5),
    ];

    #[test]
    fn rows_as_the_index_describes_them_pass_read_whole_or_in_pieces() {
        let bytes = records(&ROWS);
        let size = fields().record_size;
        for from in 0..6 {
            for to in from..=6 {
                check_rows(
                    &index(),
                    &fields(),
                    from as u64,
                    &bytes[from * size..to * size],
                )
                .unwrap_or_else(|error| panic!("rows {from}..{to}: {error}"));
            }
        }
    }

    #[test]
    fn each_disagreement_is_found_and_named() {
        type Edit = fn(&mut Vec<(&'static [u8], i32)>);
        let cases: [(Edit, &str); 6] = [
            (
                |rows| rows[1].0 = b"chr2",
                "row 1 holds chr \"chr2\", but /index/runs run 0 (rows 0..4) claims \"chr1\"",
            ),
            (
                |rows| rows[5].1 = 99,
                "row 5 holds pos 99, outside 5..=7, the positions /index/runs run 1",
            ),
            // Out of order inside a chunk, its anchor kept.
            (
                |rows| rows[3].1 = 29,
                "row 3 holds pos 29, below the 30 of the row before it",
            ),
            // An anchor that is not its row's pos.
            (
                |rows| rows[4].1 = 6,
                "row 4 holds pos 6, but /index/anchors anchor 2 claims pos 7",
            ),
            // In order inside its chunk, but past the next chunk's anchor.
            (
                |rows| rows[1].1 = 35,
                "row 1 holds pos 35, outside 10..=30, where the anchors around it",
            ),
            (|rows| rows[3].0 = b"ch\t1", "row 3 holds chr \"ch\\t1\""),
        ];
        for (edit, needle) in cases {
            let mut rows = ROWS.to_vec();
            edit(&mut rows);
            let error = check_rows(&index(), &fields(), 0, &records(&rows)).unwrap_err();
            assert!(error.to_string().contains(needle), "{needle}: {error}");
        }
    }

    #[test]
    fn a_read_from_the_middle_of_a_run_is_bounded_by_the_anchor_before_it() {
        // Row 3 read alone: its chunk's anchor (row 2, pos 30) bounds it from below.
        let rows = records(&[(b"chr1", 25)]);
        let error = check_rows(&index(), &fields(), 3, &rows).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("row 3 holds pos 25, outside 30..=40"),
            "{error}"
        );
    }

    #[test]
    fn the_error_names_the_file_and_says_what_to_do() {
        let claims = Claims::new(Path::new("study.h5"), &index(), fields());
        let mut rows = ROWS.to_vec();
        rows[2].0 = b"chrX";
        let error = claims.check(0, &records(&rows)).unwrap_err();
        assert_eq!(error.exit_code(), crate::error::exit_code::BAD_DATA);
        let message = error.to_string();
        assert!(message.starts_with("study.h5: /data disagrees with its /index: row 2"));
        assert!(
            message.contains("hint: the index no longer describes"),
            "{message}"
        );
    }

    #[test]
    fn negative_counts_are_refused_with_the_row_and_sample() {
        check_counts(Path::new("s.h5"), 7, "A", 0, 3).unwrap();
        let error = check_counts(Path::new("s.h5"), 7, "A", 2, -3).unwrap_err();
        assert_eq!(error.exit_code(), crate::error::exit_code::BAD_DATA);
        assert!(
            error
                .to_string()
                .starts_with("s.h5: row 7 (sample \"A\") has t = -3;"),
            "{error}"
        );
    }
}
