//! txt2h5: load whitespace-delimited methylation call files into one HDF5 compound dataset.
//!
//! The modules follow the data: inputs are [`discover`]ed, their [`format`] told by content,
//! cut into ordered work units ([`plan`], [`split`]), [`parse`]d by [`worker`]s into pooled
//! mmap record [`buffer`]s, put back in order ([`reorder`]) by the [`pipeline`]'s writer and
//! appended to HDF5 ([`h5`]) in a file that only appears when complete ([`output`]). The
//! record layout lives in [`schema`]; flags become [`settings`]; [`error`] maps failures to
//! exit codes.

pub mod bgzf;
pub mod buffer;
pub mod checksum;
pub mod chunker;
pub mod cli;
pub mod compress;
pub mod copy;
pub mod discover;
pub mod error;
pub mod format;
pub mod h5;
pub mod load;
pub mod merge;
pub mod output;
pub mod parse;
pub mod pipeline;
pub mod plan;
pub mod progress;
pub mod reorder;
pub mod report;
pub mod schema;
pub mod settings;
pub mod shard;
pub mod signals;
pub mod spill;
pub mod split;
pub mod worker;

#[cfg(test)]
mod test_support;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::error::{exit_code, Error};
use crate::merge::MergeSettings;
use crate::settings::LoadSettings;
use crate::signals::Interrupt;

/// The whole program: parse flags, run, report, and map the outcome to an exit status.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // clap prints help and version to stdout (exit 0) and mistakes to stderr (exit 2).
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() {
                exit_code::USAGE
            } else {
                exit_code::SUCCESS
            });
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::from(exit_code::SUCCESS),
        Err(error) => {
            eprintln!("txt2h5: error: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}

fn run(cli: Cli) -> Result<(), Error> {
    let interrupt = Interrupt::install().map_err(|error| Error::io("signal handlers", error))?;
    match cli.command {
        Command::Load(args) => {
            let settings = LoadSettings::from_args(args, command_line())?;
            let report = load::load(&settings, &interrupt)?;
            if !settings.quiet {
                eprintln!("txt2h5: {}", report.summary_line());
            }
            if settings.json {
                // A closed pipe (`| head`) is not a failure of the load, which has succeeded.
                let _ = writeln!(std::io::stdout(), "{}", report.to_json());
            }
            Ok(())
        }
        Command::Merge(args) => {
            let settings = MergeSettings::from_args(args, command_line())?;
            let report = merge::merge(&settings, &interrupt)?;
            if !settings.quiet {
                eprintln!("txt2h5: {}", report.summary_line());
            }
            if settings.json {
                let json = serde_json::to_string_pretty(&report).expect("a report serializes");
                let _ = writeln!(std::io::stdout(), "{json}");
            }
            Ok(())
        }
    }
}

/// The command line, shell-quoted where needed, for the output's provenance attribute.
fn command_line() -> String {
    std::env::args_os()
        .map(|arg| {
            let arg = arg.to_string_lossy();
            if !arg.is_empty()
                && arg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_./:=+,@%".contains(&b))
            {
                arg.into_owned()
            } else {
                format!("'{}'", arg.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
