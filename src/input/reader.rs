//! A unit's text, pulled by the worker that parses it: a piece of a plain file, a whole
//! gzip stream, or a piece of a BGZF file, each behind one [`TextReader`].
//!
//! The worker owns the buffer ([`TextBuffer`], reused for every unit it runs, as rust-csv's
//! `read_byte_record(&mut record)` reuses the caller's record), asks the reader to fill it,
//! parses the whole lines it is given, marks them consumed, and asks again until the reader
//! says the text has ended. The reader never calls back into the parser: how a unit's bytes
//! are found, inflated and checked stays here, what they mean stays with the worker. A piece
//! (plain or BGZF) arrives in one fill, its bound reserved once (so a reused buffer never
//! grows while it is read); a gzip stream, which can only be inflated from its start,
//! arrives in blocks of [`TEXT_BLOCK`] bytes, the start of a line not yet complete carried
//! to the front of the next.
//!
//! Every error names the file. The line number of a data error is the worker's to count,
//! from the lines it parsed and [`TextReader::lines_before`] (the lines of the file ahead of
//! the reader's text, counted again only on that error path).

use std::fs::File;
use std::io::{BufReader, Read};
use std::ops::Range;

use flate2::bufread::MultiGzDecoder;

use crate::bgzf::reader::{piece_text_bound as bgzf_text_bound, BgzfBlock, BgzfError, BlockReader};
use crate::defaults::MAX_LINE_BYTES;
use crate::error::{Error, Result};
use crate::input::checksum::HashingReader;
use crate::input::discover::{changed_while_reading, check_size_read, Input};
use crate::input::split::{count_lines_before, grow, piece_text_bound, read_piece};
use crate::memory::reserve;

/// Decompressed text is given in blocks of this size. Twice the line limit, so that a
/// block always holds a whole line of the longest length accepted plus its newline, after
/// the start of a line carried over from the block before.
pub const TEXT_BLOCK: usize = 2 * MAX_LINE_BYTES;

/// The bytes a worker reads text into, reused for every unit it runs: the text given and
/// not yet consumed is `bytes[start..end]`.
#[derive(Debug, Default)]
pub struct TextBuffer {
    bytes: Vec<u8>,
    start: usize,
    end: usize,
}

impl TextBuffer {
    /// The text given and not yet consumed.
    pub fn text(&self) -> &[u8] {
        &self.bytes[self.start..self.end]
    }

    /// Marks the first `bytes` of [`TextBuffer::text`] consumed.
    pub fn consume(&mut self, bytes: usize) {
        assert!(
            bytes <= self.end - self.start,
            "consumed more text than was given"
        );
        self.start += bytes;
    }

    /// The whole buffer, at least `len` bytes long, as scratch space; no text is left.
    pub fn scratch(&mut self, len: usize) -> Result<&mut [u8]> {
        self.start = 0;
        self.end = 0;
        reserve(&mut self.bytes, len, "input text")?;
        grow(&mut self.bytes, len);
        Ok(&mut self.bytes)
    }

    /// Moves the text not yet consumed to the front; returns its length.
    fn compact(&mut self) -> usize {
        self.bytes.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
        self.end
    }
}

/// Where a unit's text comes from.
pub enum TextReader<'a> {
    /// The lines a nominal byte range of a plain file owns ([`crate::input::split`]).
    Piece(PieceReader<'a>),
    /// A whole gzip file, single- or multi-member, hashed as it is read. Boxed: the
    /// inflate state is large, and one box per file is nothing beside its text.
    Gzip(Box<GzipReader<'a>>),
    /// The lines a run of BGZF blocks owns ([`crate::bgzf::reader`]).
    Bgzf(BgzfPieceReader<'a>),
}

impl<'a> TextReader<'a> {
    /// The lines the nominal range `[start, end)` of the plain file `input` owns.
    pub fn piece(input: &'a Input, start: u64, end: u64) -> Result<Self> {
        Ok(TextReader::Piece(PieceReader {
            file: open(input)?,
            input,
            start,
            end,
            offset: None,
        }))
    }

    /// The whole text of the gzip file `input`.
    pub fn gzip(input: &'a Input) -> Result<Self> {
        let file = open(input)?;
        Ok(TextReader::Gzip(Box::new(GzipReader {
            input,
            decoder: MultiGzDecoder::new(BufReader::with_capacity(
                1 << 18,
                HashingReader::new(file),
            )),
            started: false,
            ended: false,
        })))
    }

    /// The lines the blocks `piece` of the BGZF file `input` (whose blocks are `blocks`)
    /// own.
    pub fn bgzf_piece(
        input: &'a Input,
        blocks: &'a [BgzfBlock],
        piece: Range<usize>,
    ) -> Result<Self> {
        Ok(TextReader::Bgzf(BgzfPieceReader {
            file: open(input)?,
            input,
            blocks,
            piece,
            reader: BlockReader::default(),
            lead_newlines: None,
        }))
    }

    /// Gives more text: keeps what `buffer` holds unconsumed at the front and adds what
    /// follows it. Returns `true` when the text has ended: the last fill, after which the
    /// caller parses what is left, a last line without a newline included. While it
    /// returns `false`, whole lines are to be consumed, and what is left is the start of a
    /// line no longer than [`MAX_LINE_BYTES`] (the next fill has room for its end).
    pub fn fill(&mut self, buffer: &mut TextBuffer) -> Result<bool> {
        match self {
            TextReader::Piece(reader) => reader.fill(buffer),
            TextReader::Gzip(reader) => reader.fill(buffer),
            TextReader::Bgzf(reader) => reader.fill(buffer),
        }
        .map(|()| self.ended())
    }

    /// Whether the last fill gave the end of the text.
    fn ended(&self) -> bool {
        match self {
            TextReader::Piece(reader) => reader.offset.is_some(),
            TextReader::Gzip(reader) => reader.ended,
            TextReader::Bgzf(reader) => reader.lead_newlines.is_some(),
        }
    }

    /// The lines of the file ahead of the first byte of text this reader gave: the
    /// 0-based line number of that byte. Reads the file again for a piece: only for the
    /// error path.
    pub fn lines_before(&mut self) -> Result<u64> {
        match self {
            TextReader::Piece(reader) => {
                let offset = reader.offset.unwrap_or(reader.start);
                count_lines_before(&reader.file, offset)
                    .map_err(|error| Error::io(&reader.input.path, error))
            }
            TextReader::Gzip(_) => Ok(0),
            TextReader::Bgzf(reader) => {
                let before = &reader.blocks[..reader.piece.start];
                let lines = reader
                    .reader
                    .count_lines(&reader.file, before)
                    .map_err(|error| bgzf_error(reader.input, error))?;
                Ok(lines + reader.lead_newlines.unwrap_or(0))
            }
        }
    }

    /// Bytes of the file as stored that the text given so far accounts for, for progress.
    pub fn bytes_read(&self) -> u64 {
        match self {
            TextReader::Piece(reader) if reader.offset.is_some() => reader.end - reader.start,
            TextReader::Gzip(reader) => reader.decoder.get_ref().get_ref().bytes(),
            TextReader::Bgzf(reader) if reader.lead_newlines.is_some() => reader.blocks
                [reader.piece.clone()]
            .iter()
            .map(|block| u64::from(block.size))
            .sum(),
            _ => 0,
        }
    }

    /// After the last fill: the checksum of the file when this reader read all of its
    /// bytes (a gzip stream), once their count is checked against the file's size.
    pub fn finish(self) -> Result<Option<u128>> {
        match self {
            TextReader::Gzip(reader) => {
                let hashed = reader.decoder.get_ref().get_ref();
                check_size_read(reader.input, hashed.bytes())?;
                Ok(Some(hashed.digest()))
            }
            TextReader::Piece(_) | TextReader::Bgzf(_) => Ok(None),
        }
    }
}

fn open(input: &Input) -> Result<File> {
    File::open(&input.path).map_err(|error| Error::io(&input.path, error))
}

/// A piece of a plain file, read in one fill.
pub struct PieceReader<'a> {
    input: &'a Input,
    file: File,
    start: u64,
    end: u64,
    /// Where the piece's first line starts in the file, once read.
    offset: Option<u64>,
}

impl PieceReader<'_> {
    fn fill(&mut self, buffer: &mut TextBuffer) -> Result<()> {
        if self.offset.is_some() {
            return Ok(());
        }
        let path = &self.input.path;
        reserve(
            &mut buffer.bytes,
            piece_text_bound(self.start, self.end),
            "input text",
        )?;
        let (offset, range) = read_piece(
            &self.file,
            self.input.size,
            self.start,
            self.end,
            &mut buffer.bytes,
        )
        .map_err(|error| {
            if error.kind() == std::io::ErrorKind::UnexpectedEof {
                changed_while_reading(path)
            } else {
                Error::io(path, error)
            }
        })?;
        (buffer.start, buffer.end) = (range.start, range.end);
        self.offset = Some(offset);
        Ok(())
    }
}

/// A gzip stream, inflated block by block and hashed as its bytes are read.
pub struct GzipReader<'a> {
    input: &'a Input,
    decoder: MultiGzDecoder<BufReader<HashingReader<File>>>,
    /// Whether a fill has run: the first starts from an empty buffer, whatever an earlier
    /// unit left in it.
    started: bool,
    ended: bool,
}

impl GzipReader<'_> {
    fn fill(&mut self, buffer: &mut TextBuffer) -> Result<()> {
        if self.ended {
            return Ok(());
        }
        if !self.started {
            (buffer.start, buffer.end) = (0, 0);
            self.started = true;
        }
        let mut filled = buffer.compact();
        if buffer.bytes.len() < TEXT_BLOCK {
            reserve(&mut buffer.bytes, TEXT_BLOCK, "input text")?;
            grow(&mut buffer.bytes, TEXT_BLOCK);
        }
        while filled < buffer.bytes.len() {
            match self.decoder.read(&mut buffer.bytes[filled..]) {
                Ok(0) => {
                    self.ended = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                Err(error) => {
                    let path = &self.input.path;
                    return Err(if self.decoder.get_ref().get_ref().io_failed {
                        Error::io(path, error)
                    } else {
                        Error::BadInput {
                            path: path.clone(),
                            message: format!("gzip data is corrupt or truncated: {error}"),
                        }
                    });
                }
            }
        }
        buffer.end = filled;
        Ok(())
    }
}

/// A piece of a BGZF file, its blocks inflated in one fill.
pub struct BgzfPieceReader<'a> {
    input: &'a Input,
    file: File,
    blocks: &'a [BgzfBlock],
    piece: Range<usize>,
    reader: BlockReader,
    /// Newlines in the text inflated ahead of the piece's first line (0 or 1), once read.
    lead_newlines: Option<u64>,
}

impl BgzfPieceReader<'_> {
    fn fill(&mut self, buffer: &mut TextBuffer) -> Result<()> {
        if self.lead_newlines.is_some() {
            return Ok(());
        }
        reserve(
            &mut buffer.bytes,
            bgzf_text_bound(self.piece.len()),
            "input text",
        )?;
        let range = self
            .reader
            .read_piece(
                &self.file,
                self.blocks,
                self.piece.clone(),
                &mut buffer.bytes,
            )
            .map_err(|error| bgzf_error(self.input, error))?;
        let lead = memchr::memchr_iter(b'\n', &buffer.bytes[..range.start]).count();
        (buffer.start, buffer.end) = (range.start, range.end);
        self.lead_newlines = Some(lead as u64);
        Ok(())
    }
}

fn bgzf_error(input: &Input, error: BgzfError) -> Error {
    let path = &input.path;
    match error {
        BgzfError::Io(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => {
            changed_while_reading(path)
        }
        BgzfError::Io(error) => Error::io(path, error),
        BgzfError::Corrupt(offset) => Error::BadInput {
            path: path.clone(),
            message: format!(
                "the BGZF block at byte {offset} is corrupt (its deflate data, CRC-32 or size \
                 does not check out)"
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bgzf::reader::{blocks, group};
    use crate::input::discover::discover;
    use std::io::Write;

    /// A file holding `bytes`, as discovery sees it.
    fn input_with(bytes: &[u8]) -> (tempfile::TempDir, Input) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("calls.txt");
        std::fs::write(&path, bytes).unwrap();
        let input = discover(&[path], &Default::default()).unwrap().remove(0);
        (dir, input)
    }

    /// What a worker does, with a parser that takes whole lines only (and the rest at the
    /// end): the text the reader gives, and the number of fills it took.
    fn pull(reader: &mut TextReader<'_>, buffer: &mut TextBuffer) -> (Vec<u8>, usize) {
        let (mut text, mut fills) = (Vec::new(), 0);
        loop {
            let at_end = reader.fill(buffer).unwrap();
            fills += 1;
            let given = buffer.text();
            let take = if at_end {
                given.len()
            } else {
                memchr::memrchr(b'\n', given).map_or(0, |newline| newline + 1)
            };
            text.extend_from_slice(&given[..take]);
            buffer.consume(take);
            if at_end {
                return (text, fills);
            }
            assert!(buffer.text().len() <= MAX_LINE_BYTES);
        }
    }

    fn gzip(text: &[u8], members: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for part in text.chunks(text.len().div_ceil(members).max(1)) {
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), Default::default());
            encoder.write_all(part).unwrap();
            out.extend(encoder.finish().unwrap());
        }
        out
    }

    fn lines(count: usize) -> Vec<u8> {
        (0..count)
            .flat_map(|i| format!("chr{} {i} 50.0 {} {}\n", i % 3, i % 7, i % 5).into_bytes())
            .collect()
    }

    #[test]
    fn pieces_of_a_plain_file_give_its_text_once_with_their_line_numbers() {
        let text = b"chr1 1 2 3 4\nchr1 2 2 3 4\n\n# note\nchr2 9 9 9 9";
        let (_dir, input) = input_with(text);
        let mut buffer = TextBuffer::default();
        for piece_bytes in [1, 5, 13, 100] {
            let mut joined = Vec::new();
            for (start, end) in crate::input::split::nominal_pieces(input.size, piece_bytes) {
                let mut reader = TextReader::piece(&input, start, end).unwrap();
                let (piece, fills) = pull(&mut reader, &mut buffer);
                assert_eq!(fills, 1, "a piece comes in one fill");
                if !piece.is_empty() {
                    let before = joined.iter().filter(|&&byte| byte == b'\n').count();
                    assert_eq!(reader.lines_before().unwrap(), before as u64);
                }
                assert_eq!(reader.bytes_read(), end - start);
                assert_eq!(reader.finish().unwrap(), None);
                joined.extend(piece);
            }
            assert_eq!(joined, text, "piece_bytes {piece_bytes}");
        }
    }

    #[test]
    fn a_gzip_stream_comes_in_blocks_that_end_at_lines_and_is_hashed() {
        let text = lines(300_000);
        assert!(text.len() > 2 * TEXT_BLOCK);
        let compressed = gzip(&text, 3);
        let (_dir, input) = input_with(&compressed);
        // A buffer left with text by an earlier unit: none of it may show.
        let mut buffer = TextBuffer::default();
        TextReader::piece(&input, 0, 10)
            .unwrap()
            .fill(&mut buffer)
            .unwrap();
        assert!(!buffer.text().is_empty());
        let mut reader = TextReader::gzip(&input).unwrap();
        let (given, fills) = pull(&mut reader, &mut buffer);
        assert_eq!(given, text);
        assert!(fills > 2, "{fills} fills");
        assert_eq!(reader.lines_before().unwrap(), 0);
        assert_eq!(reader.bytes_read(), compressed.len() as u64);
        assert_eq!(
            reader.finish().unwrap(),
            Some(xxhash_rust::xxh3::xxh3_128(&compressed))
        );
    }

    #[test]
    fn a_truncated_gzip_stream_is_bad_input_naming_the_file() {
        let compressed = gzip(&lines(1000), 1);
        let (_dir, input) = input_with(&compressed[..compressed.len() - 20]);
        let mut reader = TextReader::gzip(&input).unwrap();
        let mut buffer = TextBuffer::default();
        let error = loop {
            match reader.fill(&mut buffer) {
                Ok(false) => {
                    let whole = buffer.text().len();
                    buffer.consume(whole);
                }
                Ok(true) => panic!("a truncated stream ended cleanly"),
                Err(error) => break error,
            }
        };
        let message = error.to_string();
        assert!(message.contains("corrupt or truncated"), "{message}");
        assert!(message.contains("calls.txt"), "{message}");
    }

    #[test]
    fn bgzf_pieces_give_the_text_once_with_their_line_numbers() {
        let text = lines(3000);
        let mut compressed = Vec::new();
        // Small blocks, so that pieces start inside lines.
        for part in text.chunks(1000) {
            let mut compressor = crate::bgzf::writer::compressor();
            crate::bgzf::writer::compress(&mut compressor, part, &mut compressed);
        }
        compressed.extend_from_slice(&crate::bgzf::EOF_BLOCK);
        let (_dir, input) = input_with(&compressed);
        let file = File::open(&input.path).unwrap();
        let list = blocks(&file, input.size).unwrap().unwrap();
        let mut buffer = TextBuffer::default();
        let mut joined = Vec::new();
        for piece in group(&list, 2000) {
            let stored: u64 = list[piece.clone()].iter().map(|b| u64::from(b.size)).sum();
            let mut reader = TextReader::bgzf_piece(&input, &list, piece).unwrap();
            let (given, _) = pull(&mut reader, &mut buffer);
            if !given.is_empty() {
                let before = joined.iter().filter(|&&byte| byte == b'\n').count();
                assert_eq!(reader.lines_before().unwrap(), before as u64);
            }
            assert_eq!(reader.bytes_read(), stored);
            joined.extend(given);
        }
        assert_eq!(joined, text);
    }

    #[test]
    fn a_corrupt_bgzf_block_is_bad_input_naming_its_offset() {
        let mut compressed = Vec::new();
        crate::bgzf::writer::compress(
            &mut crate::bgzf::writer::compressor(),
            &lines(100),
            &mut compressed,
        );
        compressed.extend_from_slice(&crate::bgzf::EOF_BLOCK);
        let (_dir, good) = input_with(&compressed);
        let list = blocks(&File::open(&good.path).unwrap(), good.size)
            .unwrap()
            .unwrap();
        compressed[40] ^= 0xff;
        let (_dir, input) = input_with(&compressed);
        let mut reader = TextReader::bgzf_piece(&input, &list, 0..list.len()).unwrap();
        let error = reader.fill(&mut TextBuffer::default()).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("BGZF block at byte 0"), "{message}");
    }

    #[test]
    fn a_file_shorter_than_when_the_run_began_is_a_changed_file() {
        let (_dir, mut input) = input_with(b"chr1 1 2 3 4\n");
        input.size += 100;
        let error = TextReader::piece(&input, 0, input.size)
            .unwrap()
            .fill(&mut TextBuffer::default())
            .unwrap_err();
        assert!(error.to_string().contains("changed"), "{error}");
    }
}
