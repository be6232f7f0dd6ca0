//! The rules of a whole line that every format's general parser shares: a `\r` may only
//! end the line, and when a line with a non-ASCII byte where fields are fails, that byte is
//! named as the reason.
//!
//! A leaf of the parser, below the block loop ([`super::block`]), which applies them to
//! every line a fast path leaves to a general parser, and below `--format auto`, which
//! reports a line no format can read as the parser would.

use super::error::{lossy, FieldError, LineError, QUOTED_PREFIX};
use super::fields::column_at;
use crate::format::classes::is_field_separator;

/// Runs a format's field parser on `line` (without its `\n`) under the line rules: a lone
/// `\r` is refused before the fields are looked at, and a failure of a line with a
/// non-ASCII byte in its data is reported as that byte.
#[inline]
pub fn with_line_rules<T>(
    line: &[u8],
    parse_fields: impl FnOnce(&[u8]) -> Result<T, LineError>,
) -> Result<T, LineError> {
    if let Some(error) = bare_carriage_return(line) {
        return Err(error);
    }
    parse_fields(line).map_err(|error| explain_non_ascii(line, error))
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

/// Why a line no format can read is unreadable, when the reason is one every format
/// shares: a lone `\r`, or a non-ASCII byte outside a comment (most often a Unicode space).
/// `auto` reports these as the parser would.
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
