//! `--format auto`: the preset of each file, from its header and first data lines (the
//! head [`crate::input::head`] reads).
//!
//! Line 1 is checked against the presets' headers (methylKit text, BSMAP, old ALLC, a
//! `track` line). Then each data line among the first [`SAMPLE_LINES`] is matched against
//! the features that tell the presets apart: the field count first, then the columns that
//! differ between presets of one count (`start = end` in a Bismark coverage file,
//! `end = start + 1` in a MethylDackel bedGraph, a number or a sequence in column 4 of a
//! 7-column file, ...). These are the features, not a validation of every value: a file
//! whose first line is recognised but broken further on gets the parser's precise error
//! (file, line, column, text and hint), not a vague "unknown format".
//!
//! Exactly one preset must remain. None, or several, is an error that names the file, the
//! line looked at and the presets considered: `auto` never guesses.
//!
//! It sits in the parser, above the formats it chooses from, because it judges a line as
//! the parser would (the line rules of [`super::line`], the errors of [`super::error`]).
//! Like the rest of the parser it imports neither the run's error nor the readers: what
//! `auto` could not decide becomes the run's error in [`crate::error`], which wraps the
//! parser's errors, and the head's size is a fixed limit of [`crate::defaults`].

use super::error::LineError;
use super::line::explain_unplaceable;
use crate::format::classes::is_field_separator;
use crate::format::{Header, Preset};

/// Data lines looked at per file.
pub const SAMPLE_LINES: usize = 20;

/// What `auto` decided for one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detected {
    Preset(Preset),
    /// No data line at all (an empty file, or only comments and blank lines).
    Empty,
}

/// Why `auto` could not decide.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Undecided {
    /// The 1-based line fits no preset.
    NoFit {
        line: u64,
        fields: usize,
        why: String,
    },
    /// The lines looked at, up to the 1-based `line`, fit several presets.
    Several { line: u64, presets: Vec<Preset> },
    /// The first 64 KiB hold no complete data line.
    NoLine,
    /// The 1-based line fits no preset, for a reason every format rejects (a lone `\r`, a
    /// non-ASCII byte where fields are): reported as the parser reports it.
    BadLine { line: u64, error: LineError },
}

/// The fields of a line, `#` comments cut.
fn fields(line: &[u8]) -> Vec<&[u8]> {
    let data = &line[..memchr::memchr(b'#', line).unwrap_or(line.len())];
    data.split(|&byte| is_field_separator(byte))
        .filter(|field| !field.is_empty())
        .collect()
}

fn int(field: &[u8]) -> Option<i64> {
    std::str::from_utf8(field).ok()?.parse().ok()
}

fn is_sign_strand(field: &[u8]) -> bool {
    matches!(field, b"+" | b"-")
}

fn is_sequence(field: &[u8]) -> bool {
    !field.is_empty() && field.iter().all(|byte| b"ACGTNHacgtnh".contains(byte))
}

/// Whether a data line has the features of `preset`; `header` is the preset line 1 named.
fn fits(preset: Preset, fields: &[&[u8]], header: Option<Preset>) -> bool {
    let n = fields.len();
    let column = |k: usize| fields[k - 1];
    match preset {
        Preset::Native => n == 5 && [2, 4, 5].iter().all(|&k| int(column(k)).is_some()),
        Preset::BismarkCov => n == 6 && column(2) == column(3),
        Preset::MethylDackel => {
            n == 6
                && matches!((int(column(2)), int(column(3))), (Some(start), Some(end)) if end == start + 1)
        }
        Preset::BismarkReport => {
            (n == 7 || n == 9)
                && is_sign_strand(column(3))
                && int(column(4)).is_some()
                && matches!(column(6), b"CG" | b"CHG" | b"CHH")
        }
        Preset::Allc => {
            (n == 7 || n == 9)
                && is_sign_strand(column(3))
                && is_sequence(column(4))
                && int(column(5)).is_some()
        }
        Preset::MethylKit if header == Some(Preset::MethylKit) => n == 7,
        Preset::MethylKit => n == 7 && is_sign_strand(column(4)) && column(2) == column(3),
        Preset::Bsmap => n == 12,
        Preset::Bedmethyl => n == 18,
    }
}

/// Decides the preset of a file from the start of its text (`complete` when `head` is the
/// whole file).
pub fn detect(head: &[u8], complete: bool) -> Result<Detected, Undecided> {
    let lines = whole_lines(head, complete);
    if lines.is_empty() && !complete {
        return Err(Undecided::NoLine);
    }
    let header = header_preset(&lines);
    let mut candidates: Vec<Preset> = match header {
        Some(preset) => vec![preset],
        None => Preset::ALL.to_vec(),
    };
    let mut first_line = None;
    for (number, fields) in sample_lines(&lines, header) {
        let fitting: Vec<Preset> = candidates
            .iter()
            .copied()
            .filter(|&preset| fits(preset, &fields, header))
            .collect();
        if fitting.is_empty() {
            match first_line {
                None => {
                    let line = lines[number as usize - 1];
                    return first_line_fits_none(line, number, &fields, &candidates, header);
                }
                // A later line that fits none of the remaining presets is the parser's to
                // report, with its column and text.
                Some(_) => break,
            }
        }
        first_line.get_or_insert(number);
        candidates = fitting;
        if candidates.len() == 1 {
            break;
        }
    }
    decide(first_line, &candidates, header, !complete)
}

/// The whole lines of `head`, without their `\n`s.
fn whole_lines(head: &[u8], complete: bool) -> Vec<&[u8]> {
    let mut lines: Vec<&[u8]> = head.split(|&byte| byte == b'\n').collect();
    if !complete || head.ends_with(b"\n") {
        // The last piece is a partial line (or empty after the final newline).
        lines.pop();
    }
    lines
}

/// The preset whose header line 1 is, if any.
fn header_preset(lines: &[&[u8]]) -> Option<Preset> {
    lines.first().and_then(|&line| {
        Preset::ALL
            .into_iter()
            .find(|preset| preset.header() != Header::None && preset.header().matches(line))
    })
}

/// The data lines looked at, with their 1-based numbers and fields: the first
/// [`SAMPLE_LINES`] with fields, after the header.
fn sample_lines<'a>(
    lines: &'a [&'a [u8]],
    header: Option<Preset>,
) -> impl Iterator<Item = (u64, Vec<&'a [u8]>)> + 'a {
    lines
        .iter()
        .enumerate()
        .skip(usize::from(header.is_some()))
        .map(|(index, line)| (index as u64 + 1, fields(line)))
        .filter(|(_, fields)| !fields.is_empty())
        .take(SAMPLE_LINES)
}

/// The first data line, `number`, fits none of the `candidates`.
fn first_line_fits_none(
    line: &[u8],
    number: u64,
    fields: &[&[u8]],
    candidates: &[Preset],
    header: Option<Preset>,
) -> Result<Detected, Undecided> {
    if let Some(error) = explain_unplaceable(line) {
        return Err(Undecided::BadLine {
            line: number,
            error,
        });
    }
    // One preset has this many columns: its parser reports what is wrong with the line,
    // with the column and the text (every feature checked here is one the parser
    // requires, so it cannot accept the line).
    let same_count: Vec<Preset> = candidates
        .iter()
        .copied()
        .filter(|preset| preset.format(b"").field_counts.allows(fields.len()))
        .collect();
    if let ([preset], None) = (same_count.as_slice(), header) {
        return Ok(Detected::Preset(*preset));
    }
    Err(Undecided::NoFit {
        line: number,
        fields: fields.len(),
        why: no_fit_reason(header, fields),
    })
}

/// The decision once the sample is looked at: `first_line` is the first data line (none
/// if there was none), `candidates` the presets every line looked at fits.
fn decide(
    first_line: Option<u64>,
    candidates: &[Preset],
    header: Option<Preset>,
    no_data_yet: bool,
) -> Result<Detected, Undecided> {
    match (first_line, candidates) {
        (None, _) if header.is_some() => Ok(Detected::Preset(header.expect("checked"))),
        // Comments or blank lines fill the whole head: the data is further on.
        (None, _) if no_data_yet => Err(Undecided::NoLine),
        (None, _) => Ok(Detected::Empty),
        (Some(_), [preset]) => Ok(Detected::Preset(*preset)),
        (Some(line), several) => Err(Undecided::Several {
            line,
            presets: several.to_vec(),
        }),
    }
}

/// Why the first data line fits nothing, in words.
fn no_fit_reason(header: Option<Preset>, fields: &[&[u8]]) -> String {
    if header == Some(Preset::MethylDackel) && fields.len() == 4 {
        return "a bedGraph with a percent but no counts (Bismark's .bedGraph.gz): load the \
                .bismark.cov.gz file written beside it, which has the counts"
            .to_string();
    }
    if let Some(preset) = header {
        return format!(
            "line 1 is a {} header, but this line does not have its columns",
            preset.name()
        );
    }
    if fields.len() == 5 {
        if let Some(k) = [2, 4, 5]
            .into_iter()
            .find(|&k| int(fields[k - 1]).is_none())
        {
            return format!(
                "it has 5 columns, as native (chr pos pct c t), but column {k} ({}) is not a \
                 whole number",
                String::from_utf8_lossy(fields[k - 1])
            );
        }
    }
    let same_count: Vec<&str> = Preset::ALL
        .into_iter()
        .filter(|preset| {
            let format = preset.format(b"chrBase\tchr\tbase\tstrand\tcoverage\tfreqC\tfreqT");
            format.field_counts.allows(fields.len())
        })
        .map(Preset::name)
        .collect();
    if same_count.is_empty() {
        "no preset has that many columns".to_string()
    } else {
        format!(
            "presets with that many columns ({}) differ in their other columns",
            same_count.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detected(text: &str) -> Result<Detected, Undecided> {
        detect(text.as_bytes(), true)
    }

    #[test]
    fn each_preset_is_recognised_from_its_documented_lines() {
        let cases: [(&str, Preset); 11] = [
            ("chr1\t10468\t57.1428571428571\t4\t3\n", Preset::Native),
            ("chr1\t10469\t10469\t33.3333333333333\t1\t2\n", Preset::BismarkCov),
            ("chrT\t4\t+\t2\t1\tCG\tCGG\nchrT\t5\t-\t1\t3\tCG\tCGA\n", Preset::BismarkReport),
            ("chrT\t4\t+\tCGG\t2\t3\t1\n", Preset::Allc),
            ("chrT\t4\t+\tCGG\t2\t3\t1\t0,1,0\t0,0,0\n", Preset::Allc),
            (
                "chrBase\tchr\tbase\tstrand\tcoverage\tfreqC\tfreqT\n\
                 chr21.9764513\tchr21\t9764513\tR\t12\t25.00\t75.00\n",
                Preset::MethylKit,
            ),
            ("#Date:2024\n#DT:tabix\nchr21\t9764513\t9764513\t-\t12\t3\t9\n", Preset::MethylKit),
            (
                "chr20\t9838623\t9838624\tm\t24\t+\t9838623\t9838624\t255,0,0\t24 16.67 4 19 1 0 2 0 0\n",
                Preset::Bedmethyl,
            ),
            (
                "track type=\"bedGraph\" description=\"s CpG methylation levels\"\n\
                 chr1\t10468\t10469\t66\t2\t1\n",
                Preset::MethylDackel,
            ),
            (
                "chr\tpos\tstrand\tcontext\tratio\teff_CT_count\tC_count\tCT_count\trev_G_count\trev_GA_count\tCI_lower\tCI_upper\n\
                 chr1\t10469\t+\tCG\t0.857\t7.00\t6\t7\t5\t5\t0.487\t0.974\n",
                Preset::Bsmap,
            ),
            ("chr1\t10469\t+\tCG\t0.857\t7.00\t6\t7\tNA\tNA\t0.487\t0.974\r\n", Preset::Bsmap),
        ];
        for (text, preset) in cases {
            assert_eq!(detected(text), Ok(Detected::Preset(preset)), "{text}");
        }
    }

    #[test]
    fn a_file_with_no_data_line_is_empty_and_a_header_alone_names_its_preset() {
        assert_eq!(detected(""), Ok(Detected::Empty));
        assert_eq!(detected("# only a comment\n\n"), Ok(Detected::Empty));
        assert_eq!(
            detected("chrBase chr base strand coverage freqC freqT\n"),
            Ok(Detected::Preset(Preset::MethylKit))
        );
    }

    #[test]
    fn no_fit_names_the_line_and_why() {
        let Err(Undecided::NoFit { line, fields, why }) = detected("# comment\nchr1 1 2 3\n")
        else {
            panic!()
        };
        assert_eq!((line, fields), (2, 4));
        assert_eq!(why, "no preset has that many columns");
        let Err(Undecided::NoFit { why, .. }) =
            detected("track type=bedGraph\nchr1\t10468\t10469\t33.3\n")
        else {
            panic!()
        };
        assert!(why.contains("bismark.cov"), "{why}");
        // Six columns, but neither start = end nor end = start + 1.
        let Err(Undecided::NoFit { why, .. }) = detected("chr1 5 9 50 1 1\n") else {
            panic!()
        };
        assert!(why.contains("bismark-cov, methyldackel"), "{why}");
    }

    #[test]
    fn a_line_only_one_preset_could_hold_is_left_to_its_parser() {
        // A beta bedGraph has native's five columns but a fraction in column 4: the native
        // parser refuses it with the column and the text.
        assert_eq!(
            detected("chr1\t100\t101\t0.5\t12\n"),
            Ok(Detected::Preset(Preset::Native))
        );
        assert!(matches!(
            detected("c 1 2 3\u{a0}4\n"),
            Err(Undecided::BadLine { line: 1, .. })
        ));
    }

    #[test]
    fn a_broken_later_line_is_left_to_the_parser() {
        assert_eq!(
            detected("chr1 1 50 1 1\nchr1 2 x\n"),
            Ok(Detected::Preset(Preset::Native))
        );
    }

    #[test]
    fn a_line_longer_than_the_head_is_no_line() {
        assert_eq!(detect(&[b'x'; 100], false), Err(Undecided::NoLine));
    }
}
