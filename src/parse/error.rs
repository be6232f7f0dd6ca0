//! Why a line was rejected: the error of one field ([`FieldError`]) and of one line
//! ([`LineError`]), with the column, the offending text and a hint.
//!
//! A leaf of the parser, below every format's parser and the block loop; the run's error
//! ([`crate::error::Error::Data`]) carries a [`LineError`] with the file and line.

use super::number::{FloatError, IntError};
use crate::defaults::MAX_LINE_BYTES;
use crate::schema::FIELD_NAMES;

/// How much of an over-long line an error message quotes.
pub(super) const QUOTED_PREFIX: usize = 40;

/// Why one field was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldError {
    /// The chromosome name is longer than the `chr` field.
    ChrTooLong {
        length: usize,
        width: usize,
    },
    /// The chromosome name has a byte outside printable ASCII.
    ChrInvalidByte {
        byte: u8,
    },
    Integer(IntError),
    Float(FloatError),
    /// A position outside the `pos` field (`<i4`, or `<i8` with `--wide-pos`).
    PosOutOfRange {
        wide: bool,
    },
    /// A 0-based start below 0.
    NegativeStart,
    /// Not a strand the format writes.
    Strand {
        forward_reverse: bool,
    },
    /// A count used to derive another value is negative.
    NegativeCount,
    /// The methylated count is larger than the coverage, so `t = cov - c` is negative.
    CountAboveCoverage {
        count: i64,
        coverage: i64,
    },
    /// `round(cov * pct / 100)` (or `round(cov * beta)`) is not a count: the level is not a
    /// finite number, or the result does not fit.
    DerivedCount,
}

/// Why one line was rejected. Columns are 1-based, as in numpy's messages.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error("expected 5 columns (chr pos pct c t) but found {found}, so column {} ({}) is missing: {text:?}", found + 1, FIELD_NAMES[*found])]
    TooFewFields { found: usize, text: String },
    #[error("expected 5 columns (chr pos pct c t) but found more: column 6 is {text:?}")]
    TooManyFields { text: String },
    #[error("line is longer than the {} MiB limit; it starts {text:?}", MAX_LINE_BYTES >> 20)]
    TooLong { text: String },
    #[error("column {column}: a carriage return (\\r) that does not end the line: {text:?}")]
    BareCarriageReturn { column: usize, text: String },
    #[error("column {column}: non-ASCII byte 0x{byte:02x} in {text:?}")]
    NonAscii {
        column: usize,
        byte: u8,
        text: String,
    },
    #[error("column {column} ({name}): {}: {text:?}", describe_field_error(error))]
    Field {
        column: usize,
        name: &'static str,
        text: String,
        error: FieldError,
    },
    /// A line of a format other than `native` with the wrong number of fields.
    #[error("expected {expected} but found {found}: {text:?}")]
    FieldCount {
        found: usize,
        /// `6 columns (chr start end percent count_methylated count_unmethylated)`.
        expected: String,
        text: String,
    },
}

fn describe_field_error(error: &FieldError) -> String {
    match error {
        FieldError::ChrTooLong { length, width } => {
            format!("chromosome name is {length} bytes, longer than the {width}-byte chr field")
        }
        FieldError::ChrInvalidByte { byte } => {
            format!("chromosome name has byte 0x{byte:02x}, which is not printable ASCII")
        }
        FieldError::Integer(IntError::Invalid) => "not a whole number".to_string(),
        FieldError::Integer(IntError::OutOfRange) => {
            "whole number out of the 32-bit range -2147483648..2147483647".to_string()
        }
        FieldError::Float(FloatError) => "not a decimal number".to_string(),
        FieldError::PosOutOfRange { wide: false } => {
            "position out of the 32-bit pos field (at most 2147483647)".to_string()
        }
        FieldError::PosOutOfRange { wide: true } => {
            "position out of the 64-bit pos field".to_string()
        }
        FieldError::NegativeStart => "a 0-based start below 0".to_string(),
        FieldError::Strand {
            forward_reverse: false,
        } => "not a strand (+, - or .)".to_string(),
        FieldError::Strand {
            forward_reverse: true,
        } => "not a strand (F or R)".to_string(),
        FieldError::NegativeCount => "a negative count".to_string(),
        FieldError::CountAboveCoverage { count, coverage } => {
            format!("the coverage {coverage} is smaller than the methylated count {count}")
        }
        FieldError::DerivedCount => {
            "the methylated count round(cov * level) is not a whole number of reads".to_string()
        }
    }
}

impl LineError {
    /// 1-based column the error is about (6 for an extra column, the first missing one for
    /// too few).
    pub fn column(&self) -> usize {
        match self {
            LineError::TooFewFields { found, .. } => found + 1,
            LineError::TooManyFields { .. } => 6,
            LineError::TooLong { .. } => 1,
            LineError::BareCarriageReturn { column, .. } | LineError::NonAscii { column, .. } => {
                *column
            }
            LineError::Field { column, .. } => *column,
            LineError::FieldCount { found, .. } => found + 1,
        }
    }

    /// The offending text: the field, or the whole line when columns are missing.
    pub fn text(&self) -> &str {
        match self {
            LineError::TooFewFields { text, .. }
            | LineError::TooManyFields { text }
            | LineError::TooLong { text }
            | LineError::BareCarriageReturn { text, .. }
            | LineError::NonAscii { text, .. }
            | LineError::Field { text, .. }
            | LineError::FieldCount { text, .. } => text,
        }
    }

    /// What the user can do about it.
    pub fn hint(&self) -> String {
        match self {
            LineError::FieldCount { expected, .. } => format!(
                "every data line needs {expected}, separated by whitespace ('#' starts a comment)"
            ),
            LineError::TooFewFields { .. } | LineError::TooManyFields { .. } => {
                "every data line needs exactly 5 whitespace-separated columns: chr pos pct c t \
                 ('#' starts a comment)"
                    .to_string()
            }
            LineError::TooLong { .. } => {
                "is this a methylation call file? lines must end with \\n (files with CR-only \
                 line ends, binary or corrupt files have no line breaks)"
                    .to_string()
            }
            LineError::BareCarriageReturn { .. } => {
                "lines must end with \\n or \\r\\n; a lone \\r (classic Mac line ends) is a line \
                 break for numpy: convert the file, e.g. tr '\\r' '\\n'"
                    .to_string()
            }
            LineError::NonAscii { .. } => {
                "fields are ASCII: Unicode spaces such as U+00A0 (no-break space, bytes c2 a0) do \
                 not separate fields here, though numpy reading UTF-8 text would take them for \
                 spaces; replace them with tabs or spaces"
                    .to_string()
            }
            LineError::Field { error, name, .. } => match error {
                FieldError::ChrTooLong { length, .. } => format!(
                    "raise --chr-width to at least {length} (numpy would silently truncate this name)"
                ),
                FieldError::ChrInvalidByte { .. } => {
                    "chromosome names must be printable ASCII without spaces".to_string()
                }
                FieldError::Integer(IntError::Invalid) => {
                    "expected a whole number such as 10468: optional sign, digits only".to_string()
                }
                FieldError::Integer(IntError::OutOfRange) if *name == "pos" => {
                    "the value does not fit the <i4 field (numpy rejects it too); chromosomes \
                     longer than 2^31 - 1 bases need --wide-pos, which stores pos as <i8"
                        .to_string()
                }
                FieldError::Integer(IntError::OutOfRange) => {
                    "the value does not fit the <i4 field; numpy rejects it too".to_string()
                }
                FieldError::Float(_) => {
                    "expected a decimal number such as 57.1428571428571, 1e-3, nan or inf"
                        .to_string()
                }
                FieldError::PosOutOfRange { wide: false } => {
                    "chromosomes longer than 2^31 - 1 bases (axolotl, lungfish, some conifers) \
                     need --wide-pos, which stores pos as <i8"
                        .to_string()
                }
                FieldError::PosOutOfRange { wide: true } => {
                    "positions must fit a signed 64-bit integer".to_string()
                }
                FieldError::NegativeStart => {
                    "BED-like starts count from 0; is this the right --format?".to_string()
                }
                FieldError::Strand { .. } => {
                    "is this the right --format? its strand column holds +, - or . (F or R in \
                     methylKit text files)"
                        .to_string()
                }
                FieldError::NegativeCount => {
                    "read counts cannot be negative; pct is derived from them".to_string()
                }
                FieldError::CountAboveCoverage { .. } => {
                    "t is derived as cov - c, which would be negative; is the coverage column \
                     the right one?"
                        .to_string()
                }
                FieldError::DerivedCount => {
                    "c is derived as round(cov * pct / 100) or round(cov * beta), which needs a \
                     finite level and coverage"
                        .to_string()
                }
            },
        }
    }
}

impl LineError {
    /// The error for a line longer than [`MAX_LINE_BYTES`] that starts with `line`.
    pub fn too_long(line: &[u8]) -> Self {
        LineError::TooLong {
            text: lossy(&line[..line.len().min(QUOTED_PREFIX)]),
        }
    }
}

/// The text of `bytes`, for messages.
pub(super) fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: a string continued without its `\` kept the next line's indentation, so
    /// the `--wide-pos` hint read "(axolotl, lungfish, some conifers)                      need
    /// --wide-pos".
    #[test]
    fn a_pos_beyond_i4_names_wide_pos() {
        let out_of_range = |name| LineError::Field {
            column: 2,
            name,
            text: "3000000000".into(),
            error: FieldError::Integer(IntError::OutOfRange),
        };
        assert!(out_of_range("pos").hint().contains("--wide-pos"));
        assert!(!out_of_range("c").hint().contains("--wide-pos"));
    }

    #[test]
    fn no_message_holds_a_run_of_spaces() {
        let field = |error| LineError::Field {
            column: 2,
            name: "pos",
            text: "x".into(),
            error,
        };
        let errors = [
            LineError::TooFewFields {
                found: 3,
                text: "c 1 2".into(),
            },
            LineError::TooManyFields { text: "6".into() },
            LineError::too_long(b"x"),
            LineError::BareCarriageReturn {
                column: 1,
                text: "c\r1".into(),
            },
            LineError::NonAscii {
                column: 1,
                byte: 0xc2,
                text: "\u{a0}".into(),
            },
            LineError::FieldCount {
                found: 3,
                expected: "6 columns".into(),
                text: "c 1 2".into(),
            },
            field(FieldError::ChrTooLong {
                length: 12,
                width: 10,
            }),
            field(FieldError::ChrInvalidByte { byte: 0 }),
            field(FieldError::Integer(IntError::Invalid)),
            field(FieldError::Integer(IntError::OutOfRange)),
            field(FieldError::Float(FloatError)),
            field(FieldError::PosOutOfRange { wide: false }),
            field(FieldError::PosOutOfRange { wide: true }),
            field(FieldError::NegativeStart),
            field(FieldError::Strand {
                forward_reverse: false,
            }),
            field(FieldError::Strand {
                forward_reverse: true,
            }),
            field(FieldError::NegativeCount),
            field(FieldError::CountAboveCoverage {
                count: 3,
                coverage: 2,
            }),
            field(FieldError::DerivedCount),
        ];
        for error in errors {
            for message in [error.to_string(), error.hint()] {
                assert!(!message.contains("  "), "{error:?}: {message:?}");
            }
        }
    }
}
