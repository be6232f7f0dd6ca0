//! The column formats' parser: the rules on hand-picked lines, then every path of the
//! parser against the plain reference on generated lines of every preset.

use proptest::prelude::*;

use super::reference::{self, Parsed};
use super::*;
use crate::format::filter::{ContextFilter, Skipped};
use crate::format::Preset;
use crate::schema::Shape;

fn parser_for(preset: Preset, first_line: &[u8], shape: Shape, filters: &Filters) -> ColumnParser {
    let schema = Schema::with_shape(10, shape).unwrap();
    ColumnParser::new(preset.format(first_line), schema, filters)
}

/// Parses one line through the block parser (fast path and fallback), returning the
/// outcome and the record.
fn parse(parser: &ColumnParser, line: &[u8]) -> Result<(Outcome, Vec<u8>), LineError> {
    let mut out = vec![0xEE; parser.schema.record_size()];
    let progress = parse_block(parser, line, true, &mut out).map_err(|error| error.error)?;
    let outcome = match (progress.rows, progress.skipped) {
        (1, _) => Outcome::Record,
        (_, skipped) if skipped == Skipped::default() => Outcome::Blank,
        (_, Skipped([mod_code, context, zero])) => {
            Outcome::Skipped(match (mod_code, context, zero) {
                (1, _, _) => SkipReason::ModCode,
                (_, 1, _) => SkipReason::Context,
                _ => SkipReason::ZeroCoverage,
            })
        }
    };
    Ok((outcome, out))
}

fn pct_of(parser: &ColumnParser, record: &[u8]) -> f32 {
    let at = parser.schema.pct_offset();
    f32::from_le_bytes(record[at..at + 4].try_into().unwrap())
}

fn counts_of(parser: &ColumnParser, record: &[u8]) -> (i32, i32) {
    let c = parser.schema.c_offset();
    let t = parser.schema.t_offset();
    (
        i32::from_le_bytes(record[c..c + 4].try_into().unwrap()),
        i32::from_le_bytes(record[t..t + 4].try_into().unwrap()),
    )
}

#[test]
fn derived_pct_is_the_double_quotient_times_100_rounded_to_f32() {
    let parser = parser_for(
        Preset::BismarkReport,
        b"",
        Shape::default(),
        &Filters::default(),
    );
    let (outcome, record) = parse(&parser, b"chr1\t5\t+\t1\t2\tCG\tCGA\n").unwrap();
    assert_eq!(outcome, Outcome::Record);
    assert_eq!(
        pct_of(&parser, &record).to_bits(),
        (((1.0f64 / 3.0) * 100.0) as f32).to_bits()
    );
    assert_eq!(counts_of(&parser, &record), (1, 2));
}

/// The fast path takes the lines the tools write (it is not declining everything to the
/// general parser, which the differential test alone would not notice).
#[test]
fn the_fast_path_takes_each_tool_s_lines() {
    let all = Filters {
        context: ContextFilter::All,
        mod_codes: None,
    };
    let header = b"chrBase\tchr\tbase\tstrand\tcoverage\tfreqC\tfreqT";
    for (preset, first_line, line) in [
        (Preset::BismarkCov, &b""[..], &b"chr1\t10469\t10469\t33.3333333333333\t1\t2\n"[..]),
        (Preset::BismarkReport, b"", b"chrT\t4\t+\t2\t1\tCG\tCGG\r\n"),
        (Preset::MethylKit, header, b"chr21.9764513\tchr21\t9764513\tR\t12\t25.00\t75.00\n"),
        (Preset::MethylKit, b"", b"chr21\t9764513\t9764513\t-\t12\t3\t9\n"),
        (
            Preset::Bedmethyl,
            b"",
            b"chr20\t9838623\t9838624\tm\t24\t+\t9838623\t9838624\t255,0,0\t24 16.67 4 19 1 0 2 0 0\n",
        ),
        (Preset::Allc, b"", b"chrT\t4\t+\tCGG\t2\t3\t1\n"),
        (Preset::MethylDackel, b"", b"chr1\t10468\t10469\t66\t2\t1\n"),
        (Preset::Bsmap, b"", b"chr1\t10469\t+\tCG\t0.857\t7.00\t6\t7\tNA\tNA\t0.487\t0.974\n"),
    ] {
        let parser = parser_for(preset, first_line, Shape::default(), &all);
        let mut slot = vec![0; parser.schema.record_size()];
        let line_text = String::from_utf8_lossy(line);
        let fast = fast::parse(&parser, line, &mut slot).expect(&line_text);
        assert_eq!((fast.outcome, fast.length, fast.newline), (Outcome::Record, line.len(), true));
    }
}

#[test]
fn methylkit_counts_round_half_to_even() {
    let header = b"chrBase\tchr\tbase\tstrand\tcoverage\tfreqC\tfreqT";
    let parser = parser_for(
        Preset::MethylKit,
        header,
        Shape::default(),
        &Filters::default(),
    );
    for (coverage, freq, c) in [
        (2, "25.00", 0),
        (6, "25.00", 2),
        (10, "25.00", 2),
        (14, "25.00", 4),
        (3, "66.67", 2),
    ] {
        let line = format!("chr1.5\tchr1\t5\tF\t{coverage}\t{freq}\t0.00\n");
        let (_, record) = parse(&parser, line.as_bytes()).unwrap();
        assert_eq!(counts_of(&parser, &record), (c, coverage - c), "{line}");
        let want: f64 = freq.parse().unwrap();
        assert_eq!(pct_of(&parser, &record), want as f32);
    }
}

#[test]
fn filters_skip_and_say_why_in_order() {
    let filters = Filters::default();
    let report = parser_for(Preset::BismarkReport, b"", Shape::default(), &filters);
    assert_eq!(
        parse(&report, b"chr1\t5\t+\t0\t0\tCHH\tCTT").unwrap().0,
        Outcome::Skipped(SkipReason::Context)
    );
    assert_eq!(
        parse(&report, b"chr1\t5\t+\t0\t0\tCG\tCGT").unwrap().0,
        Outcome::Skipped(SkipReason::ZeroCoverage)
    );
    let bed = parser_for(Preset::Bedmethyl, b"", Shape::default(), &filters);
    let row = |code: &str| {
        format!("chr1\t9\t10\t{code}\t4\t+\t9\t10\t255,0,0\t4\t50.00\t2\t2\t0\t0\t0\t0\t0")
    };
    assert_eq!(
        parse(&bed, row("h").as_bytes()).unwrap().0,
        Outcome::Skipped(SkipReason::ModCode)
    );
    assert_eq!(
        parse(&bed, row("m,CG,0").as_bytes()).unwrap().0,
        Outcome::Record
    );
    let all = Filters {
        context: ContextFilter::All,
        mod_codes: None,
    };
    let bed = parser_for(Preset::Bedmethyl, b"", Shape::default(), &all);
    assert_eq!(parse(&bed, row("h").as_bytes()).unwrap().0, Outcome::Record);
}

#[test]
fn extras_and_wide_pos_are_written_after_the_five_fields() {
    let shape = Shape {
        wide_pos: true,
        strand: true,
        context: true,
    };
    let all = Filters {
        context: ContextFilter::All,
        mod_codes: None,
    };
    let allc = parser_for(Preset::Allc, b"", shape, &all);
    let (outcome, record) = parse(&allc, b"chr1\t3000000000\t-\tCAG\t1\t4\t1\n").unwrap();
    assert_eq!(outcome, Outcome::Record);
    assert_eq!(&record[10..18], &3_000_000_000i64.to_le_bytes());
    assert_eq!(&record[record.len() - 4..], b"-CHG");
    let (_, record) = parse(&allc, b"chr1\t7\t+\tCAN\t1\t4\t1\n").unwrap();
    assert_eq!(&record[record.len() - 4..], b"+\0\0\0");
    let cov = parser_for(Preset::BismarkCov, b"", shape, &all);
    let (_, record) = parse(&cov, b"chr1\t7\t7\t50\t1\t1\n").unwrap();
    assert_eq!(&record[record.len() - 4..], b".\0\0\0");
}

#[test]
fn errors_name_the_column_by_the_tool_s_name() {
    let parser = parser_for(
        Preset::Bedmethyl,
        b"",
        Shape::default(),
        &Filters::default(),
    );
    let error = parse(
        &parser,
        b"chr1\t-1\t10\tm\t4\t+\t9\t10\t255,0,0\t4\t50.00\t2\t2\t0\t0\t0\t0\t0",
    )
    .unwrap_err();
    assert_eq!((error.column(), error.text()), (2, "-1"));
    assert!(error
        .to_string()
        .starts_with("column 2 (start): a 0-based start below 0"));
    let error = parse(&parser, b"chr1\t9\t10\tm\t4").unwrap_err();
    assert!(
        matches!(error, LineError::FieldCount { found: 5, .. }),
        "{error}"
    );
    assert!(error
        .to_string()
        .contains("18 columns (bedmethyl: chrom start end"));
    let allc = parser_for(Preset::Allc, b"", Shape::default(), &Filters::default());
    let error = parse(&allc, b"chr1\t9\t*\tCGA\t1\t2\t1").unwrap_err();
    assert_eq!((error.column(), error.text()), (3, "*"));
    let error = parse(&allc, b"chr1\t2147483648\t+\tCGA\t1\t2\t1").unwrap_err();
    assert!(error.hint().contains("--wide-pos"), "{}", error.hint());
}

/// Lines of every preset, with their preset.
fn preset_line() -> impl Strategy<Value = (Preset, Vec<u8>)> {
    prop::sample::select(Preset::ALL.to_vec())
        .prop_flat_map(|preset| line_of(preset).prop_map(move |line| (preset, line)))
}

/// Lines of `preset`: mostly valid, with the forms the fast path leaves to the general
/// parser (signs, exponents, long digit runs, comments, CR, odd spacing, non-ASCII bytes)
/// and broken fields.
fn line_of(preset: Preset) -> impl Strategy<Value = Vec<u8>> {
    let int = prop_oneof![
        6 => (0u32..5000).prop_map(|v| v.to_string()),
        3 => (0u32..10).prop_map(|v| v.to_string()),
        2 => Just("0".to_string()),
        1 => Just("+7".to_string()),
        1 => Just("0009".to_string()),
        1 => Just("-3".to_string()),
        1 => Just("2147483648".to_string()),
        1 => Just("1e3".to_string()),
        1 => Just("x".to_string()),
    ];
    let float = prop_oneof![
        4 => (0.0f64..100.0).prop_map(|v| format!("{v:.2}")),
        2 => (0.0f64..100.0).prop_map(|v| v.to_string()),
        1 => Just("1e-05".to_string()),
        1 => Just("nan".to_string()),
        // Halves of small coverages: round(cov * pct / 100) ties.
        1 => prop::sample::select(vec!["25.00", "50", "12.5", "75"]).prop_map(str::to_string),
        1 => Just("66.6666666666667".to_string()),
        1 => Just(".".to_string()),
    ];
    let strand = prop::sample::select(vec!["+", "-", ".", "F", "R", "*"]);
    let context = prop::sample::select(vec![
        "CG", "CHG", "CHH", "CGA", "CAG", "CTT", "CAN", "cgt", "X", "C\u{e9}G",
    ]);
    let code = prop::sample::select(vec!["m", "h", "C", "a", "m,CG,0", "17596"]);
    let sep = prop::sample::select(vec!["\t", " ", "\t\t", " \t"]);
    let end = prop::sample::select(vec![
        "", "\r", " ", " # note", "\t#x\r", "\rx", "\u{a0}", " #\u{e9}",
    ]);
    let chr = prop::sample::select(vec![
        "chr1",
        "chrX",
        "c",
        "chrUn_KI27",
        "chrUn_KI270302v1",
        "1",
        "chr\u{e9}",
    ]);
    (
        chr,
        prop::collection::vec(int, 8),
        prop::collection::vec(float, 3),
        strand,
        context,
        code,
        sep,
        end,
        0usize..20,
    )
        .prop_map(
            move |(chr, ints, floats, strand, context, code, sep, end, drop)| {
                let i = |k: usize| ints[k].as_str();
                let f = |k: usize| floats[k].as_str();
                let fields: Vec<&str> = match preset {
                    Preset::Native => vec![chr, i(0), f(0), i(1), i(2)],
                    Preset::BismarkCov => vec![chr, i(0), i(0), f(0), i(1), i(2)],
                    Preset::BismarkReport => vec![chr, i(0), strand, i(1), i(2), context, "CGA"],
                    Preset::MethylKit => vec![chr, i(0), i(0), strand, i(1), i(2), i(3)],
                    Preset::Bedmethyl => vec![
                        chr,
                        i(0),
                        i(1),
                        code,
                        i(2),
                        strand,
                        i(0),
                        i(1),
                        "255,0,0",
                        i(2),
                        f(0),
                        i(3),
                        i(4),
                        i(5),
                        "0",
                        "0",
                        "0",
                        "0",
                    ],
                    Preset::Allc => vec![chr, i(0), strand, context, i(1), i(2), "1"],
                    Preset::MethylDackel => vec![chr, i(0), i(1), f(0), i(2), i(3)],
                    Preset::Bsmap => vec![
                        chr,
                        i(0),
                        strand,
                        context,
                        f(1),
                        f(2),
                        i(1),
                        i(2),
                        "NA",
                        "NA",
                        "0.1",
                        "0.9",
                    ],
                };
                let mut fields = fields;
                if drop < fields.len() && drop % 3 == 0 {
                    fields.remove(drop);
                }
                let mut line = fields.join(sep);
                line.push_str(end);
                line.into_bytes()
            },
        )
}

/// Every way the parser can read `line`: the block loop (fast path, else the general
/// parser), the general parser alone, and the fast path where it takes the line. `Err(())`
/// for a rejected line.
fn every_path(parser: &ColumnParser, line: &[u8]) -> Vec<(&'static str, Result<Parsed, ()>)> {
    let size = parser.schema.record_size();
    let parsed = |outcome: Outcome, slot: Vec<u8>| match outcome {
        Outcome::Record => Parsed::Record(slot),
        Outcome::Blank => Parsed::Blank,
        Outcome::Skipped(reason) => Parsed::Skipped(reason),
    };
    let block = parse(parser, line)
        .map(|(outcome, slot)| parsed(outcome, slot))
        .map_err(|_| ());
    let mut slot = vec![0xEE; size];
    let general = parser
        .parse_line(line, &mut slot)
        .map(|outcome| parsed(outcome, slot))
        .map_err(|_| ());
    let mut paths = vec![("block", block), ("general", general)];
    let mut slot = vec![0xEE; size];
    if let Some(taken) = fast::parse(parser, line, &mut slot) {
        paths.push(("fast", Ok(parsed(taken.outcome, slot))));
    }
    paths
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// The differential test: every path of the parser agrees with the plain reference
    /// (same record, same row left out for the same reason, or both reject the line).
    #[test]
    fn every_path_agrees_with_the_reference(
        (preset, line) in preset_line(),
        wide_pos: bool,
        extras: bool,
        context in prop::sample::select(vec!["CG", "CH", "all"]),
        all_mod_codes: bool,
    ) {
        let shape = Shape { wide_pos, strand: extras, context: extras };
        let filters = Filters {
            context: ContextFilter::parse(context).unwrap(),
            mod_codes: if all_mod_codes { None } else { Filters::default().mod_codes },
        };
        let header = b"chrBase\tchr\tbase\tstrand\tcoverage\tfreqC\tfreqT";
        let schema = Schema::with_shape(10, shape).unwrap();
        // The preset's formats, and `--columns` ones that read the same lines with the
        // other roles (a start, a beta or a pct with a coverage, a count of columns).
        let formats = [
            preset.format(b""),
            preset.format(header),
            ColumnFormat::from_spec("chr=1,start=2,beta=4,cov=5", 0).unwrap(),
            ColumnFormat::from_spec("chr=1,pos=2,pct=4,cov=5", 0).unwrap(),
        ];
        for format in formats {
            let parser = ColumnParser::new(format, schema, &filters);
            let expected = reference::parse_line(&parser.format, &parser.schema, &filters, &line);
            for (path, result) in every_path(&parser, &line) {
                prop_assert_eq!(&result, &expected, "{} {} {:?}", parser.format.name, path,
                    String::from_utf8_lossy(&line));
            }
        }
    }

    /// Whole texts of one preset through the block loop: the same records, the same rows
    /// left out, or an error at the same line.
    #[test]
    fn block_parser_agrees_with_the_reference(
        (preset, lines) in prop::sample::select(Preset::ALL.to_vec()).prop_flat_map(|preset| {
            (Just(preset), prop::collection::vec(line_of(preset), 0..30))
        }),
        final_newline: bool,
        wide_pos: bool,
    ) {
        let mut text = lines.join(&b'\n');
        if final_newline && !text.is_empty() {
            text.push(b'\n');
        }
        let filters = Filters::default();
        let shape = Shape { wide_pos, ..Shape::default() };
        let parser = parser_for(preset, b"", shape, &filters);
        let size = parser.schema.record_size();
        let mut out = vec![0; 32 * size];
        let parsed = parse_block(&parser, &text, true, &mut out);
        match (parsed, reference::parse_text(&parser.format, &parser.schema, &filters, &text)) {
            (Ok(progress), Ok((records, skipped))) => {
                prop_assert_eq!(progress.consumed, text.len());
                prop_assert_eq!(&out[..progress.rows * size], &records[..]);
                prop_assert_eq!(progress.skipped, Skipped(skipped));
            }
            (Err(error), Err(index)) => prop_assert_eq!(error.line_index, index),
            (parsed, expected) => prop_assert!(false, "{:?}: {:?}, reference {:?}",
                String::from_utf8_lossy(&text), parsed, expected),
        }
    }
}
