//! A plain, obviously-correct parser used only to check the fast one.
//!
//! It follows the rules in the parent module word for word with std's tools: split the
//! text into lines, cut at `#`, split on the whitespace set, and use `str::parse`. The
//! differential tests run both parsers on the same bytes and demand identical records or
//! an error from both.

use super::is_field_separator;
use crate::schema::Schema;

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
