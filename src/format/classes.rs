//! The byte classes of the field splitter: which bytes separate fields, start a comment, or
//! may be part of a chromosome name.
//!
//! A leaf (it imports nothing), kept with the formats because every format's lines obey
//! it: the general parsers, the fast paths, the input formats' headers and `--format auto`
//! all split lines by these classes, so they live below every one of them.

/// A byte of a field.
pub const FIELD: u8 = 0;
/// A byte that separates fields.
pub const SPACE: u8 = 1;
/// `#`: the rest of the line is a comment.
pub const COMMENT: u8 = 2;

/// `\t \n \v \f \r`, `\x1c`..`\x1f` and space: the ASCII part of `Py_UNICODE_ISSPACE`.
/// The one definition of whitespace; the fast paths derive their tables from it.
const fn byte_classes() -> [u8; 256] {
    let mut table = [FIELD; 256];
    let spaces = b"\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f ";
    let mut i = 0;
    while i < spaces.len() {
        table[spaces[i] as usize] = SPACE;
        i += 1;
    }
    table[b'#' as usize] = COMMENT;
    table
}

/// The class of each byte: [`FIELD`], [`SPACE`] or [`COMMENT`].
pub static CLASS: [u8; 256] = byte_classes();

/// Whether `byte` separates fields (numpy's whitespace set restricted to ASCII).
#[inline(always)]
pub fn is_field_separator(byte: u8) -> bool {
    CLASS[byte as usize] == SPACE
}

/// Blanks between fields: the parser's whitespace without `\n`, which ends a line, and
/// without `\r`, which may only come right before it (a lone `\r` goes to the general
/// parser, which refuses it).
const fn blank_table() -> [bool; 256] {
    let classes = byte_classes();
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = classes[byte] == SPACE && byte != b'\n' as usize && byte != b'\r' as usize;
        byte += 1;
    }
    table
}

/// Whether a byte is a blank between fields of one line (see [`blank_table`]).
pub static BLANK: [bool; 256] = blank_table();

/// Bytes a chromosome name may hold: printable ASCII except `#` (which starts a comment).
const fn chr_table() -> [bool; 256] {
    let mut table = [false; 256];
    let mut byte = 0x21;
    while byte < 0x7f {
        table[byte] = byte != b'#' as usize;
        byte += 1;
    }
    table
}

/// Whether a byte may be part of a chromosome name the fast paths take.
pub static CHR: [bool; 256] = chr_table();

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_agree_with_the_classes() {
        for byte in 0..=255u8 {
            let class = CLASS[byte as usize];
            assert_eq!(
                BLANK[byte as usize],
                class == SPACE && byte != b'\n' && byte != b'\r'
            );
            // A name byte is a field byte, and printable.
            assert!(!CHR[byte as usize] || (class == FIELD && byte.is_ascii_graphic()));
        }
        assert_eq!(CLASS[b'#' as usize], COMMENT);
        assert!(is_field_separator(0x1f) && !is_field_separator(0xa0));
    }
}
