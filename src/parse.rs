//! Text lines to packed records: the hot loop.
//!
//! Accepts exactly what `numpy.loadtxt(path, dtype=<the record dtype>)` accepts (numpy's
//! C reader with `delimiter=None`, `comments='#'`): fields are separated by runs of ASCII
//! whitespace (numpy's `Py_UNICODE_ISSPACE`), `#` starts a comment anywhere on a line, a
//! line with no fields is skipped, and a line with fields must have exactly five. Where
//! numpy silently alters data we refuse instead: a `chr` longer than the field (numpy
//! truncates) and non-printable or non-ASCII bytes in `chr` (numpy re-encodes them).
//!
//! This module is the `native` format's parser (its fast paths are [`fast`], [`scan`] and
//! `swar`) and the choice of parser for a file ([`LineParser`]); [`columns`] parses every
//! other input format. Both plug their per-line step into the one block loop ([`block`]).
//! Below them sit the leaves they share, which import nothing above them: the field
//! splitter ([`fields`]), the line rules ([`line`]), the errors ([`error`]) and the number
//! parsers; below the parser, the byte classes ([`crate::format::classes`]) and the
//! formats. `--format auto` ([`detect`]) picks a file's preset by judging its first lines
//! with the line rules, so it lives here, above the formats it picks from.
//!
//! The caller owns every buffer: [`parse_block`] writes records into a caller-provided slice
//! and allocates nothing per line; only an error builds a `String`.

pub mod block;
pub mod columns;
pub mod detect;
pub mod error;
mod fast;
pub mod fields;
#[cfg(test)]
mod fuzz;
pub mod line;
mod number;
pub mod reference;
pub mod scan;
mod swar;

pub use block::{BlockError, BlockProgress, Outcome};
pub use error::{FieldError, LineError};
pub use number::{parse_f32_via_f64, parse_f64, parse_i32, parse_i64, FloatError, IntError};
pub use scan::{Kernel, Scanning};

use block::{parse_lines, LineStep, Taken};
use error::lossy;
use fields::{check_chr, split_fields};
use line::with_line_rules;
use scan::Simd;

use crate::format::filter::Filters;
use crate::format::{ColumnFormat, Header};
use crate::schema::{Schema, FIELD_NAMES};

/// Parses one line (without its `\n`) into `slot`.
///
/// Returns `Ok(true)` when a record was written, `Ok(false)` for a blank or comment-only
/// line (the slot is left untouched).
#[inline]
pub fn parse_line(schema: &Schema, line: &[u8], slot: &mut [u8]) -> Result<bool, LineError> {
    match fast::parse(schema, line, slot) {
        fast::Fast::Record { .. } => Ok(true),
        fast::Fast::Fallback => with_line_rules(line, |line| parse_fields(schema, line, slot)),
    }
}

/// The general `native` parser: splits a line into its five fields and parses them, with
/// every error.
fn parse_fields(schema: &Schema, line: &[u8], slot: &mut [u8]) -> Result<bool, LineError> {
    // Room for a sixth, to quote it when there are too many.
    let mut fields = [(0usize, 0usize); 6];
    match split_fields(line, &mut fields) {
        0 => return Ok(false),
        5 => {}
        found if found > 5 => {
            return Err(LineError::TooManyFields {
                text: lossy(&line[fields[5].0..fields[5].1]),
            })
        }
        found => {
            return Err(LineError::TooFewFields {
                found,
                text: lossy(line),
            })
        }
    }
    let field = |k: usize| &line[fields[k].0..fields[k].1];
    let fail = |k: usize, error: FieldError| LineError::Field {
        column: k + 1,
        name: FIELD_NAMES[k],
        text: lossy(field(k)),
        error,
    };

    let chr = check_chr(field(0), schema.chr_width()).map_err(|error| fail(0, error))?;
    let int = |k: usize| parse_i32(field(k)).map_err(|e| fail(k, FieldError::Integer(e)));
    let pos = int(1)?;
    let pct = parse_f32_via_f64(field(2)).map_err(|e| fail(2, FieldError::Float(e)))?;
    let c = int(3)?;
    let t = int(4)?;
    schema.write_record(slot, chr, pos, pct, c, t);
    Ok(true)
}

/// How one file's lines become records: the seed's fast path for `native` files into the
/// seed's record, the column formats' parser for everything else.
#[derive(Clone, Debug)]
pub enum LineParser {
    Native(Schema),
    Columns(Box<columns::ColumnParser>),
}

impl LineParser {
    pub fn new(format: ColumnFormat, schema: Schema, filters: &Filters) -> Self {
        if format.is_native() && schema.is_plain() {
            LineParser::Native(schema)
        } else {
            LineParser::Columns(Box::new(columns::ColumnParser::new(
                format, schema, filters,
            )))
        }
    }

    /// What may precede the data.
    pub fn header(&self) -> &Header {
        match self {
            LineParser::Native(_) => &Header::None,
            LineParser::Columns(parser) => &parser.format.header,
        }
    }

    /// [`parse_block`] with this file's parser.
    #[inline]
    pub fn parse_block(
        &self,
        text: &[u8],
        at_end: bool,
        out: &mut [u8],
    ) -> Result<BlockProgress, BlockError> {
        match self {
            LineParser::Native(schema) => parse_block(schema, text, at_end, out),
            LineParser::Columns(parser) => columns::parse_block(parser, text, at_end, out),
        }
    }
}

/// Parses whole `native` lines of `text` into consecutive record slots of `out`
/// ([`parse_lines`] says how far it goes).
pub fn parse_block(
    schema: &Schema,
    text: &[u8],
    at_end: bool,
    out: &mut [u8],
) -> Result<BlockProgress, BlockError> {
    parse_block_with(Kernel::scanning(), schema, text, at_end, out)
}

/// [`parse_block`] scanning as given (the tests run every way).
pub fn parse_block_with(
    scanning: Scanning,
    schema: &Schema,
    text: &[u8],
    at_end: bool,
    out: &mut [u8],
) -> Result<BlockProgress, BlockError> {
    match scanning {
        Scanning::Lines => parse_block_in::<_, false>(scan::Scalar, schema, text, at_end, out),
        Scanning::Structural(Kernel::Scalar) => {
            parse_block_in::<_, true>(scan::Scalar, schema, text, at_end, out)
        }
        #[cfg(target_arch = "x86_64")]
        Scanning::Structural(Kernel::Sse2) => {
            parse_block_in::<_, true>(scan::Sse2, schema, text, at_end, out)
        }
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the kernel value exists only on a CPU with the features.
        Scanning::Structural(Kernel::Avx2(avx2)) => unsafe {
            parse_block_avx2(avx2, schema, text, at_end, out)
        },
    }
}

/// [`parse_block_in`] compiled with AVX2 (and BMI) instructions.
///
/// # Safety
/// The CPU must have AVX2, BMI1 and BMI2, which `avx2`'s existence proves.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,bmi1,bmi2")]
unsafe fn parse_block_avx2(
    avx2: scan::Avx2,
    schema: &Schema,
    text: &[u8],
    at_end: bool,
    out: &mut [u8],
) -> Result<BlockProgress, BlockError> {
    parse_block_in::<_, true>(avx2, schema, text, at_end, out)
}

/// The block loop for `native` lines with one kernel: the structural fast path (when
/// `STRUCTURAL`), then the byte-at-a-time one, then the general parser.
#[inline(always)]
fn parse_block_in<K: Simd, const STRUCTURAL: bool>(
    kernel: K,
    schema: &Schema,
    text: &[u8],
    at_end: bool,
    out: &mut [u8],
) -> Result<BlockProgress, BlockError> {
    let mut step = NativeStep {
        kernel,
        schema,
        scanner: STRUCTURAL.then(|| scan::Scanner::new(kernel, text)),
    };
    parse_lines(&mut step, text, at_end, out)
}

/// The `native` format's step in the block loop, with one scanning kernel.
struct NativeStep<'a, K: Simd> {
    kernel: K,
    schema: &'a Schema,
    /// The text's structural masks, when the fields are found by scanning.
    scanner: Option<scan::Scanner<'a, K>>,
}

impl<K: Simd> LineStep for NativeStep<'_, K> {
    #[inline(always)]
    fn record_size(&self) -> usize {
        self.schema.record_size()
    }

    /// The common case, in a tight loop: a run of lines the structural path takes.
    #[inline(always)]
    fn run(&mut self, _text: &[u8], at: usize, out: &mut [u8], row: usize) -> (usize, usize) {
        match &self.scanner {
            Some(scanner) => {
                let free = &mut out[row * self.schema.record_size()..];
                fast::scanned_run(self.kernel, self.schema, scanner, at, free)
            }
            None => (0, 0),
        }
    }

    /// One line: the structural path where the run could not reach (a refill of the masks,
    /// the edges of the text), then the byte-at-a-time path.
    #[inline(always)]
    fn fast(&mut self, rest: &[u8], at: usize, slot: &mut [u8]) -> Option<Taken> {
        let record = |length, newline| Taken {
            outcome: Outcome::Record,
            length,
            newline,
        };
        if let Some(scanner) = self.scanner.as_mut() {
            let masks = scanner.masks(at);
            let window = scanner.window(at);
            if let Some(length) = fast::parse_scanned(self.kernel, self.schema, window, masks, slot)
            {
                return Some(record(length, true));
            }
        }
        match fast::parse(self.schema, rest, slot) {
            fast::Fast::Record { length, newline } => Some(record(length, newline)),
            fast::Fast::Fallback => None,
        }
    }

    fn general(&self, line: &[u8], slot: &mut [u8]) -> Result<Outcome, LineError> {
        let wrote = parse_fields(self.schema, line, slot)?;
        Ok(if wrote {
            Outcome::Record
        } else {
            Outcome::Blank
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::filter::Skipped;

    fn schema() -> Schema {
        Schema::new(crate::defaults::CHR_WIDTH).unwrap()
    }

    fn parse(line: &[u8]) -> Result<Option<Vec<u8>>, LineError> {
        let mut slot = vec![0xEE; schema().record_size()];
        parse_line(&schema(), line, &mut slot).map(|wrote| wrote.then_some(slot))
    }

    fn record(chr: &[u8], pos: i32, pct: f32, c: i32, t: i32) -> Vec<u8> {
        let mut slot = vec![0; schema().record_size()];
        schema().write_record(&mut slot, chr, pos, pct, c, t);
        slot
    }

    #[test]
    fn accepts_tabs_spaces_and_padding() {
        let want = Some(record(b"chr1", 10468, 57.142_857, 4, 3));
        assert_eq!(parse(b"chr1\t10468\t57.1428571428571\t4\t3").unwrap(), want);
        assert_eq!(
            parse(b"  chr1  10468 \t 57.1428571428571\t\t4 3  ").unwrap(),
            want
        );
        assert_eq!(parse(b"chr1 10468 57.1428571428571 4 3\r").unwrap(), want);
        assert_eq!(
            parse(b"chr1\x0b10468\x0c57.1428571428571\x1c4\x1f3").unwrap(),
            want
        );
        assert_eq!(
            parse(b"chr1 +0010468 57.1428571428571 +4 0003").unwrap(),
            want
        );
    }

    #[test]
    fn comments_and_blank_lines_write_nothing() {
        assert_eq!(parse(b"").unwrap(), None);
        assert_eq!(parse(b" \t \r").unwrap(), None);
        assert_eq!(parse(b"# chr pos pct c t").unwrap(), None);
        assert_eq!(parse(b"   #chr1 1 2 3 4").unwrap(), None);
        assert_eq!(
            parse(b"chr1 1 50 1 1 # trailing note").unwrap(),
            Some(record(b"chr1", 1, 50.0, 1, 1))
        );
        assert_eq!(
            parse(b"chr1 1 50 1 1#no space").unwrap(),
            Some(record(b"chr1", 1, 50.0, 1, 1))
        );
    }

    #[test]
    fn special_floats() {
        let pct = |line: &[u8]| {
            let slot = parse(line).unwrap().unwrap();
            u32::from_le_bytes(slot[14..18].try_into().unwrap())
        };
        assert_eq!(pct(b"c 1 nan 1 1"), f32::NAN.to_bits());
        assert_eq!(pct(b"c 1 -nan 1 1"), 0xffc0_0000);
        assert_eq!(pct(b"c 1 -Infinity 1 1"), f32::NEG_INFINITY.to_bits());
        assert_eq!(pct(b"c 1 1.5e1 1 1"), 15f32.to_bits());
    }

    #[test]
    fn chr_fills_the_field_exactly() {
        assert_eq!(
            parse(b"chrUn_KI27 1 2 3 4").unwrap(),
            Some(record(b"chrUn_KI27", 1, 2.0, 3, 4))
        );
    }

    #[test]
    fn rejects_long_chr_instead_of_truncating() {
        let error = parse(b"chrUn_KI270302v1 1 2 3 4").unwrap_err();
        assert_eq!(
            error,
            LineError::Field {
                column: 1,
                name: "chr",
                text: "chrUn_KI270302v1".into(),
                error: FieldError::ChrTooLong {
                    length: 16,
                    width: 10
                }
            }
        );
        assert!(error.hint().contains("--chr-width to at least 16"));
    }

    #[test]
    fn rejects_non_ascii_and_control_bytes_in_chr() {
        for (line, byte) in [
            (&b"chr\xc3\xa9 1 2 3 4"[..], 0xc3),
            (b"chr1\x00 1 2 3 4", 0),
        ] {
            assert_eq!(
                parse(line).unwrap_err(),
                LineError::Field {
                    column: 1,
                    name: "chr",
                    text: String::from_utf8_lossy(
                        &line[..line.iter().position(|&b| b == b' ').unwrap()]
                    )
                    .into(),
                    error: FieldError::ChrInvalidByte { byte }
                }
            );
        }
    }

    #[test]
    fn rejects_wrong_field_counts() {
        let few = parse(b"chr1 1 2 3").unwrap_err();
        assert_eq!(few.column(), 5);
        assert!(matches!(few, LineError::TooFewFields { found: 4, .. }));
        let many = parse(b"chr1 1 2 3 4 5").unwrap_err();
        assert_eq!(many, LineError::TooManyFields { text: "5".into() });
        // A comment glued to a number cuts the line short, as in numpy.
        assert!(matches!(
            parse(b"chr1 1 2#3 4 5").unwrap_err(),
            LineError::TooFewFields { found: 3, .. }
        ));
    }

    /// Regression (CLI fuzzer, seeds 105036006197521, 110347389154085): a lone `\r` was
    /// taken for a space, so `c\r1 2 3 4` loaded as one row where numpy, reading universal
    /// newlines, sees two lines and rejects the first.
    #[test]
    fn a_carriage_return_that_does_not_end_the_line_is_refused() {
        for line in [
            &b"c\r1 2 3 4"[..],
            b"c 1 2 3\r4",
            b"chr1 1 2 3 4\rchr2 1 2 3 4",
            b"c 1 2 3 4\r\r",
            b"c 1 2 3 4\r ",
            b"c 1 2 3 4 #x\ry",
        ] {
            assert!(
                matches!(parse(line), Err(LineError::BareCarriageReturn { .. })),
                "{line:?}: {:?}",
                parse(line)
            );
        }
        assert_eq!(
            parse(b"c\r1 2 3 4").unwrap_err().to_string(),
            "column 1: a carriage return (\\r) that does not end the line: \"c\\r1 2 3 4\""
        );
        // CRLF, and a final CR (a file cut after its CR), are line ends.
        let record = record(b"c", 1, 2.0, 3, 4);
        assert_eq!(parse(b"c 1 2 3 4\r").unwrap(), Some(record.clone()));
        assert_eq!(parse(b"c 1 2 3 4 #x\r").unwrap(), Some(record.clone()));
        let schema = schema();
        let mut out = vec![0; 4 * schema.record_size()];
        let text = b"c 1 2 3 4\r\nc 1 2 3 4 # note\r\nc 1 2 3 4\r";
        let progress = parse_block(&schema, text, true, &mut out).unwrap();
        assert_eq!(progress.rows, 3);
        assert_eq!(&out[..schema.record_size()], &record[..]);
        let error =
            parse_block(&schema, b"c 1 2 3 4\r\nc 1 2 3 4\r\rx\n", true, &mut out).unwrap_err();
        assert_eq!(error.line_index, 1);
    }

    /// Regression (CLI fuzzer, seeds 12879692155654, 4037318911846): a no-break space
    /// between two numbers was reported as a missing column. The byte is named instead.
    #[test]
    fn a_non_ascii_byte_is_named_with_its_column() {
        let error = parse(b"c 1 2 3\xc2\xa04").unwrap_err();
        assert_eq!(
            error,
            LineError::NonAscii {
                column: 4,
                byte: 0xc2,
                text: "3\u{a0}4".into()
            }
        );
        assert!(error.hint().contains("U+00A0"));
        assert!(matches!(
            parse(b"c 1 2\xe2\x80\x83 3 4").unwrap_err(),
            LineError::NonAscii { column: 3, .. }
        ));
        // A bad name keeps its own error; bytes in a comment are not looked at (numpy,
        // reading UTF-8 text, fails on this one; docs/guide.md: What it reads).
        assert!(matches!(
            parse(b"chr\xc3\xa9 1 2 3 4").unwrap_err(),
            LineError::Field {
                error: FieldError::ChrInvalidByte { byte: 0xc3 },
                ..
            }
        ));
        assert!(parse(b"c 1 2 3 4 #\xff\xfe").unwrap().is_some());
    }

    #[test]
    fn rejects_bad_numbers_with_their_column() {
        let cases: [(&[u8], usize, &str); 6] = [
            (b"chr1 1.0 2 3 4", 2, "1.0"),
            (b"chr1 3000000000 2 3 4", 2, "3000000000"),
            (b"chr1 1 5O.0 3 4", 3, "5O.0"),
            (b"chr1 1 . 3 4", 3, "."),
            (b"chr1 1 2 - 4", 4, "-"),
            (b"chr1 1 2 3 1e3", 5, "1e3"),
        ];
        for (line, column, text) in cases {
            let error = parse(line).unwrap_err();
            assert_eq!((error.column(), error.text()), (column, text), "{error}");
        }
    }

    #[test]
    fn block_stops_at_partial_line_unless_at_end() {
        let text = b"chr1 1 2 3 4\n# note\n\nchr2 5 6 7 8";
        let mut out = vec![0; 4 * schema().record_size()];
        let progress = parse_block(&schema(), text, false, &mut out).unwrap();
        assert_eq!(
            progress,
            BlockProgress {
                consumed: 21,
                lines: 3,
                rows: 1,
                skipped: Skipped::default(),
            }
        );
        let progress = parse_block(&schema(), text, true, &mut out).unwrap();
        assert_eq!(progress.consumed, text.len());
        assert_eq!((progress.lines, progress.rows), (4, 2));
        assert_eq!(&out[26..52], &record(b"chr2", 5, 6.0, 7, 8)[..]);
    }

    #[test]
    fn block_stops_when_output_is_full() {
        let text = b"a 1 1 1 1\r\nb 2 2 2 2\r\nc 3 3 3 3\r\n";
        let mut out = vec![0; 2 * schema().record_size()];
        let progress = parse_block(&schema(), text, true, &mut out).unwrap();
        assert_eq!(
            (progress.consumed, progress.lines, progress.rows),
            (22, 2, 2)
        );
    }

    #[test]
    fn block_reports_the_failing_line_index() {
        let text = b"a 1 1 1 1\n\nb x 2 2 2\n";
        let mut out = vec![0; 4 * schema().record_size()];
        let error = parse_block(&schema(), text, true, &mut out).unwrap_err();
        assert_eq!(error.line_index, 2);
        assert_eq!(error.error.column(), 2);
    }
}
