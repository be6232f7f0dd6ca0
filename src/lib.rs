//! txt2h5: load whitespace-delimited methylation call files into one HDF5 compound dataset.
//!
//! The tree follows the data:
//!
//! ```text
//! cli ─► settings ─► command::{load, merge, inspect, export, matrix}
//!                      │
//!   input/     discover ─► shard ─► encoding ─► split ─► reader (text to the workers)
//!   bgzf/      BGZF reader (input pieces) and writer (export .gz), side by side
//!   format/    preset / --columns / auto (parse::detect) ─► the parser for each file
//!   pipeline/  plan ─► worker (parse/; index::stretches) ─► buffer (spill) ─► writer (reorder)
//!   output/    chunker (codec on the pool) ─► h5::writer  inside pending (renamed on success)
//!   index/     stretches of each buffer ─► runs + chunk anchors ─► /index
//!   h5/        open (every check) ─► Study ─► RowReader     (and the writer; ffi beneath)
//!   query/     region / select (through /index) ─► chunks (codec on all cores, in order)
//! ```
//!
//! [`cli`] holds the flags as typed and [`settings`] the validated run they become, with
//! every default in [`defaults`]. A [`command`] strings the stages together: [`input`]
//! finds and cuts the files, [`format`] says which column holds what in each, the
//! [`pipeline`] parses the pieces in parallel ([`parse`])
//! into pooled mmap buffers and puts them back in load order on one writer thread, and
//! [`output`] turns the ordered records into chunks in a temporary file renamed into
//! place only on success. [`h5`] is everything that touches HDF5, writing and reading
//! back, and [`codec`] the chunk compression beneath both sides. The record type lives
//! in [`schema`], which also reads records back; [`error`] maps failures
//! to exit codes and [`memory`] reserves the large buffers so that running out is one of
//! them; [`ordered`] runs every stage's parallel work (the load's writer side, the
//! chunker, the chunk reader, the matrix) on one pool the command builds, results taken in
//! key order, bounded, a panic or the first error stopping the run; [`shell`] quotes the command line an output records;
//! [`signals`] and [`progress`] are the terminal's side of a run. Reading back goes the
//! other way: [`query`] turns regions and sources into row ranges through the position
//! [`index`] and hands the chunks that hold them, decompressed, to `inspect` and `export`;
//! `matrix` reads the same chunks window by window into site x sample counts.

pub mod bgzf;
pub mod cli;
pub mod codec;
pub mod command;
pub mod defaults;
pub mod error;
pub mod format;
pub mod h5;
pub mod index;
pub mod input;
pub mod matrix;
pub mod memory;
pub mod ordered;
pub mod output;
pub mod parse;
pub mod pipeline;
pub mod progress;
pub mod query;
pub mod schema;
pub mod settings;
pub mod shell;
pub mod signals;

#[cfg(test)]
mod test_support;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command, ExportArgs, InspectArgs, LoadArgs, MatrixArgs, MergeArgs};
use crate::error::{exit_code, stdout_delivered, Error};
use crate::settings::{
    ExportSettings, InspectSettings, LoadSettings, MatrixSettings, MergeSettings,
};
use crate::signals::Interrupt;

/// The whole program: parse flags, run, report, and map the outcome to an exit status.
pub fn main() -> ExitCode {
    memory::limit_malloc_arenas();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // clap prints help and version to stdout (exit 0) and mistakes to stderr (exit 2).
            let printed = error.print().and_then(|()| std::io::stdout().flush());
            if error.use_stderr() {
                // A failure to print a mistake cannot be reported anywhere.
                return ExitCode::from(exit_code::USAGE);
            }
            // Help and version are output like any other (see `write_stdout`).
            return match stdout_delivered(printed) {
                Ok(_) => ExitCode::from(exit_code::SUCCESS),
                Err(error) => fail(&error),
            };
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::from(exit_code::SUCCESS),
        Err(error) => fail(&error),
    }
}

/// Reports `error` on stderr and gives its exit status.
fn fail(error: &Error) -> ExitCode {
    // Nothing to do if stderr itself fails; `eprintln!` would panic.
    let _ = writeln!(std::io::stderr(), "txt2h5: error: {error}");
    ExitCode::from(error.exit_code())
}

fn run(cli: Cli) -> Result<(), Error> {
    let interrupt = Interrupt::install().map_err(|source| Error::Resource {
        what: "install the signal handlers",
        source,
    })?;
    survive_file_size_limit().map_err(|source| Error::Resource {
        what: "install the signal handlers",
        source,
    })?;
    match cli.command {
        Command::Load(args) => run_load(*args, &interrupt),
        Command::Merge(args) => run_merge(args, &interrupt),
        Command::Inspect(args) => run_inspect(args),
        Command::Matrix(args) => run_matrix(args, &interrupt),
        Command::Completions(args) => write_stdout(&command::manual::completions(args.shell)),
        Command::Man(args) => {
            for page in command::manual::man_pages(&args.dir)? {
                say(&format!("wrote {}", page.display()));
            }
            Ok(())
        }
        Command::Export(args) => run_export(args, &interrupt),
    }
}

/// `txt2h5 load`: its summary on stderr, its report as JSON on stdout with `--json`.
fn run_load(args: LoadArgs, interrupt: &Interrupt) -> Result<(), Error> {
    let settings = LoadSettings::from_args(args, shell::command_line())?;
    let report = command::load::load(&settings, interrupt)?;
    if !settings.quiet {
        say(&report.summary_line());
    }
    if settings.json {
        print_json(&report)?;
    }
    Ok(())
}

/// `txt2h5 merge`, reported as `load` is.
fn run_merge(args: MergeArgs, interrupt: &Interrupt) -> Result<(), Error> {
    let settings = MergeSettings::from_args(args, shell::command_line())?;
    let report = command::merge::merge(&settings, interrupt)?;
    if !settings.quiet {
        say(&report.summary_line());
    }
    if settings.json {
        print_json(&report)?;
    }
    Ok(())
}

/// `txt2h5 inspect`: a matrix file says what it holds; anything else is opened as a
/// study, whose opener says what is wrong with a file that is neither.
fn run_inspect(args: InspectArgs) -> Result<(), Error> {
    let settings = InspectSettings::from_args(args);
    if let Ok(Some(summary)) = h5::matrix_summary(&settings.file) {
        return if settings.json {
            print_json(&summary)
        } else {
            print_stdout(summary.to_text().trim_end())
        };
    }
    let study = h5::Study::open(&settings.file)
        .map_err(|error| error.into_error(&settings.file, "inspect"))?;
    let report = command::inspect::inspect(&study)?;
    if settings.json {
        print_json(&report)
    } else {
        print_stdout(report.to_text().trim_end())
    }
}

/// `txt2h5 matrix`: its notes and summary on stderr, its report as JSON with `--json`.
fn run_matrix(args: MatrixArgs, interrupt: &Interrupt) -> Result<(), Error> {
    let settings = MatrixSettings::from_args(args, shell::command_line())?;
    let report = command::matrix::matrix(&settings, interrupt)?;
    if !settings.quiet {
        for note in &report.notes {
            say(&format!("note: {note}"));
        }
        say(&report.summary_line());
    }
    if settings.json {
        print_json(&report)?;
    }
    Ok(())
}

/// `txt2h5 export`: notes as they come and, when it writes a file, a summary on stderr.
fn run_export(args: ExportArgs, interrupt: &Interrupt) -> Result<(), Error> {
    let settings = ExportSettings::from_args(args)?;
    let note = |line: &str| {
        if !settings.quiet {
            say(&format!("note: {line}"));
        }
    };
    let report = command::export::export(&settings, interrupt, &note)?;
    if !settings.quiet && settings.output.is_some() {
        say(&report.summary_line());
    }
    Ok(())
}

/// A report as pretty JSON on stdout.
fn print_json(report: &impl serde::Serialize) -> Result<(), Error> {
    print_stdout(&serde_json::to_string_pretty(report).expect("a report serializes"))
}

/// A write past a file-size limit (`ulimit -f`, a batch system's `h_fsize`) kills the process
/// with SIGXFSZ, leaving its temporary output and lock behind. With a handler installed (one
/// that does nothing) the write fails with EFBIG instead: an I/O error that names the output
/// and cleans up, as a full disk does.
fn survive_file_size_limit() -> std::io::Result<()> {
    let ignored = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGXFSZ, ignored).map(drop)
}

/// A line for people on stderr. A failure to write it cannot be reported anywhere, and the
/// run's outcome does not depend on it, so it is ignored (never a panic, as `eprintln!`).
fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "txt2h5: {line}");
}

/// Output for programs on stdout, a line, flushed: see [`write_stdout`].
fn print_stdout(text: &str) -> Result<(), Error> {
    let mut line = String::with_capacity(text.len() + 1);
    line.push_str(text);
    line.push('\n');
    write_stdout(line.as_bytes())
}

/// Output for programs on stdout (a summary, a report, a completion script), written whole
/// and flushed, delivered or refused as [`stdout_delivered`] says (`export` streams rows
/// through the same rule in its sink).
fn write_stdout(bytes: &[u8]) -> Result<(), Error> {
    let mut stdout = std::io::stdout().lock();
    stdout_delivered(stdout.write_all(bytes).and_then(|()| stdout.flush())).map(drop)
}
