//! `txt2h5 load`: discover the inputs, run the pipeline into a temporary file, write the
//! metadata, and rename the file into place.

use std::time::Instant;

use crate::checksum::HashingReader;
use crate::discover::{discover, Input};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::h5::{ExistingOutput, OutputWriter, RunInfo, SourceRow, WriterOptions};
use crate::output::{check_target, PendingOutput};
use crate::pipeline::{self, PipelineOptions};
use crate::plan::plan;
use crate::progress::Progress;
use crate::report::{LoadReport, SourceReport};
use crate::settings::LoadSettings;
use crate::signals::Interrupt;

pub fn load(settings: &LoadSettings, interrupt: &Interrupt) -> Result<LoadReport> {
    let started = Instant::now();
    // With --append an existing output is expected; it is replaced only by the rename.
    let replace = settings.force || settings.append;
    check_target(&settings.output, replace)?;
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
    let existing = if settings.append && settings.output.exists() {
        Some(open_for_append(settings)?)
    } else {
        None
    };
    let (inputs, skipped) = match &existing {
        Some(existing) => split_already_loaded(inputs, existing)?,
        None => (inputs, Vec::new()),
    };
    if let (Some(existing), true) = (&existing, inputs.is_empty()) {
        // Nothing new: the output stays exactly as it is.
        return Ok(LoadReport::unchanged(
            settings,
            existing,
            skipped,
            started.elapsed().as_secs_f64(),
        ));
    }
    let writer_options = match &existing {
        Some(existing) => WriterOptions {
            dataset: existing.dataset_name.clone(),
            schema: existing.schema,
            chunk_rows: existing.chunk_rows,
            compression: existing.compression.expect("checked by open_for_append"),
        },
        None => settings.writer.clone(),
    };
    let formats = inputs
        .iter()
        .map(|input| Format::detect(&input.path))
        .collect::<Result<Vec<_>>>()?;
    let plan = plan(&inputs, &formats, settings.piece_bytes)?;
    let total_bytes = inputs.iter().map(|input| input.size).sum();

    let pending = PendingOutput::new(&settings.output, replace)?;
    let hdf5_error = |source| Error::Hdf5 {
        path: settings.output.clone(),
        source,
    };
    let mut writer = OutputWriter::create(pending.path(), &writer_options).map_err(hdf5_error)?;
    let progress = Progress::new(!settings.quiet, total_bytes);
    let options = PipelineOptions {
        output: &settings.output,
        threads: settings.threads,
        buffer_rows: settings.buffer_rows,
        buffers: settings.buffers,
        schema: writer_options.schema,
        chunk_rows: writer_options.chunk_rows,
        compression: writer_options.compression,
        prefix: existing.as_ref(),
    };
    let result = pipeline::run(&inputs, &plan, options, &mut writer, &progress, interrupt);
    progress.finish();
    let pipeline = result?;
    let tallies = pipeline.tallies;
    let rows: u64 = tallies.iter().map(|tally| tally.rows).sum();
    let existing_rows = existing.as_ref().map_or(0, |existing| existing.rows);

    let paths: Vec<String> = inputs
        .iter()
        .map(|input| input.path.to_string_lossy().into_owned())
        .collect();
    let earlier_sources = existing
        .iter()
        .flat_map(|existing| existing.sources.iter().cloned());
    let sources: Vec<SourceRow> = earlier_sources
        .chain(
            inputs
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
                }),
        )
        .collect();
    let info = RunInfo {
        command_line: settings.command_line.clone(),
        created: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        schema: writer_options.schema.describe(),
        dataset: writer_options.dataset.clone(),
        compression: writer_options.compression.to_string(),
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
        dataset: writer_options.dataset.clone(),
        files: inputs.len(),
        rows,
        total_rows: existing_rows + rows,
        skipped,
        bytes: total_bytes,
        seconds,
        rows_per_second: if seconds > 0.0 {
            rows as f64 / seconds
        } else {
            0.0
        },
        threads: settings.threads,
        compression: writer_options.compression.to_string(),
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

/// Opens the output an append adds to and checks that this command fits it.
fn open_for_append(settings: &LoadSettings) -> Result<ExistingOutput> {
    let output = &settings.output;
    let existing = ExistingOutput::open(output)
        .map_err(|error| Error::usage(format!("{}: cannot append: {error}", output.display())))?;
    let mismatch = |what: String| {
        Error::usage(format!(
            "{}: cannot append: {what}; repeat the options of the load that made it",
            output.display()
        ))
    };
    if existing.dataset_name != settings.writer.dataset {
        return Err(mismatch(format!(
            "its dataset is {:?}, this command writes {:?} (--dataset)",
            existing.dataset_name, settings.writer.dataset
        )));
    }
    if existing.schema != settings.writer.schema {
        return Err(mismatch(format!(
            "its chr field is {} bytes, this command's is {} (--chr-width)",
            existing.schema.chr_width(),
            settings.writer.schema.chr_width()
        )));
    }
    let Some(compression) = existing.compression else {
        return Err(mismatch(
            "its filters are not ones txt2h5 writes".to_string(),
        ));
    };
    let (chunk_rows, explicit_compression) = settings.explicit_layout;
    if chunk_rows.is_some_and(|rows| rows != existing.chunk_rows) {
        return Err(mismatch(format!(
            "its chunks are {} rows (--chunk-rows)",
            existing.chunk_rows
        )));
    }
    if explicit_compression.is_some_and(|given| given != compression) {
        return Err(mismatch(format!(
            "its compression is {compression} (--compression)"
        )));
    }
    Ok(existing)
}

/// Splits the inputs into those to load and those the output already holds (same path,
/// size and checksum). A recorded path whose content changed is an error: loading it again
/// would duplicate or contradict rows.
fn split_already_loaded(
    inputs: Vec<Input>,
    existing: &ExistingOutput,
) -> Result<(Vec<Input>, Vec<String>)> {
    let mut new = Vec::new();
    let mut skipped = Vec::new();
    for input in inputs {
        let path = input.path.to_string_lossy().into_owned();
        let Some(recorded) = existing
            .sources
            .iter()
            .find(|row| row.path.as_str() == path)
        else {
            new.push(input);
            continue;
        };
        let checksum = if recorded.size == input.size {
            Some(file_checksum(&input)?)
        } else {
            None
        };
        let recorded_checksum = recorded.xxh3_128.as_str();
        if checksum.as_deref() != Some(recorded_checksum) {
            return Err(Error::BadInput {
                path: input.path.clone(),
                message: format!(
                    "changed since it was loaded into {} (then {} bytes, xxh3_128 {recorded_checksum}; \
                     now {} bytes{}); load changed files into a new output",
                    existing.path.display(),
                    recorded.size,
                    input.size,
                    checksum.map(|sum| format!(", xxh3_128 {sum}")).unwrap_or_default()
                ),
            });
        }
        skipped.push(path);
    }
    Ok((new, skipped))
}

/// XXH3-128 of a file's bytes, as recorded in `/sources`.
fn file_checksum(input: &Input) -> Result<String> {
    let file = std::fs::File::open(&input.path).map_err(|error| Error::io(&input.path, error))?;
    let mut reader = HashingReader::new(file);
    let mut scratch = vec![0; 1 << 20];
    reader
        .finish(&mut scratch)
        .map_err(|error| Error::io(&input.path, error))?;
    Ok(format!("{:032x}", reader.digest()))
}
