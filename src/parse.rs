//! Text lines to packed records: the hot loop.
//!
//! Accepts exactly what `numpy.loadtxt(path, dtype=<the record dtype>)` accepts (numpy's
//! C reader with `delimiter=None`, `comments='#'`): fields are separated by runs of ASCII
//! whitespace (numpy's `Py_UNICODE_ISSPACE`), `#` starts a comment anywhere on a line, a
//! line with no fields is skipped, and a line with fields must have exactly five. Where
//! numpy silently alters data we refuse instead: a `chr` longer than the field (numpy
//! truncates) and non-printable or non-ASCII bytes in `chr` (numpy re-encodes them).
//!
//! The caller owns every buffer: [`parse_block`] writes records into a caller-provided slice
//! and allocates nothing per line; only an error builds a `String`.

mod fast;
#[cfg(test)]
mod fuzz;
pub mod layout;
mod number;
pub mod reference;
pub mod scan;
mod swar;

pub use number::{parse_f32_via_f64, parse_f64, parse_i32, parse_i64, FloatError, IntError};

use crate::layout::filter::{Filters, Skipped};
use crate::layout::{Header, Layout};
use crate::schema::{Schema, FIELD_NAMES};
pub use scan::{Kernel, Scanning};

/// The longest line accepted, in bytes, newline excluded. A methylation call line is under
/// 200 bytes; a longer "line" is a file with no newlines (binary data, CR-only line ends).
/// Every reader bounds the text it holds by this limit, so such a file is refused with its
/// line number while memory stays flat, instead of being buffered whole.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// How much of an over-long line an error message quotes.
const QUOTED_PREFIX: usize = 40;

/// Byte classes of the field splitter.
const FIELD: u8 = 0;
const SPACE: u8 = 1;
const COMMENT: u8 = 2;

/// `\t \n \v \f \r`, `\x1c`..`\x1f` and space: the ASCII part of `Py_UNICODE_ISSPACE`.
/// The one definition of whitespace; the fast path derives its table from it.
const fn byte_classes() -> [u8; 256] {
    let mut table = [FIELD; 256];
    let spaces = b"\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f ";
    let mut i = 0;
    while i < spaces.len() {
        table[spaces[i] as usize] = SPACE;
        i += 1;
    }
    table[b'#' as usize] = COMMENT;
    table
}
static CLASS: [u8; 256] = byte_classes();

/// Whether `byte` separates fields (numpy's whitespace set restricted to ASCII).
pub fn is_field_separator(byte: u8) -> bool {
    CLASS[byte as usize] == SPACE
}

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
    /// Not a strand the layout writes.
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
    /// A line of a layout other than `native` with the wrong number of fields.
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
            LineError::Field { error, .. } => match error {
                FieldError::ChrTooLong { length, .. } => format!(
                    "raise --chr-width to at least {length} (numpy would silently truncate this name)"
                ),
                FieldError::ChrInvalidByte { .. } => {
                    "chromosome names must be printable ASCII without spaces".to_string()
                }
                FieldError::Integer(IntError::Invalid) => {
                    "expected a whole number such as 10468: optional sign, digits only".to_string()
                }
                FieldError::Integer(IntError::OutOfRange) => {
                    "the value does not fit the <i4 field; numpy rejects it too".to_string()
                }
                FieldError::Float(_) => {
                    "expected a decimal number such as 57.1428571428571, 1e-3, nan or inf"
                        .to_string()
                }
                FieldError::PosOutOfRange { wide: false } => {
                    "chromosomes longer than 2^31 - 1 bases (axolotl, lungfish, some conifers)                      need --wide-pos, which stores pos as <i8"
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

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Parses one line (without its `\n`) into `slot`.
///
/// Returns `Ok(true)` when a record was written, `Ok(false)` for a blank or comment-only
/// line (the slot is left untouched).
#[inline]
pub fn parse_line(schema: &Schema, line: &[u8], slot: &mut [u8]) -> Result<bool, LineError> {
    match fast::parse(schema, line, slot) {
        fast::Fast::Record { .. } => Ok(true),
        fast::Fast::Fallback => parse_line_general(schema, line, slot),
    }
}

/// The general parser: every accepted form and every error.
fn parse_line_general(schema: &Schema, line: &[u8], slot: &mut [u8]) -> Result<bool, LineError> {
    if let Some(error) = bare_carriage_return(line) {
        return Err(error);
    }
    parse_fields(schema, line, slot).map_err(|error| explain_non_ascii(line, error))
}

/// A `\r` that does not end the line (the line arrives without its `\n`; a final `\r` is
/// the first half of CRLF, or ends the file). numpy reads text files with universal
/// newlines, so for it a lone `\r` is a line break; taking it for a space, as the field
/// splitter would, could make one row of what numpy reads as two lines, or as an error.
fn bare_carriage_return(line: &[u8]) -> Option<LineError> {
    let at = memchr::memchr(b'\r', line)?;
    if at + 1 == line.len() {
        return None;
    }
    Some(LineError::BareCarriageReturn {
        column: column_at(line, at),
        text: lossy(&line[..line.len().min(QUOTED_PREFIX)]),
    })
}

/// Why a line no layout can read is unreadable, when the reason is one every layout shares:
/// a lone `\r`, or a non-ASCII byte outside a comment (most often a Unicode space). `auto`
/// reports these as the parser would.
pub fn explain_unplaceable(line: &[u8]) -> Option<LineError> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if let Some(error) = bare_carriage_return(line) {
        return Some(error);
    }
    let placeholder = LineError::TooLong {
        text: String::new(),
    };
    match explain_non_ascii(line, placeholder) {
        error @ LineError::NonAscii { .. } => Some(error),
        _ => None,
    }
}

/// The 1-based column of the field that holds (or would hold) byte `at` of `line`.
fn column_at(line: &[u8], at: usize) -> usize {
    let mut column = 0;
    let mut in_field = false;
    for &byte in &line[..=at.min(line.len() - 1)] {
        let field = CLASS[byte as usize] != SPACE;
        if field && !in_field {
            column += 1;
        }
        in_field = field;
    }
    column.max(1)
}

/// When a line with a non-ASCII byte outside its comment fails, that byte is why: most
/// often a Unicode space (U+00A0 no-break space is `c2 a0`) that numpy, reading UTF-8
/// text, takes for a separator and txt2h5 does not. Name it instead of the symptom (a
/// missing column, a bad number). Bad names keep their own, more precise error.
fn explain_non_ascii(line: &[u8], error: LineError) -> LineError {
    if let LineError::Field {
        error: FieldError::ChrInvalidByte { .. } | FieldError::ChrTooLong { .. },
        ..
    } = error
    {
        return error;
    }
    let data = &line[..memchr::memchr(b'#', line).unwrap_or(line.len())];
    let Some(at) = data.iter().position(|&byte| byte >= 0x80) else {
        return error;
    };
    let start = data[..at]
        .iter()
        .rposition(|&byte| is_field_separator(byte))
        .map_or(0, |separator| separator + 1);
    let end = data[at..]
        .iter()
        .position(|&byte| is_field_separator(byte))
        .map_or(data.len(), |separator| at + separator);
    LineError::NonAscii {
        column: column_at(line, at),
        byte: data[at],
        text: lossy(&data[start..end]),
    }
}

/// Splits a line into fields (runs of non-whitespace before any `#`): stores the bounds of
/// the first `fields.len()` in `fields` and returns how many the line has in all. The one
/// splitter of the general parsers, native and layout alike.
fn split_fields(line: &[u8], fields: &mut [(usize, usize)]) -> usize {
    let mut count = 0;
    let mut i = 0;
    let len = line.len();
    'split: loop {
        while i < len {
            match CLASS[line[i] as usize] {
                SPACE => i += 1,
                COMMENT => break 'split,
                _ => break,
            }
        }
        if i == len {
            break;
        }
        let start = i;
        while i < len && CLASS[line[i] as usize] == FIELD {
            i += 1;
        }
        if let Some(slot) = fields.get_mut(count) {
            *slot = (start, i);
        }
        count += 1;
    }
    count
}

/// Splits a line into its five fields and parses them.
fn parse_fields(schema: &Schema, line: &[u8], slot: &mut [u8]) -> Result<bool, LineError> {
    // Room for a sixth, to quote it when there are too many.
    let mut fields = [(0usize, 0usize); 6];
    match split_fields(line, &mut fields) {
        0 => return Ok(false),
        5 => {}
        found if found > 5 => {
            return Err(LineError::TooManyFields {
                text: lossy(&line[fields[5].0..fields[5].1]),
            })
        }
        found => {
            return Err(LineError::TooFewFields {
                found,
                text: lossy(line),
            })
        }
    }
    let field = |k: usize| &line[fields[k].0..fields[k].1];
    let fail = |k: usize, error: FieldError| LineError::Field {
        column: k + 1,
        name: FIELD_NAMES[k],
        text: lossy(field(k)),
        error,
    };

    let chr = field(0);
    if chr.len() > schema.chr_width() {
        return Err(fail(
            0,
            FieldError::ChrTooLong {
                length: chr.len(),
                width: schema.chr_width(),
            },
        ));
    }
    if let Some(&byte) = chr.iter().find(|b| !b.is_ascii_graphic()) {
        return Err(fail(0, FieldError::ChrInvalidByte { byte }));
    }
    let int = |k: usize| parse_i32(field(k)).map_err(|e| fail(k, FieldError::Integer(e)));
    let pos = int(1)?;
    let pct = parse_f32_via_f64(field(2)).map_err(|e| fail(2, FieldError::Float(e)))?;
    let c = int(3)?;
    let t = int(4)?;
    schema.write_record(slot, chr, pos, pct, c, t);
    Ok(true)
}

/// How far [`parse_block`] got.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockProgress {
    /// Bytes of the text consumed (always whole lines, with their `\n`).
    pub consumed: usize,
    /// Lines consumed, blank and comment lines included.
    pub lines: u64,
    /// Records written to the front of the output slice.
    pub rows: usize,
    /// Data lines left out on purpose, by reason (layouts other than `native` only).
    pub skipped: Skipped,
}

/// A line of a block that failed to parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockError {
    /// 0-based index of the line within the block.
    pub line_index: u64,
    pub error: LineError,
}

/// The error for the over-long line at the start of `rest`, kept out of the hot loop.
#[cold]
#[inline(never)]
fn too_long(rest: &[u8], line_index: u64) -> BlockError {
    BlockError {
        line_index,
        error: LineError::too_long(rest),
    }
}

/// How one file's lines become records: the seed's fast path for `native` files into the
/// seed's record, the layout parser for everything else.
#[derive(Clone, Debug)]
pub enum LineParser {
    Native(Schema),
    Layout(Box<layout::LineLayout>),
}

impl LineParser {
    pub fn new(layout: Layout, schema: Schema, filters: &Filters) -> Self {
        if layout.is_native() && schema.is_plain() {
            LineParser::Native(schema)
        } else {
            LineParser::Layout(Box::new(layout::LineLayout::new(layout, schema, filters)))
        }
    }

    /// What may precede the data.
    pub fn header(&self) -> &Header {
        match self {
            LineParser::Native(_) => &Header::None,
            LineParser::Layout(layout) => &layout.layout.header,
        }
    }

    /// [`parse_block`] with this file's parser.
    #[inline]
    pub fn parse_block(
        &self,
        text: &[u8],
        at_end: bool,
        out: &mut [u8],
    ) -> Result<BlockProgress, BlockError> {
        match self {
            LineParser::Native(schema) => parse_block(schema, text, at_end, out),
            LineParser::Layout(layout) => layout::parse_block(layout, text, at_end, out),
        }
    }
}

/// Parses whole lines of `text` into consecutive record slots of `out`.
///
/// Stops when `out` has no free slot or the text runs out. A final line without `\n` is
/// parsed only when `at_end` says no more text follows; otherwise it is left unconsumed for
/// the caller to complete. `out.len()` must be a multiple of the record size.
pub fn parse_block(
    schema: &Schema,
    text: &[u8],
    at_end: bool,
    out: &mut [u8],
) -> Result<BlockProgress, BlockError> {
    parse_block_with(Kernel::scanning(), schema, text, at_end, out)
}

/// [`parse_block`] scanning as given (the tests run every way).
pub fn parse_block_with(
    scanning: Scanning,
    schema: &Schema,
    text: &[u8],
    at_end: bool,
    out: &mut [u8],
) -> Result<BlockProgress, BlockError> {
    match scanning {
        Scanning::Lines => parse_block_in::<_, false>(scan::Scalar, schema, text, at_end, out),
        Scanning::Structural(Kernel::Scalar) => {
            parse_block_in::<_, true>(scan::Scalar, schema, text, at_end, out)
        }
        #[cfg(target_arch = "x86_64")]
        Scanning::Structural(Kernel::Sse2) => {
            parse_block_in::<_, true>(scan::Sse2, schema, text, at_end, out)
        }
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the kernel value exists only on a CPU with the features.
        Scanning::Structural(Kernel::Avx2(avx2)) => unsafe {
            parse_block_avx2(avx2, schema, text, at_end, out)
        },
    }
}

/// [`parse_block_in`] compiled with AVX2 (and BMI) instructions.
///
/// # Safety
/// The CPU must have AVX2, BMI1 and BMI2, which `avx2`'s existence proves.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,bmi1,bmi2")]
unsafe fn parse_block_avx2(
    avx2: scan::Avx2,
    schema: &Schema,
    text: &[u8],
    at_end: bool,
    out: &mut [u8],
) -> Result<BlockProgress, BlockError> {
    parse_block_in::<_, true>(avx2, schema, text, at_end, out)
}

/// The block loop, for one kernel: the structural fast path (when `STRUCTURAL`), then the
/// byte-at-a-time one, then the general parser.
#[inline(always)]
fn parse_block_in<K: scan::Simd, const STRUCTURAL: bool>(
    kernel: K,
    schema: &Schema,
    text: &[u8],
    at_end: bool,
    out: &mut [u8],
) -> Result<BlockProgress, BlockError> {
    let record_size = schema.record_size();
    let mut progress = BlockProgress::default();
    let mut scanner = STRUCTURAL.then(|| scan::Scanner::new(kernel, text));
    while progress.consumed < text.len() {
        if let Some(scanner) = scanner.as_mut() {
            // The common case, in a tight loop: a run of lines the structural path takes.
            let free = &mut out[progress.rows * record_size..];
            let (bytes, rows) = fast::scanned_run(kernel, schema, scanner, progress.consumed, free);
            progress.consumed += bytes;
            progress.lines += rows as u64;
            progress.rows += rows;
            if progress.consumed == text.len() {
                break;
            }
        }
        // One line: the structural path where the run could not reach (a refill of the
        // masks, the edges of the text), then the byte-at-a-time path, then the general
        // parser.
        let Some(current) =
            out.get_mut(progress.rows * record_size..(progress.rows + 1) * record_size)
        else {
            break;
        };
        if let Some(scanner) = scanner.as_mut() {
            let masks = scanner.masks(progress.consumed);
            let window = scanner.window(progress.consumed);
            if let Some(length) = fast::parse_scanned(kernel, schema, window, masks, current) {
                progress.consumed += length;
                progress.lines += 1;
                progress.rows += 1;
                continue;
            }
        }
        let rest = &text[progress.consumed..];
        let fast = fast::parse(schema, rest, current);
        let advance = match fast {
            // One predictable compare per line (the exact test, newline excluded, runs only
            // past it); the error is built out of line.
            fast::Fast::Record { length, newline }
                if length > MAX_LINE_BYTES && length - usize::from(newline) > MAX_LINE_BYTES =>
            {
                return Err(too_long(rest, progress.lines));
            }
            fast::Fast::Record {
                length,
                newline: true,
            } => length,
            fast::Fast::Record { length, .. } if at_end => length,
            // A final line without its newline, while more text may follow.
            fast::Fast::Record { .. } => break,
            fast::Fast::Fallback => {
                let (line, advance) = match memchr::memchr(b'\n', rest) {
                    Some(end) => (&rest[..end], end + 1),
                    None if at_end => (rest, rest.len()),
                    None => break,
                };
                if line.len() > MAX_LINE_BYTES {
                    return Err(too_long(line, progress.lines));
                }
                if !parse_line_general(schema, line, current).map_err(|error| BlockError {
                    line_index: progress.lines,
                    error,
                })? {
                    progress.consumed += advance;
                    progress.lines += 1;
                    continue;
                }
                advance
            }
        };
        progress.consumed += advance;
        progress.lines += 1;
        progress.rows += 1;
    }
    Ok(progress)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        Schema::new(crate::defaults::CHR_WIDTH).unwrap()
    }

    fn parse(line: &[u8]) -> Result<Option<Vec<u8>>, LineError> {
        let mut slot = vec![0xEE; schema().record_size()];
        parse_line(&schema(), line, &mut slot).map(|wrote| wrote.then_some(slot))
    }

    fn record(chr: &[u8], pos: i32, pct: f32, c: i32, t: i32) -> Vec<u8> {
        let mut slot = vec![0; schema().record_size()];
        schema().write_record(&mut slot, chr, pos, pct, c, t);
        slot
    }

    #[test]
    fn accepts_tabs_spaces_and_padding() {
        let want = Some(record(b"chr1", 10468, 57.142_857, 4, 3));
        assert_eq!(parse(b"chr1\t10468\t57.1428571428571\t4\t3").unwrap(), want);
        assert_eq!(
            parse(b"  chr1  10468 \t 57.1428571428571\t\t4 3  ").unwrap(),
            want
        );
        assert_eq!(parse(b"chr1 10468 57.1428571428571 4 3\r").unwrap(), want);
        assert_eq!(
            parse(b"chr1\x0b10468\x0c57.1428571428571\x1c4\x1f3").unwrap(),
            want
        );
        assert_eq!(
            parse(b"chr1 +0010468 57.1428571428571 +4 0003").unwrap(),
            want
        );
    }

    #[test]
    fn comments_and_blank_lines_write_nothing() {
        assert_eq!(parse(b"").unwrap(), None);
        assert_eq!(parse(b" \t \r").unwrap(), None);
        assert_eq!(parse(b"# chr pos pct c t").unwrap(), None);
        assert_eq!(parse(b"   #chr1 1 2 3 4").unwrap(), None);
        assert_eq!(
            parse(b"chr1 1 50 1 1 # trailing note").unwrap(),
            Some(record(b"chr1", 1, 50.0, 1, 1))
        );
        assert_eq!(
            parse(b"chr1 1 50 1 1#no space").unwrap(),
            Some(record(b"chr1", 1, 50.0, 1, 1))
        );
    }

    #[test]
    fn special_floats() {
        let pct = |line: &[u8]| {
            let slot = parse(line).unwrap().unwrap();
            u32::from_le_bytes(slot[14..18].try_into().unwrap())
        };
        assert_eq!(pct(b"c 1 nan 1 1"), f32::NAN.to_bits());
        assert_eq!(pct(b"c 1 -nan 1 1"), 0xffc0_0000);
        assert_eq!(pct(b"c 1 -Infinity 1 1"), f32::NEG_INFINITY.to_bits());
        assert_eq!(pct(b"c 1 1.5e1 1 1"), 15f32.to_bits());
    }

    #[test]
    fn chr_fills_the_field_exactly() {
        assert_eq!(
            parse(b"chrUn_KI27 1 2 3 4").unwrap(),
            Some(record(b"chrUn_KI27", 1, 2.0, 3, 4))
        );
    }

    #[test]
    fn rejects_long_chr_instead_of_truncating() {
        let error = parse(b"chrUn_KI270302v1 1 2 3 4").unwrap_err();
        assert_eq!(
            error,
            LineError::Field {
                column: 1,
                name: "chr",
                text: "chrUn_KI270302v1".into(),
                error: FieldError::ChrTooLong {
                    length: 16,
                    width: 10
                }
            }
        );
        assert!(error.hint().contains("--chr-width to at least 16"));
    }

    #[test]
    fn rejects_non_ascii_and_control_bytes_in_chr() {
        for (line, byte) in [
            (&b"chr\xc3\xa9 1 2 3 4"[..], 0xc3),
            (b"chr1\x00 1 2 3 4", 0),
        ] {
            assert_eq!(
                parse(line).unwrap_err(),
                LineError::Field {
                    column: 1,
                    name: "chr",
                    text: String::from_utf8_lossy(
                        &line[..line.iter().position(|&b| b == b' ').unwrap()]
                    )
                    .into(),
                    error: FieldError::ChrInvalidByte { byte }
                }
            );
        }
    }

    #[test]
    fn rejects_wrong_field_counts() {
        let few = parse(b"chr1 1 2 3").unwrap_err();
        assert_eq!(few.column(), 5);
        assert!(matches!(few, LineError::TooFewFields { found: 4, .. }));
        let many = parse(b"chr1 1 2 3 4 5").unwrap_err();
        assert_eq!(many, LineError::TooManyFields { text: "5".into() });
        // A comment glued to a number cuts the line short, as in numpy.
        assert!(matches!(
            parse(b"chr1 1 2#3 4 5").unwrap_err(),
            LineError::TooFewFields { found: 3, .. }
        ));
    }

    /// Regression (CLI fuzzer, seeds 105036006197521, 110347389154085): a lone `\r` was
    /// taken for a space, so `c\r1 2 3 4` loaded as one row where numpy, reading universal
    /// newlines, sees two lines and rejects the first.
    #[test]
    fn a_carriage_return_that_does_not_end_the_line_is_refused() {
        for line in [
            &b"c\r1 2 3 4"[..],
            b"c 1 2 3\r4",
            b"chr1 1 2 3 4\rchr2 1 2 3 4",
            b"c 1 2 3 4\r\r",
            b"c 1 2 3 4\r ",
            b"c 1 2 3 4 #x\ry",
        ] {
            assert!(
                matches!(parse(line), Err(LineError::BareCarriageReturn { .. })),
                "{line:?}: {:?}",
                parse(line)
            );
        }
        assert_eq!(
            parse(b"c\r1 2 3 4").unwrap_err().to_string(),
            "column 1: a carriage return (\\r) that does not end the line: \"c\\r1 2 3 4\""
        );
        // CRLF, and a final CR (a file cut after its CR), are line ends.
        let record = record(b"c", 1, 2.0, 3, 4);
        assert_eq!(parse(b"c 1 2 3 4\r").unwrap(), Some(record.clone()));
        assert_eq!(parse(b"c 1 2 3 4 #x\r").unwrap(), Some(record.clone()));
        let schema = schema();
        let mut out = vec![0; 4 * schema.record_size()];
        let text = b"c 1 2 3 4\r\nc 1 2 3 4 # note\r\nc 1 2 3 4\r";
        let progress = parse_block(&schema, text, true, &mut out).unwrap();
        assert_eq!(progress.rows, 3);
        assert_eq!(&out[..schema.record_size()], &record[..]);
        let error =
            parse_block(&schema, b"c 1 2 3 4\r\nc 1 2 3 4\r\rx\n", true, &mut out).unwrap_err();
        assert_eq!(error.line_index, 1);
    }

    /// Regression (CLI fuzzer, seeds 12879692155654, 4037318911846): a no-break space
    /// between two numbers was reported as a missing column. The byte is named instead.
    #[test]
    fn a_non_ascii_byte_is_named_with_its_column() {
        let error = parse(b"c 1 2 3\xc2\xa04").unwrap_err();
        assert_eq!(
            error,
            LineError::NonAscii {
                column: 4,
                byte: 0xc2,
                text: "3\u{a0}4".into()
            }
        );
        assert!(error.hint().contains("U+00A0"));
        assert!(matches!(
            parse(b"c 1 2\xe2\x80\x83 3 4").unwrap_err(),
            LineError::NonAscii { column: 3, .. }
        ));
        // A bad name keeps its own error; bytes in a comment are not looked at (numpy,
        // reading UTF-8 text, fails on this one; README: What it reads).
        assert!(matches!(
            parse(b"chr\xc3\xa9 1 2 3 4").unwrap_err(),
            LineError::Field {
                error: FieldError::ChrInvalidByte { byte: 0xc3 },
                ..
            }
        ));
        assert!(parse(b"c 1 2 3 4 #\xff\xfe").unwrap().is_some());
    }

    #[test]
    fn rejects_bad_numbers_with_their_column() {
        let cases: [(&[u8], usize, &str); 6] = [
            (b"chr1 1.0 2 3 4", 2, "1.0"),
            (b"chr1 3000000000 2 3 4", 2, "3000000000"),
            (b"chr1 1 5O.0 3 4", 3, "5O.0"),
            (b"chr1 1 . 3 4", 3, "."),
            (b"chr1 1 2 - 4", 4, "-"),
            (b"chr1 1 2 3 1e3", 5, "1e3"),
        ];
        for (line, column, text) in cases {
            let error = parse(line).unwrap_err();
            assert_eq!((error.column(), error.text()), (column, text), "{error}");
        }
    }

    #[test]
    fn block_stops_at_partial_line_unless_at_end() {
        let text = b"chr1 1 2 3 4\n# note\n\nchr2 5 6 7 8";
        let mut out = vec![0; 4 * schema().record_size()];
        let progress = parse_block(&schema(), text, false, &mut out).unwrap();
        assert_eq!(
            progress,
            BlockProgress {
                consumed: 21,
                lines: 3,
                rows: 1,
                skipped: Skipped::default(),
            }
        );
        let progress = parse_block(&schema(), text, true, &mut out).unwrap();
        assert_eq!(progress.consumed, text.len());
        assert_eq!((progress.lines, progress.rows), (4, 2));
        assert_eq!(&out[26..52], &record(b"chr2", 5, 6.0, 7, 8)[..]);
    }

    #[test]
    fn block_stops_when_output_is_full() {
        let text = b"a 1 1 1 1\r\nb 2 2 2 2\r\nc 3 3 3 3\r\n";
        let mut out = vec![0; 2 * schema().record_size()];
        let progress = parse_block(&schema(), text, true, &mut out).unwrap();
        assert_eq!(
            (progress.consumed, progress.lines, progress.rows),
            (22, 2, 2)
        );
    }

    #[test]
    fn block_reports_the_failing_line_index() {
        let text = b"a 1 1 1 1\n\nb x 2 2 2\n";
        let mut out = vec![0; 4 * schema().record_size()];
        let error = parse_block(&schema(), text, true, &mut out).unwrap_err();
        assert_eq!(error.line_index, 2);
        assert_eq!(error.error.column(), 2);
    }
}
