//! `txt2h5 completions SHELL` and `txt2h5 man`: the shell completion scripts and the
//! manual pages, generated from the command line's own definition (clap_complete,
//! clap_mangen), so they cannot drift from what the program accepts.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::CommandFactory;

use crate::cli::Cli;
use crate::error::{Error, Result};

/// Writes the completion script for `shell` to `out`.
pub fn completions(shell: clap_complete::Shell, out: &mut dyn Write) -> Result<()> {
    let mut command = Cli::command();
    clap_complete::generate(shell, &mut command, "txt2h5", out);
    out.flush()
        .map_err(|error| Error::io("standard output", error))
}

/// Writes `txt2h5.1` and a page per command (`txt2h5-load.1`, ...) into `dir`, creating
/// it; returns the pages written.
pub fn man_pages(dir: &Path) -> Result<Vec<PathBuf>> {
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
