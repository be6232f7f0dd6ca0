//! Number fields as words of digits, and their values computed eight digits at a time in a
//! 64-bit register (SWAR: SIMD within a register).
//!
//! The structural fast path knows where each number field starts and ends before it reads
//! a digit, so it needs no loop that stops at the first non-digit. It loads the 16 bytes
//! that end where a field ends, so that the field's digits sit where the digits of a
//! 16-digit number with leading zeros sit, and marks which bytes are the field's
//! (`keep`); the others count as zeros. Folding such a word into its value takes a few
//! multiplications (Lemire's method, as in `fast_float`) whatever the number of digits, and
//! no branch depends on that number, so numbers of varying length cost no mispredictions.
//! The scanning kernels fold three words at once ([`super::scan::Simd::fold_digits`]); the
//! scalar kernel does it here, the SIMD ones with SSE2.
//!
//! Every function here is exact on what it accepts and returns `None` for anything else
//! (a byte that is not a digit), which the caller hands to a slower path.

/// `'0'` in every byte.
const ZEROS: u128 = 0x3030_3030_3030_3030_3030_3030_3030_3030;
/// The high bit of every byte.
const HIGHS: u128 = 0x8080_8080_8080_8080_8080_8080_8080_8080;
/// `0x76` in every byte: added to a digit value (0..=9) it stays below `0x80`; added to 10
/// or more it reaches it.
const ABOVE_NINE: u128 = 0x7676_7676_7676_7676_7676_7676_7676_7676;

/// A line's numbers as words of digits, each 16 bytes as loaded little-endian (the first
/// byte lowest), with the bytes that hold digits marked in a `keep` mask; other bytes count
/// as `'0'`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Digits {
    /// `pos`: the 16 bytes that end where it ends.
    pub pos: u128,
    pub pos_keep: u128,
    /// `pct`: the 16 bytes that end where it ends (`pct_last`), and the 16 before those
    /// (`pct_before`); the digits are the bytes of `pct_last` in `pct_from_last` and those
    /// of `pct_before` elsewhere, where `pct_keep` says (see [`decimal`]).
    pub pct_last: u128,
    pub pct_before: u128,
    pub pct_from_last: u128,
    pub pct_keep: u128,
    /// `c` and `t` side by side: the 8 bytes that end where each ends.
    pub counts: u128,
    pub counts_keep: u128,
}

impl Digits {
    /// The three words to fold: `pos`, `pct` with its gap closed, the counts.
    #[inline(always)]
    fn words(&self) -> [(u128, u128); 3] {
        let pct = (self.pct_last & self.pct_from_last) | (self.pct_before & !self.pct_from_last);
        [
            (self.pos, self.pos_keep),
            (pct, self.pct_keep),
            (self.counts, self.counts_keep),
        ]
    }
}

/// The folded words of [`Digits`]: for `pos`, `pct` and the counts, the value of the
/// word's first eight bytes read as eight digits in the low 32 bits and that of its last
/// eight in the high 32 bits.
pub type Folded = [u64; 3];

/// `TOP[n]`: the last `n` bytes of a 16-byte word (the top `n`, little-endian).
pub static TOP: [u128; 17] = {
    let mut table = [0u128; 17];
    let mut n = 1;
    while n <= 16 {
        table[n] = (table[n - 1] >> 8) | (0xFF << 120);
        n += 1;
    }
    table
};

/// `BELOW[n]`: the first `n` bytes of a 16-byte word.
pub static BELOW: [u128; 17] = {
    let mut table = [0u128; 17];
    let mut n = 1;
    while n <= 16 {
        table[n] = (table[n - 1] << 8) | 0xFF;
        n += 1;
    }
    table
};

/// `TOP8[n]`: the last `n` bytes of an 8-byte word.
pub static TOP8: [u64; 9] = {
    let mut table = [0u64; 9];
    let mut n = 1;
    while n <= 8 {
        table[n] = (table[n - 1] >> 8) | (0xFF << 56);
        n += 1;
    }
    table
};

/// The value of eight digit values (0..=9), one per byte, the most significant in the
/// lowest byte: pairs, then quadruples, then the whole, each step one multiplication that
/// adds a byte scaled by 10, 100 or 10^4 to its neighbour.
#[inline(always)]
fn fold8(digits: u64) -> u64 {
    const MASK: u64 = 0x0000_00FF_0000_00FF;
    const MUL1: u64 = 100 + (1_000_000 << 32);
    const MUL2: u64 = 1 + (10_000 << 32);
    let pairs = digits.wrapping_mul(10).wrapping_add(digits >> 8);
    ((pairs & MASK)
        .wrapping_mul(MUL1)
        .wrapping_add(((pairs >> 16) & MASK).wrapping_mul(MUL2)))
        >> 32
}

/// One word of [`fold_digits`]: `None` if a kept byte is not an ASCII digit.
#[inline(always)]
pub fn fold_word(word: u128, keep: u128) -> Option<u64> {
    // '0' where nothing is kept, so that no borrow crosses into the digits.
    let padded = (word & keep) | (ZEROS & !keep);
    let digits = padded.wrapping_sub(ZEROS);
    // A byte below '0' sets its own high bit in the subtraction (the borrow it passes up
    // only disturbs bytes above it, and the answer is already no); a byte above '9'
    // reaches the high bit when 0x76 is added, with no carry out of the byte unless its
    // high bit was set already.
    if (digits.wrapping_add(ABOVE_NINE) | digits) & HIGHS != 0 {
        return None;
    }
    Some(fold8(digits as u64) | (fold8((digits >> 64) as u64) << 32))
}

/// The scalar kernel's [`super::scan::Simd::fold_digits`].
#[inline(always)]
pub fn fold_digits(digits: &Digits) -> Option<Folded> {
    let [pos, pct, counts] = digits.words();
    Some([
        fold_word(pos.0, pos.1)?,
        fold_word(pct.0, pct.1)?,
        fold_word(counts.0, counts.1)?,
    ])
}

/// The value of a folded 16-digit word.
#[inline(always)]
pub fn value(folded: u64) -> u64 {
    (folded & 0xFFFF_FFFF) * 100_000_000 + (folded >> 32)
}

/// How to read a decimal of `n` bytes whose first `.` is at `point` (`n` or more, up to
/// 64: none): `(from_last, keep, fraction)` as in [`decimal`], the masks as indices into
/// [`TOP`]; the fraction is 16 (an impossible count) for a decimal the fast path does not
/// take.
static DECIMALS: [[(u8, u8, u8); 65]; 17] = {
    let mut table = [[(0, 0, 16); 65]; 17];
    let mut n = 1;
    while n <= 16 {
        let mut point = 0;
        while point <= 64 {
            let has_point = point < n;
            let digits = if has_point { n - 1 } else { n };
            if digits >= 1 && digits <= 15 {
                let fraction = if has_point { n - 1 - point } else { 0 };
                let from_last = if has_point { fraction } else { n };
                table[n][point] = (from_last as u8, digits as u8, fraction as u8);
            }
            point += 1;
        }
        n += 1;
    }
    table
};

/// The masks of a decimal `digits[.digits]` of `n` (1..=16) bytes with at most 15
/// digits, whose first `.` is at `point` from its start (`n` or more: none): which bytes of
/// the 16 that end where it ends to take (`from_last`, the rest from the 16 before those),
/// which to keep as digits, and how many digits follow the point. `None` for no digit or
/// more than 15, which the general float parser decides. Any other byte (a second point, a
/// letter) is left in the word, where the fold refuses it.
///
/// Read from the end, the digits after the point are where a 16-digit number with leading
/// zeros has them; those before it are one place further on, so they are read from the
/// word that ends one byte earlier: that closes the gap the point leaves. Masks from tables
/// do it all; no shift by a variable amount.
#[inline(always)]
pub fn decimal(n: usize, point: usize) -> Option<(u128, u128, usize)> {
    debug_assert!((1..=16).contains(&n));
    let (from_last, keep, fraction) = DECIMALS[n % 17][point.min(64)];
    if fraction >= 16 {
        return None;
    }
    // Both at most 15 in an entry that is taken, so `% 16` changes nothing.
    Some((
        TOP[usize::from(from_last % 16)],
        TOP[usize::from(keep % 16)],
        usize::from(fraction),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The word of the field at the end of `bytes` (its last `n` bytes), as the fast path
    /// loads it: the 16 bytes that end there.
    fn ending(bytes: &[u8], back: usize) -> u128 {
        let end = bytes.len() - back;
        u128::from_le_bytes(bytes[end - 16..end].try_into().unwrap())
    }

    /// `field` after 17 bytes of `filler`, followed by more.
    fn text(filler: u8, field: &[u8]) -> Vec<u8> {
        let mut text = vec![filler; 17];
        text.extend_from_slice(field);
        text
    }

    fn integer(filler: u8, field: &[u8]) -> Option<u64> {
        let word = ending(&text(filler, field), 0);
        fold_word(word, TOP[field.len()]).map(value)
    }

    /// The words of a line whose numbers are all `field`.
    fn digits(filler: u8, field: &[u8]) -> Option<(Digits, usize)> {
        let text = text(filler, field);
        let point = field.iter().position(|&b| b == b'.').unwrap_or(field.len());
        let (pct_from_last, pct_keep, fraction) = decimal(field.len(), point)?;
        let digits = Digits {
            pos: 0,
            pos_keep: 0,
            pct_last: ending(&text, 0),
            pct_before: ending(&text, 1),
            pct_from_last,
            pct_keep,
            counts: 0,
            counts_keep: 0,
        };
        Some((digits, fraction))
    }

    fn parse_decimal(filler: u8, field: &[u8]) -> Option<(u64, usize)> {
        let (digits, fraction) = digits(filler, field)?;
        Some((value(fold_digits(&digits)?[1]), fraction))
    }

    #[test]
    fn integers_of_every_length() {
        assert_eq!(integer(b'\t', b"0"), Some(0));
        assert_eq!(integer(b'\t', b"7"), Some(7));
        assert_eq!(integer(b'-', b"10468"), Some(10_468));
        assert_eq!(integer(b'9', b"00000009"), Some(9));
        assert_eq!(integer(b'x', b"2147483647"), Some(2_147_483_647));
        assert_eq!(
            integer(b' ', b"9999999999999999"),
            Some(9_999_999_999_999_999)
        );
        assert_eq!(TOP8[1], 0xFF << 56);
        assert_eq!(TOP8[8], !0);
    }

    #[test]
    fn every_non_digit_byte_is_refused_at_every_place() {
        for byte in (0..=255u8).filter(|byte| !byte.is_ascii_digit()) {
            for n in 1..=16 {
                for at in 0..n {
                    let mut field = b"1234567890123456"[..n].to_vec();
                    field[at] = byte;
                    assert_eq!(integer(b'0', &field), None, "{byte} {n} {at}");
                    if byte != b'.' {
                        assert_eq!(parse_decimal(b'0', &field), None, "{byte} {n} {at}");
                    }
                }
            }
        }
    }

    #[test]
    fn decimals() {
        let parse = |field: &[u8]| parse_decimal(b'\t', field);
        assert_eq!(parse(b"57.1428571428571"), Some((571_428_571_428_571, 13)));
        assert_eq!(parse(b"100"), Some((100, 0)));
        assert_eq!(parse(b".5"), Some((5, 1)));
        assert_eq!(parse(b"5."), Some((5, 0)));
        assert_eq!(parse(b"0.000"), Some((0, 3)));
        for field in [
            &b"."[..],
            b"1.2.3",
            b"..",
            b"1234567890123456",
            b"1e5",
            b"-1",
            b"nan",
        ] {
            assert_eq!(parse(field), None, "{}", String::from_utf8_lossy(field));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        #[test]
        fn integers_match_std(field in "[0-9]{1,16}", filler in any::<u8>()) {
            let expected: u64 = field.parse().unwrap();
            prop_assert_eq!(integer(filler, field.as_bytes()), Some(expected));
        }

        #[test]
        fn decimals_match_std(
            field in "[0-9]{0,16}|[0-9]{0,8}\\.[0-9]{0,7}|[0-9]{0,7}\\.[0-9]{0,8}|\\.?[0-9.]{0,15}",
            filler in any::<u8>(),
        ) {
            let bytes = field.as_bytes();
            let n = bytes.len();
            prop_assume!(n >= 1);
            let parsed = parse_decimal(filler, bytes);
            let digits = bytes.iter().filter(|b| b.is_ascii_digit()).count();
            let points = bytes.iter().filter(|&&b| b == b'.').count();
            if digits == 0 || digits > 15 || points > 1 {
                prop_assert_eq!(parsed, None);
            } else {
                let (mantissa, fraction) = parsed.unwrap();
                let point = field.find('.').map_or(0, |at| n - at - 1);
                prop_assert_eq!(fraction, point);
                let all: String = field.chars().filter(char::is_ascii_digit).collect();
                prop_assert_eq!(mantissa, all.parse::<u64>().unwrap());
            }
        }
    }
}
