//! The fast path for the common line: `chr<blanks>pos<blanks>pct<blanks>c<blanks>t[<blanks>]`
//! then `\n`, an optional `# comment`, or the end of the text.
//!
//! One pass over the bytes finds the fields and converts them at once; it does not look
//! for the line end first. Anything unusual (leading blanks, a blank or comment line, too
//! many digits, a bad byte) returns [`Fast::Fallback`], and the general parser in the parent
//! module, which produces the errors, decides. So this path only has to be right on what it
//! accepts; the differential tests check it against the reference parser.

use crate::schema::Schema;

/// Outcome of the fast path.
pub enum Fast {
    /// A record was written; the line (with its `\n`, if `newline`) is `length` bytes.
    Record { length: usize, newline: bool },
    /// Not a plain data line: use the general parser.
    Fallback,
}

/// Blanks between fields: numpy's whitespace without `\n`.
const fn blank_table() -> [bool; 256] {
    let mut table = [false; 256];
    let blanks = b"\t\x0b\x0c\r\x1c\x1d\x1e\x1f ";
    let mut i = 0;
    while i < blanks.len() {
        table[blanks[i] as usize] = true;
        i += 1;
    }
    table
}
static BLANK: [bool; 256] = blank_table();

/// Bytes a chromosome name may hold: printable ASCII except `#` (which starts a comment).
const fn chr_table() -> [bool; 256] {
    let mut table = [false; 256];
    let mut byte = 0x21;
    while byte < 0x7f {
        table[byte] = byte != b'#' as usize;
        byte += 1;
    }
    table
}
static CHR: [bool; 256] = chr_table();

/// Skips one or more blanks; `None` if there is none at `i`.
#[inline(always)]
fn blanks(text: &[u8], mut i: usize) -> Option<usize> {
    let start = i;
    while i < text.len() && BLANK[text[i] as usize] {
        i += 1;
    }
    (i > start).then_some(i)
}

/// An integer of at most 10 digits with an optional sign; returns it and the index after.
/// Digits are accumulated while they are scanned: one pass over the field.
#[inline(always)]
fn integer(text: &[u8], i: usize) -> Option<(i32, usize)> {
    let (negative, mut j) = match text.get(i) {
        Some(b'-') => (true, i + 1),
        Some(b'+') => (false, i + 1),
        _ => (false, i),
    };
    let digits_start = j;
    let mut magnitude: i64 = 0;
    while j < text.len() {
        let digit = text[j].wrapping_sub(b'0');
        if digit > 9 {
            break;
        }
        // Wrapping: a run too long to fit is rejected below anyway.
        magnitude = magnitude.wrapping_mul(10).wrapping_add(i64::from(digit));
        j += 1;
    }
    // More than 10 digits (leading zeros, overflow) is the general parser's business.
    if j == digits_start || j - digits_start > 10 {
        return None;
    }
    let value = if negative { -magnitude } else { magnitude };
    i32::try_from(value).ok().map(|value| (value, j))
}

/// Tries the fast path on the line at the start of `text`.
#[inline]
pub fn parse(schema: &Schema, text: &[u8], slot: &mut [u8]) -> Fast {
    match try_parse(schema, text, slot) {
        Some(fast) => fast,
        None => Fast::Fallback,
    }
}

#[inline(always)]
fn try_parse(schema: &Schema, text: &[u8], slot: &mut [u8]) -> Option<Fast> {
    let mut i = 0;
    while i < text.len() && CHR[text[i] as usize] {
        i += 1;
    }
    if i == 0 || i > schema.chr_width() {
        return None;
    }
    let chr = &text[..i];
    let i = blanks(text, i)?;
    let (pos, i) = integer(text, i)?;
    let i = blanks(text, i)?;
    let (pct, used) = fast_float2::parse_partial::<f64, _>(&text[i..]).ok()?;
    let i = blanks(text, i + used)?;
    let (c, i) = integer(text, i)?;
    let i = blanks(text, i)?;
    let (t, mut i) = integer(text, i)?;
    while i < text.len() && BLANK[text[i] as usize] {
        i += 1;
    }
    let (length, newline) = match text.get(i) {
        None => (i, false),
        Some(b'\n') => (i + 1, true),
        Some(b'#') => match memchr::memchr(b'\n', &text[i..]) {
            Some(end) => (i + end + 1, true),
            None => (text.len(), false),
        },
        Some(_) => return None,
    };
    schema.write_record(slot, chr, pos, pct as f32, c, t);
    Some(Fast::Record { length, newline })
}
