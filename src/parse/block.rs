//! The block loop, written once for every format: whole lines of a text into consecutive
//! record slots of a caller-owned buffer.
//!
//! The loop owns the rules of a line that no format changes: a line is at most
//! [`MAX_LINE_BYTES`] (newline excluded), ends with `\n` (a `\r` before it is CRLF, which
//! the fast paths and [`with_line_rules`] accept, and a lone `\r` is refused), and a final
//! line without its newline is parsed only at the end of the input, else left for the
//! caller to complete. A format plugs in its per-line step ([`LineStep`]): a fast path
//! that takes the common lines, and a general parser for everything else, errors
//! included. Blank and comment lines are the formats' to recognise ([`Outcome::Blank`]):
//! the loop counts them as lines without a record.

use super::error::LineError;
use super::line::with_line_rules;
use crate::defaults::MAX_LINE_BYTES;
use crate::format::filter::{SkipReason, Skipped};

/// How far a block parser got.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockProgress {
    /// Bytes of the text consumed (always whole lines, with their `\n`).
    pub consumed: usize,
    /// Lines consumed, blank and comment lines included.
    pub lines: u64,
    /// Records written to the front of the output slice.
    pub rows: usize,
    /// Data lines left out on purpose, by reason (formats other than `native` only).
    pub skipped: Skipped,
}

/// A line of a block that failed to parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockError {
    /// 0-based index of the line within the block.
    pub line_index: u64,
    pub error: LineError,
}

/// What a line gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A record was written to the slot.
    Record,
    /// No fields (blank or comment).
    Blank,
    /// A data line left out on purpose.
    Skipped(SkipReason),
}

/// A line a fast path took.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Taken {
    pub outcome: Outcome,
    /// Bytes of the line, with its `\n` if `newline`.
    pub length: usize,
    pub newline: bool,
}

/// One format's way with a line: what [`parse_lines`] calls for each.
pub trait LineStep {
    /// Bytes of one record slot.
    fn record_size(&self) -> usize;

    /// A run of lines taken in a tight loop from byte `at` of `text` into consecutive slots
    /// of `out` from slot `row`, each a record, before the loop goes on line by line: the
    /// bytes and lines taken. Only native lines have such a run (the structural scan);
    /// other formats take none.
    #[inline(always)]
    fn run(&mut self, text: &[u8], at: usize, out: &mut [u8], row: usize) -> (usize, usize) {
        let _ = (text, at, out, row);
        (0, 0)
    }

    /// The fast path on the line at the start of `rest`, the text from byte `at` on, which
    /// may run to the end of the input or stop at the end of the text so far. `None` leaves
    /// the line to [`LineStep::general`]: the fast path only has to be right on what it
    /// takes.
    fn fast(&mut self, rest: &[u8], at: usize, slot: &mut [u8]) -> Option<Taken>;

    /// The general parser on the fields of one line (without its `\n`): every accepted form
    /// and every error. The loop applies the line rules ([`with_line_rules`]) around it.
    fn general(&self, line: &[u8], slot: &mut [u8]) -> Result<Outcome, LineError>;
}

/// Parses whole lines of `text` with `step` into consecutive record slots of `out`.
///
/// Stops when `out` has no free slot or the text runs out. A final line without `\n` is
/// parsed only when `at_end` says no more text follows; otherwise it is left unconsumed for
/// the caller to complete. `out.len()` must be a multiple of the record size.
#[inline(always)]
pub fn parse_lines<S: LineStep>(
    step: &mut S,
    text: &[u8],
    at_end: bool,
    out: &mut [u8],
) -> Result<BlockProgress, BlockError> {
    let record_size = step.record_size();
    let mut progress = BlockProgress::default();
    while progress.consumed < text.len() {
        let (bytes, rows) = step.run(text, progress.consumed, out, progress.rows);
        if bytes > 0 {
            progress.consumed += bytes;
            progress.lines += rows as u64;
            progress.rows += rows;
            if progress.consumed == text.len() {
                break;
            }
        }
        let Some(slot) =
            out.get_mut(progress.rows * record_size..(progress.rows + 1) * record_size)
        else {
            break;
        };
        let rest = &text[progress.consumed..];
        let (outcome, length) = match step.fast(rest, progress.consumed, slot) {
            Some(taken) => {
                if !line_complete(rest, taken.length, taken.newline, at_end, progress.lines)? {
                    break;
                }
                (taken.outcome, taken.length)
            }
            None => {
                let (length, newline) = match memchr::memchr(b'\n', rest) {
                    Some(end) => (end + 1, true),
                    None => (rest.len(), false),
                };
                if !line_complete(rest, length, newline, at_end, progress.lines)? {
                    break;
                }
                let line = &rest[..length - usize::from(newline)];
                let outcome =
                    with_line_rules(line, |line| step.general(line, slot)).map_err(|error| {
                        BlockError {
                            line_index: progress.lines,
                            error,
                        }
                    })?;
                (outcome, length)
            }
        };
        progress.consumed += length;
        progress.lines += 1;
        match outcome {
            Outcome::Record => progress.rows += 1,
            Outcome::Blank => {}
            Outcome::Skipped(reason) => progress.skipped.count(reason),
        }
    }
    Ok(progress)
}

/// The line rules of the line at the start of `rest`, `length` bytes (with its `\n` if
/// `newline`), whichever path read it: whether it is complete, or waits for the rest of
/// the text. The limit costs one predictable compare per line (the exact test, newline
/// excluded, runs only past it); the error is built out of line. A line still open at the
/// end of the text so far waits for the rest, unless the input ends there; one already
/// over the limit cannot become valid, so it is refused at once.
#[inline(always)]
fn line_complete(
    rest: &[u8],
    length: usize,
    newline: bool,
    at_end: bool,
    line_index: u64,
) -> Result<bool, BlockError> {
    if length > MAX_LINE_BYTES && length - usize::from(newline) > MAX_LINE_BYTES {
        return Err(too_long(rest, line_index));
    }
    Ok(newline || at_end)
}

/// The error for the over-long line at the start of `rest`, kept out of the hot loop.
#[cold]
#[inline(never)]
fn too_long(rest: &[u8], line_index: u64) -> BlockError {
    BlockError {
        line_index,
        error: LineError::too_long(rest),
    }
}
