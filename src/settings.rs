//! Flags become one validated settings value before any work starts.
//!
//! Every default, range and cross-flag rule lives here; nothing deeper in the code reads
//! raw flags.

use std::path::PathBuf;

use globset::GlobBuilder;

use crate::cli::{LoadArgs, MergeArgs};
use crate::defaults;
use crate::error::{Error, Result};
use crate::input::discover::DiscoverOptions;
use crate::input::shard::Shard;
use crate::output::h5::{Compression, WriterOptions};
use crate::schema::Schema;

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
    pub explicit_layout: (Option<usize>, Option<Compression>),
    pub quiet: bool,
    pub json: bool,
    pub piece_bytes: u64,
    pub buffer_rows: usize,
    pub buffers: usize,
    pub shard: Option<Shard>,
    pub command_line: String,
}

impl LoadSettings {
    pub fn from_args(args: LoadArgs, command_line: String) -> Result<Self> {
        let threads = resolve_threads(args.threads)?;
        let schema = Schema::new(args.chr_width)
            .map_err(|error| Error::usage(format!("--chr-width: {error}")))?;
        // HDF5 limits a chunk to 4 GiB; far smaller chunks read and compress better anyway.
        let chunk_rows = args.chunk_rows.unwrap_or(defaults::CHUNK_ROWS);
        if chunk_rows == 0 || chunk_rows.saturating_mul(schema.record_size()) >= 1 << 32 {
            return Err(Error::usage(format!(
                "--chunk-rows must be at least 1 and make chunks under 4 GiB, not {chunk_rows}"
            )));
        }
        let compression = args
            .compression
            .as_deref()
            .map(parse_compression)
            .transpose()?;
        let dataset = validate_dataset_name(&args.dataset)?;
        let glob = args
            .glob
            .as_deref()
            .map(|pattern| {
                GlobBuilder::new(pattern)
                    .literal_separator(true)
                    .build()
                    .map(|glob| glob.compile_matcher())
                    .map_err(|error| Error::usage(format!("--glob {pattern:?}: {error}")))
            })
            .transpose()?;
        if args.piece_bytes == 0 || args.buffer_rows == 0 || args.buffers == Some(0) {
            return Err(Error::usage(
                "--piece-bytes, --buffer-rows and --buffers must be positive",
            ));
        }
        Ok(Self {
            operands: args.inputs,
            discover: DiscoverOptions {
                recursive: args.recursive,
                glob,
            },
            output: args.output.output,
            writer: WriterOptions {
                dataset,
                schema,
                chunk_rows,
                compression: match compression {
                    Some(compression) => compression,
                    None => parse_compression(defaults::COMPRESSION)?,
                },
            },
            append: args.append,
            explicit_layout: (args.chunk_rows, compression),
            threads,
            force: args.output.force,
            quiet: args.output.quiet,
            json: args.output.json,
            piece_bytes: args.piece_bytes,
            buffer_rows: args.buffer_rows,
            buffers: args.buffers.unwrap_or(defaults::buffers(threads)),
            shard: args
                .shard
                .as_deref()
                .map(|spec| Shard::parse(spec, |name| std::env::var(name).ok()))
                .transpose()?,
            command_line,
        })
    }
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

fn resolve_threads(threads: Option<usize>) -> Result<usize> {
    match threads {
        Some(0) => Err(Error::usage("--threads must be at least 1")),
        Some(threads) => Ok(threads),
        None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
    }
}

/// `none`, `gzip` (level 4) or `gzip:LEVEL`.
pub fn parse_compression(spec: &str) -> Result<Compression> {
    let invalid = || {
        Error::usage(format!(
            "--compression {spec:?}: expected none, gzip or gzip:LEVEL with LEVEL 1 to 9"
        ))
    };
    match spec.split_once(':') {
        None if spec == "none" => Ok(Compression::None),
        None if spec == "gzip" => Ok(Compression::Gzip(defaults::GZIP_LEVEL)),
        Some(("gzip", level)) => match level.parse::<u8>() {
            Ok(level @ 1..=9) => Ok(Compression::Gzip(level)),
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
    if trimmed == "sources" {
        return Err(Error::usage(
            "--dataset sources: that name is reserved for the /sources table",
        ));
    }
    Ok(trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compression_specs() {
        assert_eq!(parse_compression("none").unwrap(), Compression::None);
        assert_eq!(parse_compression("gzip").unwrap(), Compression::Gzip(4));
        assert_eq!(parse_compression("gzip:9").unwrap(), Compression::Gzip(9));
        for bad in ["gzip:0", "gzip:10", "gzip:", "lzf", "", "none:1", "gzip:x"] {
            assert!(parse_compression(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dataset_names() {
        assert_eq!(validate_dataset_name("/calls/cpg").unwrap(), "calls/cpg");
        for bad in ["", "/", "a//b", "a/", "sources"] {
            assert!(validate_dataset_name(bad).is_err(), "{bad}");
        }
    }
}
