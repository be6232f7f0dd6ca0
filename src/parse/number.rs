//! Number fields, parsed the way `numpy.loadtxt` parses them.
//!
//! numpy reads an `<i4` field with its own integer scanner (optional sign, ASCII digits,
//! nothing else; numpy 2 no longer accepts `1.0` or `1e3` for integers) and an `<f4` field
//! by parsing a *double* with CPython's `PyOS_string_to_double` and casting it to float32.
//! Parsing straight to `f32` would differ from numpy whenever the double rounding matters,
//! so [`parse_f32_via_f64`] does exactly the two steps numpy does.

/// Why an integer field was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntError {
    /// Not an optional sign followed by one or more ASCII digits.
    Invalid,
    /// Well-formed, but outside `i32`. numpy rejects these too.
    OutOfRange,
}

/// The float field was not a decimal number, `inf`, `infinity` or `nan` (any case, signed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FloatError;

/// Parses a signed 32-bit integer: `[+-]?[0-9]+`, leading zeros allowed.
#[inline]
pub fn parse_i32(field: &[u8]) -> Result<i32, IntError> {
    i32::try_from(parse_i64(field)?).map_err(|_| IntError::OutOfRange)
}

/// Parses a signed 64-bit integer with the same rules as [`parse_i32`] (positions of
/// `--wide-pos`, and positions before their range check).
#[inline]
pub fn parse_i64(field: &[u8]) -> Result<i64, IntError> {
    let (negative, digits) = match field.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, field),
    };
    if digits.is_empty() {
        return Err(IntError::Invalid);
    }
    // Saturate instead of overflowing so that a long run of digits followed by a letter is
    // still reported as invalid rather than out of range.
    const LIMIT: i128 = 1 << 63;
    let mut magnitude: i128 = 0;
    for &byte in digits {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return Err(IntError::Invalid);
        }
        magnitude = (magnitude * 10 + i128::from(digit)).min(LIMIT + 1);
    }
    let value = if negative { -magnitude } else { magnitude };
    i64::try_from(value).map_err(|_| IntError::OutOfRange)
}

/// Parses a float field to the nearest `f64` (numpy's double).
#[inline]
pub fn parse_f64(field: &[u8]) -> Result<f64, FloatError> {
    fast_float2::parse(field).map_err(|_| FloatError)
}

/// Parses a float field to the nearest `f64`, then rounds that to `f32`, as numpy does.
#[inline]
pub fn parse_f32_via_f64(field: &[u8]) -> Result<f32, FloatError> {
    let value: f64 = fast_float2::parse(field).map_err(|_| FloatError)?;
    Ok(value as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_numpy_accepts() {
        assert_eq!(parse_i32(b"0"), Ok(0));
        assert_eq!(parse_i32(b"+10"), Ok(10));
        assert_eq!(parse_i32(b"-1"), Ok(-1));
        assert_eq!(parse_i32(b"0009"), Ok(9));
        assert_eq!(parse_i32(b"-0"), Ok(0));
        assert_eq!(parse_i32(b"2147483647"), Ok(i32::MAX));
        assert_eq!(parse_i32(b"-2147483648"), Ok(i32::MIN));
        assert_eq!(parse_i32(b"0000000000002147483647"), Ok(i32::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(parse_i64(b"+0009223372036854775807"), Ok(i64::MAX));
        assert_eq!(parse_i64(b"9223372036854775808"), Err(IntError::OutOfRange));
        assert_eq!(
            parse_i64(b"99999999999999999999999x"),
            Err(IntError::Invalid)
        );
        assert_eq!(parse_i64(b"1.0"), Err(IntError::Invalid));
    }

    #[test]
    fn integers_numpy_rejects() {
        for text in [
            &b""[..],
            b"+",
            b"-",
            b"10.0",
            b"1e3",
            b"1_0",
            b"0x10",
            b"--1",
            b"1-",
            b"nan",
        ] {
            assert_eq!(parse_i32(text), Err(IntError::Invalid), "{text:?}");
        }
        assert_eq!(parse_i32(b"2147483648"), Err(IntError::OutOfRange));
        assert_eq!(parse_i32(b"-2147483649"), Err(IntError::OutOfRange));
        assert_eq!(parse_i32(b"3000000000"), Err(IntError::OutOfRange));
        assert_eq!(
            parse_i32(b"99999999999999999999999"),
            Err(IntError::OutOfRange)
        );
        assert_eq!(
            parse_i32(b"99999999999999999999999x"),
            Err(IntError::Invalid)
        );
    }

    fn bits(text: &[u8]) -> u32 {
        parse_f32_via_f64(text).unwrap().to_bits()
    }

    #[test]
    fn floats_match_numpy_bit_patterns() {
        // Bit patterns printed by numpy 2.4 for np.loadtxt(..., dtype='<f4').
        assert_eq!(bits(b"50.5"), 0x424a_0000);
        assert_eq!(bits(b"+50.5"), 0x424a_0000);
        assert_eq!(bits(b"-nan"), 0xffc0_0000);
        assert_eq!(bits(b"NaN"), 0x7fc0_0000);
        assert_eq!(bits(b"-Infinity"), 0xff80_0000);
        assert_eq!(bits(b"1e400"), 0x7f80_0000);
        assert_eq!(bits(b"1e39"), 0x7f80_0000);
        assert_eq!(bits(b".5"), 0x3f00_0000);
        assert_eq!(bits(b"5."), 0x40a0_0000);
        assert_eq!(bits(b"-0.0"), 0x8000_0000);
        assert_eq!(bits(b"1E+05"), 0x47c3_5000);
    }

    #[test]
    fn float_goes_through_double_rounding() {
        // 1 + 2^-24 + 2^-60 rounds up to 1 + 2^-23 directly as f32, but the nearest double
        // is 1 + 2^-24 (a tie in f32), which rounds to even: 1.0. numpy gives 1.0.
        assert_eq!(
            "1.000000059604644776257986737988403547205962240695953369140625".parse::<f32>(),
            Ok(1.000_000_1)
        );
        let text = b"1.000000059604644776257986737988403547205962240695953369140625";
        assert_eq!(parse_f32_via_f64(text), Ok(1.0));
    }

    #[test]
    fn floats_numpy_rejects() {
        for text in [
            &b""[..],
            b".",
            b"1e",
            b"e5",
            b"+",
            b"1e+",
            b"0x1p3",
            b"1_0",
            b"nan(1)",
            b"1d5",
            b"infinit",
            b"5%",
        ] {
            assert_eq!(parse_f32_via_f64(text), Err(FloatError), "{text:?}");
        }
    }
}
