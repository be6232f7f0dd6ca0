//! Where exported text goes: standard output, or a file that appears whole or not at all;
//! BGZF-compressed for a `.gz` name.
//!
//! BGZF (the blocked gzip of bgzip and tabix, [`crate::bgzf::writer`]) is a series of gzip
//! members of at most 64 KiB each, so the blocks are compressed on the pool with the rest
//! of a chunk's work, and the file is valid gzip for every reader, and one that
//! `txt2h5 load` reads in parallel. The sink writes what the pool compressed, and the
//! end-of-file block last.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::bgzf::EOF_BLOCK;
use crate::error::{stdout_delivered, Error, Result};
use crate::output::pending::PendingOutput;

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
            Sink::Stdout(stdout) => Ok(if stdout_delivered(stdout.write_all(bytes))? {
                Written::Ok
            } else {
                Written::Closed
            }),
            Sink::File { file, target, .. } => file
                .write_all(bytes)
                .map(|()| Written::Ok)
                .map_err(|error| Error::io(&*target, error)),
        }
    }

    /// Ends the output: the BGZF end block, a flush, and for a file its rename into place.
    pub fn finish(self) -> Result<()> {
        match self {
            Sink::Stdout(mut stdout) => stdout_delivered(stdout.flush()).map(drop),
            Sink::File {
                pending,
                mut file,
                target,
                bgzf,
            } => {
                let io_error = |error| Error::io(&target, error);
                if bgzf {
                    file.write_all(&EOF_BLOCK).map_err(io_error)?;
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
