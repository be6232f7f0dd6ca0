//! A plain, obviously-correct parser of column formats, used only to check the real one
//! (as [`crate::parse::reference`] is for `native`).
//!
//! It follows the rules in the parent module's documentation word for word with std's
//! tools: split the text into lines, cut at `#`, split on the whitespace set spelled out
//! again here, parse with `str::parse`, then apply the filters and the derivation rules in
//! the order they are written. It shares nothing with the parser but the description of
//! the format (its roles, field counts and strand letters), the run's filters, and the
//! schema's way of writing a record; in particular none of the parser's helpers (splitter,
//! number scanners, role parsers, context classes, derivations), so that a mistake in one
//! of them shows up as a difference.

use crate::defaults::MAX_LINE_BYTES;
use crate::format::filter::{ContextFilter, Filters, SkipReason};
use crate::format::{ColumnFormat, FieldCounts, Role, StrandLetters};
use crate::schema::{FullRecord, Schema};

/// What the reference made of a line.
#[derive(Clone, Debug, PartialEq)]
pub enum Parsed {
    /// The record's bytes.
    Record(Vec<u8>),
    /// No fields.
    Blank,
    Skipped(SkipReason),
}

/// The values of a line's columns, by role; `None` where the format has no such column.
#[derive(Default)]
struct Columns<'a> {
    chr: Option<&'a [u8]>,
    /// The 1-based position, from a `pos` or a `start` column.
    pos: Option<i64>,
    pct: Option<f64>,
    beta: Option<f64>,
    c: Option<i64>,
    t: Option<i64>,
    cov: Option<i64>,
    strand: Option<u8>,
    /// Context and mod code columns are taken as they are, whatever their bytes.
    context: Option<&'a [u8]>,
    mod_code: Option<&'a [u8]>,
}

/// Parses one line (without its `\n`); `Err(())` for a line the parser must reject.
#[allow(clippy::result_unit_err)]
pub fn parse_line(
    format: &ColumnFormat,
    schema: &Schema,
    filters: &Filters,
    line: &[u8],
) -> Result<Parsed, ()> {
    if line.len() > MAX_LINE_BYTES {
        return Err(());
    }
    // A `\r` anywhere but at the very end (the first half of CRLF) is a line break for
    // numpy's universal newlines: refused.
    if let Some(at) = line.iter().position(|&b| b == b'\r') {
        if at + 1 != line.len() {
            return Err(());
        }
    }
    let data = match line.iter().position(|&b| b == b'#') {
        Some(hash) => &line[..hash],
        None => line,
    };
    let fields: Vec<&[u8]> = data
        .split(|b| b"\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f ".contains(b))
        .filter(|field| !field.is_empty())
        .collect();
    if fields.is_empty() {
        return Ok(Parsed::Blank);
    }
    let count_allowed = match &format.field_counts {
        FieldCounts::OneOf(counts) => counts.contains(&fields.len()),
        FieldCounts::AtLeast(least) => fields.len() >= *least,
    };
    if !count_allowed {
        return Err(());
    }
    let columns = read_columns(format, schema, &fields)?;
    assemble(schema, filters, &columns)
}

/// Every column the format reads, parsed for its role. A column that breaks its role's
/// rule rejects the line, before any filter is looked at.
fn read_columns<'a>(
    format: &ColumnFormat,
    schema: &Schema,
    fields: &[&'a [u8]],
) -> Result<Columns<'a>, ()> {
    let mut columns = Columns::default();
    let wide = schema.shape().wide_pos;
    for (k, role) in format.roles.iter().enumerate() {
        let field = fields[k];
        let text = || std::str::from_utf8(field).map_err(|_| ());
        let int = || Ok(i64::from(text()?.parse::<i32>().map_err(|_| ())?));
        let float = || text()?.parse::<f64>().map_err(|_| ());
        // In the pos field: an i32, or any i64 with --wide-pos.
        let in_range = |pos: i64| {
            (wide || i32::try_from(pos).is_ok())
                .then_some(pos)
                .ok_or(())
        };
        match role {
            Role::Chr => {
                if field.len() > schema.chr_width() || !field.iter().all(u8::is_ascii_graphic) {
                    return Err(());
                }
                columns.chr = Some(field);
            }
            Role::Pos => {
                let pos = text()?.parse::<i64>().map_err(|_| ())?;
                columns.pos = Some(in_range(pos)?);
            }
            Role::Start => {
                let start = text()?.parse::<i64>().map_err(|_| ())?;
                if start < 0 {
                    return Err(());
                }
                columns.pos = Some(in_range(start.checked_add(1).ok_or(())?)?);
            }
            Role::Pct => columns.pct = Some(float()?),
            Role::Beta => columns.beta = Some(float()?),
            Role::C => columns.c = Some(int()?),
            Role::T => columns.t = Some(int()?),
            Role::Cov => columns.cov = Some(int()?),
            Role::Strand => {
                columns.strand = Some(match (format.strand_letters, field) {
                    (StrandLetters::Signs, b"+") => b'+',
                    (StrandLetters::Signs, b"-") => b'-',
                    (StrandLetters::Signs, b".") => b'.',
                    (StrandLetters::ForwardReverse, b"F") => b'+',
                    (StrandLetters::ForwardReverse, b"R") => b'-',
                    _ => return Err(()),
                })
            }
            Role::Context => columns.context = Some(field),
            Role::ModCode => columns.mod_code = Some(field),
            Role::Ignore => {}
        }
    }
    Ok(columns)
}

/// The context class of a context column: `CG`, `CHG`, `CHH` as written, else read from a
/// sequence starting with the C (H is A, C or T); `""` when it is none of them. Any case.
fn context_class(field: &[u8]) -> &'static str {
    let upper = field.to_ascii_uppercase();
    let h = |b: u8| b == b'A' || b == b'C' || b == b'T';
    match upper.as_slice() {
        b"CG" => "CG",
        b"CHG" => "CHG",
        b"CHH" => "CHH",
        [b'C', b'G', _, ..] => "CG",
        [b'C', second, b'G', ..] if h(*second) => "CHG",
        [b'C', second, third, ..] if h(*second) && h(*third) => "CHH",
        _ => "",
    }
}

/// The filters, then `pos`, `c`, `t` and `pct` by the rules, then the record.
fn assemble(schema: &Schema, filters: &Filters, columns: &Columns<'_>) -> Result<Parsed, ()> {
    // Filters first, mod code before context.
    if let (Some(name), Some(kept)) = (columns.mod_code, &filters.mod_codes) {
        let code = name.split(|&b| b == b',').next().unwrap_or(b"");
        if !kept.iter().any(|kept| kept.as_slice() == code) {
            return Ok(Parsed::Skipped(SkipReason::ModCode));
        }
    }
    let context = columns.context.map_or("", context_class);
    if columns.context.is_some() {
        let kept = match filters.context {
            ContextFilter::All => true,
            ContextFilter::Cg => context == "CG",
            ContextFilter::Chg => context == "CHG",
            ContextFilter::Chh => context == "CHH",
            ContextFilter::Ch => context == "CHG" || context == "CHH",
        };
        if !kept {
            return Ok(Parsed::Skipped(SkipReason::Context));
        }
    }
    let pos = columns.pos.ok_or(())?;
    // c: taken, or round(cov * pct / 100), or round(cov * beta), ties to even.
    let c = match (columns.c, columns.cov) {
        (Some(c), _) => c,
        (None, Some(cov)) if cov >= 0 => {
            let level = match (columns.pct, columns.beta) {
                (Some(pct), _) => cov as f64 * pct / 100.0,
                (None, Some(beta)) => cov as f64 * beta,
                (None, None) => return Err(()),
            };
            let rounded = level.round_ties_even();
            if !rounded.is_finite() || rounded < 0.0 || rounded > f64::from(i32::MAX) {
                return Err(());
            }
            rounded as i64
        }
        _ => return Err(()),
    };
    // t: taken, or cov - c, which must not be negative.
    let t = match (columns.t, columns.cov) {
        (Some(t), _) => t,
        (None, Some(cov)) if cov >= 0 && c >= 0 && cov >= c => cov - c,
        _ => return Err(()),
    };
    // pct: taken, or (c / (c + t)) * 100 in double precision; rows without reads are left
    // out.
    let pct = match columns.pct {
        Some(pct) => pct as f32,
        None if c < 0 || t < 0 => return Err(()),
        None if c + t == 0 => return Ok(Parsed::Skipped(SkipReason::ZeroCoverage)),
        None => ((c as f64 / (c + t) as f64) * 100.0) as f32,
    };
    let chr = columns.chr.ok_or(())?;
    let (c, t) = (
        i32::try_from(c).map_err(|_| ())?,
        i32::try_from(t).map_err(|_| ())?,
    );
    let mut slot = vec![0; schema.record_size()];
    if schema.is_plain() {
        schema.write_record(&mut slot, chr, pos as i32, pct, c, t);
    } else {
        schema.write_full(
            &mut slot,
            &FullRecord {
                chr,
                pos,
                pct,
                c,
                t,
                strand: columns.strand.unwrap_or(b'.'),
                context: context.as_bytes(),
            },
        );
    }
    Ok(Parsed::Record(slot))
}

/// Parses a whole text: the records, one after the other, and the rows left out by reason;
/// `Err(k)` names the 0-based index of the first rejected line.
pub fn parse_text(
    format: &ColumnFormat,
    schema: &Schema,
    filters: &Filters,
    text: &[u8],
) -> Result<(Vec<u8>, [u64; 3]), u64> {
    let mut lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
    if text.ends_with(b"\n") {
        lines.pop();
    }
    let mut records = Vec::new();
    let mut skipped = [0; 3];
    for (index, line) in lines.into_iter().enumerate() {
        match parse_line(format, schema, filters, line).map_err(|()| index as u64)? {
            Parsed::Record(record) => records.extend_from_slice(&record),
            Parsed::Blank => {}
            Parsed::Skipped(reason) => skipped[reason as usize] += 1,
        }
    }
    Ok((records, skipped))
}
