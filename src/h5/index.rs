//! `/index`: the position index as two plain datasets (see [`crate::index`]).

use hdf5::types::{CompoundField, CompoundType, IntSize, TypeDescriptor};
use hdf5::{Datatype, File, Group};

use super::attributes::write_string_attr;
use super::ffi::{read_all, write_all, ReadAllError};
use crate::index::{Anchor, PositionIndex, Run};
use crate::schema::trim_nul;

/// Version of the `/index` layout, an attribute of the group.
pub const INDEX_VERSION: u32 = 1;

const RUNS_DESCRIPTION: &str = "one row per run of consecutive rows of /data from one source \
     with the same chr: source (row of /sources), chr, first_row, rows, min_pos and max_pos \
     (the smallest and largest pos in the run), sorted (pos never decreases inside the run); \
     in row order";
const ANCHORS_DESCRIPTION: &str = "row and pos of every row of /data that starts a stored \
     chunk (of a part, for a virtual dataset), in row order; inside a sorted run, the rows \
     before the last anchor with pos < start and from the first anchor with pos > end cannot \
     hold start..end";

/// The packed type of `/index/runs` for a `chr` field of `chr_width` bytes.
fn runs_type(chr_width: usize) -> TypeDescriptor {
    let u = |size| TypeDescriptor::Unsigned(size);
    let i = |size| TypeDescriptor::Integer(size);
    let fields = [
        ("source", u(IntSize::U4), 4),
        ("chr", TypeDescriptor::FixedAscii(chr_width), chr_width),
        ("first_row", u(IntSize::U8), 8),
        ("rows", u(IntSize::U8), 8),
        ("min_pos", i(IntSize::U8), 8),
        ("max_pos", i(IntSize::U8), 8),
        ("sorted", TypeDescriptor::Boolean, 1),
    ];
    let mut offset = 0;
    let fields = fields
        .into_iter()
        .enumerate()
        .map(|(index, (name, ty, size))| {
            let field = CompoundField {
                name: name.to_string(),
                ty,
                offset,
                index,
            };
            offset += size;
            field
        })
        .collect();
    TypeDescriptor::Compound(CompoundType {
        fields,
        size: offset,
    })
}

fn run_size(chr_width: usize) -> usize {
    chr_width + 37
}

fn encode_runs(runs: &[Run], chr_width: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(runs.len() * run_size(chr_width));
    for run in runs {
        out.extend_from_slice(&run.source.to_le_bytes());
        let mut chr = run.chr.clone();
        chr.resize(chr_width, 0);
        out.extend_from_slice(&chr);
        for value in [run.first_row, run.rows] {
            out.extend_from_slice(&value.to_le_bytes());
        }
        for value in [run.min_pos, run.max_pos] {
            out.extend_from_slice(&value.to_le_bytes());
        }
        out.push(u8::from(run.sorted));
    }
    out
}

fn decode_runs(bytes: &[u8], chr_width: usize) -> Vec<Run> {
    let u64_at = |record: &[u8], at: usize| {
        u64::from_le_bytes(record[at..at + 8].try_into().expect("8 bytes"))
    };
    bytes
        .chunks_exact(run_size(chr_width))
        .map(|record| {
            let chr = trim_nul(&record[4..4 + chr_width]);
            let at = 4 + chr_width;
            Run {
                source: u32::from_le_bytes(record[..4].try_into().expect("4 bytes")),
                chr: chr.to_vec(),
                first_row: u64_at(record, at),
                rows: u64_at(record, at + 8),
                min_pos: u64_at(record, at + 16) as i64,
                max_pos: u64_at(record, at + 24) as i64,
                sorted: record[at + 32] != 0,
            }
        })
        .collect()
}

/// Writes `/index` with its runs (`chr` as wide as the data's) and anchors.
pub(super) fn write_index(
    file: &File,
    index: &PositionIndex,
    chr_width: usize,
) -> hdf5::Result<()> {
    let group = file.create_group("index")?;
    group
        .new_attr::<u32>()
        .shape(())
        .create("version")?
        .write_scalar(&INDEX_VERSION)?;
    write_string_attr(
        &group,
        "description",
        "position index of /data: runs (where each chr of each source lies) and anchors \
         (the pos at each stored chunk's first row); see docs/layout.md of txt2h5",
    )?;
    let run_type = Datatype::from_descriptor(&runs_type(chr_width))?;
    let runs = group
        .new_dataset_builder()
        .empty_as(&run_type)
        .shape(index.runs.len())
        .create("runs")?;
    write_all(&runs, &run_type, &encode_runs(&index.runs, chr_width))?;
    write_string_attr(&runs, "description", RUNS_DESCRIPTION)?;
    let anchors = group
        .new_dataset_builder()
        .with_data(&index.anchors)
        .create("anchors")?;
    write_string_attr(&anchors, "description", ANCHORS_DESCRIPTION)
}

/// Why `/index` could not be read. A file without one is `Ok(None)`.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("its /index is not one txt2h5 writes: {0}")]
    Foreign(String),
    #[error(transparent)]
    Hdf5(#[from] hdf5::Error),
}

/// `/index` of `file`, whose `chr` fields are `chr_width` bytes; `None` if it has none
/// (written before the index existed).
pub fn read_index(file: &File, chr_width: usize) -> Result<Option<PositionIndex>, IndexError> {
    if !file.link_exists("index") {
        return Ok(None);
    }
    let group: Group = file.group("index")?;
    let version: u32 = group
        .attr("version")
        .and_then(|attr| attr.read_scalar())
        .map_err(|_| IndexError::Foreign("no version attribute".into()))?;
    if version != INDEX_VERSION {
        return Err(IndexError::Foreign(format!(
            "version {version}; this txt2h5 reads version {INDEX_VERSION}"
        )));
    }
    let runs = group.dataset("runs")?;
    let expected = runs_type(chr_width);
    if runs.dtype()?.to_descriptor()? != expected {
        return Err(IndexError::Foreign("runs has another record type".into()));
    }
    let run_type = Datatype::from_descriptor(&expected)?;
    let bytes = read_all(&runs, &run_type)?;
    // Read as bytes, not `read_raw`: its element count is checked against the file first.
    let anchor_type = Datatype::from_type::<Anchor>()?;
    let anchor_bytes = read_all(&group.dataset("anchors")?, &anchor_type)?;
    Ok(Some(PositionIndex {
        runs: decode_runs(&bytes, chr_width),
        anchors: decode_anchors(&anchor_bytes),
    }))
}

/// Anchors from their packed native records (`row` then `pos`, 8 bytes each, as
/// [`Anchor`] lays them out).
fn decode_anchors(bytes: &[u8]) -> Vec<Anchor> {
    bytes
        .chunks_exact(std::mem::size_of::<Anchor>())
        .map(|record| {
            let (row, pos) = record.split_at(8);
            Anchor {
                row: u64::from_ne_bytes(row.try_into().expect("8 bytes")),
                pos: i64::from_ne_bytes(pos.try_into().expect("8 bytes")),
            }
        })
        .collect()
}

impl From<ReadAllError> for IndexError {
    fn from(error: ReadAllError) -> Self {
        match error {
            ReadAllError::Hdf5(error) => IndexError::Hdf5(error),
            error @ ReadAllError::TooLarge { .. } => IndexError::Foreign(error.to_string()),
        }
    }
}

/// What `/index` gets wrong about the rows and sources it describes.
#[derive(Debug, thiserror::Error)]
pub enum IndexMismatch {
    #[error("/index/runs: run {run} starts at row {first_row}, not {expected}")]
    RunStart {
        run: usize,
        first_row: u64,
        expected: u64,
    },
    #[error("/index/runs: run {run} ends at row {end}, past the {rows} rows")]
    RunEnd { run: usize, end: u128, rows: u64 },
    #[error("/index/runs: run {run} names source {number} of {sources}")]
    RunSource {
        run: usize,
        number: u32,
        sources: usize,
    },
    #[error(
        "/index/runs: run {run} (rows {first_row}..{end}) is not inside source {number} \
         (rows {source_first}..{source_end})"
    )]
    RunOutsideSource {
        run: usize,
        first_row: u64,
        end: u64,
        number: u32,
        source_first: u64,
        source_end: u64,
    },
    #[error("/index/runs: run {run} has min_pos {min_pos} above its max_pos {max_pos}")]
    RunPositions {
        run: usize,
        min_pos: i64,
        max_pos: i64,
    },
    #[error("/index/runs: the runs cover rows 0..{covered} of {rows}")]
    Coverage { covered: u64, rows: u64 },
    #[error("/index/anchors: anchor {anchor} is at row {row}, past the {rows} rows")]
    AnchorRow { anchor: usize, row: u64, rows: u64 },
    #[error(
        "/index/anchors: anchor {anchor} (row {row}) does not follow anchor {previous} (row \
         {previous_row})"
    )]
    AnchorOrder {
        anchor: usize,
        row: u64,
        previous: usize,
        previous_row: u64,
    },
    #[error(
        "/index/anchors: anchor {anchor} (row {row}, pos {pos}) does not fit the sorted run \
         {run} (pos {min_pos}..={max_pos}, never decreasing)"
    )]
    AnchorPos {
        anchor: usize,
        row: u64,
        pos: i64,
        run: usize,
        min_pos: i64,
        max_pos: i64,
    },
}

/// Checks `index` against the dataset's `rows` and the row ranges of its sources, from
/// metadata alone: the runs cover every row exactly once, in order, each inside the source
/// it names; the anchors are rows of the dataset, in order, and inside a sorted run their
/// positions lie in the run's and never decrease. A region query trusts all of this to
/// skip rows (see [`PositionIndex::narrow`]); what it cannot check without reading `/data`
/// (that a run's chr and positions are the rows' own) it leaves to the writer.
pub fn check_index(
    index: &PositionIndex,
    sources: &[(u64, u64)],
    rows: u64,
) -> Result<(), IndexMismatch> {
    check_runs(index, sources, rows)?;
    check_anchor_rows(index, rows)?;
    check_anchor_positions(index)
}

/// The runs cover rows `0..rows` exactly, in order, each inside its source.
fn check_runs(
    index: &PositionIndex,
    sources: &[(u64, u64)],
    rows: u64,
) -> Result<(), IndexMismatch> {
    let mut next = 0u64;
    for (number, run) in index.runs.iter().enumerate() {
        if run.first_row != next {
            return Err(IndexMismatch::RunStart {
                run: number,
                first_row: run.first_row,
                expected: next,
            });
        }
        let end = u128::from(run.first_row) + u128::from(run.rows);
        if end > u128::from(rows) {
            return Err(IndexMismatch::RunEnd {
                run: number,
                end,
                rows,
            });
        }
        let end = end as u64;
        let &(source_first, source_end) =
            sources
                .get(run.source as usize)
                .ok_or(IndexMismatch::RunSource {
                    run: number,
                    number: run.source,
                    sources: sources.len(),
                })?;
        if run.first_row < source_first || end > source_end {
            return Err(IndexMismatch::RunOutsideSource {
                run: number,
                first_row: run.first_row,
                end,
                number: run.source,
                source_first,
                source_end,
            });
        }
        if run.min_pos > run.max_pos {
            return Err(IndexMismatch::RunPositions {
                run: number,
                min_pos: run.min_pos,
                max_pos: run.max_pos,
            });
        }
        next = end;
    }
    if next != rows {
        return Err(IndexMismatch::Coverage {
            covered: next,
            rows,
        });
    }
    Ok(())
}

/// The anchors are rows of the dataset, in increasing order.
fn check_anchor_rows(index: &PositionIndex, rows: u64) -> Result<(), IndexMismatch> {
    for (number, anchor) in index.anchors.iter().enumerate() {
        if anchor.row >= rows {
            return Err(IndexMismatch::AnchorRow {
                anchor: number,
                row: anchor.row,
                rows,
            });
        }
        if let Some(previous) = number.checked_sub(1).map(|at| index.anchors[at]) {
            if anchor.row <= previous.row {
                return Err(IndexMismatch::AnchorOrder {
                    anchor: number,
                    row: anchor.row,
                    previous: number - 1,
                    previous_row: previous.row,
                });
            }
        }
    }
    Ok(())
}

/// Inside a sorted run, the anchors' positions lie in the run's and never decrease. Both
/// lists are in row order (checked before): one pass over each.
fn check_anchor_positions(index: &PositionIndex) -> Result<(), IndexMismatch> {
    let mut at = 0;
    for (number, run) in index.runs.iter().enumerate() {
        let mut last_pos = run.min_pos;
        while let Some(anchor) = index
            .anchors
            .get(at)
            .filter(|anchor| anchor.row < run.end_row())
        {
            let fits = (last_pos..=run.max_pos).contains(&anchor.pos);
            if run.sorted && !fits {
                return Err(IndexMismatch::AnchorPos {
                    anchor: at,
                    row: anchor.row,
                    pos: anchor.pos,
                    run: number,
                    min_pos: run.min_pos,
                    max_pos: run.max_pos,
                });
            }
            last_pos = anchor.pos;
            at += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_encode_and_decode() {
        let runs = vec![Run {
            source: 7,
            chr: b"chrUn_KI27".to_vec(),
            first_row: 1 << 40,
            rows: 3,
            min_pos: -5,
            max_pos: i64::MAX,
            sorted: true,
        }];
        let bytes = encode_runs(&runs, 10);
        assert_eq!(bytes.len(), run_size(10));
        assert_eq!(decode_runs(&bytes, 10), runs);
        let TypeDescriptor::Compound(compound) = runs_type(10) else {
            unreachable!()
        };
        assert_eq!(compound.size, run_size(10));
    }

    fn run(source: u32, first_row: u64, rows: u64, positions: (i64, i64)) -> Run {
        Run {
            source,
            chr: b"chr1".to_vec(),
            first_row,
            rows,
            min_pos: positions.0,
            max_pos: positions.1,
            sorted: true,
        }
    }

    /// Two sources of 4 and 6 rows, a run each, an anchor every 4 rows.
    fn valid() -> PositionIndex {
        PositionIndex {
            runs: vec![run(0, 0, 4, (1, 4)), run(1, 4, 6, (10, 60))],
            anchors: vec![
                Anchor { row: 0, pos: 1 },
                Anchor { row: 4, pos: 10 },
                Anchor { row: 8, pos: 50 },
            ],
        }
    }

    const SOURCES: [(u64, u64); 2] = [(0, 4), (4, 10)];

    #[test]
    fn a_consistent_index_passes() {
        check_index(&valid(), &SOURCES, 10).unwrap();
        check_index(&PositionIndex::default(), &[], 0).unwrap();
        // Unsorted runs do not bound their anchors' positions.
        let mut index = valid();
        index.runs[1].sorted = false;
        index.anchors[2].pos = -7;
        check_index(&index, &SOURCES, 10).unwrap();
    }

    #[test]
    fn each_disagreement_is_named() {
        type Edit = fn(&mut PositionIndex);
        let cases: [(Edit, &str); 8] = [
            (|i| i.runs[1].first_row = 5, "run 1 starts at row 5, not 4"),
            (
                |i| i.runs[1].rows = u64::MAX,
                "ends at row 18446744073709551619",
            ),
            (|i| i.runs[1].source = 2, "run 1 names source 2 of 2"),
            (
                |i| i.runs[0].source = 1,
                "run 0 (rows 0..4) is not inside source 1",
            ),
            (|i| i.runs[1].rows = 5, "the runs cover rows 0..9 of 10"),
            (
                |i| i.anchors[2].row = 10,
                "anchor 2 is at row 10, past the 10 rows",
            ),
            (
                |i| i.anchors[1].row = 0,
                "anchor 1 (row 0) does not follow anchor 0",
            ),
            (
                |i| i.anchors[2].pos = 9,
                "anchor 2 (row 8, pos 9) does not fit the sorted run 1",
            ),
        ];
        for (edit, needle) in cases {
            let mut index = valid();
            edit(&mut index);
            let message = check_index(&index, &SOURCES, 10).unwrap_err().to_string();
            assert!(message.contains(needle), "{needle}: {message}");
        }
        let message = check_index(&valid(), &SOURCES, 11).unwrap_err().to_string();
        assert!(message.contains("cover rows 0..10 of 11"), "{message}");
    }
}
