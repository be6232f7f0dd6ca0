//! Where exported text goes: standard output, or a file that appears whole or not at all;
//! BGZF-compressed for a `.gz` name.
//!
//! BGZF (the blocked gzip of bgzip and tabix) is a series of gzip members of at most 64 KiB
//! each, so the blocks are compressed on the pool with the rest of a chunk's work, and the
//! file is valid gzip for every reader, and one that `txt2h5 load` reads in parallel.

use std::io::Write;
use std::path::{Path, PathBuf};

use libdeflater::{CompressionLvl, Compressor};

use crate::error::{Error, Result};
use crate::output::pending::PendingOutput;

/// Text bytes per BGZF block, as htslib writes them (`BGZF_BLOCK_SIZE`).
const BGZF_BLOCK_TEXT: usize = 0xff00;

/// The empty block that ends a BGZF file (SAM/BAM specification, 4.1.2).
const BGZF_EOF: [u8; 28] = [
    0x1f, 0x8b, 0x08, 0x04, 0, 0, 0, 0, 0, 0xff, 0x06, 0, 0x42, 0x43, 0x02, 0, 0x1b, 0, 0x03, 0, 0,
    0, 0, 0, 0, 0, 0, 0,
];

/// Deflate level of `.gz` exports: gzip's and bgzip's default.
pub const GZIP_LEVEL: i32 = 6;

/// Compresses `text` as BGZF blocks appended to `out`.
pub fn bgzf_compress(compressor: &mut Compressor, text: &[u8], out: &mut Vec<u8>) {
    for block in text.chunks(BGZF_BLOCK_TEXT) {
        let start = out.len();
        out.extend_from_slice(&[
            0x1f, 0x8b, 0x08, 0x04, 0, 0, 0, 0, 0, 0xff, 0x06, 0, 0x42, 0x43, 0x02, 0, 0, 0,
        ]);
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
        let size = u16::try_from(out.len() - start - 1).expect("a BGZF block is under 64 KiB");
        out[start + 16..start + 18].copy_from_slice(&size.to_le_bytes());
    }
}

/// A compressor at the export level.
pub fn compressor() -> Compressor {
    Compressor::new(CompressionLvl::new(GZIP_LEVEL).expect("a valid level"))
}

/// Whether `path` names a gzip file.
pub fn wants_gzip(path: &Path) -> bool {
    path.extension().is_some_and(|extension| extension == "gz")
}

/// The open destination.
pub enum Sink {
    Stdout(std::io::StdoutLock<'static>),
    File {
        pending: PendingOutput,
        file: std::io::BufWriter<std::fs::File>,
        target: PathBuf,
        bgzf: bool,
    },
}

/// What a write did.
pub enum Written {
    Ok,
    /// Standard output was closed by its reader (`| head`): stop quietly.
    Closed,
}

impl Sink {
    /// Standard output (`None`), or a new file at `target` (replaced only with `force`).
    pub fn open(target: Option<&Path>, force: bool) -> Result<Self> {
        match target {
            None => Ok(Sink::Stdout(std::io::stdout().lock())),
            Some(path) => {
                let pending = PendingOutput::new(path, force)?;
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .truncate(true)
                    .open(pending.path())
                    .map_err(|error| Error::io(path, error))?;
                Ok(Sink::File {
                    pending,
                    file: std::io::BufWriter::with_capacity(1 << 20, file),
                    target: path.to_path_buf(),
                    bgzf: wants_gzip(path),
                })
            }
        }
    }

    /// Whether text must be BGZF-compressed before [`Sink::write`].
    pub fn bgzf(&self) -> bool {
        matches!(self, Sink::File { bgzf: true, .. })
    }

    pub fn write(&mut self, bytes: &[u8]) -> Result<Written> {
        match self {
            Sink::Stdout(stdout) => match stdout.write_all(bytes) {
                Ok(()) => Ok(Written::Ok),
                Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(Written::Closed),
                Err(error) => Err(Error::io("standard output", error)),
            },
            Sink::File { file, target, .. } => file
                .write_all(bytes)
                .map(|()| Written::Ok)
                .map_err(|error| Error::io(&*target, error)),
        }
    }

    /// Ends the output: the BGZF end block, a flush, and for a file its rename into place.
    pub fn finish(self) -> Result<()> {
        match self {
            Sink::Stdout(mut stdout) => match stdout.flush() {
                Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
                    Err(Error::io("standard output", error))
                }
                _ => Ok(()),
            },
            Sink::File {
                pending,
                mut file,
                target,
                bgzf,
            } => {
                let io_error = |error| Error::io(&target, error);
                if bgzf {
                    file.write_all(&BGZF_EOF).map_err(io_error)?;
                }
                // Flushed and closed here; the commit syncs it to disk before the rename.
                let file = file
                    .into_inner()
                    .map_err(|error| io_error(error.into_error()))?;
                drop(file);
                pending.commit()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn bgzf_blocks_are_one_gzip_stream() {
        let text: Vec<u8> = (0..300_000u32)
            .flat_map(|i| format!("chr1\t{i}\t{}\n", i % 101).into_bytes())
            .collect();
        let mut out = Vec::new();
        bgzf_compress(&mut compressor(), &text, &mut out);
        out.extend_from_slice(&BGZF_EOF);
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
        assert_eq!(blocks, text.len().div_ceil(BGZF_BLOCK_TEXT) + 1);
    }
}
