//! BGZF inputs read in parallel pieces.
//!
//! Each block gives its own compressed size in its header (see [`crate::bgzf`]), so the
//! blocks of a file can be listed by reading their headers, grouped into pieces, and each
//! piece inflated (libdeflate, which also checks each block's CRC-32 and size) and parsed on
//! its own core. Line ownership follows the same rule as plain files (see
//! [`crate::input::split`]), applied to the decompressed bytes: a piece starts after the first
//! newline at or after the byte before it and runs to the first newline at or after its
//! own last byte, inflating following blocks as needed. A file whose header chain is not
//! clean BGZF is read as an ordinary gzip stream instead.

use std::fs::File;
use std::ops::Range;
use std::os::unix::fs::FileExt;

use libdeflater::Decompressor;

use super::{EOF_BLOCK, HEADER_LEN, HEADER_START, MAX_BLOCK_DATA, TRAILER_LEN};
use crate::defaults::MAX_LINE_BYTES;

/// One gzip member of a BGZF file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BgzfBlock {
    pub offset: u64,
    pub size: u32,
}

/// Lists the blocks of a BGZF file of `size` bytes; `None` if the chain of headers is not
/// clean BGZF (then the file is read as a gzip stream, which reports any corruption).
pub fn blocks(file: &File, size: u64) -> std::io::Result<Option<Vec<BgzfBlock>>> {
    let mut blocks = Vec::new();
    let mut offset = 0u64;
    let mut header = [0u8; HEADER_LEN];
    while offset < size {
        if size - offset < (HEADER_LEN + TRAILER_LEN) as u64 {
            return Ok(None);
        }
        file.read_exact_at(&mut header, offset)?;
        // ID1 ID2 CM FLG(FEXTRA), then XLEN=6, SI1='B' SI2='C' SLEN=2, as the writer puts
        // them; MTIME, XFL and OS between them vary with the tool that wrote the file.
        let clean = header[..4] == HEADER_START[..4] && header[10..16] == HEADER_START[10..16];
        if !clean {
            return Ok(None);
        }
        let block_size = u64::from(u16::from_le_bytes([header[16], header[17]])) + 1;
        if block_size < (HEADER_LEN + TRAILER_LEN) as u64 || offset + block_size > size {
            return Ok(None);
        }
        blocks.push(BgzfBlock {
            offset,
            size: block_size as u32,
        });
        offset += block_size;
    }
    Ok(Some(blocks))
}

/// Whether the last of `blocks` is the end-of-file block. A file cut at a block boundary
/// lists as clean BGZF but lacks it: htslib warns, txt2h5 refuses the file, since the rows
/// after the cut would otherwise be lost without a word.
pub fn ends_with_eof_block(file: &File, blocks: &[BgzfBlock]) -> std::io::Result<bool> {
    let Some(last) = blocks
        .last()
        .filter(|last| last.size as usize == EOF_BLOCK.len())
    else {
        return Ok(false);
    };
    let mut bytes = [0u8; EOF_BLOCK.len()];
    file.read_exact_at(&mut bytes, last.offset)?;
    Ok(bytes == EOF_BLOCK)
}

/// Groups consecutive blocks into pieces of at least `target` compressed bytes.
pub fn group(blocks: &[BgzfBlock], target: u64) -> Vec<Range<usize>> {
    let mut pieces = Vec::new();
    let (mut start, mut bytes) = (0, 0u64);
    for (index, block) in blocks.iter().enumerate() {
        bytes += u64::from(block.size);
        if bytes >= target {
            pieces.push(start..index + 1);
            (start, bytes) = (index + 1, 0);
        }
    }
    if start < blocks.len() || pieces.is_empty() {
        pieces.push(start..blocks.len());
    }
    pieces
}

/// The most bytes [`BlockReader::read_piece`] puts in its text for a piece of `blocks`
/// blocks: their data, and the longest line tail it may follow, plus the block that
/// passes the limit. A caller reserves this much once (fallibly), so that inflating never
/// grows the buffer.
pub fn piece_text_bound(blocks: usize) -> usize {
    (blocks + 1) * MAX_BLOCK_DATA + MAX_LINE_BYTES + 1
}

/// Why a block could not be read.
#[derive(Debug)]
pub enum BgzfError {
    Io(std::io::Error),
    /// The block at this offset does not inflate, or fails its CRC-32 or size check.
    Corrupt(u64),
}

/// Inflates blocks, reusing its buffers.
pub struct BlockReader {
    decompressor: Decompressor,
    compressed: Vec<u8>,
}

impl Default for BlockReader {
    fn default() -> Self {
        Self {
            decompressor: Decompressor::new(),
            compressed: Vec::new(),
        }
    }
}

impl BlockReader {
    /// Appends the data of `block` to `out`.
    pub fn inflate_into(
        &mut self,
        file: &File,
        block: BgzfBlock,
        out: &mut Vec<u8>,
    ) -> Result<(), BgzfError> {
        self.compressed.resize(block.size as usize, 0);
        file.read_exact_at(&mut self.compressed, block.offset)
            .map_err(BgzfError::Io)?;
        let trailer = &self.compressed[self.compressed.len() - 4..];
        let data_size = u32::from_le_bytes(trailer.try_into().expect("4 bytes")) as usize;
        if data_size > MAX_BLOCK_DATA {
            return Err(BgzfError::Corrupt(block.offset));
        }
        let old = out.len();
        out.resize(old + data_size, 0);
        match self
            .decompressor
            .gzip_decompress(&self.compressed, &mut out[old..])
        {
            Ok(written) if written == data_size => Ok(()),
            _ => {
                out.truncate(old);
                Err(BgzfError::Corrupt(block.offset))
            }
        }
    }

    /// Reads the lines the piece `pieces` (block indices) owns into `text`; returns their
    /// range in `text`.
    pub fn read_piece(
        &mut self,
        file: &File,
        blocks: &[BgzfBlock],
        piece: Range<usize>,
        text: &mut Vec<u8>,
    ) -> Result<Range<usize>, BgzfError> {
        text.clear();
        let after_newline = match piece.start {
            0 => true,
            start => self
                .last_byte_before(file, &blocks[..start])?
                .is_none_or(|byte| byte == b'\n'),
        };
        for &block in &blocks[piece.clone()] {
            self.inflate_into(file, block, text)?;
        }
        let begin = if after_newline {
            0
        } else {
            memchr::memchr(b'\n', text).map_or(text.len(), |newline| newline + 1)
        };
        if begin == text.len() {
            return Ok(0..0);
        }
        // The piece ends after the first newline at or after its own last byte, looked for
        // at most MAX_LINE_BYTES + 1 bytes further: a line still open there is over the
        // limit, and the parser refuses the cut-off line that ends the piece. So a file
        // without newlines costs one piece plus the limit, not its whole text.
        let piece_len = text.len();
        let tail_limit = piece_len + MAX_LINE_BYTES + 1;
        let mut search_from = piece_len - 1;
        let mut next = piece.end;
        loop {
            if let Some(newline) = memchr::memchr(b'\n', &text[search_from..]) {
                text.truncate(search_from + newline + 1);
                break;
            }
            if text.len() >= tail_limit {
                text.truncate(tail_limit);
                break;
            }
            if next == blocks.len() {
                break;
            }
            search_from = text.len();
            self.inflate_into(file, blocks[next], text)?;
            next += 1;
        }
        Ok(begin..text.len())
    }

    /// The last data byte of `blocks` (skipping empty blocks), if any.
    fn last_byte_before(
        &mut self,
        file: &File,
        blocks: &[BgzfBlock],
    ) -> Result<Option<u8>, BgzfError> {
        let mut scratch = Vec::new();
        for &block in blocks.iter().rev() {
            scratch.clear();
            self.inflate_into(file, block, &mut scratch)?;
            if let Some(&byte) = scratch.last() {
                return Ok(Some(byte));
            }
        }
        Ok(None)
    }

    /// Newlines in the data of `blocks` (error path: the line number of a failure).
    pub fn count_lines(&mut self, file: &File, blocks: &[BgzfBlock]) -> Result<u64, BgzfError> {
        let mut scratch = Vec::new();
        let mut lines = 0;
        for &block in blocks {
            scratch.clear();
            self.inflate_into(file, block, &mut scratch)?;
            lines += memchr::memchr_iter(b'\n', &scratch).count() as u64;
        }
        Ok(lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::file_with;
    use std::io::Write;

    /// bgzip's format, as in the integration tests' generator.
    fn bgzf(data: &[u8], block: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for chunk in data.chunks(block).chain(std::iter::once(&[][..])) {
            let mut deflate =
                flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(6));
            deflate.write_all(chunk).unwrap();
            let compressed = deflate.finish().unwrap();
            out.extend_from_slice(&[31, 139, 8, 4, 0, 0, 0, 0, 0, 255, 6, 0, b'B', b'C', 2, 0]);
            out.extend_from_slice(&((18 + compressed.len() + 8 - 1) as u16).to_le_bytes());
            out.extend_from_slice(&compressed);
            out.extend_from_slice(&libdeflater::crc32(chunk).to_le_bytes());
            out.extend_from_slice(&(chunk.len() as u32).to_le_bytes());
        }
        out
    }

    #[test]
    fn pieces_partition_the_text_for_every_grouping() {
        let texts: [&[u8]; 4] = [
            b"chr1 1 2 3 4\nchr2 5 6 7 8\n\n# c\nchr3 9 9 9 9",
            b"a very long line without any newline for several blocks",
            b"\n\n\nx\n",
            b"",
        ];
        for text in texts {
            for block in [1, 3, 7, 64] {
                let compressed = bgzf(text, block);
                let (_temp, file) = file_with(&compressed);
                let blocks = blocks(&file, compressed.len() as u64).unwrap().unwrap();
                for target in [1, 30, 100, 10_000] {
                    let mut reader = BlockReader::default();
                    let mut joined = Vec::new();
                    let mut buffer = Vec::new();
                    for piece in group(&blocks, target) {
                        let range = reader
                            .read_piece(&file, &blocks, piece, &mut buffer)
                            .unwrap();
                        joined.extend_from_slice(&buffer[range]);
                    }
                    assert_eq!(joined, text, "block {block}, target {target}");
                }
            }
        }
    }

    /// bgzip writes the end-of-file block; a file cut at any block boundary, or one whose
    /// writer left the block out, does not end with it.
    #[test]
    fn the_end_of_file_block_is_found_only_where_it_is() {
        let whole = bgzf(b"chr1 1 2 3 4\nchr2 1 2 3 4\n", 10);
        assert!(whole.ends_with(&EOF_BLOCK));
        let (_temp, file) = file_with(&whole);
        let list = blocks(&file, whole.len() as u64).unwrap().unwrap();
        assert!(ends_with_eof_block(&file, &list).unwrap());
        for (cut, block) in list[..list.len() - 1].iter().enumerate() {
            let size = block.offset + u64::from(block.size);
            let (_temp, file) = file_with(&whole[..size as usize]);
            let cut_list = blocks(&file, size).unwrap().unwrap();
            assert!(
                !ends_with_eof_block(&file, &cut_list).unwrap(),
                "cut after block {cut}"
            );
        }
        assert!(!ends_with_eof_block(&file, &[]).unwrap());
    }

    #[test]
    fn not_bgzf_and_corrupt_blocks() {
        let plain_gzip = {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
            encoder.write_all(b"chr1 1 2 3 4\n").unwrap();
            encoder.finish().unwrap()
        };
        let (_temp, file) = file_with(&plain_gzip);
        assert_eq!(blocks(&file, plain_gzip.len() as u64).unwrap(), None);
        let mut damaged = bgzf(b"chr1 1 2 3 4\nchr2 1 2 3 4\n", 13);
        damaged[30] ^= 0xff;
        let (_temp, file) = file_with(&damaged);
        let list = blocks(&file, damaged.len() as u64).unwrap().unwrap();
        let result =
            BlockReader::default().read_piece(&file, &list, 0..list.len(), &mut Vec::new());
        assert!(matches!(result, Err(BgzfError::Corrupt(0))), "{result:?}");
    }
}
