//! A plain, obviously-correct parser used only to check the fast one.
//!
//! It follows the rules in the parent module word for word with std's tools: split the
//! text into lines, cut at `#`, split on the whitespace set, and use `str::parse`. The
//! differential tests run both parsers on the same bytes and demand identical records or
//! an error from both.

use crate::schema::Schema;

/// numpy's whitespace (`Py_UNICODE_ISSPACE`) restricted to ASCII, spelled out again here
/// rather than shared, so that a mistake in the fast parser's table shows up as a difference.
fn is_field_separator(byte: u8) -> bool {
    b"\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f ".contains(&byte)
}

/// One parsed row, field by field.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub chr: Vec<u8>,
    pub pos: i32,
    pub pct: f32,
    pub c: i32,
    pub t: i32,
}

/// Parses one line; `Ok(None)` for a line without fields, `Err(())` for a line numpy
/// (or txt2h5's stricter `chr` rules) would reject.
#[allow(clippy::result_unit_err)]
pub fn parse_line(schema: &Schema, line: &[u8]) -> Result<Option<Row>, ()> {
    if line.len() > crate::defaults::MAX_LINE_BYTES {
        return Err(());
    }
    // A `\r` anywhere but at the end of the line (CRLF) is refused: numpy's universal
    // newlines would read it as a line break.
    if line
        .iter()
        .position(|&b| b == b'\r')
        .is_some_and(|at| at + 1 != line.len())
    {
        return Err(());
    }
    let data = match line.iter().position(|&b| b == b'#') {
        Some(hash) => &line[..hash],
        None => line,
    };
    let fields: Vec<&[u8]> = data
        .split(|&b| is_field_separator(b))
        .filter(|field| !field.is_empty())
        .collect();
    if fields.is_empty() {
        return Ok(None);
    }
    if fields.len() != 5 {
        return Err(());
    }
    let chr = fields[0];
    if chr.len() > schema.chr_width() || !chr.iter().all(u8::is_ascii_graphic) {
        return Err(());
    }
    let text = |k: usize| std::str::from_utf8(fields[k]).map_err(|_| ());
    let int = |k: usize| text(k)?.parse::<i32>().map_err(|_| ());
    Ok(Some(Row {
        chr: chr.to_vec(),
        pos: int(1)?,
        pct: text(2)?.parse::<f64>().map_err(|_| ())? as f32,
        c: int(3)?,
        t: int(4)?,
    }))
}

/// Parses a whole text; `Err(k)` names the 0-based index of the first rejected line.
pub fn parse_text(schema: &Schema, text: &[u8]) -> Result<Vec<Row>, u64> {
    let mut lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
    if text.ends_with(b"\n") {
        lines.pop();
    }
    let mut rows = Vec::new();
    for (index, line) in lines.into_iter().enumerate() {
        if let Some(row) = parse_line(schema, line).map_err(|()| index as u64)? {
            rows.push(row);
        }
    }
    Ok(rows)
}

impl Row {
    /// The packed record bytes, for comparison with the fast parser's output.
    pub fn to_record(&self, schema: &Schema) -> Vec<u8> {
        let mut slot = vec![0; schema.record_size()];
        schema.write_record(&mut slot, &self.chr, self.pos, self.pct, self.c, self.t);
        slot
    }
}

/// The differential test: the fast parser against this one, on generated lines built from
/// the tokens that matter (every number spelling numpy accepts or rejects, separators,
/// comments, CR) plus arbitrary bytes.
#[cfg(test)]
mod differential {
    use super::*;
    use crate::parse::{parse_block_with, parse_line as fast_parse_line, Kernel};
    use proptest::prelude::*;

    const TOKENS: &[&str] = &[
        "chr1",
        "chrX",
        "chrUn_KI27",
        "chrUn_KI270302v1",
        "0",
        "1",
        "-1",
        "+1",
        "007",
        "-0",
        "2147483647",
        "2147483648",
        "-2147483648",
        "-2147483649",
        "99999999999",
        "1.0",
        "1e3",
        ".5",
        "5.",
        ".",
        "-",
        "+",
        "e5",
        "1e",
        "1e-5",
        "1E+05",
        "57.1428571428571",
        "66.6666666666667",
        "nan",
        "-nan",
        "NaN",
        "inf",
        "-Infinity",
        "infinit",
        "nan(1)",
        "0x10",
        "1_0",
        "1e400",
        "1e-400",
        "3.4028235e38",
        "3.4028236e38",
        "1.401298464e-45",
        "x",
        "\u{e9}",
        "\u{a0}",
        // Rounds differently straight to f32 than through f64 as numpy does.
        "1.000000059604644776257986737988403547205962240695953369140625",
    ];
    const SEPARATORS: &[&str] = &[
        " ", "\t", "  ", " \t ", "\x0b", "\x0c", "\x1c", "\r", "#", " # c ",
    ];

    fn piece() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            8 => proptest::sample::select(TOKENS).prop_map(|t| t.as_bytes().to_vec()),
            4 => proptest::sample::select(SEPARATORS).prop_map(|s| s.as_bytes().to_vec()),
            1 => proptest::collection::vec(any::<u8>().prop_filter("no newline", |b| *b != b'\n'), 0..4),
            2 => (-1e6f64..1e6).prop_map(|v| v.to_string().into_bytes()),
            2 => any::<i64>().prop_map(|v| v.to_string().into_bytes()),
        ]
    }

    const CHROMS: &[&str] = &["chr1", "chrX", "chrUn_KI27", "c", "chr14_GL000009v2_random"];
    const INTEGERS: &[&str] = &[
        "0",
        "12",
        "-7",
        "+10468",
        "0009",
        "2147483647",
        "-2147483648",
    ];
    const FLOATS: &[&str] = &[
        "50",
        "57.1428571428571",
        "1e-3",
        ".5",
        "5.",
        "-0.0",
        "nan",
        "-nan",
        "inf",
        "-Infinity",
        "3.4028235677973366e38",
        "1e39",
        "1.401298464324817e-45",
        "7e-46",
        "1.000000059604644776257986737988403547205962240695953369140625",
    ];

    /// A field that is usually valid for its column, sometimes anything.
    fn field(valid: &'static [&'static str]) -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            6 => proptest::sample::select(valid).prop_map(|t| t.as_bytes().to_vec()),
            2 => (-1e6f64..1e6).prop_map(|v| v.to_string().into_bytes()),
            1 => any::<i32>().prop_map(|v| v.to_string().into_bytes()),
            2 => piece(),
        ]
    }

    /// Decimals of up to 20 digits, on both sides of the fast path's 15-digit limit.
    fn decimal() -> impl Strategy<Value = Vec<u8>> {
        "[+-]?[0-9]{0,10}(\\.[0-9]{0,10})?([eE][+-]?[0-9]{1,2})?".prop_map(String::into_bytes)
    }

    fn line() -> impl Strategy<Value = Vec<u8>> {
        let pct = prop_oneof![1 => field(FLOATS), 1 => decimal()];
        let columns = (
            field(CHROMS),
            field(INTEGERS),
            pct,
            field(INTEGERS),
            field(INTEGERS),
        );
        let separators = proptest::collection::vec(proptest::sample::select(SEPARATORS), 6..=6);
        prop_oneof![
            // Mostly five fields, so most lines reach the number parsers.
            4 => (columns, separators).prop_map(|((chr, pos, pct, c, t), seps)| {
                let mut line = Vec::new();
                for (k, field) in [chr, pos, pct, c, t].into_iter().enumerate() {
                    line.extend_from_slice(if k == 0 || seps[k].contains('#') { b"" } else { seps[k].as_bytes() });
                    if k > 0 && line.last().is_none_or(|b| !b.is_ascii_whitespace()) {
                        line.push(b' ');
                    }
                    line.extend_from_slice(&field);
                }
                line.extend_from_slice(seps[5].as_bytes());
                line
            }),
            1 => proptest::collection::vec(piece(), 0..12).prop_map(|pieces| pieces.concat()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        #[test]
        fn fast_parser_agrees_with_reference(line in line(), width in 4usize..20) {
            let schema = Schema::new(width).unwrap();
            let mut slot = vec![0; schema.record_size()];
            let fast = fast_parse_line(&schema, &line, &mut slot);
            let reference = parse_line(&schema, &line);
            match (fast, reference) {
                (Ok(true), Ok(Some(row))) => prop_assert_eq!(slot, row.to_record(&schema)),
                (Ok(false), Ok(None)) | (Err(_), Err(())) => {}
                (fast, reference) => prop_assert!(false, "{:?}: fast {:?}, reference {:?}",
                    String::from_utf8_lossy(&line), fast, reference),
            }
        }

        /// The line through the block parser, with every scanning kernel: the structural
        /// fast path, the byte-at-a-time one and the general parser in turn.
        #[test]
        fn block_parser_agrees_with_reference_on_one_line(line in line(), width in 4usize..20, newline: bool) {
            let schema = Schema::new(width).unwrap();
            let mut text = line.clone();
            if newline {
                text.push(b'\n');
            }
            let reference = parse_line(&schema, &line);
            for kernel in Kernel::every_scanning() {
                let mut slot = vec![0; schema.record_size()];
                let fast = parse_block_with(kernel, &schema, &text, true, &mut slot);
                match (&fast, &reference) {
                    (Ok(progress), Ok(Some(row))) if progress.rows == 1 => prop_assert_eq!(&slot, &row.to_record(&schema)),
                    (Ok(progress), Ok(None)) if progress.rows == 0 => {}
                    (Err(_), Err(())) => {}
                    (fast, reference) => prop_assert!(false, "{:?} {:?}: fast {:?}, reference {:?}",
                        kernel, String::from_utf8_lossy(&text), fast, reference),
                }
            }
        }

        #[test]
        fn block_parser_agrees_with_reference(lines in proptest::collection::vec(line(), 0..40), final_newline: bool) {
            let schema = Schema::new(10).unwrap();
            let mut text = lines.join(&b'\n');
            if final_newline && !text.is_empty() {
                text.push(b'\n');
            }
            let reference = parse_text(&schema, &text);
            for kernel in Kernel::every_scanning() {
                let mut out = vec![0; 64 * schema.record_size()];
                let fast = parse_block_with(kernel, &schema, &text, true, &mut out);
                match (fast, &reference) {
                    (Ok(progress), Ok(rows)) => {
                        prop_assert_eq!(progress.consumed, text.len());
                        let expected: Vec<u8> = rows.iter().flat_map(|row| row.to_record(&schema)).collect();
                        prop_assert_eq!(&out[..progress.rows * schema.record_size()], &expected[..], "{:?}", kernel);
                    }
                    (Err(error), Err(index)) => prop_assert_eq!(error.line_index, *index, "{:?}", kernel),
                    (fast, reference) => prop_assert!(false, "{:?}: fast {:?}, reference {:?}", kernel, fast, reference),
                }
            }
        }
    }
}
