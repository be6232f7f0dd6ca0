//! Text compressed into BGZF blocks (`export -o NAME.gz`).
//!
//! The blocks of a chunk's text are compressed on the pool with the rest of the chunk's
//! work, each on its own, so the file is valid gzip for every reader and one that
//! `txt2h5 load` reads in parallel (see [`super::reader`]).

use libdeflater::{CompressionLvl, Compressor};

use super::{HEADER_LEN, HEADER_START, TRAILER_LEN};

/// Text bytes per block, as htslib writes them (`BGZF_BLOCK_SIZE`).
pub const BLOCK_TEXT: usize = 0xff00;

/// Deflate level of BGZF output: gzip's and bgzip's default.
pub const LEVEL: i32 = 6;

/// A compressor at [`LEVEL`], reused for every block a thread writes.
pub fn compressor() -> Compressor {
    Compressor::new(CompressionLvl::new(LEVEL).expect("a valid level"))
}

/// Compresses `text` as BGZF blocks appended to `out`. The file's last block, the empty
/// [`super::EOF_BLOCK`], is the caller's to write once, after everything else.
pub fn compress(compressor: &mut Compressor, text: &[u8], out: &mut Vec<u8>) {
    for block in text.chunks(BLOCK_TEXT) {
        let start = out.len();
        out.extend_from_slice(&HEADER_START);
        out.extend_from_slice(&[0, 0]);
        let header = out.len();
        out.resize(header + compressor.deflate_compress_bound(block.len()), 0);
        let written = compressor
            .deflate_compress(block, &mut out[header..])
            .expect("the buffer holds the bound");
        out.truncate(header + written);
        let mut crc = libdeflater::Crc::new();
        crc.update(block);
        out.extend_from_slice(&crc.sum().to_le_bytes());
        out.extend_from_slice(&(block.len() as u32).to_le_bytes());
        // BSIZE: the block's size less one. A block of 0xff00 text bytes stays under
        // 64 KiB even stored (deflate adds 5 bytes per 64 KiB stored block).
        debug_assert!(out.len() - start >= HEADER_LEN + TRAILER_LEN);
        let size = u16::try_from(out.len() - start - 1).expect("a BGZF block is under 64 KiB");
        out[start + 16..start + HEADER_LEN].copy_from_slice(&size.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bgzf::EOF_BLOCK;
    use std::io::Read;

    fn text(lines: u32) -> Vec<u8> {
        (0..lines)
            .flat_map(|i| format!("chr1\t{i}\t{}\n", i % 101).into_bytes())
            .collect()
    }

    #[test]
    fn blocks_are_one_gzip_stream() {
        let text = text(300_000);
        let mut out = Vec::new();
        compress(&mut compressor(), &text, &mut out);
        out.extend_from_slice(&EOF_BLOCK);
        let mut back = Vec::new();
        flate2::read::MultiGzDecoder::new(&out[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, text);
        // Every block says its own size, as BGZF readers need.
        let (mut at, mut blocks) = (0, 0);
        while at < out.len() {
            assert_eq!(&out[at + 12..at + 14], b"BC");
            at += u16::from_le_bytes([out[at + 16], out[at + 17]]) as usize + 1;
            blocks += 1;
        }
        assert_eq!(at, out.len());
        assert_eq!(blocks, text.len().div_ceil(BLOCK_TEXT) + 1);
    }

    /// The two sides agree: what the writer writes, the reader lists as clean BGZF with
    /// its end-of-file block, and inflates back to the text, in pieces of any grouping.
    #[test]
    fn the_reader_reads_what_the_writer_writes() {
        use crate::bgzf::reader::{blocks, ends_with_eof_block, group, BlockReader};
        let text = text(40_000);
        let mut out = Vec::new();
        compress(&mut compressor(), &text, &mut out);
        out.extend_from_slice(&EOF_BLOCK);
        let (_temp, file) = crate::test_support::file_with(&out);
        let list = blocks(&file, out.len() as u64)
            .unwrap()
            .expect("clean BGZF");
        assert!(ends_with_eof_block(&file, &list).unwrap());
        for target in [1, 20_000, 1 << 30] {
            let mut reader = BlockReader::default();
            let (mut joined, mut buffer) = (Vec::new(), Vec::new());
            for piece in group(&list, target) {
                let range = reader.read_piece(&file, &list, piece, &mut buffer).unwrap();
                joined.extend_from_slice(&buffer[range]);
            }
            assert_eq!(joined, text, "target {target}");
        }
    }
}
