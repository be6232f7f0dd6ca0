//! The run cut into ordered work units.
//!
//! Each input becomes one or more units, numbered in load order; the writer consumes units
//! strictly in that order. A plain file becomes its pieces (see [`crate::input::split`]) followed
//! by a checksum unit; a gzip file, which can only be inflated from its start, becomes one
//! streaming unit that also computes its checksum. The cut depends on the inputs and
//! `piece_bytes` only, never on the thread count, so the output does not either.
//!
//! A BGZF file (bgzip) is split like a plain file, at block boundaries (see [`crate::bgzf::reader`]).
//!
//! Workers take units in a slightly different order: a file's checksum unit first. Hashing
//! a big file then runs beside the parsing of its first pieces instead of holding up the
//! writer's head at the start, or leaving one thread to hash alone at the end.

use crate::bgzf::reader::{self as bgzf, BgzfBlock};
use crate::error::{Error, Result};
use crate::input::discover::Input;
use crate::input::encoding::Encoding;
use crate::input::split::nominal_pieces;
use crate::pipeline::refusal::Refusal;

/// What a unit does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnitKind {
    /// Hash the whole file (plain files; their pieces are parsed by other units).
    Checksum,
    /// Parse the lines owned by the nominal byte range `[start, end)`.
    Piece { start: u64, end: u64 },
    /// Inflate, parse and hash a whole gzip file.
    Gzip,
    /// Inflate and parse the lines owned by BGZF blocks `[first_block, end_block)`.
    BgzfPiece {
        first_block: usize,
        end_block: usize,
    },
}

/// One schedulable step: a kind of work on one input file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unit {
    pub file: usize,
    pub kind: UnitKind,
}

/// The units of a run, in the order the writer consumes them, and the order in which
/// workers should start them (indices into the units).
pub struct LoadPlan {
    pub units: Vec<Unit>,
    pub dispatch: Vec<usize>,
    /// The blocks of each BGZF input read in pieces (empty for other inputs).
    pub bgzf_blocks: Vec<Vec<BgzfBlock>>,
    /// The inputs whose blocks could not be listed, or that lack the BGZF end-of-file
    /// block: planned as one unit, which fails with this at the file's turn in load order.
    pub refusals: Vec<Option<Refusal>>,
}

/// Cuts the inputs into units. BGZF inputs are split at block boundaries, in pieces of
/// about a quarter of `piece_bytes` compressed (about `piece_bytes` of text).
pub fn plan(inputs: &[Input], encodings: &[Encoding], piece_bytes: u64) -> Result<LoadPlan> {
    let mut units = Vec::new();
    let mut dispatch = Vec::new();
    let mut bgzf_blocks = vec![Vec::new(); inputs.len()];
    let mut refusals = vec![None; inputs.len()];
    for (file, (input, encoding)) in inputs.iter().zip(encodings).enumerate() {
        let blocks = match encoding {
            Encoding::Gzip { bgzf: true } => match list_blocks(input) {
                Ok(blocks) => blocks,
                Err(error) => {
                    refusals[file] = Some(Refusal::defer(error)?);
                    None
                }
            },
            _ => None,
        };
        if let Some(blocks) = blocks {
            let pieces = bgzf::group(&blocks, (piece_bytes / 4).max(1));
            dispatch.push(units.len() + pieces.len());
            for piece in pieces {
                dispatch.push(units.len());
                units.push(Unit {
                    file,
                    kind: UnitKind::BgzfPiece {
                        first_block: piece.start,
                        end_block: piece.end,
                    },
                });
            }
            units.push(Unit {
                file,
                kind: UnitKind::Checksum,
            });
            bgzf_blocks[file] = blocks;
            continue;
        }
        match encoding {
            Encoding::Gzip { .. } => {
                dispatch.push(units.len());
                units.push(Unit {
                    file,
                    kind: UnitKind::Gzip,
                });
            }
            Encoding::Plain => {
                let pieces = nominal_pieces(input.size, piece_bytes);
                dispatch.push(units.len() + pieces.len());
                for (start, end) in pieces {
                    dispatch.push(units.len());
                    units.push(Unit {
                        file,
                        kind: UnitKind::Piece { start, end },
                    });
                }
                units.push(Unit {
                    file,
                    kind: UnitKind::Checksum,
                });
            }
        }
    }
    Ok(LoadPlan {
        units,
        dispatch,
        bgzf_blocks,
        refusals,
    })
}

/// The blocks of a BGZF input, `None` if it is to be read as a gzip stream.
fn list_blocks(input: &Input) -> Result<Option<Vec<BgzfBlock>>> {
    let handle = std::fs::File::open(&input.path).map_err(|error| Error::io(&input.path, error))?;
    let blocks =
        bgzf::blocks(&handle, input.size).map_err(|error| Error::io(&input.path, error))?;
    if let Some(blocks) = &blocks {
        check_eof_block(input, &handle, blocks)?;
    }
    Ok(blocks)
}

/// Refuses a BGZF file that does not end with the end-of-file block: it was probably cut
/// at a block boundary (a copy or a write that did not finish), and its rows after the cut
/// would be lost with exit 0.
fn check_eof_block(input: &Input, file: &std::fs::File, blocks: &[BgzfBlock]) -> Result<()> {
    if bgzf::ends_with_eof_block(file, blocks).map_err(|error| Error::io(&input.path, error))? {
        return Ok(());
    }
    Err(Error::BadInput {
        path: input.path.clone(),
        message: "the BGZF end-of-file block is missing (the 28-byte empty block of SAM \
                  specification 4.1.2 that ends every BGZF file), so the file is probably \
                  truncated\n  hint: compare it with its source or write it again; a complete \
                  file from a writer that leaves the block out loads once recompressed \
                  (zcat FILE | bgzip > FIXED.gz)"
            .to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_units_come_last_for_the_writer_and_first_for_the_workers() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.txt");
        let b = dir.path().join("b.txt.gz");
        std::fs::write(&a, vec![b'\n'; 25]).unwrap();
        std::fs::write(&b, b"").unwrap();
        let inputs = crate::input::discover::discover(&[a, b], &Default::default()).unwrap();
        let plan = plan(
            &inputs,
            &[Encoding::Plain, Encoding::Gzip { bgzf: false }],
            10,
        )
        .unwrap();
        let kinds: Vec<UnitKind> = plan.units.iter().map(|unit| unit.kind).collect();
        assert_eq!(
            kinds,
            [
                UnitKind::Piece { start: 0, end: 10 },
                UnitKind::Piece { start: 10, end: 20 },
                UnitKind::Piece { start: 20, end: 25 },
                UnitKind::Checksum,
                UnitKind::Gzip,
            ]
        );
        assert_eq!(plan.dispatch, [3, 0, 1, 2, 4]);
    }
}
