//! `txt2h5 completions SHELL` and `txt2h5 man`: the shell completion scripts and the
//! manual pages, generated from the command line's own definition (clap_complete,
//! clap_mangen), so they cannot drift from what the program accepts.
//!
//! The script is generated into memory and handed back, not written to stdout here:
//! clap_complete panics when its writer fails, and delivering the bytes (a closed pipe is
//! quiet, a full disk an error) is the one stdout rule of [`crate::main`].

use std::path::{Path, PathBuf};

use clap::CommandFactory;

use crate::cli::Cli;
use crate::error::{Error, Result};

/// The completion script for `shell`.
pub fn completions(shell: clap_complete::Shell) -> Vec<u8> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    // Writing into a Vec cannot fail, so clap_complete's panic on a write error cannot fire.
    clap_complete::generate(shell, &mut command, "txt2h5", &mut script);
    script
}

/// Writes `txt2h5.1` and a page per command (`txt2h5-load.1`, ...) into `dir`, creating
/// it; returns the pages written.
pub fn man_pages(dir: &Path) -> Result<Vec<PathBuf>> {
    check_dir(dir)?;
    let failed = |error| Error::io(dir.display().to_string(), error);
    std::fs::create_dir_all(dir).map_err(failed)?;
    let command = Cli::command();
    // clap_mangen names a command's page NAME.1 and a subcommand's NAME-SUB.1.
    let pages = std::iter::once("txt2h5.1".to_string())
        .chain(
            command
                .get_subcommands()
                .filter(|sub| !sub.is_hide_set())
                .map(|sub| format!("txt2h5-{}.1", sub.get_name())),
        )
        .map(|name| dir.join(name))
        .collect();
    // Version and authorship come from Cargo.toml, as --version gives them.
    clap_mangen::generate_to(command, dir).map_err(failed)?;
    Ok(pages)
}

/// Refuses a `--dir` that exists and is no directory (or whose path runs through a file):
/// `create_dir_all` would report only "File exists" (EEXIST) or "Not a directory", which
/// does not say that the pages need a directory.
fn check_dir(dir: &Path) -> Result<()> {
    // The deepest part of the path that exists must be a directory.
    for existing in dir.ancestors() {
        let existing = if existing.as_os_str().is_empty() {
            Path::new(".")
        } else {
            existing
        };
        match std::fs::metadata(existing) {
            Ok(metadata) if metadata.is_dir() => return Ok(()),
            Ok(metadata) => {
                return Err(Error::usage(format!(
                    "--dir {}: {} is {}, not a directory; name a directory to write the \
                     pages into (it is created if missing)",
                    dir.display(),
                    existing.display(),
                    crate::error::file_kind(&metadata)
                )))
            }
            // Not there, or below a file ("file/man": ENOTDIR): the ancestor says which.
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                ) =>
            {
                continue
            }
            Err(error) => return Err(Error::io(existing, error)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dir_that_is_a_file_or_device_is_named_as_such() {
        let temp = tempfile::tempdir().unwrap();
        let file = temp.path().join("file");
        std::fs::write(&file, b"").unwrap();
        let message = check_dir(&file.join("man")).unwrap_err().to_string();
        assert!(
            message.contains(&format!(
                "{} is a regular file, not a directory",
                file.display()
            )),
            "{message}"
        );
        let message = check_dir(Path::new("/dev/null")).unwrap_err().to_string();
        assert!(message.contains("/dev/null is a device"), "{message}");
        check_dir(&temp.path().join("new/man")).unwrap();
        check_dir(temp.path()).unwrap();
    }

    #[test]
    fn every_shell_gets_a_script() {
        for shell in [clap_complete::Shell::Bash, clap_complete::Shell::Fish] {
            let script = String::from_utf8(completions(shell)).unwrap();
            assert!(script.contains("txt2h5"), "{shell:?}");
        }
    }
}
