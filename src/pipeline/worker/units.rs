//! The work of each kind of unit: hash a file, parse a piece of a plain file, inflate and
//! parse a gzip stream or a piece of a BGZF file. Each returns its terminal payload or an
//! error that names the file (and, for data errors, the true line number in it).

use std::fs::File;
use std::io::{BufReader, Read};
use std::ops::Range;
use std::path::Path;

use flate2::bufread::MultiGzDecoder;

use super::{Sink, UnitError};
use crate::defaults::MAX_LINE_BYTES;
use crate::error::Error;
use crate::input::bgzf::{self, Block, BlockError, BlockReader};
use crate::input::checksum::HashingReader;
use crate::input::discover::Input;
use crate::input::split::{count_lines_before, grow, piece_text_bound, read_piece};
use crate::memory::reserve;
use crate::parse::error::LineError;

/// Decompressed text is parsed in blocks of this size. Twice the line limit, so that a
/// block always holds a whole line of the longest length accepted plus its newline.
const TEXT_BLOCK: usize = 2 * MAX_LINE_BYTES;

/// Hashes a plain file; its pieces are parsed by other units.
pub(super) fn checksum_file(input: &Input, scratch: &mut Vec<u8>) -> Result<u128, UnitError> {
    let file = File::open(&input.path).map_err(|error| Error::io(&input.path, error))?;
    let mut reader = HashingReader::new(file);
    reserve(scratch, TEXT_BLOCK, "input text")?;
    grow(scratch, TEXT_BLOCK);
    let bytes = reader
        .finish(scratch)
        .map_err(|error| Error::io(&input.path, error))?;
    check_size(input, bytes)?;
    Ok(reader.digest())
}

pub(super) fn parse_piece(
    sink: &mut Sink<'_, '_>,
    input: &Input,
    start: u64,
    end: u64,
    text: &mut Vec<u8>,
) -> Result<(), UnitError> {
    let path = &input.path;
    let file = File::open(path).map_err(|error| Error::io(path, error))?;
    reserve(text, piece_text_bound(start, end), "input text")?;
    let (offset, range) = read_piece(&file, input.size, start, end, text).map_err(|error| {
        if error.kind() == std::io::ErrorKind::UnexpectedEof {
            changed_while_reading(path)
        } else {
            Error::io(path, error)
        }
    })?;
    let text = &text[range];
    let progress = sink.parse(text, true).map_err(|failure| {
        failure.into_error(path, || {
            count_lines_before(&file, offset).map_err(|error| Error::io(path, error))
        })
    })?;
    debug_assert_eq!(progress.0, text.len());
    sink.context.progress.add_bytes(end - start);
    Ok(())
}

pub(super) fn parse_gzip(
    sink: &mut Sink<'_, '_>,
    input: &Input,
    text: &mut Vec<u8>,
) -> Result<u128, UnitError> {
    let path = &input.path;
    let file = File::open(path).map_err(|error| Error::io(path, error))?;
    let mut decoder =
        MultiGzDecoder::new(BufReader::with_capacity(1 << 18, HashingReader::new(file)));
    reserve(text, TEXT_BLOCK, "input text")?;
    grow(text, TEXT_BLOCK);
    let mut filled = 0;
    let mut lines_before = 0u64;
    let mut compressed_seen = 0u64;
    loop {
        let mut at_end = false;
        while filled < text.len() {
            match decoder.read(&mut text[filled..]) {
                Ok(0) => {
                    at_end = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                Err(error) => {
                    let reader = decoder.get_ref().get_ref();
                    return Err(if reader.io_failed {
                        Error::io(path, error)
                    } else {
                        Error::BadInput {
                            path: path.clone(),
                            message: format!("gzip data is corrupt or truncated: {error}"),
                        }
                    }
                    .into());
                }
            }
        }
        let (consumed, lines) = sink
            .parse(&text[..filled], at_end)
            .map_err(|failure| failure.into_error(path, || Ok(lines_before)))?;
        lines_before += lines;
        text.copy_within(consumed..filled, 0);
        filled -= consumed;
        let seen = decoder.get_ref().get_ref().bytes();
        sink.context.progress.add_bytes(seen - compressed_seen);
        compressed_seen = seen;
        if at_end {
            break;
        }
        // What is left is the start of a line whose end has not been read yet; the block
        // has room for MAX_LINE_BYTES more, so the buffer never grows.
        if filled > MAX_LINE_BYTES {
            return Err(Error::Data {
                path: path.clone(),
                line: lines_before + 1,
                error: Box::new(LineError::too_long(&text[..filled])),
                layout: sink.read_as.clone(),
            }
            .into());
        }
    }
    let reader = decoder.get_ref().get_ref();
    check_size(input, reader.bytes())?;
    Ok(reader.digest())
}

pub(super) fn parse_bgzf_piece(
    sink: &mut Sink<'_, '_>,
    input: &Input,
    blocks: &[Block],
    piece: Range<usize>,
    text: &mut Vec<u8>,
) -> Result<(), UnitError> {
    let path = &input.path;
    let block_error = |error| match error {
        BlockError::Io(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => {
            changed_while_reading(path)
        }
        BlockError::Io(error) => Error::io(path, error),
        BlockError::Corrupt(offset) => Error::BadInput {
            path: path.clone(),
            message: format!(
                "the BGZF block at byte {offset} is corrupt (its deflate data, CRC-32 or size \
                 does not check out)"
            ),
        },
    };
    let file = File::open(path).map_err(|error| Error::io(path, error))?;
    let mut reader = BlockReader::default();
    reserve(text, bgzf::piece_text_bound(piece.len()), "input text")?;
    let range = reader
        .read_piece(&file, blocks, piece.clone(), text)
        .map_err(block_error)?;
    let (skipped, owned) = text.split_at(range.start);
    let owned = &owned[..range.len()];
    sink.parse(owned, true).map_err(|failure| {
        failure.into_error(path, || {
            let before = reader
                .count_lines(&file, &blocks[..piece.start])
                .map_err(block_error)?;
            Ok(before + memchr::memchr_iter(b'\n', skipped).count() as u64)
        })
    })?;
    let compressed: u64 = blocks[piece]
        .iter()
        .map(|block| u64::from(block.size))
        .sum();
    sink.context.progress.add_bytes(compressed);
    Ok(())
}

fn check_size(input: &Input, bytes: u64) -> Result<(), Error> {
    if bytes == input.size {
        Ok(())
    } else {
        Err(changed_while_reading(&input.path))
    }
}

/// Checks, once every byte of `input` has been read, that the file is the one the run
/// began with: same file, size and modification time. A caller still writing it (a
/// pipeline step that has not finished) grows it behind the reads, which stop at the
/// starting size; without this check the rows written after the start would be lost with
/// exit 0. One `stat` per file, off the parsing path.
pub(crate) fn check_unchanged(input: &Input) -> Result<(), Error> {
    let unchanged = input
        .is_unchanged()
        .map_err(|error| Error::io(&input.path, error))?;
    if unchanged {
        Ok(())
    } else {
        Err(changed_while_reading(&input.path))
    }
}

fn changed_while_reading(path: &Path) -> Error {
    Error::BadInput {
        path: path.to_path_buf(),
        message: "the file changed (its size or modification time) while it was being \
                  loaded; load it again once it is complete"
            .to_string(),
    }
}
