//! The fused fast path for column formats: one pass over a common line, converting each
//! column by its role as the scan meets it, as `parse::fast` does for `native`.
//!
//! Anything unusual (leading blanks, a blank or comment line, a number in a form the
//! primitives leave to the general parsers, a value the rules reject) returns `None`, and
//! [`ColumnParser::parse_line`], which produces every error, decides. So this path only has
//! to be right on what it accepts; the differential tests check it against the general
//! parser and a plain reference.

use super::{ColumnParser, Values};
use crate::format::classes::{BLANK, CLASS, FIELD};
use crate::format::Role;
use crate::parse::block::Taken;
use crate::parse::fast::{blanks, chr_field, decimal, integer, integer_digits, line_end};

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
pub fn parse(parser: &ColumnParser, text: &[u8], slot: &mut [u8]) -> Option<Taken> {
    let mut values = Values::default();
    let mut i = 0;
    for (k, &role) in parser.roles().iter().enumerate() {
        if k > 0 {
            i = blanks(text, i)?;
        }
        i = read_column(parser, role, text, i, &mut values)?;
    }
    let (i, count) = count_unread_columns(text, i, parser.roles().len())?;
    if !parser.format.field_counts.allows(count) {
        return None;
    }
    let (length, newline) = line_end(text, i)?;
    let outcome = parser.assemble(&values, slot).ok()?;
    Some(Taken {
        outcome,
        length,
        newline,
    })
}

/// Reads the column that starts at `start` for its role into `values`; returns the index
/// after it.
#[inline(always)]
fn read_column<'t>(
    parser: &ColumnParser,
    role: Role,
    text: &'t [u8],
    start: usize,
    values: &mut Values<'t>,
) -> Option<usize> {
    let end = match role {
        Role::Chr => {
            let end = chr_field(text, start, parser.schema.chr_width())?;
            values.chr = &text[start..end];
            end
        }
        Role::Pos | Role::Start => {
            let (value, end) = integer_digits(text, start, 18)?;
            values.pos = parser.position(role, value).ok()?;
            end
        }
        Role::C | Role::T | Role::Cov => {
            let (value, end) = integer(text, start)?;
            let value = i64::from(value);
            match role {
                Role::C => values.c = value,
                Role::T => values.t = value,
                _ => values.cov = value,
            }
            end
        }
        Role::Pct | Role::Beta => {
            let (value, end) = decimal(text, start)?;
            if role == Role::Pct {
                values.pct = value;
            } else {
                values.beta = value;
            }
            end
        }
        Role::Strand | Role::Context | Role::ModCode | Role::Ignore => {
            let end = any_field(text, start)?;
            let field = &text[start..end];
            match role {
                Role::Strand => values.strand = parser.strand(field).ok()?,
                Role::Context => values.context = field,
                Role::ModCode => values.mod_code = field,
                _ => {}
            }
            end
        }
    };
    Some(end)
}

/// The columns after the last one read, from `i`: counted, not kept. Returns where the
/// line's data ends (at its blanks' end: a line end or a comment follows) and the line's
/// field count, `read` of them read; `None` for a field glued to the one before it
/// (`12x`), which the general parser reports.
#[inline(always)]
fn count_unread_columns(text: &[u8], mut i: usize, read: usize) -> Option<(usize, usize)> {
    let mut count = read;
    loop {
        let mut j = i;
        while j < text.len() && BLANK[text[j] as usize] {
            j += 1;
        }
        match text.get(j) {
            None | Some(b'\n' | b'\r' | b'#') => return Some((j, count)),
            Some(_) if j == i => return None,
            Some(_) => {
                i = any_field(text, j)?;
                count += 1;
            }
        }
    }
}
