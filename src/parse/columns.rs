//! Lines of any [`ColumnFormat`] to packed records: the presets, `--columns`, and `native`
//! when the record has `--wide-pos` or `--extra` fields.
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
//! [`ColumnParser::parse_line`] is the general parser: every accepted form and every error.
//! The fused fast path ([`fast`]) takes the common lines in one pass and leaves anything
//! unusual, errors included, to it; both plug into the one block loop
//! ([`super::block`]). The differential test checks both against a plain reference
//! (`reference`) written from the rules above, not from this code.

mod fast;
#[cfg(test)]
mod reference;

use super::block::{parse_lines, BlockError, BlockProgress, LineStep, Outcome, Taken};
use super::error::{lossy, FieldError, LineError};
use super::fields::{check_chr, split_fields};
use super::line::with_line_rules;
use super::number::{parse_f64, parse_i32, parse_i64, IntError};
use crate::format::filter::{Context, ContextFilter, Filters, SkipReason};
use crate::format::{ColumnFormat, Role, StrandLetters};
use crate::schema::{FullRecord, Schema};

/// The most fields a line is split into; a longer line is checked against the format's
/// counts without keeping the rest.
const MAX_FIELDS: usize = 64;

/// A column format ready to parse lines: the columns' roles plus the run's schema and
/// filters.
#[derive(Clone, Debug)]
pub struct ColumnParser {
    pub format: ColumnFormat,
    pub schema: Schema,
    /// Kept contexts, when the format has a context column.
    context_filter: Option<ContextFilter>,
    /// Which roles the format has, looked up once (the hot loop asks for every line).
    has: Has,
    filters: Filters,
    /// `6 columns (bismark-cov: chr start end ...)`, for errors.
    expected: String,
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

/// The roles a format has.
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

impl ColumnParser {
    pub fn new(format: ColumnFormat, schema: Schema, filters: &Filters) -> Self {
        let expected = format!(
            "{} columns ({}: {})",
            format.field_counts.describe(),
            format.name,
            format.column_names()
        );
        let has = Has {
            mod_code: format.has(Role::ModCode),
            context: format.has(Role::Context),
            c: format.has(Role::C),
            t: format.has(Role::T),
            pct: format.has(Role::Pct),
        };
        Self {
            has,
            context_filter: format.has(Role::Context).then_some(filters.context),
            filters: filters.clone(),
            schema,
            expected,
            format,
        }
    }

    fn roles(&self) -> &[Role] {
        &self.format.roles
    }

    /// Parses one field for its role into `values`.
    fn parse_field<'a>(
        &self,
        role: Role,
        field: &'a [u8],
        values: &mut Values<'a>,
    ) -> Result<(), FieldError> {
        match role {
            Role::Chr => values.chr = check_chr(field, self.schema.chr_width())?,
            Role::Pos | Role::Start => {
                let wide = self.schema.shape().wide_pos;
                let value = parse_i64(field).map_err(|error| match error {
                    IntError::OutOfRange => FieldError::PosOutOfRange { wide },
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
        match (self.format.strand_letters, field) {
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
        let context = match self.kept_context(values) {
            Ok(context) => context,
            Err(reason) => return Ok(Outcome::Skipped(reason)),
        };
        let c = self.methylated(values)?;
        let t = self.unmethylated(values, c)?;
        let Some(pct) = self.percent(values, c, t)? else {
            return Ok(Outcome::Skipped(SkipReason::ZeroCoverage));
        };
        // Taken counts were parsed as i32; derived ones are checked above to be in
        // 0..=cov, and cov is an i32.
        self.write(values, context, pct, (c as i32, t as i32), slot);
        Ok(Outcome::Record)
    }

    /// The row filters, mod code first: the row's context, or why the row is left out.
    #[inline(always)]
    fn kept_context(&self, values: &Values<'_>) -> Result<Context, SkipReason> {
        if self.has.mod_code && !self.filters.keeps_mod_code(values.mod_code) {
            return Err(SkipReason::ModCode);
        }
        let context = if self.has.context {
            Context::classify(values.context)
        } else {
            Context::Unknown
        };
        match self.context_filter {
            Some(filter) if !filter.keeps(context) => Err(SkipReason::Context),
            _ => Ok(context),
        }
    }

    /// `c`: taken, or `round(cov * pct / 100)`, or `round(cov * beta)`.
    #[inline(always)]
    fn methylated(&self, values: &Values<'_>) -> Result<i64, RoleError> {
        if self.has.c {
            return Ok(values.c);
        }
        if values.cov < 0 {
            return Err((Role::Cov, FieldError::NegativeCount));
        }
        let level = if self.has.pct {
            (values.cov as f64 * values.pct) / 100.0
        } else {
            values.cov as f64 * values.beta
        };
        let rounded = level.round_ties_even();
        if !(rounded.is_finite() && (0.0..=f64::from(i32::MAX)).contains(&rounded)) {
            let role = if self.has.pct { Role::Pct } else { Role::Beta };
            return Err((role, FieldError::DerivedCount));
        }
        Ok(rounded as i64)
    }

    /// `t`: taken, or `cov - c`.
    #[inline(always)]
    fn unmethylated(&self, values: &Values<'_>, c: i64) -> Result<i64, RoleError> {
        if self.has.t {
            return Ok(values.t);
        }
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
        Ok(values.cov - c)
    }

    /// `pct`: taken, or `(c / (c + t)) * 100`; `None` when it would be derived from no
    /// reads at all.
    #[inline(always)]
    fn percent(&self, values: &Values<'_>, c: i64, t: i64) -> Result<Option<f32>, RoleError> {
        if self.has.pct {
            return Ok(Some(values.pct as f32));
        }
        if c < 0 || t < 0 {
            let role = if c < 0 { Role::C } else { Role::T };
            return Err((role, FieldError::NegativeCount));
        }
        if c + t == 0 {
            return Ok(None);
        }
        Ok(Some(((c as f64 / (c + t) as f64) * 100.0) as f32))
    }

    /// Writes the record: the seed's five fields, or with `--wide-pos` and the extras.
    #[inline(always)]
    fn write(
        &self,
        values: &Values<'_>,
        context: Context,
        pct: f32,
        (c, t): (i32, i32),
        slot: &mut [u8],
    ) {
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
    }

    /// The general parser: one line (without its `\n`) into `slot`, under the line rules.
    pub fn parse_line(&self, line: &[u8], slot: &mut [u8]) -> Result<Outcome, LineError> {
        with_line_rules(line, |line| self.parse_fields(line, slot))
    }

    fn parse_fields(&self, line: &[u8], slot: &mut [u8]) -> Result<Outcome, LineError> {
        let mut fields = [(0usize, 0usize); MAX_FIELDS];
        let count = split_fields(line, &mut fields);
        if count == 0 {
            return Ok(Outcome::Blank);
        }
        if !self.format.field_counts.allows(count) {
            return Err(LineError::FieldCount {
                found: count,
                expected: self.expected.clone(),
                text: lossy(&line[..line.len().min(200)]),
            });
        }
        let field = |k: usize| &line[fields[k].0..fields[k].1];
        let fail = |k: usize, error: FieldError| LineError::Field {
            column: k + 1,
            name: self.format.names.get(k).copied().unwrap_or("-"),
            text: lossy(field(k)),
            error,
        };
        let mut values = Values::default();
        for (k, &role) in self.roles().iter().enumerate() {
            self.parse_field(role, field(k), &mut values)
                .map_err(|error| fail(k, error))?;
        }
        self.assemble(&values, slot).map_err(|(role, error)| {
            let k = self.format.column(role).expect("the role has a column");
            fail(k, error)
        })
    }
}

/// [`super::parse_block`] for a column format: whole lines of `text` into consecutive
/// slots of `out`, with the rows left out counted.
pub fn parse_block(
    parser: &ColumnParser,
    text: &[u8],
    at_end: bool,
    out: &mut [u8],
) -> Result<BlockProgress, BlockError> {
    parse_lines(&mut ColumnStep(parser), text, at_end, out)
}

/// A column format's step in the block loop.
struct ColumnStep<'a>(&'a ColumnParser);

impl LineStep for ColumnStep<'_> {
    #[inline(always)]
    fn record_size(&self) -> usize {
        self.0.schema.record_size()
    }

    #[inline(always)]
    fn fast(&mut self, rest: &[u8], _at: usize, slot: &mut [u8]) -> Option<Taken> {
        fast::parse(self.0, rest, slot)
    }

    fn general(&self, line: &[u8], slot: &mut [u8]) -> Result<Outcome, LineError> {
        self.0.parse_fields(line, slot)
    }
}

#[cfg(test)]
mod tests;
