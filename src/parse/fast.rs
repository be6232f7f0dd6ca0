//! The fast paths for the common line: `chr<blanks>pos<blanks>pct<blanks>c<blanks>t[<blanks>]`
//! then `\n`, an optional `# comment`, or the end of the text.
//!
//! Two of them. [`parse_scanned`] takes a line whose fields the scanner's masks
//! ([`super::scan`]) already delimit: a few bit operations find the five fields, and the
//! numbers are converted eight digits at a time ([`super::swar`]), with no loop over the
//! bytes. It takes lines with tabs and spaces between fields that end within 64 bytes.
//! [`parse`] is the byte-at-a-time path for the rest (other blanks, long lines, exponents):
//! one pass over the bytes finds the fields and converts them at once.
//!
//! Anything unusual (leading blanks, a blank or comment line, too many digits, a bad byte)
//! goes on to the next path, and in the end to the general parser in the parent module,
//! which produces the errors. So each fast path only has to be right on what it accepts;
//! the differential tests check both against the reference parser.

use super::scan::{Masks, Scanner, Simd, BEFORE, WINDOW};
use super::swar;
use crate::format::classes::{BLANK, CHR};
use crate::schema::Schema;

/// Outcome of the fast path.
pub enum Fast {
    /// A record was written; the line (with its `\n`, if `newline`) is `length` bytes.
    Record { length: usize, newline: bool },
    /// Not a plain data line: use the general parser.
    Fallback,
}

/// Skips one or more blanks; `None` if there is none at `i`.
#[inline(always)]
pub(in crate::parse) fn blanks(text: &[u8], mut i: usize) -> Option<usize> {
    let start = i;
    while i < text.len() && BLANK[text[i] as usize] {
        i += 1;
    }
    (i > start).then_some(i)
}

/// A chromosome name from `start`: printable ASCII but `#`, at least one byte and at most
/// `width`; returns the index after it. Longer names and other bytes are the general
/// parser's, which names the error.
#[inline(always)]
pub(in crate::parse) fn chr_field(text: &[u8], start: usize, width: usize) -> Option<usize> {
    let mut i = start;
    while i < text.len() && CHR[text[i] as usize] {
        i += 1;
    }
    (i > start && i - start <= width).then_some(i)
}

/// An optional sign at `i`: whether it is `-`, and the index after it.
#[inline(always)]
fn sign(text: &[u8], i: usize) -> (bool, usize) {
    match text.get(i) {
        Some(b'-') => (true, i + 1),
        Some(b'+') => (false, i + 1),
        _ => (false, i),
    }
}

/// An integer of at most `max_digits` (at most 18) digits with an optional sign; returns it
/// and the index after. Digits are accumulated while they are scanned: one pass over the
/// field. More digits (leading zeros, overflow) are the general parser's business.
#[inline(always)]
pub(in crate::parse) fn integer_digits(
    text: &[u8],
    i: usize,
    max_digits: usize,
) -> Option<(i64, usize)> {
    let (negative, mut j) = sign(text, i);
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
    if j == digits_start || j - digits_start > max_digits {
        return None;
    }
    Some((if negative { -magnitude } else { magnitude }, j))
}

/// An `i32` of at most 10 digits with an optional sign, and the index after it.
#[inline(always)]
pub(in crate::parse) fn integer(text: &[u8], i: usize) -> Option<(i32, usize)> {
    let (value, j) = integer_digits(text, i, 10)?;
    i32::try_from(value).ok().map(|value| (value, j))
}

/// The end of a data line whose last field ends at `i`: trailing blanks, then `\n`, CRLF,
/// a `# comment`, or the end of the text. Returns the line's length (with its `\n`, if
/// `newline`), or `None` for anything else (a lone `\r`, a field glued on), which the
/// general parser decides.
#[inline(always)]
pub(in crate::parse) fn line_end(text: &[u8], mut i: usize) -> Option<(usize, bool)> {
    while i < text.len() && BLANK[text[i] as usize] {
        i += 1;
    }
    Some(match text.get(i) {
        None => (i, false),
        Some(b'\n') => (i + 1, true),
        Some(b'\r') => match text.get(i + 1) {
            Some(b'\n') => (i + 2, true),
            // The end of the text so far: the parser waits for more, or the file ends.
            None => (i + 1, false),
            Some(_) => return None,
        },
        Some(b'#') => {
            let (end, newline) = match memchr::memchr(b'\n', &text[i..]) {
                Some(end) => (i + end + 1, true),
                None => (text.len(), false),
            };
            // A comment holding a lone `\r` is refused by the general parser.
            let comment_end = if newline { end - 1 } else { end };
            if memchr::memchr(b'\r', &text[i..comment_end])
                .is_some_and(|at| i + at + 1 != comment_end)
            {
                return None;
            }
            (end, newline)
        }
        Some(_) => return None,
    })
}

/// Powers of ten exactly representable as `f64`.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// A plain decimal (`[+-]?digits[.digits]`, at most 15 digits) as the nearest `f64`, and
/// the index after it; `None` for anything else (exponents, nan, long mantissas), which
/// the general float parser handles.
///
/// Exact by Clinger's argument: the digits form an integer `m < 10^15 < 2^53` and the
/// scale `10^k` with `k <= 15` are both exact doubles, and IEEE division rounds their exact
/// quotient, the decimal's value, correctly to nearest.
#[inline(always)]
fn plain_decimal(text: &[u8], i: usize) -> Option<(f64, usize)> {
    let (negative, mut j) = sign(text, i);
    let mut mantissa: u64 = 0;
    let mut digits = 0usize;
    while j < text.len() && text[j].is_ascii_digit() {
        mantissa = mantissa
            .wrapping_mul(10)
            .wrapping_add(u64::from(text[j] - b'0'));
        digits += 1;
        j += 1;
    }
    let integer_digits = digits;
    let mut fraction_digits = 0;
    if j < text.len() && text[j] == b'.' {
        j += 1;
        while j < text.len() && text[j].is_ascii_digit() {
            mantissa = mantissa
                .wrapping_mul(10)
                .wrapping_add(u64::from(text[j] - b'0'));
            fraction_digits += 1;
            j += 1;
        }
    }
    digits += fraction_digits;
    // Exponents and specials go to the general parser, as do "." and long digit runs.
    if digits == 0 || digits > 15 || (integer_digits == 0 && fraction_digits == 0) {
        return None;
    }
    if j < text.len() && matches!(text[j] | 0x20, b'e' | b'n' | b'i') {
        return None;
    }
    let value = mantissa as f64 / POW10[fraction_digits];
    Some((if negative { -value } else { value }, j))
}

/// A decimal field at `i` as the nearest `f64`, and the index after it: a plain decimal
/// exactly ([`plain_decimal`]), any other spelling (exponents, `nan`, long mantissas) by
/// the float parser; `None` if there is no number at `i`.
#[inline(always)]
pub(in crate::parse) fn decimal(text: &[u8], i: usize) -> Option<(f64, usize)> {
    match plain_decimal(text, i) {
        Some(parsed) => Some(parsed),
        None => {
            let (value, used) = fast_float2::parse_partial::<f64, _>(&text[i..]).ok()?;
            Some((value, i + used))
        }
    }
}

/// Writes the record, copying the name as one 16-byte word when the text has 16 bytes
/// from the name's start and the field is at most 16 bytes wide: no byte loop, no memcpy
/// call. Bytes of the word past the name are zeroed, and those past the field are
/// overwritten by the numbers that follow it in the record.
#[inline(always)]
fn write(
    schema: &Schema,
    slot: &mut [u8],
    text: &[u8],
    chr_len: usize,
    numbers: (i32, f32, i32, i32),
) {
    let (pos, pct, c, t) = numbers;
    let width = schema.chr_width();
    if width <= 16 && text.len() >= 16 && slot.len() >= 16 {
        let word = u128::from_le_bytes(text[..16].try_into().expect("16 bytes"));
        let mask = if chr_len >= 16 {
            u128::MAX
        } else {
            (1u128 << (8 * chr_len)) - 1
        };
        slot[..16].copy_from_slice(&(word & mask).to_le_bytes());
        schema.write_numbers(slot, pos, pct, c, t);
    } else {
        schema.write_record(slot, &text[..chr_len], pos, pct, c, t);
    }
}

/// Tries the fast path on the line at the start of `text`.
#[inline]
pub fn parse(schema: &Schema, text: &[u8], slot: &mut [u8]) -> Fast {
    match try_parse(schema, text, slot) {
        Some(fast) => fast,
        None => Fast::Fallback,
    }
}

/// The structural fast path on the line whose bytes are those of `window` from [`BEFORE`]
/// (padded past the end of the text), with their classes in `masks`. Takes a line of five
/// fields separated by tabs and spaces, with unsigned numbers (plain decimals for `pct`),
/// that ends with `\n` or `\r\n` within 64 bytes; returns its length with the line end, or
/// `None` for any other line (signs, trailing blanks, a comment, the end of the text
/// without a newline...), which goes on to [`parse`].
#[inline(always)]
pub fn parse_scanned<K: Simd>(
    kernel: K,
    schema: &Schema,
    window: &[u8; WINDOW],
    masks: Masks,
    slot: &mut [u8],
) -> Option<usize> {
    let short_names = schema.chr_width() <= 16;
    parse_line_scanned(kernel, schema, short_names, window, masks, slot)
}

/// [`parse_scanned`], told whether the `chr` field is at most 16 bytes wide.
#[inline(always)]
fn parse_line_scanned<K: Simd>(
    kernel: K,
    schema: &Schema,
    short_names: bool,
    window: &[u8; WINDOW],
    masks: Masks,
    slot: &mut [u8],
) -> Option<usize> {
    let sep = masks.sep;
    // A line that starts with a blank, or an empty line.
    if sep & 1 != 0 {
        return None;
    }
    // Bit i of `ends`: byte i is the first separator after a field; of `starts`: the first
    // byte of a field after separators (the first field starts at 0).
    let mut ends = sep & !(sep << 1);
    let mut starts = !sep & (sep << 1);
    let next = |mask: &mut u64| {
        let at = mask.trailing_zeros() as usize;
        *mask &= mask.wrapping_sub(1);
        at
    };
    let chr_end = next(&mut ends);
    let fields = [(); 4].map(|()| (next(&mut starts), next(&mut ends)));
    let end = fields[3].1;
    // The fifth field ends within the masks, and up to there the line holds only printable
    // ASCII but `#` in its fields, and tabs and spaces between them.
    if end >= 64 || masks.bad & ((1u64 << end) - 1) != 0 || chr_end > schema.chr_width() {
        return None;
    }
    let line = Line(window);
    let length = match (line.byte(end), line.byte(end + 1)) {
        (b'\n', _) => end + 1,
        (b'\r', b'\n') => end + 2,
        _ => return None,
    };
    // The numbers as words of digits, folded together: pos, pct, then c and t side by side.
    let [pos_n, pct_n, c_n, t_n] = fields.map(|(start, end)| end - start);
    if pos_n > 10 || pct_n > 16 || c_n > 8 || t_n > 8 {
        return None;
    }
    let point = (masks.dot >> (fields[1].0 % 64)).trailing_zeros() as usize;
    let (pct_from_last, pct_keep, fraction) = swar::decimal(pct_n, point)?;
    let digits = swar::Digits {
        pos: line.u128_ending(fields[0].1, 0),
        pos_keep: swar::TOP[pos_n % 16],
        pct_last: line.u128_ending(fields[1].1, 0),
        pct_before: line.u128_ending(fields[1].1, 1),
        pct_from_last,
        pct_keep,
        counts: u128::from(line.u64_ending(fields[2].1)) | u128::from(line.u64_ending(end)) << 64,
        counts_keep: u128::from(swar::TOP8[c_n % 9]) | u128::from(swar::TOP8[t_n % 9]) << 64,
    };
    let [pos, pct, counts] = kernel.fold_digits(&digits)?;
    let pos = i32::try_from(swar::value(pos)).ok()?;
    let pct = swar::value(pct) as f64 / POW10[fraction % 16];
    // Eight digits at most: below 10^8, so i32s.
    let (c, t) = ((counts & 0xFFFF_FFFF) as i32, (counts >> 32) as i32);
    let width = schema.chr_width();
    if short_names {
        // The name as one 16-byte word, cut to its length; the bytes of the word past the
        // field are overwritten by the numbers that follow it in the record.
        let name = line.u128_at(0) & swar::BELOW[chr_end.min(16)];
        let record = slot.get_mut(..width + 16)?;
        record[..16].copy_from_slice(&name.to_le_bytes());
        schema.write_numbers(record, pos, pct as f32, c, t);
    } else {
        schema.write_record(
            slot,
            &window[BEFORE..BEFORE + chr_end],
            pos,
            pct as f32,
            c,
            t,
        );
    }
    Some(length)
}

/// Lines that the structural path takes, one after the other from `at`, into consecutive
/// slots of `out`, as long as the scanner reaches them directly ([`Scanner::direct`]).
/// Returns the bytes and the lines (each a record) taken: the caller goes on from there
/// with the next line.
#[inline(always)]
pub fn scanned_run<K: Simd>(
    kernel: K,
    schema: &Schema,
    scanner: &Scanner<'_, K>,
    start: usize,
    out: &mut [u8],
) -> (usize, usize) {
    let end = scanner.direct_end();
    let mut at = start;
    if at < BEFORE {
        return (0, 0);
    }
    let mut slots = out.chunks_exact_mut(schema.record_size());
    let free = slots.len();
    let mut stopped = false;
    let mut run = |short_names: bool| {
        for slot in slots.by_ref() {
            if at >= end {
                stopped = true;
                break;
            }
            let (masks, window) = scanner.direct(at);
            match parse_line_scanned(kernel, schema, short_names, window, masks, slot) {
                Some(length) => at += length,
                None => {
                    stopped = true;
                    break;
                }
            }
        }
    };
    // Two copies of the loop, one for each way of writing the name.
    if schema.chr_width() <= 16 {
        run(true);
    } else {
        run(false);
    }
    // The slot taken when the run stopped was not written.
    (at - start, free - slots.len() - usize::from(stopped))
}

/// A line's window, read at offsets from the line's start. The offsets are field bounds,
/// below 64 (or 65 for the byte after the last field), and an offset minus 17 at most:
/// `% 64` and the like change nothing, they tell the compiler that each read is within
/// the window.
#[derive(Clone, Copy)]
struct Line<'w>(&'w [u8; WINDOW]);

impl Line<'_> {
    #[inline(always)]
    fn byte(self, at: usize) -> u8 {
        self.0[BEFORE + at % 65]
    }

    #[inline(always)]
    fn bytes<const N: usize>(self, at: usize) -> [u8; N] {
        let at = BEFORE + at % 64;
        self.0[at..at + N].try_into().expect("N bytes")
    }

    #[inline(always)]
    fn u128_at(self, at: usize) -> u128 {
        u128::from_le_bytes(self.bytes(at))
    }

    /// The 16 bytes that end `back` bytes before `end`.
    #[inline(always)]
    fn u128_ending(self, end: usize, back: usize) -> u128 {
        let at = BEFORE + end % 64 - 16 - back % 2;
        u128::from_le_bytes(self.0[at..at + 16].try_into().expect("16 bytes"))
    }

    /// The 8 bytes that end at `end`.
    #[inline(always)]
    fn u64_ending(self, end: usize) -> u64 {
        let at = BEFORE + end % 64 - 8;
        u64::from_le_bytes(self.0[at..at + 8].try_into().expect("8 bytes"))
    }
}

#[inline(always)]
fn try_parse(schema: &Schema, text: &[u8], slot: &mut [u8]) -> Option<Fast> {
    let chr_len = chr_field(text, 0, schema.chr_width())?;
    let i = blanks(text, chr_len)?;
    let (pos, i) = integer(text, i)?;
    let i = blanks(text, i)?;
    let (pct, i) = decimal(text, i)?;
    let i = blanks(text, i)?;
    let (c, i) = integer(text, i)?;
    let i = blanks(text, i)?;
    let (t, i) = integer(text, i)?;
    let (length, newline) = line_end(text, i)?;
    write(schema, slot, text, chr_len, (pos, pct as f32, c, t));
    Some(Fast::Record { length, newline })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        /// At the f64 level, before the f32 rounding that would hide a last-bit error.
        #[test]
        fn plain_decimal_is_the_correctly_rounded_double(text in "[+-]?[0-9]{0,12}(\\.[0-9]{0,12})?") {
            let bytes = text.as_bytes();
            if let Some((value, end)) = plain_decimal(bytes, 0) {
                prop_assert_eq!(end, bytes.len());
                let expected: f64 = text.parse().unwrap();
                prop_assert_eq!(value.to_bits(), expected.to_bits(), "{}", text);
            }
        }
    }

    /// The structural path takes the lines callers write (it is not declining everything
    /// to the byte-at-a-time path, which the differential tests alone would not notice),
    /// and leaves the others.
    #[test]
    fn the_structural_path_takes_common_lines() {
        use super::super::scan::{self, Kernel};
        fn with<K: Simd>(kernel: K, schema: &Schema, text: &[u8]) -> Option<(usize, Vec<u8>)> {
            let mut scanner = scan::Scanner::new(kernel, text);
            let masks = scanner.masks(0);
            let mut slot = vec![0; schema.record_size()];
            let length = parse_scanned(kernel, schema, scanner.window(0), masks, &mut slot);
            length.map(|length| (length, slot))
        }
        let schema = Schema::new(10).unwrap();
        let scanned = |text: &[u8]| {
            let results: Vec<_> = Kernel::available()
                .into_iter()
                .map(|kernel| match kernel {
                    Kernel::Scalar => with(scan::Scalar, &schema, text),
                    #[cfg(target_arch = "x86_64")]
                    Kernel::Sse2 => with(scan::Sse2, &schema, text),
                    #[cfg(target_arch = "x86_64")]
                    Kernel::Avx2(avx2) => with(avx2, &schema, text),
                })
                .collect();
            assert!(
                results.windows(2).all(|pair| pair[0] == pair[1]),
                "{results:?}"
            );
            results[0].clone()
        };
        for (text, (pos, pct, c, t)) in [
            (
                &b"chr1\t10468\t57.1428571428571\t4\t3\n"[..],
                (10468, 57.142_857, 4, 3),
            ),
            (
                b"chrUn_KI27 248956422 100 12 0\r\nchr2",
                (248_956_422, 100.0, 12, 0),
            ),
            (
                b"c\t2147483647\t0.5\t99999999\t0\n",
                (i32::MAX, 0.5, 99_999_999, 0),
            ),
            (b"chrX  \t 0007 \t 5. \t 5 \t 1\n", (7, 5.0, 5, 1)),
            (b"c 1 .5 0 0\n", (1, 0.5, 0, 0)),
        ] {
            let mut expected = vec![0; schema.record_size()];
            let chr = text.split(|b| b.is_ascii_whitespace()).next().unwrap();
            schema.write_record(&mut expected, chr, pos, pct, c, t);
            let line = text.iter().position(|&b| b == b'\n').unwrap() + 1;
            assert_eq!(
                scanned(text),
                Some((line, expected)),
                "{}",
                String::from_utf8_lossy(text)
            );
        }
        for text in [
            &b"chr1 -1 50 1 1\n"[..],
            b"chr1 1 1e2 1 1\n",
            b"chr1 1 50 1 1 \n",
            b"chr1 1 50 1 1",
            b"chr1 1 50 1 1#\n",
            b"chr1 1 50 1\n",
            b"chr1 1 50 1 1 1\n",
            b"chr1 1 50 1 2147483648\n",
            b"chr1 1 1234567890123456 1 1\n",
            b"chr1\x0b1 50 1 1\n",
            b"chrUn_KI270 1 50 1 1\n",
            b" chr1 1 50 1 1\n",
        ] {
            assert_eq!(scanned(text), None, "{}", String::from_utf8_lossy(text));
        }
    }

    #[test]
    fn plain_decimal_leaves_other_forms_to_the_general_parser() {
        for text in [
            &b"1e5"[..],
            b"nan",
            b"inf",
            b"1234567890123456",
            b".",
            b"-",
            b"1.5E3",
        ] {
            assert_eq!(
                plain_decimal(text, 0),
                None,
                "{}",
                String::from_utf8_lossy(text)
            );
        }
        assert_eq!(
            plain_decimal(b"57.1428571428571\t", 0),
            Some((57.142_857_142_857_1, 16))
        );
        assert_eq!(
            plain_decimal(b"-0", 0).map(|(v, _)| v.to_bits()),
            Some((-0.0f64).to_bits())
        );
    }
}
