//! Settings of the commands that read a study back: `inspect`, `export` and `matrix`.
//!
//! What can be checked before the study is open is checked here (`--source` globs,
//! `--compression`, the thread count, what a matrix row is, `TXT2H5_MATRIX_BUDGET`); what
//! needs the study (source indices in range, region names against its chromosomes, BED
//! files and sample sheets read) is checked by the command once it is open.

use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use super::environment::{self, MatrixBudget};
use super::{default_compression, parse_compression, resolve_threads};
use crate::cli::{ExportArgs, ExportFormat, InspectArgs, MatrixArgs, SourceName};
use crate::codec::Compression;
use crate::error::Error;
use crate::error::Result;
use crate::h5::escape_bytes;
pub use crate::matrix::MatrixRows;
use crate::query::select::SourceGlob;

/// A validated `inspect` command.
#[derive(Clone, Debug)]
pub struct InspectSettings {
    pub file: PathBuf,
    pub json: bool,
}

impl InspectSettings {
    pub fn from_args(args: InspectArgs) -> Self {
        Self {
            file: args.file,
            json: args.json,
        }
    }
}

/// A validated `export` command. What needs the study itself (source indices in range,
/// region names against its chromosomes, BED files read) is checked when it is open.
#[derive(Clone, Debug)]
pub struct ExportSettings {
    pub file: PathBuf,
    /// The file to write; `None` for standard output (no `-o`, or `-o -`).
    pub output: Option<PathBuf>,
    pub force: bool,
    pub format: ExportFormat,
    /// How `--with-source` names a row's source; `None` without the column.
    pub source_column: Option<SourceName>,
    /// `--region` texts, parsed once the study's chromosomes are known.
    pub regions: Vec<String>,
    pub bed_files: Vec<PathBuf>,
    /// `--source` globs, in the form `/sources` records names (see [`escape_bytes`]).
    pub sources: Vec<SourceGlob>,
    pub source_indices: Vec<usize>,
    pub threads: usize,
    pub quiet: bool,
}

impl ExportSettings {
    pub fn from_args(args: ExportArgs) -> Result<Self> {
        let sources = source_globs(&args.selection.sources)?;
        Ok(Self {
            file: args.file,
            output: args.output.filter(|path| path.as_os_str() != "-"),
            force: args.force,
            format: args.format,
            source_column: args.with_source.then_some(args.source_name),
            regions: args.selection.regions,
            bed_files: args.bed_files,
            sources,
            source_indices: args.selection.source_indices,
            threads: resolve_threads(args.threads)?,
            quiet: args.quiet,
        })
    }
}

/// `--source` globs in the form `/sources` records names (see [`escape_bytes`]), so that a
/// name that is not UTF-8, given in its own bytes, selects exactly its source.
fn source_globs(texts: &[std::ffi::OsString]) -> Result<Vec<SourceGlob>> {
    texts
        .iter()
        .map(|text| SourceGlob::new(&escape_bytes(text.as_bytes())))
        .collect()
}

/// A validated `matrix` command; what needs the study is checked once it is open.
#[derive(Clone, Debug)]
pub struct MatrixSettings {
    pub file: PathBuf,
    pub output: PathBuf,
    pub force: bool,
    pub compression: Compression,
    pub strand_collapse: bool,
    pub min_samples: usize,
    pub samples: Option<PathBuf>,
    pub rows: MatrixRows,
    pub beta: bool,
    pub regions: Vec<String>,
    pub sources: Vec<SourceGlob>,
    pub source_indices: Vec<usize>,
    pub threads: usize,
    pub quiet: bool,
    pub json: bool,
    pub command_line: String,
    /// The window and buffer sizes (the defaults, or `TXT2H5_MATRIX_BUDGET`).
    pub budget: MatrixBudget,
}

impl MatrixSettings {
    pub fn from_args(args: MatrixArgs, command_line: String) -> Result<Self> {
        if args.old_regions.is_some() && !args.quiet {
            deprecated("matrix --regions", "--sum-regions");
        }
        let rows = match (args.tile, args.sum_regions.or(args.old_regions)) {
            (Some(0), _) => return Err(Error::usage("--tile must be at least 1 base")),
            (Some(bases), _) => MatrixRows::Tiles(bases),
            (None, Some(bed)) => MatrixRows::Regions(bed),
            (None, None) => MatrixRows::Sites,
        };
        Ok(Self {
            compression: match args.compression.as_deref() {
                Some(spec) => parse_compression(spec)?,
                None => default_compression(),
            },
            sources: source_globs(&args.selection.sources)?,
            threads: resolve_threads(args.threads)?,
            file: args.file,
            output: args.output,
            force: args.force,
            strand_collapse: args.strand_collapse,
            min_samples: args.min_samples.unwrap_or(0),
            samples: args.samples,
            rows,
            beta: args.beta,
            regions: args.selection.regions,
            source_indices: args.selection.source_indices,
            quiet: args.quiet,
            json: args.json,
            command_line,
            budget: MatrixBudget::from_environment(environment::variable_os)?,
        })
    }
}

/// Warns on stderr that the flag spelled `old` is deprecated in favour of `new`. Raw flags
/// end here, so this is the one place that still sees which spelling was typed; the run
/// goes on exactly as with `new`. A failure to write the warning is ignored, as the run's
/// outcome does not depend on it.
fn deprecated(old: &str, new: &str) {
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "txt2h5: warning: {old} is deprecated and will be removed: use {new} (the same \
         meaning; --regions is export's row filter)"
    );
}
