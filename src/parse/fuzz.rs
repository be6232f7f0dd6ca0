//! The parser's fuzz target, run as a property test (stable Rust has no cargo-fuzz here).
//!
//! Inputs are realistic files mutated the way real corruption and generators go wrong (bit
//! flips, inserted whitespace, signs, NUL, CR, non-ASCII, huge numbers, cut lines) and raw
//! bytes. Each is fed to [`parse_block`] the way the streaming reader feeds it: in
//! arbitrary slices, with a small record buffer that fills up mid-text. The property: no
//! panic, and either exactly the records of the plain reference parser or an error at the
//! same line. `TXT2H5_FUZZ_CASES` sets the number of cases (`scripts/fuzz --long`).

use proptest::prelude::*;

use super::reference::{parse_text, Row};
use super::{parse_block, BlockError};
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
            let progress =
                parse_block(schema, &text[consumed..end], at_end, &mut out).map_err(|error| {
                    BlockError {
                        line_index: lines_before + error.line_index,
                        error: error.error,
                    }
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
        let fast = parse_streaming(&schema, &text, &cuts, slots);
        match (fast, parse_text(&schema, &text)) {
            (Ok(records), Ok(rows)) => {
                let expected: Vec<u8> = rows.iter().flat_map(|row: &Row| row.to_record(&schema)).collect();
                prop_assert_eq!(records, expected);
            }
            (Err(error), Err(index)) => prop_assert_eq!(error.line_index, index),
            (fast, reference) => prop_assert!(false, "{:?}: fast {:?}, reference {:?}",
                String::from_utf8_lossy(&text), fast.map(|r| r.len()), reference.map(|r| r.len())),
        }
    }
}
