//! What a pool thread does: take the next unit in load order, run it, send its parts.
//!
//! Units are handed out by one atomic counter, so workers stay close to the writer's head
//! and the reorder queue stays short. A unit sends zero or more `Rows` parts, each a full
//! (or final, partly filled) record buffer, then exactly one terminal part: `Done`,
//! `Checksum` or `Failed`. A failure is a value sent to the writer, never a log line: the
//! writer reports the first failure in load order and discards everything after it.
//!
//! A unit's text comes from one [`TextReader`] (a plain piece, a gzip stream or a BGZF
//! piece, see [`crate::input::reader`]): the worker pulls it into its own reused
//! [`TextBuffer`], fill by fill, and parses what it is given (`parse_text`).

use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::time::Duration;

use crate::bgzf::reader::BgzfBlock;
use crate::defaults::MAX_LINE_BYTES;
use crate::error::Error;
use crate::format::filter::Skipped;
use crate::format::Header;
use crate::index::stretches::{stretches, Stretch};
use crate::input::checksum::checksum_file;
use crate::input::discover::Input;
use crate::input::reader::{TextBuffer, TextReader, TEXT_BLOCK};
use crate::ordered::{catch_panic, Cutoff};
use crate::parse::{LineError, LineParser};
use crate::pipeline::buffer::{AcquireError, BufferPool, RecordBuffer};
use crate::pipeline::plan::{Unit, UnitKind};
use crate::pipeline::refusal::Refusal;
use crate::pipeline::spill::{Spill, SpilledRecords};
use crate::progress::Progress;
use crate::schema::Fields;

/// How long a worker whose part the writer cannot take yet waits for a job before it tries
/// to send again.
const SEND_RETRY: Duration = Duration::from_millis(1);

/// A message from a worker to the writer.
pub struct Part {
    pub unit: usize,
    pub seq: u32,
    pub payload: Payload,
}

pub enum Payload {
    /// Records, in order, with where `chr` changes in them; more parts of the same unit
    /// follow.
    Rows {
        buffer: RecordBuffer,
        stretches: Vec<Stretch>,
    },
    /// Records spilled to a temporary file, in order, and their stretches; more parts follow.
    Spilled {
        records: SpilledRecords,
        stretches: Vec<Stretch>,
    },
    /// Terminal: the unit parsed its text, leaving out `skipped` rows; a gzip unit also
    /// hashed the file.
    Done {
        skipped: Skipped,
        checksum: Option<u128>,
    },
    /// Terminal: the file's content checksum.
    Checksum(u128),
    /// Terminal: the unit failed.
    Failed(Error),
}

impl Payload {
    pub fn is_last(&self) -> bool {
        !matches!(self, Payload::Rows { .. } | Payload::Spilled { .. })
    }
}

/// Everything the workers share.
pub struct WorkContext<'a> {
    pub inputs: &'a [Input],
    pub units: &'a [Unit],
    /// The order in which workers start units (indices into `units`).
    pub dispatch: &'a [usize],
    /// The blocks of BGZF inputs read in pieces, by file.
    pub bgzf_blocks: &'a [Vec<BgzfBlock>],
    /// How each input is read, by file.
    pub readings: &'a [FileReading],
    /// Where the index finds `chr` and `pos` in a record.
    pub fields: Fields,
    pub pool: &'a BufferPool,
    pub next_unit: &'a AtomicUsize,
    /// The units not to start: those after the first that failed (all once the writer
    /// stopped).
    pub cutoff: &'a Cutoff,
    pub progress: &'a Progress,
    /// Where units ahead of the writer spill records when no buffer is free.
    pub spill_dir: &'a Path,
    /// Bytes spilled so far, for the report.
    pub spilled_bytes: &'a AtomicU64,
}

/// How one input is read.
pub struct FileReading {
    pub parser: LineParser,
    /// The format data errors name (`bismark-cov (6 columns: ...)`); `None` for a file
    /// read as `native` because `--format native` said so.
    pub read_as: Option<String>,
    /// Why the file cannot be read, found before the pipeline (`auto` could not pick its
    /// format, its start does not inflate, ...). Its units fail with this error when they
    /// run, so the run reports the first error in load order, as for data errors.
    pub refusal: Option<Refusal>,
}

/// The writer is gone or the run was cancelled: stop quietly, the writer reports why.
struct Stopped;

enum UnitError {
    Stopped,
    Failed(Error),
}

impl From<Stopped> for UnitError {
    fn from(_: Stopped) -> Self {
        UnitError::Stopped
    }
}

impl From<Error> for UnitError {
    fn from(error: Error) -> Self {
        UnitError::Failed(error)
    }
}

/// Runs units until none are left or the run stops; then the writer's compression jobs
/// until it needs no more.
pub fn work(context: &WorkContext<'_>, sender: SyncSender<Part>) {
    let _live = context.pool.worker_guard();
    let mut text = TextBuffer::default();
    loop {
        let Some(&unit) = context
            .dispatch
            .get(context.next_unit.fetch_add(1, Ordering::Relaxed))
        else {
            drop(sender);
            context.pool.serve_jobs();
            return;
        };
        // A unit after a failed one is not needed; one before it still is (the checksum
        // unit, started first, is after its file's pieces), so that the failure reported
        // is the first in load order whatever the timing.
        if context.cutoff.skips(unit as u64) {
            continue;
        }
        let mut sink = UnitOutput::new(context, &sender, unit);
        // A unit that panics (a bug) must still answer, or the writer would wait for it
        // forever: its panic becomes the unit's failure.
        let path = &context.inputs[context.units[unit].file].path;
        let stage = format_args!("worker reading {} (work unit {unit})", path.display());
        let outcome = catch_panic(stage, || run_unit(&mut sink, &mut text))
            .unwrap_or_else(|panic| Err(UnitError::Failed(panic)));
        let terminal = match outcome {
            Ok(payload) => payload,
            Err(UnitError::Failed(error)) => {
                // Nothing after the first failure is needed.
                context.cutoff.failed(unit as u64);
                Payload::Failed(error)
            }
            Err(UnitError::Stopped) => return,
        };
        if let Payload::Failed(_) = terminal {
            if let Some(buffer) = sink.buffer.take() {
                context.pool.release(buffer);
            }
        }
        // A `Done` or `Checksum` first sends the partly filled last buffer.
        if sink.send(terminal).is_err() {
            return;
        }
    }
}

fn run_unit(sink: &mut UnitOutput<'_, '_>, text: &mut TextBuffer) -> Result<Payload, UnitError> {
    let unit = sink.context.units[sink.unit];
    let input = &sink.context.inputs[unit.file];
    if let Some(refusal) = &sink.context.readings[unit.file].refusal {
        return Err(UnitError::Failed(refusal.to_error(&input.path)));
    }
    let reader = match unit.kind {
        UnitKind::Checksum => {
            let scratch = text.scratch(TEXT_BLOCK)?;
            return Ok(Payload::Checksum(checksum_file(input, scratch)?));
        }
        UnitKind::Piece { start, end } => TextReader::piece(input, start, end)?,
        UnitKind::Gzip => TextReader::gzip(input)?,
        UnitKind::BgzfPiece {
            first_block,
            end_block,
        } => TextReader::bgzf_piece(
            input,
            &sink.context.bgzf_blocks[unit.file],
            first_block..end_block,
        )?,
    };
    let checksum = parse_text(sink, input, reader, text)?;
    sink.done(checksum)
}

/// Parses the text `reader` gives, fill by fill, until it ends; returns the file's
/// checksum when the reader hashed the whole file (a gzip stream).
fn parse_text(
    sink: &mut UnitOutput<'_, '_>,
    input: &Input,
    mut reader: TextReader<'_>,
    text: &mut TextBuffer,
) -> Result<Option<u128>, UnitError> {
    let path = &input.path;
    let mut lines_parsed = 0u64;
    let mut bytes_reported = 0u64;
    loop {
        let at_end = reader.fill(text)?;
        let (consumed, lines) = sink.parse(text.text(), at_end).map_err(|failure| {
            failure.into_error(path, || Ok(reader.lines_before()? + lines_parsed))
        })?;
        text.consume(consumed);
        lines_parsed += lines;
        let bytes_read = reader.bytes_read();
        sink.context.progress.add_bytes(bytes_read - bytes_reported);
        bytes_reported = bytes_read;
        if at_end {
            debug_assert!(text.text().is_empty(), "the last fill is parsed to its end");
            return Ok(reader.finish()?);
        }
        // What is left is the start of a line whose end has not been read yet; the next
        // fill has room for MAX_LINE_BYTES more, so a longer rest is a line over the limit.
        if text.text().len() > MAX_LINE_BYTES {
            return Err(Error::Data {
                path: path.clone(),
                line: reader.lines_before()? + lines_parsed + 1,
                error: Box::new(LineError::too_long(text.text())),
                read_as: sink.read_as.clone(),
            }
            .into());
        }
    }
}

/// Where a unit's records go: the current buffer, sent on when full.
struct UnitOutput<'c, 's> {
    context: &'c WorkContext<'c>,
    sender: &'s SyncSender<Part>,
    unit: usize,
    seq: u32,
    buffer: Option<RecordBuffer>,
    spill: Option<Spill>,
    /// This file's parser, and the format its errors name.
    parser: &'c LineParser,
    read_as: &'c Option<String>,
    /// Rows left out so far.
    skipped: Skipped,
    /// Header lines still to skip (units that start at the start of their file).
    header: HeaderSkip,
    /// Whether this unit's text runs to the end of the file.
    ends_file: bool,
}

/// The header lines a unit that starts at its file's start skips.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HeaderSkip {
    None,
    /// Line 1 is skipped if it is the format's header.
    Optional,
    /// `--skip-lines`: this many lines are skipped, whatever they hold.
    Lines(u64),
}

/// A parse failure inside [`UnitOutput::parse`].
enum ParseFailure {
    Line {
        line_index: u64,
        error: LineError,
        read_as: Option<String>,
    },
    Stopped,
    Resource(Error),
}

impl ParseFailure {
    /// Converts to the run's error, with the 1-based line in the file; `lines_before` gives
    /// the number of lines before the parsed text (only called on this error path).
    fn into_error(
        self,
        path: &Path,
        lines_before: impl FnOnce() -> Result<u64, Error>,
    ) -> UnitError {
        match self {
            ParseFailure::Line {
                line_index,
                error,
                read_as,
            } => match lines_before() {
                Ok(before) => UnitError::Failed(Error::Data {
                    path: path.to_path_buf(),
                    line: before + line_index + 1,
                    error: Box::new(error),
                    read_as,
                }),
                Err(error) => UnitError::Failed(error),
            },
            ParseFailure::Stopped => UnitError::Stopped,
            ParseFailure::Resource(error) => UnitError::Failed(error),
        }
    }
}

impl<'c, 's> UnitOutput<'c, 's> {
    fn new(context: &'c WorkContext<'c>, sender: &'s SyncSender<Part>, unit: usize) -> Self {
        let Unit { file, kind } = context.units[unit];
        let parser = &context.readings[file].parser;
        let read_as = &context.readings[file].read_as;
        let (at_file_start, ends_file) = match kind {
            UnitKind::Piece { start, end } => (start == 0, end == context.inputs[file].size),
            UnitKind::BgzfPiece {
                first_block,
                end_block,
            } => (
                first_block == 0,
                end_block == context.bgzf_blocks[file].len(),
            ),
            UnitKind::Gzip => (true, true),
            UnitKind::Checksum => (false, false),
        };
        let header = match parser.header() {
            _ if !at_file_start => HeaderSkip::None,
            Header::None => HeaderSkip::None,
            Header::Names(_) | Header::Track => HeaderSkip::Optional,
            Header::Lines(lines) => HeaderSkip::Lines(*lines),
        };
        Self {
            context,
            sender,
            unit,
            seq: 0,
            buffer: None,
            spill: None,
            parser,
            read_as,
            skipped: Skipped::default(),
            header,
            ends_file,
        }
    }

    /// The terminal payload of a parsing unit.
    fn done(&self, checksum: Option<u128>) -> Result<Payload, UnitError> {
        if let HeaderSkip::Lines(left) = self.header {
            // Only a plain or BGZF file read in pieces can get here: a gzip stream is read
            // to its end, and the lines of a shorter file are all skipped.
            return Err(UnitError::Failed(Error::usage(format!(
                "{}: --skip-lines reaches past the first piece of the file ({left} lines were \
                 still to skip); skip fewer lines, or decompress and cut the header off",
                self.context.inputs[self.context.units[self.unit].file]
                    .path
                    .display()
            ))));
        }
        Ok(Payload::Done {
            skipped: self.skipped,
            checksum,
        })
    }

    /// Skips header lines at the start of `text`: returns the bytes and lines skipped.
    fn skip_header(&mut self, text: &[u8], at_end: bool) -> (usize, u64) {
        match self.header {
            HeaderSkip::None => (0, 0),
            HeaderSkip::Optional => {
                let line_end = memchr::memchr(b'\n', text);
                if line_end.is_none() && !at_end {
                    // Not a whole line yet (a header is never this long): parse it as data,
                    // which reports it.
                    self.header = HeaderSkip::None;
                    return (0, 0);
                }
                self.header = HeaderSkip::None;
                let end = line_end.unwrap_or(text.len());
                let line = text[..end].strip_suffix(b"\r").unwrap_or(&text[..end]);
                if self.parser.header().matches(line) {
                    (line_end.map_or(end, |end| end + 1), 1)
                } else {
                    (0, 0)
                }
            }
            HeaderSkip::Lines(mut left) => {
                let mut consumed = 0;
                let mut lines = 0;
                while left > 0 && consumed < text.len() {
                    match memchr::memchr(b'\n', &text[consumed..]) {
                        Some(end) => consumed += end + 1,
                        None if at_end => consumed = text.len(),
                        None => break,
                    }
                    left -= 1;
                    lines += 1;
                }
                // A file shorter than its header has no data lines: nothing is left to skip.
                let file_ended = at_end && consumed == text.len() && self.ends_file;
                self.header = if left == 0 || file_ended {
                    HeaderSkip::None
                } else {
                    HeaderSkip::Lines(left)
                };
                (consumed, lines)
            }
        }
    }

    /// Parses whole lines of `text` (and a final partial line when `at_end`), sending full
    /// buffers on. Returns the bytes and lines consumed.
    fn parse(&mut self, text: &[u8], at_end: bool) -> Result<(usize, u64), ParseFailure> {
        let (mut consumed, mut lines) = self.skip_header(text, at_end);
        loop {
            if self.buffer.is_none() {
                self.context.pool.run_jobs();
                let buffer = self
                    .context
                    .pool
                    .acquire(self.unit)
                    .map_err(|error| self.acquire_failure(error))?;
                self.buffer = Some(buffer);
            }
            let buffer = self.buffer.as_mut().expect("just filled");
            let progress = self
                .parser
                .parse_block(&text[consumed..], at_end, buffer.spare_mut())
                .map_err(|failure| ParseFailure::Line {
                    line_index: lines + failure.line_index,
                    error: failure.error,
                    read_as: self.read_as.clone(),
                })?;
            buffer.commit(progress.rows);
            self.skipped.add(progress.skipped);
            consumed += progress.consumed;
            lines += progress.lines;
            if !buffer.is_full() {
                return Ok((consumed, lines));
            }
            self.hand_on_full_buffer()?;
            if consumed == text.len() {
                return Ok((consumed, lines));
            }
        }
    }

    /// Sends the full current buffer on and gets an empty one: a buffer from the pool,
    /// waited for while the writer is busy, else (the writer is starved) the same buffer
    /// after spilling its records.
    fn hand_on_full_buffer(&mut self) -> Result<(), ParseFailure> {
        let mut full = self.buffer.take().expect("a full buffer");
        // The writer's compression jobs first: it may be waiting for one.
        self.context.pool.run_jobs();
        match self.context.pool.acquire_unless_starved(self.unit) {
            Some(Ok(empty)) => {
                self.buffer = Some(empty);
                let stretches = self.stretches(&full);
                self.send(Payload::Rows {
                    buffer: full,
                    stretches,
                })
                .map_err(|Stopped| ParseFailure::Stopped)
            }
            Some(Err(error)) => Err(self.acquire_failure(error)),
            None => {
                let dir = self.context.spill_dir;
                let spill_error =
                    |error| ParseFailure::Resource(Error::io(dir.join("(spill file)"), error));
                let spill = match &mut self.spill {
                    Some(spill) => spill,
                    None => self.spill.insert(Spill::create(dir).map_err(spill_error)?),
                };
                let records = spill.append(full.as_bytes()).map_err(spill_error)?;
                self.context
                    .spilled_bytes
                    .fetch_add(records.bytes as u64, Ordering::Relaxed);
                let stretches = self.stretches(&full);
                full.clear();
                self.buffer = Some(full);
                self.send(Payload::Spilled { records, stretches })
                    .map_err(|Stopped| ParseFailure::Stopped)
            }
        }
    }

    /// Why no buffer came: the run stopped, or the memory for one cannot be had.
    fn acquire_failure(&self, error: AcquireError) -> ParseFailure {
        match error {
            AcquireError::Cancelled => ParseFailure::Stopped,
            AcquireError::Map(error) => ParseFailure::Resource(self.context.pool.map_error(error)),
        }
    }

    /// Where `chr` changes in `buffer`, for the position index: scanned here, on the
    /// worker's thread, while the records are still in cache.
    fn stretches(&self, buffer: &RecordBuffer) -> Vec<Stretch> {
        let mut found = Vec::new();
        stretches(buffer.as_bytes(), &self.context.fields, &mut found);
        found
    }

    fn send(&mut self, payload: Payload) -> Result<(), Stopped> {
        if matches!(payload, Payload::Done { .. } | Payload::Checksum(_)) {
            if let Some(buffer) = self.buffer.take() {
                if buffer.rows() > 0 {
                    let stretches = self.stretches(&buffer);
                    self.send(Payload::Rows { buffer, stretches })?;
                } else {
                    self.context.pool.release(buffer);
                }
            }
        }
        let part = Part {
            unit: self.unit,
            seq: self.seq,
            payload,
        };
        self.seq += 1;
        // While the writer cannot take the part, run its compression jobs: it may be
        // waiting for one before it takes parts again.
        let mut part = part;
        loop {
            match self.sender.try_send(part) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Disconnected(_)) => return Err(Stopped),
                Err(TrySendError::Full(back)) => {
                    part = back;
                    self.context.pool.run_job_or_wait(SEND_RETRY);
                }
            }
        }
    }
}
