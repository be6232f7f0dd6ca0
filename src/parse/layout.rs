//! Lines of any [`Layout`] to packed records: the presets, `--columns`, and `native` when
//! the record has `--wide-pos` or `--extra` fields.
//!
//! A line is split into fields exactly as for `native` (runs of ASCII whitespace, `#`
//! comments, blank lines, CRLF); its columns are parsed by role, and the record assembled
//! by the rules of the issue that defined the presets:
//!
//! - `pos` = the 1-based position, or a 0-based start + 1;
//! - `c` is taken, or `round(cov * pct / 100)`, or `round(cov * beta)`, where round is to
//!   the nearest integer with ties to even, of the double computed left to right;
//! - `t` is taken, or `cov - c`;
//! - `pct` is taken (the double the text denotes, rounded to float32), or derived as
//!   `(c / (c + t)) * 100` in double precision, then rounded to float32.
//!
//! Rows are left out, and counted by reason ([`SkipReason`]), when their mod code or context
//! is not asked for, or when `pct` must be derived and `c + t = 0`.
//!
//! [`LineLayout::parse_line`] is the general parser: every accepted form and every error.
//! The fused fast path ([`fast`]) takes the common lines in one pass and leaves anything
//! unusual, errors included, to it.

mod fast;

use super::{
    bare_carriage_return, explain_non_ascii, lossy, parse_f64, parse_i32, parse_i64, split_fields,
    FieldError, LineError,
};
use crate::layout::filter::{Context, Filters, SkipReason};
use crate::layout::{Layout, Role, StrandLetters};
use crate::schema::{FullRecord, Schema};

/// The most fields a line is split into; a longer line is checked against the layout's
/// counts without keeping the rest.
const MAX_FIELDS: usize = 64;

/// A layout ready to parse lines: the columns' roles plus the run's schema and filters.
#[derive(Clone, Debug)]
pub struct LineLayout {
    pub layout: Layout,
    pub schema: Schema,
    /// Kept contexts, when the layout has a context column.
    context_filter: Option<crate::layout::filter::ContextFilter>,
    /// Which roles the layout has, looked up once (the hot loop asks for every line).
    has: Has,
    filters: Filters,
    /// `6 columns (bismark-cov: chr start end ...)`, for errors.
    expected: String,
}

/// What a line gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A record was written to the slot.
    Record,
    /// No fields (blank or comment).
    Blank,
    /// A data line left out on purpose.
    Skipped(SkipReason),
}

/// A line's values, column by column, before the record is assembled.
#[derive(Clone, Copy, Debug)]
struct Values<'a> {
    chr: &'a [u8],
    pos: i64,
    pct: f64,
    beta: f64,
    c: i64,
    t: i64,
    cov: i64,
    strand: u8,
    context: &'a [u8],
    mod_code: &'a [u8],
}

impl Default for Values<'_> {
    fn default() -> Self {
        Self {
            chr: b"",
            pos: 0,
            pct: 0.0,
            beta: 0.0,
            c: 0,
            t: 0,
            cov: 0,
            strand: b'.',
            context: b"",
            mod_code: b"",
        }
    }
}

/// The roles a layout has.
#[derive(Clone, Copy, Debug)]
struct Has {
    mod_code: bool,
    context: bool,
    c: bool,
    t: bool,
    pct: bool,
}

/// A failed rule, by role: the caller turns it into a [`LineError`] for its column.
type RoleError = (Role, FieldError);

impl LineLayout {
    pub fn new(layout: Layout, schema: Schema, filters: &Filters) -> Self {
        let expected = format!(
            "{} columns ({}: {})",
            layout.field_counts.describe(),
            layout.format,
            layout.column_names()
        );
        let has = Has {
            mod_code: layout.has(Role::ModCode),
            context: layout.has(Role::Context),
            c: layout.has(Role::C),
            t: layout.has(Role::T),
            pct: layout.has(Role::Pct),
        };
        Self {
            has,
            context_filter: layout.has(Role::Context).then_some(filters.context),
            filters: filters.clone(),
            schema,
            expected,
            layout,
        }
    }

    fn roles(&self) -> &[Role] {
        &self.layout.roles
    }

    /// Parses one field for its role into `values`.
    fn parse_field<'a>(
        &self,
        role: Role,
        field: &'a [u8],
        values: &mut Values<'a>,
    ) -> Result<(), FieldError> {
        match role {
            Role::Chr => {
                if field.len() > self.schema.chr_width() {
                    return Err(FieldError::ChrTooLong {
                        length: field.len(),
                        width: self.schema.chr_width(),
                    });
                }
                if let Some(&byte) = field.iter().find(|b| !b.is_ascii_graphic()) {
                    return Err(FieldError::ChrInvalidByte { byte });
                }
                values.chr = field;
            }
            Role::Pos | Role::Start => {
                let wide = self.schema.shape().wide_pos;
                let value = parse_i64(field).map_err(|error| match error {
                    super::IntError::OutOfRange => FieldError::PosOutOfRange { wide },
                    error => FieldError::Integer(error),
                })?;
                values.pos = self.position(role, value)?;
            }
            Role::Pct => values.pct = parse_f64(field).map_err(FieldError::Float)?,
            Role::Beta => values.beta = parse_f64(field).map_err(FieldError::Float)?,
            Role::C => values.c = i64::from(parse_i32(field).map_err(FieldError::Integer)?),
            Role::T => values.t = i64::from(parse_i32(field).map_err(FieldError::Integer)?),
            Role::Cov => values.cov = i64::from(parse_i32(field).map_err(FieldError::Integer)?),
            Role::Strand => values.strand = self.strand(field)?,
            Role::Context => values.context = field,
            Role::ModCode => values.mod_code = field,
            Role::Ignore => {}
        }
        Ok(())
    }

    /// The record's `pos` from a position or a 0-based start.
    #[inline]
    fn position(&self, role: Role, value: i64) -> Result<i64, FieldError> {
        let wide = self.schema.shape().wide_pos;
        let pos = if role == Role::Start {
            if value < 0 {
                return Err(FieldError::NegativeStart);
            }
            value
                .checked_add(1)
                .ok_or(FieldError::PosOutOfRange { wide })?
        } else {
            value
        };
        if !wide && i32::try_from(pos).is_err() {
            return Err(FieldError::PosOutOfRange { wide });
        }
        Ok(pos)
    }

    #[inline]
    fn strand(&self, field: &[u8]) -> Result<u8, FieldError> {
        match (self.layout.strand_letters, field) {
            (StrandLetters::Signs, [sign @ (b'+' | b'-' | b'.')]) => Ok(*sign),
            (StrandLetters::ForwardReverse, b"F") => Ok(b'+'),
            (StrandLetters::ForwardReverse, b"R") => Ok(b'-'),
            (letters, _) => Err(FieldError::Strand {
                forward_reverse: letters == StrandLetters::ForwardReverse,
            }),
        }
    }

    /// Applies the filters and the derivation rules, and writes the record.
    #[inline]
    fn assemble(&self, values: &Values<'_>, slot: &mut [u8]) -> Result<Outcome, RoleError> {
        let has = self.has;
        if has.mod_code && !self.filters.keeps_mod_code(values.mod_code) {
            return Ok(Outcome::Skipped(SkipReason::ModCode));
        }
        let context = if has.context {
            Context::classify(values.context)
        } else {
            Context::Unknown
        };
        if let Some(filter) = self.context_filter {
            if !filter.keeps(context) {
                return Ok(Outcome::Skipped(SkipReason::Context));
            }
        }
        let c = if has.c {
            values.c
        } else {
            if values.cov < 0 {
                return Err((Role::Cov, FieldError::NegativeCount));
            }
            let level = if has.pct {
                (values.cov as f64 * values.pct) / 100.0
            } else {
                values.cov as f64 * values.beta
            };
            let rounded = level.round_ties_even();
            if !(rounded.is_finite() && (0.0..=f64::from(i32::MAX)).contains(&rounded)) {
                let role = if has.pct { Role::Pct } else { Role::Beta };
                return Err((role, FieldError::DerivedCount));
            }
            rounded as i64
        };
        let t = if has.t {
            values.t
        } else {
            if values.cov < 0 || c < 0 {
                let role = if values.cov < 0 { Role::Cov } else { Role::C };
                return Err((role, FieldError::NegativeCount));
            }
            if values.cov < c {
                return Err((
                    Role::Cov,
                    FieldError::CountAboveCoverage {
                        count: c,
                        coverage: values.cov,
                    },
                ));
            }
            values.cov - c
        };
        let pct = if has.pct {
            values.pct as f32
        } else {
            if c < 0 || t < 0 {
                let role = if c < 0 { Role::C } else { Role::T };
                return Err((role, FieldError::NegativeCount));
            }
            if c + t == 0 {
                return Ok(Outcome::Skipped(SkipReason::ZeroCoverage));
            }
            ((c as f64 / (c + t) as f64) * 100.0) as f32
        };
        // Taken counts were parsed as i32; derived ones are checked above to be in
        // 0..=cov, and cov is an i32.
        let (c, t) = (c as i32, t as i32);
        if self.schema.is_plain() {
            self.schema
                .write_record(slot, values.chr, values.pos as i32, pct, c, t);
        } else {
            self.schema.write_full(
                slot,
                &FullRecord {
                    chr: values.chr,
                    pos: values.pos,
                    pct,
                    c,
                    t,
                    strand: values.strand,
                    context: context.label(),
                },
            );
        }
        Ok(Outcome::Record)
    }

    /// The general parser: one line (without its `\n`) into `slot`.
    pub fn parse_line(&self, line: &[u8], slot: &mut [u8]) -> Result<Outcome, LineError> {
        if let Some(error) = bare_carriage_return(line) {
            return Err(error);
        }
        self.parse_fields(line, slot)
            .map_err(|error| explain_non_ascii(line, error))
    }

    fn parse_fields(&self, line: &[u8], slot: &mut [u8]) -> Result<Outcome, LineError> {
        let mut fields = [(0usize, 0usize); MAX_FIELDS];
        let count = split_fields(line, &mut fields);
        if count == 0 {
            return Ok(Outcome::Blank);
        }
        if !self.layout.field_counts.allows(count) {
            return Err(LineError::FieldCount {
                found: count,
                expected: self.expected.clone(),
                text: lossy(&line[..line.len().min(200)]),
            });
        }
        let field = |k: usize| &line[fields[k].0..fields[k].1];
        let fail = |k: usize, error: FieldError| LineError::Field {
            column: k + 1,
            name: self.layout.names.get(k).copied().unwrap_or("-"),
            text: lossy(field(k)),
            error,
        };
        let mut values = Values::default();
        for (k, &role) in self.roles().iter().enumerate() {
            self.parse_field(role, field(k), &mut values)
                .map_err(|error| fail(k, error))?;
        }
        self.assemble(&values, slot).map_err(|(role, error)| {
            let k = self.layout.column(role).expect("the role has a column");
            fail(k, error)
        })
    }
}

/// [`super::parse_block`] for a layout: whole lines of `text` into consecutive slots of
/// `out`, with the rows left out counted.
pub fn parse_block(
    layout: &LineLayout,
    text: &[u8],
    at_end: bool,
    out: &mut [u8],
) -> Result<super::BlockProgress, super::BlockError> {
    let record_size = layout.schema.record_size();
    let mut block = super::BlockProgress::default();
    let mut slots = out.chunks_exact_mut(record_size);
    let mut slot = slots.next();
    while block.consumed < text.len() {
        let Some(current) = slot.as_deref_mut() else {
            break;
        };
        let rest = &text[block.consumed..];
        let (outcome, advance) = match fast::parse(layout, rest, current) {
            Some(fast::Line {
                length, newline, ..
            }) if length > super::MAX_LINE_BYTES
                && length - usize::from(newline) > super::MAX_LINE_BYTES =>
            {
                return Err(super::too_long(rest, block.lines));
            }
            Some(fast::Line {
                outcome,
                length,
                newline,
            }) if newline || at_end => (outcome, length),
            // A final line without its newline, while more text may follow.
            Some(_) => break,
            None => {
                let (line, advance) = match memchr::memchr(b'\n', rest) {
                    Some(end) => (&rest[..end], end + 1),
                    None if at_end => (rest, rest.len()),
                    None => break,
                };
                if line.len() > super::MAX_LINE_BYTES {
                    return Err(super::too_long(line, block.lines));
                }
                let outcome =
                    layout
                        .parse_line(line, current)
                        .map_err(|error| super::BlockError {
                            line_index: block.lines,
                            error,
                        })?;
                (outcome, advance)
            }
        };
        block.consumed += advance;
        block.lines += 1;
        match outcome {
            Outcome::Record => {
                block.rows += 1;
                slot = slots.next();
            }
            Outcome::Blank => {}
            Outcome::Skipped(reason) => block.skipped.count(reason),
        }
    }
    Ok(block)
}

#[cfg(test)]
mod tests;
