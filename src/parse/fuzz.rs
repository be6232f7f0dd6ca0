//! The parser's fuzz target, run as a property test (stable Rust has no cargo-fuzz here).
//!
//! Inputs are realistic files mutated the way real corruption and generators go wrong (bit
//! flips, inserted whitespace, signs, NUL, CR, non-ASCII, huge numbers, cut lines) and raw
//! bytes. Each is fed to [`parse_block`] the way the streaming reader feeds it: in
//! arbitrary slices, with a small record buffer that fills up mid-text. The property: no
//! panic, and either exactly the records of the plain reference parser or an error at the
//! same line. Every case runs with every scanning kernel the machine has (the scalar one
//! and the SIMD ones), so both the structural fast path's scalar fallback and its SIMD code
//! are fuzzed. `TXT2H5_FUZZ_CASES` sets the number of cases.

use proptest::prelude::*;

use super::reference::{parse_text, Row};
use super::{parse_block_with, BlockError, Kernel, Scanning};
use crate::schema::Schema;

/// A line as methylation callers write it.
fn valid_line() -> impl Strategy<Value = Vec<u8>> {
    let chr = proptest::sample::select(
        &[
            "chr1",
            "chrX",
            "chrM",
            // 9, 10 and 11 bytes: both sides of the default field width.
            "chr1_KI27",
            "chrUn_KI27",
            "chrUn_KI270",
            "chrUn_KI270302v1",
            "chr14_GL000009v2_random",
            "7",
            "chr22",
        ][..],
    );
    let blank = proptest::sample::select(&[" ", "\t", "  ", " \t"][..]);
    (
        chr,
        0i32..250_000_000,
        0u32..=1000,
        0i32..500,
        0i32..500,
        blank,
    )
        .prop_map(|(chr, pos, pct, c, t, blank)| {
            // Plain decimals take the fast path; the other spellings the general parser.
            let pct = match pct % 6 {
                0 => format!("{}", pct / 10),
                1 => format!("{:.1}", f64::from(pct) / 10.0),
                2 => format!("{}", f64::from(pct) / 7.0),
                3 => format!("{:e}", f64::from(pct)),
                4 => ["nan", "-inf", "Infinity", ".5", "5.", "+1E2"][pct as usize % 6].to_string(),
                _ => format!("{}", f64::from(pct) / 3.0),
            };
            format!("{chr}{blank}{pos}{blank}{pct}{blank}{c}{blank}{t}").into_bytes()
        })
}

/// One way of damaging a text.
#[derive(Clone, Debug)]
enum Mutation {
    FlipBit { at: usize, bit: u8 },
    Insert { at: usize, bytes: Vec<u8> },
    Delete { at: usize, len: usize },
    Truncate { at: usize },
}

/// Bytes that make parsers go wrong.
const NASTY: &[&[u8]] = &[
    b"\0",
    b"\r",
    b"\r\n",
    b"\n",
    b" ",
    b"\t",
    b"\x0b",
    b"\x1c",
    b"-",
    b"+",
    b"--",
    b".",
    b"e",
    b"E-",
    b"#",
    b"\xff",
    b"\xc3\xa9",
    b"\xc2\xa0",
    b"nan",
    b"inf",
    b"99999999999999999999",
    b"2147483648",
    b"-2147483649",
    b"1e309",
    b"0.000000000000000000000000000000000000000000001",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = any::<prop::sample::Index>();
    prop_oneof![
        3 => (at.clone(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit { at: at.index(usize::MAX), bit }),
        4 => (at.clone(), prop_oneof![
            4 => proptest::sample::select(NASTY).prop_map(<[u8]>::to_vec),
            1 => proptest::collection::vec(any::<u8>(), 1..4),
            // A number far longer than any field: numpy parses it, or rejects it.
            1 => (1usize..400).prop_map(|digits| vec![b'9'; digits]),
        ]).prop_map(|(at, bytes)| Mutation::Insert { at: at.index(usize::MAX), bytes }),
        2 => (at.clone(), 1usize..6).prop_map(|(at, len)| Mutation::Delete { at: at.index(usize::MAX), len }),
        1 => at.prop_map(|at| Mutation::Truncate { at: at.index(usize::MAX) }),
    ]
}

impl Mutation {
    fn apply(&self, text: &mut Vec<u8>) {
        if text.is_empty() {
            return;
        }
        let position = |at: usize| at % (text.len() + 1);
        match self {
            Mutation::FlipBit { at, bit } => {
                let at = *at % text.len();
                text[at] ^= 1 << bit;
            }
            Mutation::Insert { at, bytes } => {
                let at = position(*at);
                text.splice(at..at, bytes.iter().copied());
            }
            Mutation::Delete { at, len } => {
                let at = *at % text.len();
                let end = (at + len).min(text.len());
                text.drain(at..end);
            }
            Mutation::Truncate { at } => {
                let at = position(*at);
                text.truncate(at);
            }
        }
    }
}

/// A file: valid lines, some comments and blanks, then damaged; or raw bytes.
fn text() -> impl Strategy<Value = Vec<u8>> {
    let line = prop_oneof![
        12 => valid_line(),
        1 => Just(b"# comment".to_vec()),
        1 => Just(Vec::new()),
    ];
    let file = (
        proptest::collection::vec(line, 0..30),
        any::<bool>(),
        proptest::collection::vec(mutation(), 0..6),
    )
        .prop_map(|(lines, final_newline, mutations)| {
            let mut text = lines.join(&b'\n');
            if final_newline {
                text.push(b'\n');
            }
            for mutation in &mutations {
                mutation.apply(&mut text);
            }
            text
        });
    prop_oneof![
        6 => file,
        1 => proptest::collection::vec(any::<u8>(), 0..300),
    ]
}

/// Parses `text` as the streaming reader does: the text arrives in slices ending at the
/// `cuts`, each parse sees what has arrived and is not yet consumed, and the record buffer
/// holds `slots` records before it must be emptied.
fn parse_streaming(
    kernel: Scanning,
    schema: &Schema,
    text: &[u8],
    cuts: &[usize],
    slots: usize,
) -> Result<Vec<u8>, BlockError> {
    let mut ends: Vec<usize> = cuts.iter().map(|cut| cut % (text.len() + 1)).collect();
    ends.push(text.len());
    ends.sort_unstable();
    let mut out = vec![0u8; slots * schema.record_size()];
    let mut records = Vec::new();
    let (mut consumed, mut lines_before) = (0, 0);
    for end in ends {
        let at_end = end == text.len();
        loop {
            let progress = parse_block_with(kernel, schema, &text[consumed..end], at_end, &mut out)
                .map_err(|error| BlockError {
                    line_index: lines_before + error.line_index,
                    error: error.error,
                })?;
            records.extend_from_slice(&out[..progress.rows * schema.record_size()]);
            consumed += progress.consumed;
            lines_before += progress.lines;
            // Go on while the buffer filled up; otherwise wait for more text.
            if progress.rows < slots || consumed == end {
                break;
            }
        }
    }
    assert_eq!(consumed, text.len(), "text left unparsed at the end");
    Ok(records)
}

fn cases() -> u32 {
    std::env::var("TXT2H5_FUZZ_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(3000)
}

/// The property: with every kernel, the records of the reference parser or an error at the
/// same line.
fn agrees_with_the_reference(
    schema: &Schema,
    text: &[u8],
    cuts: &[usize],
    slots: usize,
) -> Result<(), TestCaseError> {
    let reference = parse_text(schema, text);
    for kernel in Kernel::every_scanning() {
        let fast = parse_streaming(kernel, schema, text, cuts, slots);
        match (fast, &reference) {
            (Ok(records), Ok(rows)) => {
                let expected: Vec<u8> = rows
                    .iter()
                    .flat_map(|row: &Row| row.to_record(schema))
                    .collect();
                prop_assert_eq!(records, expected, "{:?}", kernel);
            }
            (Err(error), Err(index)) => prop_assert_eq!(error.line_index, *index, "{:?}", kernel),
            (fast, reference) => prop_assert!(
                false,
                "{:?} {:?}: fast {:?}, reference {:?}",
                kernel,
                String::from_utf8_lossy(text),
                fast.map(|r| r.len()),
                reference.as_ref().map(|r| r.len())
            ),
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn mutated_files_parse_exactly_like_the_reference_or_fail_at_the_same_line(
        text in text(),
        cuts in proptest::collection::vec(any::<usize>(), 0..4),
        slots in 1usize..8,
        width in prop_oneof![3 => Just(10usize), 1 => 1usize..20],
    ) {
        let schema = Schema::new(width).unwrap();
        agrees_with_the_reference(&schema, &text, &cuts, slots)?;
    }
}

/// A line built to put field and line boundaries everywhere in and across the scanner's
/// 64-byte blocks and the fast path's 16-byte loads: names up to 17 bytes, integers of 1 to
/// 12 digits with leading zeros and signs, decimals of up to 17 digits with the point
/// anywhere, blank runs long enough to push a field past byte 64, and every line end.
fn boundary_line() -> impl Strategy<Value = Vec<u8>> {
    let chr = "[A-Za-z0-9_.]{1,17}";
    let int = || prop_oneof![3 => "[0-9]{1,12}", 1 => "[+-][0-9]{1,10}", 1 => "0{1,12}[0-9]{0,3}"];
    let pct = prop_oneof![
        2 => "[0-9]{1,17}",
        2 => "[0-9]{0,9}\\.[0-9]{0,9}",
        3 => "[+-]?[0-9]{1,3}\\.[0-9]{1,14}",
        1 => "[0-9]{1,3}[eE][+-]?[0-9]{1,2}|nan|-inf|\\.|[0-9]\\.[0-9]\\.[0-9]",
    ];
    let blank = || {
        prop_oneof![
            6 => Just("\t".to_string()),
            2 => Just(" ".to_string()),
            1 => "[ \t]{2,4}",
            1 => "[ \t\x0b\x0c\x1c]{1,3}",
            1 => "\t{10,40}",
        ]
    };
    let end = prop_oneof![
        6 => Just("\n"),
        2 => Just("\r\n"),
        1 => Just(" \n"),
        1 => Just("\t# note\n"),
        1 => Just("#\n"),
        1 => Just(""),
        1 => Just("\r"),
    ];
    (
        (chr, int(), pct, int(), int()),
        proptest::collection::vec(blank(), 4),
        end,
    )
        .prop_map(|((chr, pos, pct, c, t), blanks, end)| {
            let fields = [pos, pct, c, t];
            let mut line = chr;
            for (field, blank) in fields.iter().zip(&blanks) {
                line.push_str(blank);
                line.push_str(field);
            }
            line.push_str(end);
            line.into_bytes()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases() / 2))]

    /// The structural fast path at its edges: lines of the shapes it takes and of the shapes
    /// it must leave to the other paths, after a first line of any length (so that lines
    /// start at every offset of a block), streamed in slices (so that windows reach past the
    /// end of the text).
    #[test]
    fn boundary_lines_parse_exactly_like_the_reference(
        shift in 0usize..70,
        lines in proptest::collection::vec(boundary_line(), 1..40),
        cuts in proptest::collection::vec(any::<usize>(), 0..4),
        slots in 1usize..8,
        width in prop_oneof![3 => Just(10usize), 1 => 1usize..=17],
    ) {
        let mut text = format!("#{}\n", "x".repeat(shift)).into_bytes();
        for line in &lines {
            text.extend_from_slice(line);
        }
        let schema = Schema::new(width).unwrap();
        agrees_with_the_reference(&schema, &text, &cuts, slots)?;
    }
}

/// Texts far longer than the scanner's 4 KiB of masks, in one slice and in many: every
/// kernel's run over thousands of lines, across many refills of the masks, against the
/// reference. Deterministic, so that each run of the suite covers it.
#[test]
fn long_texts_parse_exactly_like_the_reference() {
    let mut next = crate::test_support::xorshift(0x9E37_79B9_7F4A_7C15);
    for odd_lines in [0, 50, 5] {
        let mut text = Vec::new();
        for _ in 0..20_000 {
            let pct = match next(4) {
                0 => format!("{}", next(101)),
                1 => format!("{:.13}", next(1000) as f64 / 7.0),
                2 => format!("{}.{}", next(100), next(100_000)),
                _ => format!("{}", next(1000) as f64 / 3.0),
            };
            let blank = ["\t", " ", "\t\t", " \t "][next(4) as usize];
            let line = format!(
                "chr{}{blank}{}{blank}{pct}{blank}{}{blank}{}",
                next(23),
                next(250_000_000),
                next(40),
                next(40)
            );
            text.extend_from_slice(line.as_bytes());
            // Now and then a line for the other paths.
            let end: &[u8] = if odd_lines > 0 && next(odd_lines) == 0 {
                [
                    &b" # note\n"[..],
                    b"\r\n",
                    b"\n\n",
                    b"\n# comment\n",
                    b" \n",
                ][next(5) as usize]
            } else {
                b"\n"
            };
            text.extend_from_slice(end);
        }
        let schema = Schema::new(10).unwrap();
        for (cuts, slots) in [(vec![], 100_000), (vec![1, 70_000, 70_001, 300_000], 1000)] {
            agrees_with_the_reference(&schema, &text, &cuts, slots).unwrap();
        }
    }
}
