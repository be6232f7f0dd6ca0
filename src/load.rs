//! `txt2h5 load`: discover the inputs, run the pipeline into a temporary file, write the
//! metadata, and rename the file into place.

use std::time::Instant;

use crate::discover::{discover, Input};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::h5::{Compression, OutputWriter, RunInfo, SourceRow};
use crate::output::{check_target, PendingOutput};
use crate::pipeline::{self, PipelineOptions};
use crate::plan::plan;
use crate::progress::Progress;
use crate::report::{LoadReport, SourceReport};
use crate::settings::LoadSettings;
use crate::signals::Interrupt;

pub fn load(settings: &LoadSettings, interrupt: &Interrupt) -> Result<LoadReport> {
    let started = Instant::now();
    check_target(&settings.output, settings.force)?;
    let all_inputs = discover(&settings.operands, &settings.discover)?;
    let input_set = input_set(&all_inputs);
    let inputs = match settings.shard {
        Some(shard) => shard.select(all_inputs),
        None => all_inputs,
    };
    if let Ok(metadata) = std::fs::metadata(&settings.output) {
        if let Some(input) = inputs.iter().find(|input| input.is_same_file(&metadata)) {
            return Err(Error::usage(format!(
                "{}: the output file is also an input; write the output elsewhere",
                input.path.display()
            )));
        }
    }
    let formats = inputs
        .iter()
        .map(|input| Format::detect(&input.path))
        .collect::<Result<Vec<_>>>()?;
    let plan = plan(&inputs, &formats, settings.piece_bytes);
    let total_bytes = inputs.iter().map(|input| input.size).sum();

    let pending = PendingOutput::new(&settings.output, settings.force)?;
    let hdf5_error = |source| Error::Hdf5 {
        path: settings.output.clone(),
        source,
    };
    let mut writer = OutputWriter::create(pending.path(), &settings.writer).map_err(hdf5_error)?;
    let progress = Progress::new(!settings.quiet, total_bytes);
    let options = PipelineOptions {
        output: &settings.output,
        threads: settings.threads,
        buffer_rows: settings.buffer_rows,
        buffers: settings.buffers,
        schema: settings.writer.schema,
        chunk_rows: settings.writer.chunk_rows,
        gzip_level: match settings.writer.compression {
            Compression::None => None,
            Compression::Gzip(level) => Some(level),
        },
    };
    let tallies = pipeline::run(&inputs, &plan, options, &mut writer, &progress, interrupt);
    progress.finish();
    let pipeline = tallies?;
    let tallies = pipeline.tallies;
    let rows = tallies.iter().map(|tally| tally.rows).sum();

    let paths: Vec<String> = inputs
        .iter()
        .map(|input| input.path.to_string_lossy().into_owned())
        .collect();
    let sources: Vec<SourceRow> = inputs
        .iter()
        .zip(&tallies)
        .zip(&paths)
        .map(|((input, tally), path)| {
            SourceRow::new(
                path,
                input.size,
                input.mtime_ns,
                tally.checksum,
                tally.first_row,
                tally.rows,
            )
        })
        .collect();
    let info = RunInfo {
        command_line: settings.command_line.clone(),
        created: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        schema: settings.writer.schema.describe(),
        dataset: settings.writer.dataset.clone(),
        compression: settings.writer.compression.to_string(),
        shard: settings.shard.map(|shard| shard.to_string()),
        input_set,
    };
    writer.finish(&sources, &info).map_err(hdf5_error)?;
    if let Some(signal) = interrupt.received() {
        return Err(Error::Interrupted { signal });
    }
    pending.commit()?;

    let seconds = started.elapsed().as_secs_f64();
    Ok(LoadReport {
        output: settings.output.to_string_lossy().into_owned(),
        dataset: settings.writer.dataset.clone(),
        files: inputs.len(),
        rows,
        bytes: total_bytes,
        seconds,
        rows_per_second: if seconds > 0.0 {
            rows as f64 / seconds
        } else {
            0.0
        },
        threads: settings.threads,
        compression: settings.writer.compression.to_string(),
        spilled_bytes: pipeline.spilled_bytes,
        sources: inputs
            .iter()
            .zip(&tallies)
            .zip(paths)
            .zip(&formats)
            .map(|(((input, tally), path), format)| SourceReport {
                path,
                format: format.name(),
                bytes: input.size,
                first_row: tally.first_row,
                rows: tally.rows,
                xxh3_128: format!("{:032x}", tally.checksum),
            })
            .collect(),
    })
}

/// XXH3-128 over every input's path and size, in load order, before sharding: parts of the
/// same sharded load share it.
fn input_set(inputs: &[Input]) -> String {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    for input in inputs {
        hasher.update(input.path.as_os_str().as_encoded_bytes());
        hasher.update(&[0]);
        hasher.update(&input.size.to_le_bytes());
    }
    format!("{:032x}", hasher.digest128())
}
