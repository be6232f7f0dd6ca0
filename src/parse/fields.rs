//! The field splitter of the general parsers, and the rules one field obeys whatever the
//! format: a line's fields are runs of non-whitespace before any `#`, and a chromosome name
//! fits its field and is printable ASCII.
//!
//! A leaf of the parser, below the native and the column formats' general parsers alike.

use super::error::FieldError;
use crate::format::classes::{CLASS, COMMENT, FIELD, SPACE};

/// Splits a line into fields (runs of non-whitespace before any `#`): stores the bounds of
/// the first `fields.len()` in `fields` and returns how many the line has in all. The one
/// splitter of the general parsers, native and column formats alike.
pub fn split_fields(line: &[u8], fields: &mut [(usize, usize)]) -> usize {
    let mut count = 0;
    let mut i = 0;
    let len = line.len();
    'split: loop {
        while i < len {
            match CLASS[line[i] as usize] {
                SPACE => i += 1,
                COMMENT => break 'split,
                _ => break,
            }
        }
        if i == len {
            break;
        }
        let start = i;
        while i < len && CLASS[line[i] as usize] == FIELD {
            i += 1;
        }
        if let Some(slot) = fields.get_mut(count) {
            *slot = (start, i);
        }
        count += 1;
    }
    count
}

/// The 1-based column of the field that holds (or would hold) byte `at` of `line`.
pub fn column_at(line: &[u8], at: usize) -> usize {
    let mut column = 0;
    let mut in_field = false;
    for &byte in &line[..=at.min(line.len() - 1)] {
        let field = CLASS[byte as usize] != SPACE;
        if field && !in_field {
            column += 1;
        }
        in_field = field;
    }
    column.max(1)
}

/// A chromosome name as the record stores it: at most `width` bytes (numpy would truncate
/// a longer one) of printable ASCII (numpy would re-encode others).
pub fn check_chr(field: &[u8], width: usize) -> Result<&[u8], FieldError> {
    if field.len() > width {
        return Err(FieldError::ChrTooLong {
            length: field.len(),
            width,
        });
    }
    if let Some(&byte) = field.iter().find(|b| !b.is_ascii_graphic()) {
        return Err(FieldError::ChrInvalidByte { byte });
    }
    Ok(field)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_stop_at_a_comment_and_are_counted_past_the_room() {
        let mut fields = [(0, 0); 2];
        assert_eq!(split_fields(b"  a\tbb c # d e", &mut fields), 3);
        assert_eq!(fields, [(2, 3), (4, 6)]);
        assert_eq!(split_fields(b" \x0b#x", &mut fields), 0);
        assert_eq!(column_at(b" a  b", 3), 1);
        assert_eq!(column_at(b" a  b", 4), 2);
        assert_eq!(column_at(b"a", 0), 1);
    }

    #[test]
    fn names_fit_and_are_printable() {
        assert_eq!(check_chr(b"chr1", 4), Ok(&b"chr1"[..]));
        assert_eq!(
            check_chr(b"chr12", 4),
            Err(FieldError::ChrTooLong {
                length: 5,
                width: 4
            })
        );
        assert_eq!(
            check_chr(b"c\x7f", 4),
            Err(FieldError::ChrInvalidByte { byte: 0x7f })
        );
    }
}
