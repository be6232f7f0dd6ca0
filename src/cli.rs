//! The command line as the user typed it (clap derive). Nothing here is validated beyond
//! syntax; [`crate::settings`] turns it into the settings a run uses.

mod suggest;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use suggest::Suggest;

#[derive(Debug, Parser)]
#[command(
    name = "txt2h5",
    version,
    about = "Load methylation call files (Bismark, MethylDackel, modkit, methylKit, ALLC, BSMAP, or chr pos pct c t) into one HDF5 compound dataset",
    after_help = "Exit status: 0 success, 1 I/O or HDF5 failure, 2 usage error, 3 bad input data, \
                  128+N killed by signal N (130 for Ctrl-C)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse input files in parallel and write them, in order, to one HDF5 dataset.
    Load(Box<LoadArgs>),
    /// Concatenate the parts of a sharded load (txt2h5 outputs) into one dataset.
    Merge(MergeArgs),
    /// Show what a txt2h5 output holds: rows, fields, storage, provenance, sources,
    /// chromosomes and index.
    Inspect(InspectArgs),
    /// Write rows of a txt2h5 output back as text: all, or the rows of some regions or
    /// sources (read through the position index).
    Export(ExportArgs),
    /// Build the site x sample matrices of methylated (M) and total (Cov) counts that
    /// bsseq, DSS, dmrseq, methrix and numpy read, from a txt2h5 output.
    Matrix(MatrixArgs),
    /// Print the shell completion script for SHELL on stdout (e.g. `txt2h5 completions
    /// bash > ~/.local/share/bash-completion/completions/txt2h5`).
    Completions(CompletionsArgs),
    /// Write the manual pages: txt2h5.1 and one per command (txt2h5-load.1, ...).
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The directory to write the pages into (created if missing).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A txt2h5 output (plain, appended, merged or merge --virtual).
    #[arg(value_name = "FILE.h5")]
    pub file: PathBuf,

    /// Print the facts as JSON on stdout instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `--spill` as typed; settings turn it into a [`crate::settings::SpillPolicy`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SpillFlag {
    /// Only while the writer waits for the workers.
    Auto,
    /// Whenever a unit ahead of the writer finds no free buffer.
    Always,
}

/// Text formats `export` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// Tab-separated `chr pos pct c t`, no header: what `load` reads back as native.
    Tsv,
    /// Comma-separated, with a header line.
    Csv,
}

/// How `--with-source` names a row's source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SourceName {
    /// The path as recorded in /sources.
    Path,
    /// The file name only.
    Basename,
}

/// The rows of a study `export` and `matrix` read: by region and by source.
#[derive(Args, Debug, Clone, Default)]
pub struct SelectionArgs {
    /// Only rows in this region: CHR, CHR:POS, CHR:START-END or CHR:START- (1-based,
    /// inclusive; commas allowed). Repeatable.
    // The id is the flag's name: `matrix` takes the old spelling `--regions` of its
    // --sum-regions (id `old_regions`).
    #[arg(id = "region", long = "region", value_name = "CHR:START-END")]
    pub regions: Vec<String>,

    /// Only rows from sources whose recorded path matches this glob (a glob without '/'
    /// also matches the file name alone). Repeatable.
    // OsString: a recorded name that is not UTF-8 can be given in its own bytes.
    #[arg(long = "source", value_name = "GLOB")]
    pub sources: Vec<std::ffi::OsString>,

    /// Only rows from the source in this row of /sources (from 0, as inspect lists them).
    /// Repeatable.
    #[arg(long = "source-index", value_name = "N")]
    pub source_indices: Vec<usize>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// A txt2h5 output (plain, appended, merged or merge --virtual).
    #[arg(value_name = "FILE.h5")]
    pub file: PathBuf,

    /// Where to write: a file (a name ending in .gz is written BGZF-compressed, which gzip
    /// and txt2h5 read) or - for standard output [default: standard output].
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,

    /// Replace OUT if it exists.
    #[arg(short, long)]
    pub force: bool,

    /// Text format.
    #[arg(long, value_enum, default_value = "tsv")]
    pub format: ExportFormat,

    /// Add the row's source file as a first column.
    #[arg(long)]
    pub with_source: bool,

    /// How --with-source names the source.
    #[arg(long, value_enum, default_value = "path", requires = "with_source")]
    pub source_name: SourceName,

    #[command(flatten)]
    pub selection: SelectionArgs,

    /// Only rows in the regions of a BED file (0-based, end excluded). Repeatable.
    #[arg(long = "regions", value_name = "FILE.bed")]
    pub bed_files: Vec<PathBuf>,

    /// Decompression and formatting threads, at most 1024 [default: the CPUs available].
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,

    /// Print nothing but errors.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Part files written by `txt2h5 load --shard K/N` (any order) or other txt2h5 outputs,
    /// or directories of them (their `*.h5` files, sorted by name).
    #[arg(required = true, value_name = "PART.h5|DIR")]
    pub parts: Vec<PathBuf>,

    #[command(flatten)]
    pub output: OutputArgs,

    /// Write an HDF5 virtual dataset over the parts instead of copying their rows.
    #[arg(long = "virtual")]
    pub virtual_dataset: bool,

    /// Compression threads when parts must be re-chunked, at most 1024 [default: the CPUs
    /// available].
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,
}

/// Where the result goes and what is printed: the same for every command.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// The HDF5 file to create.
    #[arg(short, long, value_name = "OUT.h5")]
    pub output: PathBuf,

    /// Replace OUT.h5 if it exists.
    #[arg(short, long)]
    pub force: bool,

    /// Print nothing but errors (and the --json summary, if asked for).
    #[arg(short, long)]
    pub quiet: bool,

    /// Print a machine-readable summary to stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Input files and directories (plain text, gzip or bgzip; told apart by content).
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,

    #[command(flatten)]
    pub output: OutputArgs,

    /// Descend into subdirectories of directory inputs.
    #[arg(short, long)]
    pub recursive: bool,

    /// Only load files in directories whose name matches this glob (e.g. '*.txt.gz').
    #[arg(long, value_name = "PATTERN")]
    pub glob: Option<String>,

    /// Worker threads, at most 1024 [default: the CPUs this process may use].
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,

    /// Name of the compound dataset.
    #[arg(long, default_value = "data", value_name = "NAME")]
    pub dataset: String,

    /// Input format: auto (a preset per file, from its header and first lines), native
    /// (chr pos pct c t), bismark-cov, bismark-report, methylkit, bedmethyl, allc,
    /// methyldackel or bsmap.
    #[arg(long, default_value = "auto", value_name = "NAME",
          value_parser = Suggest(suggest::formats), hide_possible_values = true)]
    pub format: String,

    /// Any other column format, by column number (from 1): names chr, pos (1-based) or start
    /// (0-based), pct (0-100), beta (0-1), c, t, cov, strand, context; e.g.
    /// chr=1,start=2,beta=4,cov=5.
    #[arg(long, value_name = "SPEC", conflicts_with = "format")]
    pub columns: Option<String>,

    /// Lines to skip at the start of every file (a header), with --columns.
    #[arg(long, value_name = "N", requires = "columns")]
    pub skip_lines: Option<u64>,

    /// Contexts to keep, for files with a context column: CG, CHG, CHH, CH (CHG and CHH)
    /// or all [default: CG].
    #[arg(long, value_name = "CONTEXT")]
    pub context: Option<String>,

    /// modkit modification codes to keep, for bedMethyl files: a comma list, or all
    /// [default: m,C (5mC, and modkit's combined C)].
    #[arg(long, value_name = "LIST")]
    pub mod_code: Option<String>,

    /// Fields to add after the five: strand (S1: +, - or .) and context (S3: CG, CHG,
    /// CHH, empty where unknown), comma-separated.
    #[arg(long, value_name = "FIELDS", value_delimiter = ',')]
    pub extra: Vec<String>,

    /// Store pos as a 64-bit integer (<i8), for chromosomes longer than 2^31 - 1 bases.
    #[arg(long)]
    pub wide_pos: bool,

    /// Bytes in the chr field (longer names are an error, never truncated).
    #[arg(long, default_value_t = crate::defaults::CHR_WIDTH, value_name = "N")]
    pub chr_width: usize,

    /// Rows per HDF5 chunk [default: 65536; with --append, the existing file's].
    #[arg(long, value_name = "N")]
    pub chunk_rows: Option<usize>,

    /// Chunk compression, always with the byte shuffle: none, gzip[:LEVEL] (1-9, bare
    /// gzip is 4), zstd[:LEVEL] (1-22, bare zstd is 3), lz4, blosc (blosc:zstd:1),
    /// blosc:zstd[:LEVEL] (1-9) or blosc:lz4. Every HDF5 reader decodes gzip; the others
    /// need the HDF5 plugins (h5py: import hdf5plugin); R's rhdf5filters decodes blosc
    /// but not zstd or lz4 [default: gzip:1; with --append, the existing file's].
    #[arg(long, value_name = "SPEC", value_parser = Suggest(suggest::compressions),
          hide_possible_values = true)]
    pub compression: Option<String>,

    /// Add the inputs to an existing OUT.h5 (created if missing); inputs it already holds
    /// (same path, size and checksum) are skipped, so a re-run resumes an interrupted job.
    #[arg(short, long, conflicts_with = "force")]
    pub append: bool,

    /// Load only shard K of N of the sorted inputs (balanced by bytes), or take K and N from
    /// a Slurm array job (`slurm`); combine the parts with `txt2h5 merge`.
    #[arg(long, value_name = "K/N|slurm")]
    pub shard: Option<String>,

    /// Bytes per piece of a large uncompressed file (tuning and tests).
    #[arg(long, hide = true, default_value_t = crate::defaults::PIECE_BYTES)]
    pub piece_bytes: u64,

    /// Records per memory-mapped buffer (tuning and tests).
    #[arg(long, hide = true, default_value_t = crate::defaults::BUFFER_ROWS)]
    pub buffer_rows: usize,

    /// Buffers in the pool [default: 2 per thread + 2] (tuning and tests).
    #[arg(long, hide = true)]
    pub buffers: Option<usize>,

    /// When units ahead of the writer spill records: auto (only while the writer waits for
    /// work) or always (whenever no buffer is free) (tests and measurements).
    #[arg(long, hide = true, value_enum, default_value = "auto")]
    pub spill: SpillFlag,
}

#[derive(Debug, Args)]
pub struct MatrixArgs {
    /// A txt2h5 output (plain, appended, merged or merge --virtual).
    #[arg(value_name = "STUDY.h5")]
    pub file: PathBuf,

    /// The matrix file to write.
    #[arg(short, long, value_name = "MATRIX.h5")]
    pub output: PathBuf,

    /// Replace MATRIX.h5 if it exists.
    #[arg(short, long)]
    pub force: bool,

    /// Chunk compression of the matrices and row labels, as in load [default: gzip:1].
    #[arg(long, value_name = "SPEC", value_parser = Suggest(suggest::compressions),
          hide_possible_values = true)]
    pub compression: Option<String>,

    /// Count a C on the - strand at pos p for the CpG at p - 1, summed with the + strand
    /// (bsseq's strandCollapse). Needs the strand field (load --extra strand).
    #[arg(long)]
    pub strand_collapse: bool,

    /// Keep only rows with Cov > 0 in at least N samples; the rows left out are counted.
    #[arg(long, value_name = "N")]
    pub min_samples: Option<usize>,

    /// A tab-separated file of SOURCE SAMPLE lines (SOURCE a recorded path or a glob, as
    /// --source takes): the sources of one sample are summed; sources it names not are
    /// left out. Samples come in the order the file first names them.
    #[arg(long, value_name = "FILE.tsv")]
    pub samples: Option<PathBuf>,

    /// Sum counts per window of BP bases (start = k * BP + 1, end = (k + 1) * BP); only
    /// windows holding a site are rows.
    #[arg(long, value_name = "BP", conflicts_with_all = ["sum_regions", "old_regions"])]
    pub tile: Option<u64>,

    /// Sum counts per region of a BED file (0-based, end excluded), one row per region in
    /// the file's order, regions without a site included (zero counts).
    #[arg(long, value_name = "FILE.bed", conflicts_with = "old_regions")]
    pub sum_regions: Option<PathBuf>,

    /// The old spelling of --sum-regions, kept working with a warning: `--regions` is the
    /// row filter of `export`, and one flag has one meaning.
    #[arg(long = "regions", value_name = "FILE.bed", hide = true)]
    pub old_regions: Option<PathBuf>,

    /// Also write beta = M / Cov (float32, NaN where Cov is 0).
    #[arg(long)]
    pub beta: bool,

    #[command(flatten)]
    pub selection: SelectionArgs,

    /// Decompression, merging and compression threads, at most 1024 [default: the CPUs
    /// available].
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,

    /// Print nothing but errors.
    #[arg(short, long)]
    pub quiet: bool,

    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap's own checks of every command (unique ids, valid conflicts and requirements),
    /// which otherwise run only when that command is parsed.
    #[test]
    fn every_command_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
