//! Flags become one validated settings value before any work starts.
//!
//! Every default, range and cross-flag rule lives here; nothing deeper in the code reads
//! raw flags, nor the environment ([`environment`] reads the few variables txt2h5 heeds,
//! once, here). This file holds the settings of the commands that write a study (`load`
//! and `merge`), [`read`] those of the commands that read one back.

pub mod environment;
mod read;

use std::path::PathBuf;

use globset::GlobBuilder;

use crate::cli::{LoadArgs, MergeArgs, SpillFlag};
use crate::codec::{blosc, BloscCodec, Compression};
use crate::defaults;
use crate::error::{Error, Result};
use crate::format::filter::{ContextFilter, Filters};
use crate::format::{ColumnFormat, FormatChoice, Preset};
use crate::h5::WriterOptions;
use crate::input::discover::DiscoverOptions;
use crate::input::shard::Shard;
use crate::schema::{Schema, Shape};

pub use read::{ExportSettings, InspectSettings, MatrixRows, MatrixSettings};

/// Everything a `load` run needs, checked.
#[derive(Clone, Debug)]
pub struct LoadSettings {
    pub operands: Vec<PathBuf>,
    pub discover: DiscoverOptions,
    pub output: PathBuf,
    pub writer: WriterOptions,
    pub threads: usize,
    pub force: bool,
    /// Add to an existing output instead of creating one.
    pub append: bool,
    /// `--chunk-rows` and `--compression` as given, if given (append checks them).
    pub explicit_storage: (Option<usize>, Option<Compression>),
    pub quiet: bool,
    pub json: bool,
    pub piece_bytes: u64,
    pub buffer_rows: usize,
    pub buffers: usize,
    pub spill: SpillPolicy,
    pub shard: Option<Shard>,
    pub command_line: String,
    /// `--format`, or the column format of `--columns`.
    pub format: FormatChoice,
    pub filters: Filters,
    /// Whether `--context` and `--mod-code` were given (a filter given for files that lack
    /// its column is an error; the defaults apply where they can).
    pub explicit_filters: ExplicitFilters,
}

/// When units ahead of the writer spill their records to disk (see
/// [`crate::pipeline::buffer`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpillPolicy {
    /// Only while the writer waits for the workers.
    Auto,
    /// Whenever a unit ahead of the writer finds no free buffer (tests and measurements).
    Always,
}

impl From<SpillFlag> for SpillPolicy {
    fn from(flag: SpillFlag) -> Self {
        match flag {
            SpillFlag::Auto => SpillPolicy::Auto,
            SpillFlag::Always => SpillPolicy::Always,
        }
    }
}

/// Which filters were asked for on the command line.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExplicitFilters {
    pub context: bool,
    pub mod_code: bool,
}

impl LoadSettings {
    pub fn from_args(args: LoadArgs, command_line: String) -> Result<Self> {
        // Checked in this order, so that of several bad flags the same one is named first.
        let threads = resolve_threads(args.threads)?;
        let schema = parse_schema(&args)?;
        let format = parse_format(&args.format, args.columns.as_deref(), args.skip_lines)?;
        let (filters, explicit_filters) = parse_row_filters(&args)?;
        let (writer, explicit_compression) = parse_writer(&args, schema)?;
        let glob = parse_glob(args.glob.as_deref())?;
        check_sizes(&args)?;
        let shard = args
            .shard
            .as_deref()
            .map(|spec| Shard::parse(spec, environment::variable))
            .transpose()?;
        environment::install_kernel(environment::variable);
        Ok(Self {
            operands: args.inputs,
            discover: DiscoverOptions {
                recursive: args.recursive,
                glob,
                // A re-run of an append finds its own output among the inputs; any other
                // load refuses an output that is also an input.
                exclude: args.append.then(|| args.output.output.clone()),
            },
            output: args.output.output,
            writer,
            append: args.append,
            explicit_storage: (args.chunk_rows, explicit_compression),
            threads,
            force: args.output.force,
            quiet: args.output.quiet,
            json: args.output.json,
            piece_bytes: args.piece_bytes,
            buffer_rows: args.buffer_rows,
            buffers: args.buffers.unwrap_or(defaults::buffers(threads)),
            spill: SpillPolicy::from(args.spill),
            shard,
            command_line,
            format,
            filters,
            explicit_filters,
        })
    }
}

/// The record: `--chr-width`, `--wide-pos` and `--extra`.
fn parse_schema(args: &LoadArgs) -> Result<Schema> {
    let shape = parse_extras(&args.extra, args.wide_pos)?;
    Schema::with_shape(args.chr_width, shape)
        .map_err(|error| Error::usage(format!("--chr-width: {error}")))
}

/// `--context` and `--mod-code`, and whether each was asked for.
fn parse_row_filters(args: &LoadArgs) -> Result<(Filters, ExplicitFilters)> {
    let explicit = ExplicitFilters {
        context: args
            .context
            .as_deref()
            .is_some_and(|context| context != "all"),
        mod_code: args.mod_code.as_deref().is_some_and(|codes| codes != "all"),
    };
    let filters = parse_filters(args.context.as_deref(), args.mod_code.as_deref())?;
    Ok((filters, explicit))
}

/// The output dataset: `--chunk-rows`, `--compression` (also returned as given, if given)
/// and `--dataset`.
fn parse_writer(args: &LoadArgs, schema: Schema) -> Result<(WriterOptions, Option<Compression>)> {
    // Every read decodes whole chunks, so a chunk's size sizes the readers' buffers: the
    // readers refuse a chunk of more than MAX_CHUNK_BYTES that its rows do not fill (a
    // crafted shape), and a load never writes a chunk its own readers could refuse. The
    // bound also keeps a chunk under HDF5's 4 GiB and blosc's 2 GiB.
    let chunk_rows = args.chunk_rows.unwrap_or(defaults::CHUNK_ROWS);
    let max_rows = defaults::MAX_CHUNK_BYTES as usize / schema.record_size();
    if chunk_rows == 0 || chunk_rows > max_rows {
        return Err(Error::usage(format!(
            "--chunk-rows must be at least 1 and make chunks of at most {} MiB ({max_rows} \
             rows of {} bytes), not {chunk_rows}",
            defaults::MAX_CHUNK_BYTES >> 20,
            schema.record_size()
        )));
    }
    let compression = args
        .compression
        .as_deref()
        .map(parse_compression)
        .transpose()?;
    let dataset = validate_dataset_name(&args.dataset)?;
    let writer = WriterOptions {
        dataset,
        schema,
        chunk_rows,
        compression: match compression {
            Some(compression) => compression,
            None => default_compression(),
        },
    };
    Ok((writer, compression))
}

/// `--glob`, matched against paths with `/` taken literally.
fn parse_glob(pattern: Option<&str>) -> Result<Option<globset::GlobMatcher>> {
    pattern
        .map(|pattern| {
            GlobBuilder::new(pattern)
                .literal_separator(true)
                .build()
                .map(|glob| glob.compile_matcher())
                .map_err(|error| Error::usage(format!("--glob {pattern:?}: {error}")))
        })
        .transpose()
}

/// `--piece-bytes`, `--buffer-rows` and `--buffers` are positive.
fn check_sizes(args: &LoadArgs) -> Result<()> {
    if args.piece_bytes == 0 || args.buffer_rows == 0 || args.buffers == Some(0) {
        return Err(Error::usage(
            "--piece-bytes, --buffer-rows and --buffers must be positive",
        ));
    }
    Ok(())
}

fn parse_format(
    name: &str,
    columns: Option<&str>,
    skip_lines: Option<u64>,
) -> Result<FormatChoice> {
    if let Some(spec) = columns {
        return ColumnFormat::from_spec(spec, skip_lines.unwrap_or(0))
            .map(FormatChoice::Columns)
            .map_err(|why| Error::usage(format!("--columns: {why}")));
    }
    if name == "auto" {
        return Ok(FormatChoice::Auto);
    }
    Preset::from_name(name)
        .map(FormatChoice::Preset)
        .ok_or_else(|| {
            Error::usage(format!(
                "--format {name:?}: expected auto or one of {} (or --columns SPEC for another \
                 column format)",
                Preset::ALL.map(Preset::name).join(", ")
            ))
        })
}

fn parse_filters(context: Option<&str>, mod_code: Option<&str>) -> Result<Filters> {
    let mut filters = Filters::default();
    if let Some(context) = context {
        filters.context = ContextFilter::parse(context).ok_or_else(|| {
            Error::usage(format!(
                "--context {context:?}: expected CG, CHG, CHH, CH (CHG and CHH) or all"
            ))
        })?;
    }
    if let Some(codes) = mod_code {
        filters.mod_codes = if codes == "all" {
            None
        } else {
            let codes: Vec<Vec<u8>> = codes
                .split(',')
                .map(|code| code.trim().as_bytes().to_vec())
                .collect();
            if codes
                .iter()
                .any(|code| code.is_empty() || code.contains(&b' '))
            {
                return Err(Error::usage(format!(
                    "--mod-code {codes:?}: expected a comma list of codes such as m,h or \
                     m,C,17596, or all"
                )));
            }
            Some(codes)
        };
    }
    Ok(filters)
}

fn parse_extras(extras: &[String], wide_pos: bool) -> Result<Shape> {
    let mut shape = Shape {
        wide_pos,
        ..Shape::default()
    };
    for extra in extras {
        match extra.trim() {
            "strand" => shape.strand = true,
            "context" => shape.context = true,
            other => {
                return Err(Error::usage(format!(
                    "--extra {other:?}: the extra fields are strand and context"
                )))
            }
        }
    }
    Ok(shape)
}

/// A validated `merge` command.
#[derive(Clone, Debug)]
pub struct MergeSettings {
    pub parts: Vec<PathBuf>,
    pub output: PathBuf,
    pub force: bool,
    pub quiet: bool,
    pub json: bool,
    pub virtual_dataset: bool,
    pub threads: usize,
    pub command_line: String,
}

impl MergeSettings {
    pub fn from_args(args: MergeArgs, command_line: String) -> Result<Self> {
        Ok(Self {
            parts: args.parts,
            output: args.output.output,
            force: args.output.force,
            quiet: args.output.quiet,
            json: args.output.json,
            virtual_dataset: args.virtual_dataset,
            threads: resolve_threads(args.threads)?,
            command_line,
        })
    }
}

/// The most threads `-j` may ask for (the `-j` help of every command says so). Each thread
/// costs a stack, buffers and a share of every pool's bookkeeping whether or not it has
/// work, and `-j 100000` ran past a minute on a 470 KB file. A fixed number, not a multiple
/// of the CPUs: the same command line means the same thing on every node of a cluster, and
/// 1024 is above the hardware threads of today's largest single machines, so no machine
/// is left with CPUs it cannot use.
pub const MAX_THREADS: usize = 1024;

pub(crate) fn resolve_threads(threads: Option<usize>) -> Result<usize> {
    match threads {
        Some(0) => Err(Error::usage("--threads must be at least 1")),
        Some(threads) if threads > MAX_THREADS => Err(Error::usage(format!(
            "--threads {threads}: at most {MAX_THREADS} threads; use at most one per CPU \
             (this machine offers {})",
            available_cpus()
        ))),
        Some(threads) => Ok(threads),
        None => Ok(available_cpus().min(MAX_THREADS)),
    }
}

/// The CPUs this process may use (its affinity mask and cgroup quota), at least 1.
fn available_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The compression of a new output when `--compression` is not given (load and matrix).
pub fn default_compression() -> Compression {
    parse_compression(defaults::COMPRESSION).expect("the default spec is valid")
}

/// `none`, `gzip` (level 4), `gzip:LEVEL`, `zstd` (level 3), `zstd:LEVEL`, `lz4`, `blosc`
/// (see [`defaults::BLOSC`]), `blosc:zstd` (blosc level 1), `blosc:zstd:LEVEL` or
/// `blosc:lz4`.
pub fn parse_compression(spec: &str) -> Result<Compression> {
    let invalid = || {
        Error::usage(format!(
            "--compression {spec:?}: expected none, gzip, gzip:LEVEL (1 to 9), zstd, \
             zstd:LEVEL (1 to 22), lz4, blosc, blosc:zstd, blosc:zstd:LEVEL (1 to 9) or \
             blosc:lz4"
        ))
    };
    let level = |text: &str, levels: std::ops::RangeInclusive<u8>| {
        text.parse::<u8>()
            .ok()
            .filter(|level| levels.contains(level))
            .ok_or_else(invalid)
    };
    match spec.split_once(':') {
        None if spec == "none" => Ok(Compression::None),
        None if spec == "gzip" => Ok(Compression::Gzip(defaults::GZIP_LEVEL)),
        None if spec == "zstd" => Ok(Compression::Zstd(defaults::ZSTD_LEVEL)),
        None if spec == "lz4" => Ok(Compression::Lz4),
        None if spec == "blosc" => parse_compression(defaults::BLOSC),
        Some(("gzip", text)) => level(text, 1..=9).map(Compression::Gzip),
        Some(("zstd", text)) => level(text, 1..=22).map(Compression::Zstd),
        Some(("blosc", "lz4")) => Ok(Compression::Blosc(BloscCodec::Lz4, blosc::LZ4_LEVEL)),
        Some(("blosc", "zstd")) => Ok(Compression::Blosc(BloscCodec::Zstd, defaults::BLOSC_LEVEL)),
        Some(("blosc", codec_level)) => match codec_level.split_once(':') {
            Some(("zstd", text)) => {
                level(text, 1..=9).map(|level| Compression::Blosc(BloscCodec::Zstd, level))
            }
            Some(("lz4", _)) => Err(Error::usage(format!(
                "--compression {spec:?}: blosc:lz4 takes no level (txt2h5's lz4 has one \
                 speed, blosc's level 9)"
            ))),
            _ => Err(invalid()),
        },
        _ => Err(invalid()),
    }
}

fn validate_dataset_name(name: &str) -> Result<String> {
    let trimmed = name.trim_start_matches('/');
    if trimmed.is_empty()
        || trimmed.ends_with('/')
        || trimmed.contains("//")
        || trimmed.contains('\0')
    {
        return Err(Error::usage(format!(
            "--dataset {name:?}: expected a dataset name such as data or calls/cpg"
        )));
    }
    let top = trimmed.split('/').next().unwrap_or_default();
    if let Some((_, what)) = RESERVED_NAMES.iter().find(|(name, _)| *name == top) {
        return Err(Error::usage(format!(
            "--dataset {name}: the name /{top} is reserved for {what}, which txt2h5 writes \
             beside the dataset; choose another name, such as data or calls/cpg"
        )));
    }
    Ok(trimmed.to_string())
}

/// The top-level names txt2h5 writes beside the dataset of a study, and what they hold: a
/// `--dataset` at or below one of them would collide with it (HDF5's "name already
/// exists", or a table nested in the dataset's place).
const RESERVED_NAMES: [(&str, &str); 2] = [
    ("sources", "the /sources table"),
    ("index", "the position index (/index/runs, /index/anchors)"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compression_specs() {
        assert_eq!(parse_compression("none").unwrap(), Compression::None);
        assert_eq!(parse_compression("gzip").unwrap(), Compression::Gzip(4));
        assert_eq!(parse_compression("gzip:9").unwrap(), Compression::Gzip(9));
        assert_eq!(parse_compression("zstd").unwrap(), Compression::Zstd(3));
        assert_eq!(parse_compression("zstd:1").unwrap(), Compression::Zstd(1));
        assert_eq!(parse_compression("zstd:22").unwrap(), Compression::Zstd(22));
        assert_eq!(parse_compression("lz4").unwrap(), Compression::Lz4);
        let zstd = |level| Compression::Blosc(BloscCodec::Zstd, level);
        assert_eq!(parse_compression("blosc").unwrap(), zstd(1));
        assert_eq!(parse_compression("blosc:zstd").unwrap(), zstd(1));
        assert_eq!(parse_compression("blosc:zstd:9").unwrap(), zstd(9));
        assert_eq!(
            parse_compression("blosc:lz4").unwrap(),
            Compression::Blosc(BloscCodec::Lz4, 9)
        );
        for spec in [
            "blosc:zstd:0",
            "blosc:zstd:10",
            "blosc:lz4:3",
            "blosc:zlib",
            "blosc:",
        ] {
            assert!(parse_compression(spec).is_err(), "{spec}");
        }
        // What a file's compression prints as parses back to it.
        for spec in [
            "blosc:zstd:4",
            "blosc:lz4",
            "zstd:7",
            "gzip:2",
            "lz4",
            "none",
        ] {
            assert_eq!(parse_compression(spec).unwrap().to_string(), spec);
        }
        for bad in [
            "gzip:0", "gzip:10", "gzip:", "lzf", "", "none:1", "gzip:x", "zstd:0", "zstd:23",
            "zstd:-1", "lz4:1", "ZSTD",
        ] {
            assert!(parse_compression(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn threads_are_bounded() {
        assert_eq!(resolve_threads(Some(1)).unwrap(), 1);
        assert_eq!(resolve_threads(Some(MAX_THREADS)).unwrap(), MAX_THREADS);
        let default = resolve_threads(None).unwrap();
        assert!((1..=MAX_THREADS).contains(&default));
        for bad in [0, MAX_THREADS + 1, usize::MAX] {
            let error = resolve_threads(Some(bad)).unwrap_err();
            assert_eq!(error.exit_code(), crate::error::exit_code::USAGE, "{bad}");
        }
        // Every command's -j help states the bound.
        use clap::CommandFactory;
        let cli = crate::cli::Cli::command();
        let mut with_threads = 0;
        for command in cli.get_subcommands() {
            for arg in command
                .get_arguments()
                .filter(|arg| arg.get_id() == "threads")
            {
                let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
                assert!(
                    help.contains(&format!("at most {MAX_THREADS}")),
                    "{}: {help}",
                    command.get_name()
                );
                with_threads += 1;
            }
        }
        assert_eq!(with_threads, 4, "load, merge, export and matrix take -j");
    }

    #[test]
    fn dataset_names() {
        assert_eq!(validate_dataset_name("/calls/cpg").unwrap(), "calls/cpg");
        // Only the top-level name is reserved: these hold no table of txt2h5's.
        for good in ["indexes", "calls/index", "sources2", "my/sources"] {
            assert_eq!(validate_dataset_name(good).unwrap(), good);
        }
        for bad in [
            "",
            "/",
            "a//b",
            "a/",
            "sources",
            "/sources",
            "sources/x",
            "index",
            "index/runs",
            "/index/anchors",
            "index/x/y",
        ] {
            assert!(validate_dataset_name(bad).is_err(), "{bad}");
        }
    }
}
