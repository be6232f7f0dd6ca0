//! The fused fast path for layouts: one pass over a common line, converting each column by
//! its role as the scan meets it, as `parse::fast` does for `native`.
//!
//! Anything unusual (leading blanks, a blank or comment line, a number in a form the
//! primitives leave to the general parsers, a value the rules reject) returns `None`, and
//! [`LineLayout::parse_line`], which produces every error, decides. So this path only has
//! to be right on what it accepts; the differential tests check it against the general one.

use super::{LineLayout, Outcome, Values};
use crate::layout::Role;
use crate::parse::fast::{blanks, integer, integer_digits, line_end, plain_decimal, BLANK, CHR};
use crate::parse::{CLASS, FIELD};

/// A line the fast path took.
pub struct Line {
    pub outcome: Outcome,
    /// Bytes of the line, with its `\n` if `newline`.
    pub length: usize,
    pub newline: bool,
}

/// Scans a field of any bytes but whitespace and `#`; `None` if empty.
#[inline(always)]
fn any_field(text: &[u8], mut i: usize) -> Option<usize> {
    let start = i;
    while i < text.len() && CLASS[text[i] as usize] == FIELD {
        i += 1;
    }
    (i > start).then_some(i)
}

/// Tries the fast path on the line at the start of `text`.
#[inline]
pub fn parse(layout: &LineLayout, text: &[u8], slot: &mut [u8]) -> Option<Line> {
    let mut values = Values::default();
    let mut i = 0;
    for (k, &role) in layout.roles().iter().enumerate() {
        if k > 0 {
            i = blanks(text, i)?;
        }
        let start = i;
        match role {
            Role::Chr => {
                while i < text.len() && CHR[text[i] as usize] {
                    i += 1;
                }
                if i == start || i - start > layout.schema.chr_width() {
                    return None;
                }
                values.chr = &text[start..i];
            }
            Role::Pos | Role::Start => {
                let (value, end) = integer_digits(text, i, 18)?;
                values.pos = layout.position(role, value).ok()?;
                i = end;
            }
            Role::C | Role::T | Role::Cov => {
                let (value, end) = integer(text, i)?;
                let value = i64::from(value);
                match role {
                    Role::C => values.c = value,
                    Role::T => values.t = value,
                    _ => values.cov = value,
                }
                i = end;
            }
            Role::Pct | Role::Beta => {
                let (value, end) = match plain_decimal(text, i) {
                    Some(parsed) => parsed,
                    None => {
                        let (value, used) =
                            fast_float2::parse_partial::<f64, _>(&text[i..]).ok()?;
                        (value, i + used)
                    }
                };
                if role == Role::Pct {
                    values.pct = value;
                } else {
                    values.beta = value;
                }
                i = end;
            }
            Role::Strand | Role::Context | Role::ModCode | Role::Ignore => {
                i = any_field(text, i)?;
                let field = &text[start..i];
                match role {
                    Role::Strand => values.strand = layout.strand(field).ok()?,
                    Role::Context => values.context = field,
                    Role::ModCode => values.mod_code = field,
                    _ => {}
                }
            }
        }
    }
    // The columns after the last one read: counted, not kept.
    let mut count = layout.roles().len();
    loop {
        let mut j = i;
        while j < text.len() && BLANK[text[j] as usize] {
            j += 1;
        }
        match text.get(j) {
            None | Some(b'\n' | b'\r' | b'#') => {
                i = j;
                break;
            }
            // A field glued to the one before it ("12x").
            Some(_) if j == i => return None,
            Some(_) => {
                i = any_field(text, j)?;
                count += 1;
            }
        }
    }
    if !layout.layout.field_counts.allows(count) {
        return None;
    }
    let (length, newline) = line_end(text, i)?;
    let outcome = layout.assemble(&values, slot).ok()?;
    Some(Line {
        outcome,
        length,
        newline,
    })
}
