//! `txt2h5 merge`: the parts of a sharded load (or any txt2h5 outputs of one schema)
//! become one dataset and one `/sources` table, in shard order.
//!
//! Parts that carry a `shard` attribute are ordered by it and must form a complete set
//! `1/N..N/N` of one load (same `input_set`); parts without one are merged in the order
//! given. The schema (dataset name, record type) must match. Where the next merged row
//! starts a chunk and a part's chunk size and filters equal the output's, its full chunks
//! are copied as stored (`H5Dread_chunk` / `H5Dwrite_chunk`), not inflated and deflated
//! again, once their checksum is checked (see [`crate::output::copy`]); other rows go
//! through the normal chunker. With `--virtual` the output holds an
//! HDF5 virtual dataset that maps the parts' data instead of a copy.

mod parts;

use std::path::{Component, Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::h5::{ExistingOutput, OutputWriter, RunInfo, SourceRow, WriterOptions};
use crate::index::build::IndexBuilder;
use crate::index::PositionIndex;
use crate::ordered::thread_pool;
use crate::output::chunker::Chunker;
use crate::output::copy::{copy_rows, index_of, Copied, CopyTarget};
use crate::output::pending::OutputClaim;
use crate::progress::group_thousands;
use crate::settings::MergeSettings;
use crate::signals::Interrupt;
use parts::{open_parts, order_parts, refuse_shared_sources};

#[derive(Debug, Serialize)]
pub struct MergeReport {
    pub output: String,
    pub dataset: String,
    pub parts: Vec<String>,
    pub rows: u64,
    pub files: usize,
    pub seconds: f64,
    pub virtual_dataset: bool,
    /// Chunks copied as stored, without decompressing.
    pub copied_chunks: u64,
    /// Rows read and re-chunked (parts not aligned to the output's chunks).
    pub rechunked_rows: u64,
}

impl MergeReport {
    pub fn summary_line(&self) -> String {
        format!(
            "merged {} part{}, {} files, {} rows in {:.2} s ({} chunks copied as stored{}) -> {}:/{}",
            self.parts.len(),
            if self.parts.len() == 1 { "" } else { "s" },
            self.files,
            group_thousands(self.rows),
            self.seconds,
            self.copied_chunks,
            if self.virtual_dataset { ", virtual" } else { "" },
            self.output,
            self.dataset
        )
    }
}

pub fn merge(settings: &MergeSettings, interrupt: &Interrupt) -> Result<MergeReport> {
    let started = Instant::now();
    // Parts first: an output that is also a part is refused as such, not as an existing
    // file that --force would replace (it would not).
    let parts = open_parts(&settings.parts, &settings.output)?;
    let claim = OutputClaim::new(&settings.output, settings.force, false)?;
    let parts = order_parts(parts)?;
    refuse_shared_sources(&parts)?;
    let options = parts[0].writer_options();
    let (sources, rows) = rebased_sources(&parts);
    let pending = claim.into_pending()?;
    let hdf5_error = |source| Error::hdf5(&settings.output, source);
    let (writer, copied, index) = if settings.virtual_dataset {
        let writer = write_virtual(&parts, &options, pending.path(), &settings.output)?;
        let index = virtual_index(&parts, interrupt)?;
        (writer, Copied::default(), index)
    } else {
        let mut writer = OutputWriter::create(pending.path(), &options).map_err(hdf5_error)?;
        let (copied, index) = copy_parts(&parts, &options, &mut writer, settings, interrupt)?;
        (writer, copied, index)
    };
    let info = RunInfo {
        command_line: settings.command_line.clone(),
        created: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        schema: options.schema.describe(
            sources
                .iter()
                .any(|source| !matches!(source.format.as_str(), "native" | "empty")),
        ),
        dataset: options.dataset.clone(),
        compression: options.compression.to_string(),
        shard: None,
        input_set: common_input_set(&parts),
    };
    writer.finish(&sources, &index, &info).map_err(hdf5_error)?;
    if let Some(signal) = interrupt.received() {
        return Err(Error::Interrupted { signal });
    }
    pending.commit()?;
    Ok(MergeReport {
        output: settings.output.to_string_lossy().into_owned(),
        dataset: options.dataset,
        parts: parts
            .iter()
            .map(|part| part.study.path.to_string_lossy().into_owned())
            .collect(),
        rows,
        files: sources.len(),
        seconds: started.elapsed().as_secs_f64(),
        virtual_dataset: settings.virtual_dataset,
        copied_chunks: copied.stored_chunks,
        rechunked_rows: copied.rechunked_rows,
    })
}

/// Every part's `/sources` rows, their `first_row` moved to where the part's rows land in
/// the merged dataset; and the merged row count.
fn rebased_sources(parts: &[ExistingOutput]) -> (Vec<SourceRow>, u64) {
    let mut sources = Vec::new();
    let mut base = 0u64;
    for part in parts {
        for source in &part.study.sources {
            let mut source = source.clone();
            source.first_row += base;
            sources.push(source);
        }
        base += part.study.rows;
    }
    (sources, base)
}

/// The parts' rows copied into `writer`, as stored where chunks line up, and the merged
/// position index.
fn copy_parts(
    parts: &[ExistingOutput],
    options: &WriterOptions,
    writer: &mut OutputWriter,
    settings: &MergeSettings,
    interrupt: &Interrupt,
) -> Result<(Copied, PositionIndex)> {
    let pool = thread_pool(settings.threads, "merge")?;
    let mut chunker = Chunker::for_storage(writer, options, &pool)?;
    let mut index = IndexBuilder::default();
    let mut total = Copied::default();
    let mut source_base = 0u32;
    for part in parts {
        let part_index = index_of(part, interrupt)?;
        let target = CopyTarget {
            chunker: &mut chunker,
            index: &mut index,
            compression: options.compression,
            source_base,
            output: &settings.output,
        };
        let copied = copy_rows(part, &part_index, target, interrupt)?;
        total.stored_chunks += copied.stored_chunks;
        total.rechunked_rows += copied.rechunked_rows;
        source_base += part.study.sources.len() as u32;
    }
    let anchors = chunker
        .finish()
        .map_err(|error| error.into_error(&settings.output))?;
    index.add_anchors(anchors);
    Ok((total, index.finish()))
}

/// The index of a virtual dataset over `parts`: theirs, moved to where their rows and
/// sources land. Its anchors are the parts' chunk starts, which is where reads happen.
fn virtual_index(parts: &[ExistingOutput], interrupt: &Interrupt) -> Result<PositionIndex> {
    let mut index = IndexBuilder::default();
    let (mut row_base, mut source_base) = (0u64, 0u32);
    for part in parts {
        let rebased = index_of(part, interrupt)?.rebased(row_base, source_base);
        index.add_runs(rebased.runs);
        index.add_anchors(rebased.anchors);
        row_base += part.study.rows;
        source_base += part.study.sources.len() as u32;
    }
    Ok(index.finish())
}

/// A virtual dataset over the parts, mapped by paths relative to the output's directory.
fn write_virtual(
    parts: &[ExistingOutput],
    options: &WriterOptions,
    temporary: &Path,
    output: &Path,
) -> Result<OutputWriter> {
    let mappings = parts
        .iter()
        .map(|part| {
            Ok((
                relative_to(&part.study.path, output)?,
                part.study.dataset_name.clone(),
                part.study.rows,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    OutputWriter::create_virtual(temporary, options, &mappings)
        .map_err(|source| Error::hdf5(output, source))
}

/// The `input_set` of the merged file: the parts' own when they are the shards of one
/// load (so the merged file is equivalent to that load), otherwise a note saying so.
fn common_input_set(parts: &[ExistingOutput]) -> String {
    match parts.first().map(|part| &part.study.provenance.input_set) {
        Some(Some(set))
            if parts
                .iter()
                .all(|part| part.study.provenance.input_set.as_ref() == Some(set)) =>
        {
            set.clone()
        }
        _ => "merged from parts of different loads".to_string(),
    }
}

/// `part` as a path relative to the directory of `output`, for virtual dataset mappings
/// that survive moving the files together.
fn relative_to(part: &Path, output: &Path) -> Result<String> {
    let absolute = |path: &Path| -> Result<PathBuf> {
        std::path::absolute(path).map_err(|error| Error::io(path, error))
    };
    let part = absolute(part)?;
    let output_dir = absolute(output)?
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let (part_parts, dir_parts): (Vec<Component>, Vec<Component>) = (
        part.components().collect(),
        output_dir.components().collect(),
    );
    let common = part_parts
        .iter()
        .zip(&dir_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let mut relative = PathBuf::new();
    for _ in common..dir_parts.len() {
        relative.push("..");
    }
    for component in &part_parts[common..] {
        relative.push(component);
    }
    Ok(relative.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_for_virtual_mappings() {
        assert_eq!(
            relative_to(Path::new("/a/b/part.h5"), Path::new("/a/b/out.h5")).unwrap(),
            "part.h5"
        );
        assert_eq!(
            relative_to(Path::new("/a/parts/1.h5"), Path::new("/a/final/out.h5")).unwrap(),
            "../parts/1.h5"
        );
        assert_eq!(
            relative_to(Path::new("/a/b/c/1.h5"), Path::new("/a/out.h5")).unwrap(),
            "b/c/1.h5"
        );
    }
}
