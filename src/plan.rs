//! The run cut into ordered work units.
//!
//! Each input becomes one or more units, numbered in load order; the writer consumes units
//! strictly in that order. A plain file becomes a checksum unit followed by its pieces (see
//! [`crate::split`]); a gzip file, which can only be inflated from its start, becomes one
//! streaming unit that also computes its checksum. The cut depends on the inputs and
//! `piece_bytes` only, never on the thread count, so the output does not either.

use crate::discover::Input;
use crate::format::Format;
use crate::split::nominal_pieces;

/// What a unit does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnitKind {
    /// Hash the whole file (plain files; their pieces are parsed by other units).
    Checksum,
    /// Parse the lines owned by the nominal byte range `[start, end)`.
    Piece { start: u64, end: u64 },
    /// Inflate, parse and hash a whole gzip file.
    Gzip,
}

/// One schedulable step: a kind of work on one input file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unit {
    pub file: usize,
    pub kind: UnitKind,
}

/// The units of a run, in the order the writer consumes them.
pub fn plan(inputs: &[Input], formats: &[Format], piece_bytes: u64) -> Vec<Unit> {
    let mut units = Vec::new();
    for (file, (input, format)) in inputs.iter().zip(formats).enumerate() {
        match format {
            Format::Gzip { .. } => units.push(Unit {
                file,
                kind: UnitKind::Gzip,
            }),
            Format::Plain => {
                units.push(Unit {
                    file,
                    kind: UnitKind::Checksum,
                });
                for (start, end) in nominal_pieces(input.size, piece_bytes) {
                    units.push(Unit {
                        file,
                        kind: UnitKind::Piece { start, end },
                    });
                }
            }
        }
    }
    units
}
