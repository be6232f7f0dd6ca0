//! The command line as the user typed it (clap derive). Nothing here is validated beyond
//! syntax; [`crate::settings`] turns it into the settings a run uses.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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

    /// Compression threads when parts must be re-chunked [default: the CPUs available].
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

    /// Worker threads [default: the CPUs this process may use].
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,

    /// Name of the compound dataset.
    #[arg(long, default_value = "data", value_name = "NAME")]
    pub dataset: String,

    /// Input layout: auto (a preset per file, from its header and first lines), native
    /// (chr pos pct c t), bismark-cov, bismark-report, methylkit, bedmethyl, allc,
    /// methyldackel or bsmap.
    #[arg(long, default_value = "auto", value_name = "NAME")]
    pub format: String,

    /// Any other layout, by column number (from 1): names chr, pos (1-based) or start
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

    /// Chunk compression: none, gzip or gzip:LEVEL (1-9); gzip always with shuffle
    /// [default: gzip:1; with --append, the existing file's].
    #[arg(long, value_name = "SPEC")]
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
}
