//! The error type of a run, and the exit code each kind maps to.
//!
//! Every error that reaches the user names the file it is about; data errors also carry the
//! 1-based line, the column, the offending text and a hint. One function,
//! [`Error::exit_code`], decides the process exit status.

use std::path::{Path, PathBuf};

use crate::defaults::HEAD_BYTES;
use crate::format::Preset;
use crate::parse::detect::Undecided;
use crate::parse::error::LineError;

/// Exit statuses, a documented contract (docs/guide.md, "Exit status").
pub mod exit_code {
    pub const SUCCESS: u8 = 0;
    /// Reading or writing failed (I/O, HDF5), or an internal error.
    pub const FAILURE: u8 = 1;
    /// Bad flags or arguments, missing inputs, output exists without `--force`.
    pub const USAGE: u8 = 2;
    /// An input is not valid data: a line numpy would reject, a name too long, corrupt gzip.
    pub const BAD_DATA: u8 = 3;
    /// Interrupted by a signal: 128 + the signal number (130 for Ctrl-C, 143 for SIGTERM).
    pub const SIGNAL_BASE: u8 = 128;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command as typed cannot run.
    #[error("{message}")]
    Usage { message: String },

    /// A line that does not parse.
    #[error("{}:{line}: {error}\n  hint: {}{}", path.display(), error.hint(), read_as_note(read_as))]
    Data {
        path: PathBuf,
        line: u64,
        error: Box<LineError>,
        /// The format the file was read with, unless `native` (`bismark-cov (6 columns:
        /// chr start end ...)`).
        read_as: Option<String>,
    },

    /// A line of an input that cannot be read for a reason other than its fields (a line
    /// `--format auto` cannot place).
    #[error("{}:{line}: {message}", path.display())]
    BadLine {
        path: PathBuf,
        line: u64,
        message: String,
    },

    /// An input that is not readable text: corrupt gzip, unsupported compression.
    #[error("{}: {message}", path.display())]
    BadInput { path: PathBuf, message: String },

    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },

    /// A stored chunk of a txt2h5 file that does not decode. A failure (exit 1) like a
    /// corrupt HDF5 file, not bad input data (3): the file is txt2h5's own output, damaged
    /// on disk or in transfer, and the same damage found by the HDF5 library (in a chunk
    /// it decodes, in its own structures) can only be reported as an HDF5 failure; so all
    /// of it is, whichever side finds it.
    #[error("{}: {message}", path.display())]
    Damaged { path: PathBuf, message: String },

    /// The HDF5 library reported a failure.
    #[error("{}: HDF5 error: {source}", path.display())]
    Hdf5 { path: PathBuf, source: hdf5::Error },

    /// Memory for a buffer could not be had: an address-space limit (`ulimit -v`, a batch
    /// system's `h_vmem`) or a full machine. Buffers are allocated fallibly so that this is
    /// an error with cleanup, never an abort.
    #[error(
        "cannot allocate {:.1} MiB for {what}\n  hint: use fewer threads (-j) or a higher \
         memory limit (ulimit -v, h_vmem)",
        *bytes as f64 / f64::from(1 << 20)
    )]
    OutOfMemory { what: &'static str, bytes: usize },

    /// The system refused a resource other than memory (threads, signal handlers).
    #[error("cannot {what}: {source}\n  hint: use fewer threads (-j) or raise the limit")]
    Resource {
        what: &'static str,
        source: std::io::Error,
    },

    /// Something that cannot happen did: a bug in txt2h5, not in the input or the system.
    #[error("internal error: {what}; this is a bug in txt2h5, please report it")]
    Internal { what: String },

    /// SIGINT, SIGTERM or SIGHUP arrived.
    #[error("interrupted by signal {signal}; no output was written")]
    Interrupted { signal: i32 },
}

fn read_as_note(read_as: &Option<String>) -> String {
    match read_as {
        Some(read_as) => {
            format!("\n  read as: {read_as}; --format or --columns chooses another format")
        }
        None => String::new(),
    }
}

impl Error {
    pub fn usage(message: impl Into<String>) -> Self {
        Error::Usage {
            message: message.into(),
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub fn internal(what: impl Into<String>) -> Self {
        Error::Internal { what: what.into() }
    }

    pub fn hdf5(path: impl Into<PathBuf>, source: hdf5::Error) -> Self {
        Error::Hdf5 {
            path: path.into(),
            source,
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage { .. } => exit_code::USAGE,
            Error::Data { .. } | Error::BadLine { .. } | Error::BadInput { .. } => {
                exit_code::BAD_DATA
            }
            Error::Io { .. }
            | Error::Damaged { .. }
            | Error::Hdf5 { .. }
            | Error::OutOfMemory { .. }
            | Error::Resource { .. }
            | Error::Internal { .. } => exit_code::FAILURE,
            Error::Interrupted { signal } => exit_code::SIGNAL_BASE + *signal as u8,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Whether output for programs reached standard output: `Ok(true)` if it did, `Ok(false)`
/// if its reader closed the pipe (`| head`: the reader has what it wants, so the run ends
/// quietly, as in ripgrep), and an I/O error (exit 1) for any other failure: a script
/// reading `--json` from a full disk must not take silence for success. The one rule every
/// write to stdout follows (help, reports, completions, exported rows).
pub fn stdout_delivered(written: std::io::Result<()>) -> Result<bool> {
    match written {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(error) => Err(Error::io("standard output", error)),
    }
}

/// What kind of file `metadata` describes, for a message that refuses it ("... is a FIFO
/// (named pipe)"): the pages of `man --dir`, an output path, a study file to read. Here, at
/// the bottom of the tree, so that every layer that checks a path says it the same way.
pub fn file_kind(metadata: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let kind = metadata.file_type();
    if kind.is_file() {
        "a regular file"
    } else if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO (named pipe)"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else {
        "not a regular file"
    }
}

/// The message of a caught panic, for an [`Error::Internal`].
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    match (
        payload.downcast_ref::<&str>(),
        payload.downcast_ref::<String>(),
    ) {
        (Some(message), _) => (*message).to_string(),
        (_, Some(message)) => message.clone(),
        _ => "a panic without a message".to_string(),
    }
}

// Here, not in `parse::detect`, so that the parser does not import the run's error, which
// wraps the parser's own errors: stages depend downwards.
impl Undecided {
    /// The run's error for `path`.
    pub fn into_error(self, path: &Path) -> Error {
        let presets = Preset::ALL
            .iter()
            .map(|preset| preset.format(b"").describe())
            .collect::<Vec<_>>()
            .join("; ");
        let display = path.display();
        match self {
            Undecided::NoFit { line, fields, why } => Error::BadLine {
                path: path.to_path_buf(),
                line,
                message: format!(
                    "--format auto: line {line} ({fields} columns) fits none of the format \
                     presets: {why}\n  considered: {presets}\n  hint: name the format with \
                     --format, or describe the columns with --columns (and --skip-lines for a \
                     header)"
                ),
            },
            Undecided::Several { line, presets } => Error::usage(format!(
                "{display}: --format auto: lines up to {line} fit several presets ({}); \
                 choose one with --format",
                presets
                    .iter()
                    .map(|preset| preset.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            Undecided::BadLine { line, error } => Error::Data {
                path: path.to_path_buf(),
                line,
                error: Box::new(error),
                read_as: None,
            },
            Undecided::NoLine => Error::BadInput {
                path: path.to_path_buf(),
                message: format!(
                    "--format auto: the first {} KiB hold no complete data line to tell the \
                     format from; name it with --format (or --columns)",
                    HEAD_BYTES >> 10
                ),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_errors_exit_1_and_say_what_to_do() {
        let error = Error::OutOfMemory {
            what: "a record buffer",
            bytes: 3 << 20,
        };
        assert_eq!(error.exit_code(), exit_code::FAILURE);
        let message = error.to_string();
        assert!(message.starts_with("cannot allocate 3.0 MiB for a record buffer\n"));
        assert!(
            message.contains("hint: use fewer threads (-j)"),
            "{message}"
        );
        assert!(
            !message.contains("   "),
            "a lost line continuation: {message:?}"
        );
        let bug = Error::internal("a job panicked");
        assert_eq!(bug.exit_code(), exit_code::FAILURE);
        assert!(bug.to_string().contains("a bug in txt2h5"));
    }
}
