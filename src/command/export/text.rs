//! Records as text lines, written with the csv crate.
//!
//! Columns: the source (with `--with-source`), `chr pos pct c t`, then `strand` and
//! `context` when the file has them. `pct` is the shortest decimal that reads back to the
//! same float32 through numpy's (and txt2h5's) parse-as-double-then-round, so that `load`
//! of an export gives back the same records bit for bit.

use std::cell::RefCell;

use crate::cli::ExportFormat;
use crate::parse::parse_f32_via_f64;
use crate::schema::{Fields, Schema};

/// How records become lines: the export's text style (its columns and delimiter), not to
/// be confused with the input formats `load` reads.
#[derive(Clone, Debug)]
pub struct TextStyle {
    pub format: ExportFormat,
    pub schema: Schema,
    pub with_source: bool,
}

impl TextStyle {
    fn writer(&self, capacity: usize) -> csv::Writer<Vec<u8>> {
        let (delimiter, quoting) = match self.format {
            // TSV is what `load` reads: whitespace-separated, never quoted.
            ExportFormat::Tsv => (b'\t', csv::QuoteStyle::Never),
            ExportFormat::Csv => (b',', csv::QuoteStyle::Necessary),
        };
        csv::WriterBuilder::new()
            .delimiter(delimiter)
            .quote_style(quoting)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::with_capacity(capacity))
    }

    /// The column names, in order.
    pub fn columns(&self) -> Vec<&'static str> {
        let shape = self.schema.shape();
        let mut names = Vec::new();
        if self.with_source {
            names.push("source");
        }
        names.extend(crate::schema::FIELD_NAMES);
        if shape.strand {
            names.push("strand");
        }
        if shape.context {
            names.push("context");
        }
        names
    }

    /// The header line (CSV only).
    pub fn header(&self) -> Option<Vec<u8>> {
        if self.format != ExportFormat::Csv {
            return None;
        }
        let mut writer = self.writer(64);
        writer
            .write_record(self.columns())
            .expect("writing to memory cannot fail");
        Some(writer.into_inner().expect("writing to memory cannot fail"))
    }

    /// A line writer for about `rows` lines.
    pub fn lines(&self, rows: usize) -> Lines<'_> {
        Lines {
            style: self,
            fields: Fields::of(&self.schema),
            writer: self.writer(rows * 40),
            rows: 0,
        }
    }
}

thread_local! {
    static PCT_TEXT: RefCell<PctCache> = RefCell::new(PctCache::default());
}

/// The text of recent pct values. Levels are ratios of small counts, so a study holds a few
/// thousand distinct values: remembering them skips most float formatting.
struct PctCache {
    /// By a hash of the bits: the bits, the text's length (0: empty slot) and the text.
    slots: Vec<(u32, u8, [u8; 24])>,
}

impl Default for PctCache {
    fn default() -> Self {
        Self {
            slots: vec![(0, 0, [0; 24]); 1 << 12],
        }
    }
}

impl PctCache {
    fn text(&mut self, value: f32) -> &[u8] {
        let bits = value.to_bits();
        let slot = (bits.wrapping_mul(0x9e37_79b1) >> 20) as usize;
        let entry = &mut self.slots[slot];
        if entry.1 == 0 || entry.0 != bits {
            let mut buffer = ryu::Buffer::new();
            let text = shortest_f32(value, &mut buffer).as_bytes();
            entry.0 = bits;
            entry.1 = text.len() as u8;
            entry.2[..text.len()].copy_from_slice(text);
        }
        &entry.2[..usize::from(entry.1)]
    }
}

/// A text field of a record that a TSV line cannot carry: it holds a tab or a line break.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unwritable {
    /// The field's name (`chr`, `strand`, `context`).
    pub field: &'static str,
    pub bytes: Vec<u8>,
}

/// Lines being written into memory.
pub struct Lines<'a> {
    style: &'a TextStyle,
    fields: Fields,
    writer: csv::Writer<Vec<u8>>,
    rows: u64,
}

impl Lines<'_> {
    /// Writes one record, after its source's name if the style has that column; in TSV a
    /// text field holding a tab or line break is refused, and nothing of the record written.
    pub fn push(&mut self, record: &[u8], source: &[u8]) -> Result<(), Unwritable> {
        if self.style.format == ExportFormat::Tsv {
            self.check_tsv(record)?;
        }
        let writer = &mut self.writer;
        // Writing to a Vec cannot fail.
        let mut field = |bytes: &[u8]| writer.write_field(bytes).expect("in memory");
        if self.style.with_source {
            field(source);
        }
        let fields = &self.fields;
        field(fields.chr(record));
        let mut integers = itoa::Buffer::new();
        field(integers.format(fields.pos(record)).as_bytes());
        let pct = fields.pct(record);
        PCT_TEXT.with(|cache| field(cache.borrow_mut().text(pct)));
        for count in [fields.c(record), fields.t(record)] {
            field(integers.format(count).as_bytes());
        }
        if let Some(strand) = fields.strand(record) {
            field(or_dot(strand));
        }
        if let Some(context) = fields.context(record) {
            field(or_dot(context));
        }
        writer
            .write_record(None::<&[u8]>)
            .expect("writing to memory cannot fail");
        self.rows += 1;
        Ok(())
    }

    /// The first text field of `record` that a TSV line cannot carry: a tab would add a
    /// column and a line break a line (`load` reads TSV as whitespace-separated, and no row
    /// it writes holds either; a file edited with another tool can).
    fn check_tsv(&self, record: &[u8]) -> Result<(), Unwritable> {
        let fields = &self.fields;
        let texts = [
            ("chr", Some(fields.chr(record))),
            ("strand", fields.strand(record)),
            ("context", fields.context(record)),
        ];
        for (field, bytes) in texts {
            if let Some(bytes) = bytes.filter(|bytes| bytes.iter().any(|b| b"\t\n\r".contains(b))) {
                return Err(Unwritable {
                    field,
                    bytes: bytes.to_vec(),
                });
            }
        }
        Ok(())
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The text written.
    pub fn into_bytes(self) -> Vec<u8> {
        self.writer
            .into_inner()
            .expect("writing to memory cannot fail")
    }
}

/// An empty extra field as `.`, so that every line has every column.
fn or_dot(field: &[u8]) -> &[u8] {
    if field.is_empty() {
        b"."
    } else {
        field
    }
}

/// The shortest decimal that reads back, as a double rounded to float32, to `value`.
///
/// ryu gives the shortest text that reads back to the float32 directly; numpy and txt2h5
/// read it as a double first, then round, and for a value whose text lands within a double
/// of the midpoint between two float32s the two disagree. So the text is read back as
/// `load` reads it, and where it misses, the shortest text of the exact double is written,
/// which reads back exactly. Over all 2^32 bit patterns one magnitude needs that
/// (`7.038531e-26`; `every_float32_reads_back`, an ignored test, checks all of them).
/// Callers format each distinct value once ([`PctCache`]), so the check costs little.
pub fn shortest_f32(value: f32, buffer: &mut ryu::Buffer) -> &str {
    if value.is_nan() {
        return if value.is_sign_negative() {
            "-nan"
        } else {
            "nan"
        };
    }
    if value.is_infinite() {
        return if value > 0.0 { "inf" } else { "-inf" };
    }
    fn trimmed(text: &str) -> &str {
        text.strip_suffix(".0").unwrap_or(text)
    }
    let reads_back = parse_f32_via_f64(trimmed(buffer.format_finite(value)).as_bytes())
        .is_ok_and(|back| back.to_bits() == value.to_bits());
    if reads_back {
        trimmed(buffer.format_finite(value))
    } else {
        buffer.format_finite(f64::from(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Shape;
    use proptest::prelude::*;

    #[test]
    fn shortest_text_for_typical_levels() {
        let mut buffer = ryu::Buffer::new();
        let mut text = |value: f32| shortest_f32(value, &mut buffer).to_string();
        assert_eq!(text(100.0), "100");
        assert_eq!(text(0.0), "0");
        assert_eq!(text(66.666664), "66.666664");
        assert_eq!(text(5.5555553), "5.5555553");
        assert_eq!(text(1e-7), "1e-7");
        assert_eq!(text(f32::NAN), "nan");
        assert_eq!(text(f32::NEG_INFINITY), "-inf");
    }

    #[test]
    fn the_one_double_rounding_case_reads_back() {
        let mut buffer = ryu::Buffer::new();
        for bits in [0x15ae_43fd_u32, 0x95ae_43fd] {
            let value = f32::from_bits(bits);
            let text = shortest_f32(value, &mut buffer).to_string();
            let back = parse_f32_via_f64(text.as_bytes()).unwrap();
            assert_eq!(back.to_bits(), bits, "{text}");
            // ryu's own shortest text would not.
            let plain = ryu::Buffer::new().format_finite(value).to_string();
            assert_ne!(parse_f32_via_f64(plain.as_bytes()).unwrap().to_bits(), bits);
        }
    }

    /// All 2^32 bit patterns: `cargo test --release -- --ignored every_float32` (a minute
    /// on two cores).
    #[test]
    #[ignore]
    fn every_float32_reads_back() {
        use rayon::prelude::*;
        let bad = (0..=u32::MAX)
            .into_par_iter()
            .filter(|&bits| {
                let value = f32::from_bits(bits);
                let mut buffer = ryu::Buffer::new();
                let text = shortest_f32(value, &mut buffer);
                let back = parse_f32_via_f64(text.as_bytes()).unwrap();
                !(back.to_bits() == bits || value.is_nan() && back.is_nan())
            })
            .count();
        assert_eq!(bad, 0);
    }

    proptest! {
        /// Any float32 reads back through the loader's parser to the same bits.
        #[test]
        fn shortest_text_reads_back_bit_for_bit(bits in any::<u32>()) {
            let value = f32::from_bits(bits);
            let mut buffer = ryu::Buffer::new();
            let text = shortest_f32(value, &mut buffer);
            let back = parse_f32_via_f64(text.as_bytes()).unwrap();
            if value.is_nan() {
                prop_assert!(back.is_nan());
            } else {
                prop_assert_eq!(back.to_bits(), bits, "{}", text);
            }
        }
    }

    #[test]
    fn the_cache_gives_each_value_its_own_text() {
        let mut cache = PctCache::default();
        let mut rng = 0x1234_5678u32;
        let values: Vec<f32> = (0..20_000)
            .map(|_| {
                rng ^= rng << 13;
                rng ^= rng >> 17;
                rng ^= rng << 5;
                f32::from_bits(rng)
            })
            .chain([f32::from_bits(0x95ae_43fd), -0.0, 0.0, 100.0])
            .collect();
        for _ in 0..2 {
            for &value in &values {
                let mut buffer = ryu::Buffer::new();
                let want = shortest_f32(value, &mut buffer).to_string();
                assert_eq!(cache.text(value), want.as_bytes());
            }
        }
    }

    #[test]
    fn lines_hold_every_field() {
        let shape = Shape {
            wide_pos: true,
            strand: true,
            context: true,
        };
        let schema = Schema::with_shape(6, shape).unwrap();
        let mut record = vec![0u8; schema.record_size()];
        record[..4].copy_from_slice(b"chr1");
        record[6..14].copy_from_slice(&3_000_000_000i64.to_le_bytes());
        record[14..18].copy_from_slice(&12.5f32.to_le_bytes());
        record[18..22].copy_from_slice(&1i32.to_le_bytes());
        record[22..26].copy_from_slice(&7i32.to_le_bytes());
        record[26] = b'-';
        let style = TextStyle {
            format: ExportFormat::Csv,
            schema,
            with_source: true,
        };
        let mut lines = style.lines(1);
        lines.push(&record, b"a,b.txt").unwrap();
        assert_eq!(
            String::from_utf8(lines.into_bytes()).unwrap(),
            "\"a,b.txt\",chr1,3000000000,12.5,1,7,-,.\n"
        );
        assert_eq!(
            String::from_utf8(style.header().unwrap()).unwrap(),
            "source,chr,pos,pct,c,t,strand,context\n"
        );
    }

    /// A chr holding a tab or line break: TSV refuses the record (writing nothing of it);
    /// CSV carries it (a tab is no delimiter there, a line break is quoted).
    #[test]
    fn tsv_refuses_a_tab_or_line_break_that_csv_quotes() {
        let schema = Schema::new(6).unwrap();
        for (chr, csv) in [
            (&b"ch\tr1"[..], "ch\tr1,5,0,0,0\n"),
            (b"ch\nr1", "\"ch\nr1\",5,0,0,0\n"),
            (b"chr1\r", "\"chr1\r\",5,0,0,0\n"),
        ] {
            let mut record = vec![0u8; schema.record_size()];
            record[..chr.len()].copy_from_slice(chr);
            record[6..10].copy_from_slice(&5i32.to_le_bytes());
            let style = |format| TextStyle {
                format,
                schema,
                with_source: false,
            };
            let tsv = style(ExportFormat::Tsv);
            let mut lines = tsv.lines(1);
            assert_eq!(
                lines.push(&record, b""),
                Err(Unwritable {
                    field: "chr",
                    bytes: chr.to_vec()
                })
            );
            assert_eq!(lines.rows(), 0);
            assert!(lines.into_bytes().is_empty());
            let csv_style = style(ExportFormat::Csv);
            let mut lines = csv_style.lines(1);
            lines.push(&record, b"").unwrap();
            assert_eq!(String::from_utf8(lines.into_bytes()).unwrap(), csv);
        }
    }
}
