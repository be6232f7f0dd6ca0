//! Digits eight at a time in a 64-bit word (SWAR: SIMD within a register).
//!
//! The structural fast path knows where each number field starts and ends before it reads
//! the digits, so it does not need a loop that stops at the first non-digit: it loads the
//! field's bytes as one little-endian word (the first character in the lowest byte), pads
//! them on the left with ASCII zeros to a fixed width, checks every byte at once and folds
//! the digits into their value with three multiplications (Lemire's method, as in
//! `fast_float`). The cost is the same for 1 digit or 8, and no branch depends on the
//! number of digits, so a file whose numbers vary in length costs no mispredictions.
//!
//! Every function here is exact on what it accepts and returns `None` for anything else
//! (a non-digit byte), which the caller hands to a slower path.

/// `'0'` in every byte.
const ZEROS: u64 = 0x3030_3030_3030_3030;
const ZEROS_128: u128 = 0x3030_3030_3030_3030_3030_3030_3030_3030;
/// The high bit of every byte.
const HIGHS: u64 = 0x8080_8080_8080_8080;
const HIGHS_128: u128 = 0x8080_8080_8080_8080_8080_8080_8080_8080;
/// `0x76` in every byte: added to a digit value (0..=9) it stays below `0x80`; added to 10
/// or more it reaches it.
const ABOVE_NINE: u64 = 0x7676_7676_7676_7676;
const ABOVE_NINE_128: u128 = 0x7676_7676_7676_7676_7676_7676_7676_7676;
#[cfg(test)]
const ONES_128: u128 = 0x0101_0101_0101_0101_0101_0101_0101_0101;
#[cfg(test)]
const DOTS_128: u128 = 0x2e2e_2e2e_2e2e_2e2e_2e2e_2e2e_2e2e_2e2e;

/// Whether every byte of `digits` (ASCII bytes minus `'0'`, as one wrapping subtraction)
/// came from an ASCII digit. A byte below `'0'` sets its own high bit in the subtraction
/// (the borrow it passes up can only disturb bytes above it, and the answer is already
/// "no"); a byte above `'9'` reaches the high bit when `0x76` is added, without a carry out
/// of the byte unless its high bit was already set.
#[inline(always)]
fn all_digits(digits: u64) -> bool {
    (digits.wrapping_add(ABOVE_NINE) | digits) & HIGHS == 0
}

/// The value of eight digit values (0..=9), one per byte, the most significant in the
/// lowest byte: pairs, then quadruples, then the whole, each step one multiplication that
/// adds a byte scaled by 10, 100 or 10^4 to its neighbour.
#[inline(always)]
fn fold(digits: u64) -> u64 {
    const MASK: u64 = 0x0000_00FF_0000_00FF;
    const MUL1: u64 = 100 + (1_000_000 << 32);
    const MUL2: u64 = 1 + (10_000 << 32);
    let pairs = digits.wrapping_mul(10).wrapping_add(digits >> 8);
    ((pairs & MASK)
        .wrapping_mul(MUL1)
        .wrapping_add(((pairs >> 16) & MASK).wrapping_mul(MUL2)))
        >> 32
}

/// `n` bytes set from the lowest: `BELOW[n]` keeps the first `n` characters of a word.
pub static BELOW: [u128; 17] = {
    let mut table = [0u128; 17];
    let mut n = 1;
    while n <= 16 {
        table[n] = (table[n - 1] << 8) | 0xFF;
        n += 1;
    }
    table
};

/// The value of the `n` (1..=8) ASCII digits in the low bytes of `word` (loaded
/// little-endian, so the first character is the lowest byte); the other bytes are ignored.
/// `None` if one of the `n` bytes is not a digit.
#[inline(always)]
pub fn eight(word: u64, n: usize) -> Option<u64> {
    debug_assert!((1..=8).contains(&n));
    // Subtract, then shift the field's bytes to the top: the bytes past the field leave the
    // word (with any borrow they caused), zeros come in below as leading zero digits.
    let digits = word.wrapping_sub(ZEROS) << ((8 * (8 - n)) & 63);
    all_digits(digits).then(|| fold(digits))
}

/// [`eight`] for at most four digits, in 32 bits: counts are short, and this is half the
/// work.
#[inline(always)]
pub fn four(word: u32, n: usize) -> Option<u32> {
    debug_assert!((1..=4).contains(&n));
    let digits = word.wrapping_sub(ZEROS as u32) << ((8 * (4 - n)) & 31);
    if (digits.wrapping_add(ABOVE_NINE as u32) | digits) & HIGHS as u32 != 0 {
        return None;
    }
    // Bytes 0 and 2: the first and the second pair; then 100 * first + second.
    let pairs = digits.wrapping_mul(10).wrapping_add(digits >> 8) & 0x00FF_00FF;
    Some((pairs.wrapping_mul(1 + (100 << 16)) >> 16) & 0xFFFF)
}

/// The value of the `n` (1..=16) ASCII digits in the low bytes of `word`, as [`eight`].
#[inline(always)]
pub fn sixteen(word: u128, n: usize) -> Option<u64> {
    debug_assert!((1..=16).contains(&n));
    let digits = word.wrapping_sub(ZEROS_128) << ((8 * (16 - n)) & 127);
    if (digits.wrapping_add(ABOVE_NINE_128) | digits) & HIGHS_128 != 0 {
        return None;
    }
    // The first eight (most significant) digits are the low half.
    Some(fold(digits as u64) * 100_000_000 + fold((digits >> 64) as u64))
}

/// `TOP[n]`: the top `n` bytes of a 16-byte word set.
static TOP: [u128; 17] = {
    let mut table = [0u128; 17];
    let mut n = 1;
    while n <= 16 {
        table[n] = (table[n - 1] >> 8) | (0xFF << 120);
        n += 1;
    }
    table
};

/// A decimal `digits[.digits]` of `n` (1..=16) bytes with at most 15 digits, read from the
/// 16 bytes that end where it ends (`last`, the field in its top `n` bytes) and the 16
/// before those shifted by one (`before`), with its first `.` at `point` from its start (`n`
/// or more: none). Returns the digits as one integer (the mantissa, below 10^15) and how
/// many of them follow the point; `None` for anything else (no digit, a second point,
/// another byte, 16 digits), which the general float parser decides.
///
/// Reading from the end, the digits are where a 16-digit number with leading zeros has
/// them: the digits after the point in `last`, those before it one place lower in `before`
/// (which closes the gap the point leaves), the bytes before the field replaced by `'0'`.
/// Masks from tables do it all; no shift by a variable amount.
#[inline(always)]
pub fn decimal(last: u128, before: u128, n: usize, point: usize) -> Option<(u64, usize)> {
    debug_assert!((1..=16).contains(&n));
    let has_point = point < n;
    let digits = n - usize::from(has_point);
    if digits == 0 || digits > 15 {
        return None;
    }
    let (fraction, from_last) = if has_point {
        (n - 1 - point, n - 1 - point)
    } else {
        (0, n)
    };
    // Both at most 15 (16 digits are refused above), so `% 16` changes nothing.
    let from_last = TOP[from_last % 16];
    let keep = TOP[digits % 16];
    let merged = (last & from_last) | (before & !from_last);
    let padded = (merged & keep) | (ZEROS_128 & !keep);
    let digits = padded.wrapping_sub(ZEROS_128);
    if (digits.wrapping_add(ABOVE_NINE_128) | digits) & HIGHS_128 != 0 {
        return None;
    }
    Some((
        fold(digits as u64) * 100_000_000 + fold((digits >> 64) as u64),
        fraction,
    ))
}

/// Where the first `.` is in the low 16 bytes of `word` (16 if there is none): the lowest
/// zero byte of `word ^ "...."` (exact for the lowest one; a borrow can only mark bytes
/// above it). For the tests and for callers without a scanner's mask of points.
#[cfg(test)]
pub fn first_point(word: u128) -> usize {
    let x = word ^ DOTS_128;
    let zeros = x.wrapping_sub(ONES_128) & !x & HIGHS_128;
    (zeros.trailing_zeros() / 8) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn word64(text: &[u8]) -> u64 {
        let mut bytes = [b'x'; 8];
        bytes[..text.len()].copy_from_slice(text);
        u64::from_le_bytes(bytes)
    }

    fn word128(text: &[u8]) -> u128 {
        let mut bytes = [b'x'; 16];
        bytes[..text.len()].copy_from_slice(text);
        u128::from_le_bytes(bytes)
    }

    /// [`decimal`] on the first `n` of the 17 bytes from the start of `text` (the rest
    /// taken as `x`), with 17 other bytes before them.
    fn parse_decimal(text: &[u8], n: usize) -> Option<(u64, usize)> {
        parse_decimal_after(b'\t', text, n)
    }

    fn parse_decimal_after(filler: u8, text: &[u8], n: usize) -> Option<(u64, usize)> {
        let mut bytes = [filler; 34];
        bytes[17..17 + text.len()].copy_from_slice(text);
        bytes[17 + text.len()..].fill(b'x');
        let first = u128::from_le_bytes(bytes[17..33].try_into().unwrap());
        let end = 17 + n;
        let last = u128::from_le_bytes(bytes[end - 16..end].try_into().unwrap());
        let before = u128::from_le_bytes(bytes[end - 17..end - 1].try_into().unwrap());
        decimal(last, before, n, first_point(first))
    }

    #[test]
    fn digits_of_every_length() {
        assert_eq!(four(word64(b"0") as u32, 1), Some(0));
        assert_eq!(four(word64(b"12") as u32, 2), Some(12));
        assert_eq!(four(word64(b"9999") as u32, 4), Some(9999));
        assert_eq!(four(word64(b"0042") as u32, 4), Some(42));
        assert_eq!(eight(word64(b"0"), 1), Some(0));
        assert_eq!(eight(word64(b"7"), 1), Some(7));
        assert_eq!(eight(word64(b"10468"), 5), Some(10_468));
        assert_eq!(eight(word64(b"99999999"), 8), Some(99_999_999));
        assert_eq!(eight(word64(b"00000009"), 8), Some(9));
        // Bytes past `n` are not looked at.
        assert_eq!(eight(u64::from_le_bytes(*b"12\t3\n\0\xff#"), 2), Some(12));
        assert_eq!(sixteen(word128(b"2147483647"), 10), Some(2_147_483_647));
        assert_eq!(
            sixteen(word128(b"9999999999999999"), 16),
            Some(9_999_999_999_999_999)
        );
        assert_eq!(sixteen(word128(b"1"), 1), Some(1));
    }

    #[test]
    fn every_non_digit_byte_is_refused_at_every_place() {
        for byte in (0..=255u8).filter(|byte| !byte.is_ascii_digit()) {
            for n in 1..=8 {
                for at in 0..n {
                    let mut text = *b"12345678";
                    text[at] = byte;
                    let word = u64::from_le_bytes(text);
                    assert_eq!(eight(word, n), None, "{byte} {n} {at}");
                    if n <= 4 {
                        assert_eq!(four(word as u32, n), None, "{byte} {n} {at}");
                    }
                }
            }
            for n in 1..=16 {
                for at in 0..n {
                    let mut text = *b"1234567890123456";
                    text[at] = byte;
                    let word = u128::from_le_bytes(text);
                    assert_eq!(sixteen(word, n), None, "{byte} {n} {at}");
                    if byte != b'.' {
                        assert_eq!(parse_decimal(&text, n), None, "{byte} {n} {at}");
                    }
                }
            }
        }
    }

    #[test]
    fn decimals() {
        let parse = |text: &[u8]| parse_decimal(text, text.len());
        assert_eq!(parse(b"57.1428571428571"), Some((571_428_571_428_571, 13)));
        assert_eq!(parse(b"100"), Some((100, 0)));
        assert_eq!(parse(b".5"), Some((5, 1)));
        assert_eq!(parse(b"5."), Some((5, 0)));
        assert_eq!(parse(b"0.000"), Some((0, 3)));
        for text in [
            &b"."[..],
            b"1.2.3",
            b"..",
            b"1234567890123456",
            b"1e5",
            b"-1",
            b"nan",
        ] {
            assert_eq!(parse(text), None, "{}", String::from_utf8_lossy(text));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        #[test]
        fn integers_match_std(text in "[0-9]{1,16}", tail in any::<u128>()) {
            let bytes = text.as_bytes();
            let n = bytes.len();
            // The bytes past the field are whatever follows it in the text.
            let mut word = tail.to_le_bytes();
            word[..n].copy_from_slice(bytes);
            let word = u128::from_le_bytes(word);
            let expected: u64 = text.parse().unwrap();
            if n <= 4 {
                prop_assert_eq!(four(word as u32, n), Some(expected as u32));
            }
            if n <= 8 {
                prop_assert_eq!(eight(word as u64, n), Some(expected));
            }
            prop_assert_eq!(sixteen(word, n), Some(expected));
        }

        #[test]
        fn decimals_match_std(
            text in "[0-9]{0,16}|[0-9]{0,8}\\.[0-9]{0,7}|[0-9]{0,7}\\.[0-9]{0,8}|\\.?[0-9.]{0,15}",
            tail in any::<u128>(),
            filler in any::<u8>(),
        ) {
            let bytes = text.as_bytes();
            let n = bytes.len();
            prop_assume!(n >= 1);
            let mut field = [0; 17];
            field[..16].copy_from_slice(&tail.to_le_bytes());
            field[16] = tail as u8;
            field[..n].copy_from_slice(bytes);
            let parsed = parse_decimal_after(filler, &field, n);
            let digits = bytes.iter().filter(|b| b.is_ascii_digit()).count();
            let points = bytes.iter().filter(|&&b| b == b'.').count();
            if digits == 0 || digits > 15 || points > 1 {
                prop_assert_eq!(parsed, None);
            } else {
                let (mantissa, fraction) = parsed.unwrap();
                let point = text.find('.').map_or(0, |at| n - at - 1);
                prop_assert_eq!(fraction, point);
                let all: String = text.chars().filter(char::is_ascii_digit).collect();
                prop_assert_eq!(mantissa, all.parse::<u64>().unwrap());
            }
        }
    }
}
