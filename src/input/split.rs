//! Newline-aligned pieces of large uncompressed files, so one big file uses every core.
//!
//! A file of `size` bytes is cut at nominal offsets `k * piece_bytes`. The piece that owns a
//! nominal range `[start, end)` starts right after the first `\n` at or after `start - 1`
//! (at 0 for the first piece) and ends right after the first `\n` at or after `end - 1` (at
//! the end of the file for the last). Both rules are the same function of the bytes, so
//! every line belongs to exactly one piece, whichever worker reads it, and the cuts depend
//! only on the file and `piece_bytes`, never on the number of threads. (polars' CSV reader
//! splits the same way.)

use std::fs::File;
use std::ops::Range;
use std::os::unix::fs::FileExt;

use crate::defaults::MAX_LINE_BYTES;

/// Extra bytes read at a time while looking for the newline that ends a piece.
const TAIL_STEP: usize = 64 * 1024;

/// Nominal byte ranges of the pieces of a file of `size` bytes (at least one piece).
pub fn nominal_pieces(size: u64, piece_bytes: u64) -> Vec<(u64, u64)> {
    let piece_bytes = piece_bytes.max(1);
    let count = size.div_ceil(piece_bytes).max(1);
    (0..count)
        .map(|k| (k * piece_bytes, ((k + 1) * piece_bytes).min(size)))
        .collect()
}

/// Reads the lines a piece owns into the front of `text` and returns the file offset of
/// the first of them and their range in `text`.
///
/// `text` only grows, and is never cleared or shifted, so a reused buffer costs nothing
/// but the read. `size` is the file size seen when the run started; a file that is now
/// shorter fails with `UnexpectedEof`.
pub fn read_piece(
    file: &File,
    size: u64,
    start: u64,
    end: u64,
    text: &mut Vec<u8>,
) -> std::io::Result<(u64, Range<usize>)> {
    let from = start.saturating_sub(1);
    let mut len = (end - from) as usize;
    grow(text, len);
    file.read_exact_at(&mut text[..len], from)?;
    let begin = if start == 0 {
        0
    } else {
        memchr::memchr(b'\n', &text[..len]).map_or(len, |newline| newline + 1)
    };
    if begin == len {
        // No line starts inside this range: it lies within a line an earlier piece owns.
        return Ok((end, 0..0));
    }
    // The piece ends after the first newline at or after `end - 1`, looked for at most
    // MAX_LINE_BYTES + 1 bytes past `end`: a line still open there is longer than the limit,
    // and the parser refuses the cut-off line that ends the piece (see `tail_limit`).
    let tail_limit = tail_limit(end, size);
    let mut search_from = len - 1;
    let mut next = end;
    loop {
        if let Some(newline) = memchr::memchr(b'\n', &text[search_from..len]) {
            len = search_from + newline + 1;
            break;
        }
        if next >= tail_limit {
            break;
        }
        search_from = len;
        let step = TAIL_STEP.min((tail_limit - next) as usize);
        grow(text, len + step);
        file.read_exact_at(&mut text[len..len + step], next)?;
        len += step;
        next += step as u64;
    }
    Ok((from + begin as u64, begin..len))
}

/// The most bytes [`read_piece`] puts in `text` for the nominal range `[start, end)`: the
/// range, the byte before it, and the longest line tail it may follow. A caller reserves
/// this much once (fallibly), so that the reads never grow the buffer.
pub fn piece_text_bound(start: u64, end: u64) -> usize {
    (end - start.saturating_sub(1)) as usize + MAX_LINE_BYTES + 1
}

/// Where a piece's search for its final newline stops: the end of the file, or
/// [`MAX_LINE_BYTES`] + 1 bytes past the nominal end. A line that reaches that far without
/// a newline is longer than the limit wherever it started, so the piece's text (and the
/// memory it takes) stays under `piece_bytes + MAX_LINE_BYTES + 1` for any input.
fn tail_limit(end: u64, size: u64) -> u64 {
    size.min(end + MAX_LINE_BYTES as u64 + 1)
}

/// Makes `buffer` at least `len` bytes long; zero-fills only what it adds.
pub fn grow(buffer: &mut Vec<u8>, len: usize) {
    if buffer.len() < len {
        buffer.resize(len, 0);
    }
}

/// Counts `\n` bytes in the first `offset` bytes of `file`: the 0-based line number of the
/// line that starts at `offset`. Used only to report errors, so it may be slow.
pub fn count_lines_before(file: &File, offset: u64) -> std::io::Result<u64> {
    let mut buf = vec![0u8; 1 << 20];
    let mut lines = 0;
    let mut position = 0;
    while position < offset {
        let want = buf.len().min((offset - position) as usize);
        let n = file.read_at(&mut buf[..want], position)?;
        if n == 0 {
            break;
        }
        lines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
        position += n as u64;
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::file_with;

    /// Every split of every small text must reassemble the text exactly.
    #[test]
    fn pieces_partition_the_text_for_every_piece_size() {
        let texts: [&[u8]; 5] = [
            b"a 1\nbb 22\n\nccc 333\r\nd",
            b"\n\n\n",
            b"no newline at all",
            b"x\n",
            b"",
        ];
        for text in texts {
            let (_temp, file) = file_with(text);
            let size = text.len() as u64;
            for piece_bytes in 1..=size + 2 {
                let mut joined = Vec::new();
                let mut buf = Vec::new();
                let mut expected_offset = 0;
                for (start, end) in nominal_pieces(size, piece_bytes) {
                    let (offset, range) = read_piece(&file, size, start, end, &mut buf).unwrap();
                    let piece = &buf[range];
                    if !piece.is_empty() {
                        assert_eq!(offset, expected_offset, "{text:?} / {piece_bytes}");
                        assert!(offset == 0 || text[offset as usize - 1] == b'\n');
                    }
                    expected_offset += piece.len() as u64;
                    joined.extend_from_slice(piece);
                }
                assert_eq!(joined, text, "piece_bytes {piece_bytes}");
            }
        }
    }

    #[test]
    fn long_line_spanning_pieces_goes_to_the_piece_where_it_starts() {
        let text = b"short\nthis line is much longer than a piece\nend\n";
        let (_temp, file) = file_with(text);
        let mut buf = Vec::new();
        let size = text.len() as u64;
        let (_, range) = read_piece(&file, size, 0, 8, &mut buf).unwrap();
        assert_eq!(
            &buf[range],
            b"short\nthis line is much longer than a piece\n"
        );
        let (_, range) = read_piece(&file, size, 8, 16, &mut buf).unwrap();
        assert_eq!(&buf[range], b"");
    }

    #[test]
    fn shrunken_file_is_an_error() {
        let (_temp, file) = file_with(b"a\nb\n");
        let mut buf = Vec::new();
        let error = read_piece(&file, 10, 0, 10, &mut buf).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn counts_lines_before_an_offset() {
        let (_temp, file) = file_with(b"a\nb\n\nc\n");
        assert_eq!(count_lines_before(&file, 0).unwrap(), 0);
        assert_eq!(count_lines_before(&file, 2).unwrap(), 1);
        assert_eq!(count_lines_before(&file, 5).unwrap(), 3);
    }

    /// Regression: a 400 MB input with no newline grew the process to 764 MiB, because a
    /// piece read on until it found one. The piece now stops one byte past the line limit.
    #[test]
    fn a_piece_never_reads_far_past_its_end_looking_for_a_newline() {
        let text = vec![b'x'; 3 * MAX_LINE_BYTES];
        let (_temp, file) = file_with(&text);
        let size = text.len() as u64;
        let mut buf = Vec::new();
        let (offset, range) = read_piece(&file, size, 0, 1000, &mut buf).unwrap();
        assert_eq!(offset, 0);
        assert_eq!(range, 0..1000 + MAX_LINE_BYTES + 1);
        assert!(buf.len() <= piece_text_bound(0, 1000));
        let mut buf = Vec::with_capacity(piece_text_bound(1, 1000));
        let capacity = buf.capacity();
        read_piece(&file, size, 1, 1000, &mut buf).unwrap();
        assert_eq!(
            buf.capacity(),
            capacity,
            "the reads grew a buffer of the bound"
        );
        // A piece that starts inside the long line owns nothing and reads only its range.
        let (_, range) = read_piece(&file, size, 1000, 2000, &mut buf).unwrap();
        assert!(range.is_empty());
    }
}
