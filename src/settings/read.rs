//! Settings of the commands that read an output back: `inspect` and `export`.

use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use super::resolve_threads;
use crate::cli::{ExportArgs, ExportFormat, InspectArgs, SourceName};
use crate::error::Result;
use crate::h5::escape_bytes;
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
        // In the escaped form /sources records a name that is not UTF-8 in, so that such a
        // name, given in its own bytes, selects exactly its source.
        let sources = args
            .sources
            .iter()
            .map(|text| SourceGlob::new(&escape_bytes(text.as_bytes())))
            .collect::<Result<_>>()?;
        Ok(Self {
            file: args.file,
            output: args.output.filter(|path| path.as_os_str() != "-"),
            force: args.force,
            format: args.format,
            source_column: args.with_source.then_some(args.source_name),
            regions: args.regions,
            bed_files: args.bed_files,
            sources,
            source_indices: args.source_indices,
            threads: resolve_threads(args.threads)?,
            quiet: args.quiet,
        })
    }
}
