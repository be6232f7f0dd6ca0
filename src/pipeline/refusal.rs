//! Why an input cannot be read, found before the pipeline runs: while its encoding is
//! told, its format picked (`--format auto` and methylKit read its start) or its BGZF
//! blocks listed. Such an error waits for the file's turn: the file's units fail with it
//! when they run, so that the run reports the first error in load order, as for a bad line,
//! whatever the timing and thread count. Stopping the run when it is found would blame a
//! later file for an earlier file's bad line 18.
//!
//! A refusal is a value every unit of its file can turn into the run's error; the error
//! itself cannot be cloned (an I/O error cannot), so a refusal keeps what its message and
//! exit status need.

use std::path::Path;

use crate::error::Error;
use crate::parse::detect::Undecided;

/// An input's error, deferred to its turn in load order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// `auto` could not pick the file's format.
    Undecided(Undecided),
    /// The file is not readable text (corrupt gzip, an unsupported compression, a BGZF file
    /// without its end-of-file block): [`Error::BadInput`].
    BadInput { message: String },
    /// Reading the file failed: [`Error::Io`], kept as the I/O error's kind and message.
    Io {
        kind: std::io::ErrorKind,
        message: String,
    },
}

impl Refusal {
    /// The refusal for an error found before the pipeline about one input, or the error
    /// back when it is not about the input's content or reading (a usage error: the command
    /// as typed cannot run, whatever the inputs hold), which stops the run at once.
    pub fn defer(error: Error) -> Result<Refusal, Error> {
        match error {
            Error::BadInput { message, .. } => Ok(Refusal::BadInput { message }),
            Error::Io { source, .. } => Ok(Refusal::Io {
                kind: source.kind(),
                message: source.to_string(),
            }),
            error => Err(error),
        }
    }

    /// The run's error for the input at `path`, as it would have been reported at once.
    pub fn to_error(&self, path: &Path) -> Error {
        match self {
            Refusal::Undecided(undecided) => undecided.clone().into_error(path),
            Refusal::BadInput { message } => Error::BadInput {
                path: path.to_path_buf(),
                message: message.clone(),
            },
            Refusal::Io { kind, message } => {
                Error::io(path, std::io::Error::new(*kind, message.clone()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deferred_error_reads_as_the_error_itself() {
        let path = Path::new("in/b.gz");
        let errors = [
            Error::BadInput {
                path: path.to_path_buf(),
                message: "gzip data is corrupt or truncated: unexpected end of file".into(),
            },
            Error::io(
                path,
                std::io::Error::from(std::io::ErrorKind::PermissionDenied),
            ),
            Error::io(path, std::io::Error::from_raw_os_error(2)),
        ];
        for error in errors {
            let (text, code) = (error.to_string(), error.exit_code());
            let refusal = Refusal::defer(error).unwrap();
            let again = refusal.to_error(path);
            assert_eq!(again.to_string(), text);
            assert_eq!(again.exit_code(), code);
        }
    }

    #[test]
    fn a_usage_error_is_not_deferred() {
        let error = Refusal::defer(Error::usage("--context cannot apply")).unwrap_err();
        assert!(matches!(error, Error::Usage { .. }));
    }

    #[test]
    fn an_undecided_format_reads_as_auto_reports_it() {
        let refusal = Refusal::Undecided(Undecided::NoLine);
        let error = refusal.to_error(Path::new("a.txt"));
        assert!(
            error.to_string().starts_with("a.txt: --format auto:"),
            "{error}"
        );
    }
}
