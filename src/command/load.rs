//! `txt2h5 load`: discover the inputs, run the pipeline into a temporary file, write the
//! metadata, and rename the file into place.
//!
//! The steps, in order: [`select_inputs`] (discover, shard, refuse the output as an
//! input), [`append::open`] (with `--append`: what the output already holds),
//! [`run_pipeline`] (parse and write the records into the pending file), [`finish`]
//! (`/sources` and the attributes, then the rename).

mod append;
mod formats;

use std::time::Instant;

use crate::command::report::{LoadReport, SourceReport};
use crate::error::{Error, Result};
use crate::format::filter::Skipped;
use crate::format::ColumnFormat;
use crate::h5::record_path;
use crate::h5::{ExistingOutput, OutputWriter, RunInfo, SourceFacts, SourceRow, WriterOptions};
use crate::input::discover::{discover, Input};
use crate::input::encoding::Encoding;
use crate::ordered::thread_pool;
use crate::output::pending::OutputClaim;
use crate::parse::LineParser;
use crate::pipeline::plan::{plan, LoadPlan};
use crate::pipeline::refusal::Refusal;
use crate::pipeline::worker::FileReading;
use crate::pipeline::{self, PipelineOptions, PipelineReport};
use crate::progress::Progress;
use crate::settings::LoadSettings;
use crate::signals::Interrupt;

pub fn load(settings: &LoadSettings, interrupt: &Interrupt) -> Result<LoadReport> {
    let started = Instant::now();
    // With --append an existing output is expected; it is replaced only by the rename.
    let replace = settings.force || settings.append;
    // Inputs first: an output that is also an input is refused as such, not as an existing
    // file that --force would replace (it would not).
    let (inputs, input_set) = select_inputs(settings)?;
    // Locked before an existing output is read, so that no other writer replaces it while
    // this run copies it.
    let claim = OutputClaim::new(&settings.output, replace, settings.append)?;
    let existing = append::open(settings)?;
    let (inputs, skipped) = match &existing {
        Some(existing) => append::split_already_loaded(inputs, existing)?,
        None => (inputs, Vec::new()),
    };
    if let (Some(existing), true) = (&existing, inputs.is_empty()) {
        // Nothing new: the output stays exactly as it is.
        let seconds = started.elapsed().as_secs_f64();
        return Ok(LoadReport::unchanged(settings, existing, skipped, seconds));
    }
    let writer_options = match &existing {
        Some(existing) => existing.writer_options(),
        None => settings.writer.clone(),
    };
    // An input that cannot be read fails at its turn in load order, not here: the run then
    // reports the first error in load order (a bad line of an earlier file, if any).
    let (encodings, refusals) = detect_encodings(&inputs)?;
    let resolved = formats::resolve(settings, &inputs, &encodings, refusals)?;
    let plan = plan(&inputs, &encodings, settings.piece_bytes)?;
    let readings: Vec<FileReading> = resolved
        .iter()
        .zip(&plan.refusals)
        .map(|(resolved, planned)| FileReading {
            parser: LineParser::new(
                resolved.format.clone(),
                writer_options.schema,
                &settings.filters,
            ),
            read_as: resolved.read_as(),
            refusal: resolved.refusal.clone().or_else(|| planned.clone()),
        })
        .collect();
    let formats: Vec<ColumnFormat> = resolved
        .into_iter()
        .map(|resolved| resolved.format)
        .collect();
    let pending = claim.into_pending()?;
    let mut writer = OutputWriter::create(pending.path(), &writer_options)
        .map_err(|source| Error::hdf5(&settings.output, source))?;
    let run = Loader {
        settings,
        inputs: &inputs,
        encodings: &encodings,
        formats: &formats,
        writer_options: &writer_options,
        existing: existing.as_ref(),
    };
    let pipeline = run.run_pipeline(&plan, &readings, &mut writer, interrupt)?;
    run.finish(writer, &pipeline, input_set, interrupt)?;
    pending.commit()?;
    Ok(run.report(&pipeline, skipped, started.elapsed().as_secs_f64()))
}

/// How each input is stored, or why that cannot be told (it cannot be opened, or its
/// compression is one txt2h5 does not read): such an input is planned as text and fails at
/// its turn in load order.
fn detect_encodings(inputs: &[Input]) -> Result<(Vec<Encoding>, Vec<Option<Refusal>>)> {
    let mut encodings = Vec::with_capacity(inputs.len());
    let mut refusals = Vec::with_capacity(inputs.len());
    for input in inputs {
        match Encoding::detect(&input.path) {
            Ok(encoding) => {
                encodings.push(encoding);
                refusals.push(None);
            }
            Err(error) => {
                encodings.push(Encoding::Plain);
                refusals.push(Some(Refusal::defer(error)?));
            }
        }
    }
    Ok((encodings, refusals))
}

/// The inputs this run loads, in load order, and the identity of the whole input set
/// (before sharding, so that every part of a sharded load records the same one).
fn select_inputs(settings: &LoadSettings) -> Result<(Vec<Input>, String)> {
    let all_inputs = discover(&settings.operands, &settings.discover)?;
    let input_set = input_set(&all_inputs);
    let inputs = match settings.shard {
        Some(shard) => shard.select(all_inputs),
        None => all_inputs,
    };
    for input in &inputs {
        record_path(&input.path).map_err(Error::usage)?;
    }
    if let Ok(metadata) = std::fs::metadata(&settings.output) {
        if let Some(input) = inputs.iter().find(|input| input.is_same_file(&metadata)) {
            return Err(Error::usage(format!(
                "{}: the output file is also an input; write the output elsewhere",
                input.path.display()
            )));
        }
    }
    Ok((inputs, input_set))
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

/// One load once its inputs and format are settled.
struct Loader<'a> {
    settings: &'a LoadSettings,
    inputs: &'a [Input],
    /// How each input is stored, and the format it is read with.
    encodings: &'a [Encoding],
    formats: &'a [ColumnFormat],
    writer_options: &'a WriterOptions,
    /// The output an append adds to; its rows come first.
    existing: Option<&'a ExistingOutput>,
}

impl Loader<'_> {
    /// Parses every input and writes the records, after any existing rows, to `writer`.
    fn run_pipeline(
        &self,
        plan: &LoadPlan,
        readings: &[FileReading],
        writer: &mut OutputWriter,
        interrupt: &Interrupt,
    ) -> Result<PipelineReport> {
        let settings = self.settings;
        let total_bytes = self.inputs.iter().map(|input| input.size).sum();
        let progress = Progress::new(!settings.quiet, total_bytes);
        let pool = thread_pool(settings.threads, "worker")?;
        let options = PipelineOptions {
            output: &settings.output,
            pool: &pool,
            buffer_rows: settings.buffer_rows,
            buffers: settings.buffers,
            spill: settings.spill,
            storage: self.writer_options,
            prefix: self.existing,
            readings,
        };
        let result = pipeline::run(self.inputs, plan, options, writer, &progress, interrupt);
        progress.finish();
        result
    }

    /// Writes `/sources` and the provenance attributes and closes the file.
    fn finish(
        &self,
        writer: OutputWriter,
        pipeline: &PipelineReport,
        input_set: String,
        interrupt: &Interrupt,
    ) -> Result<()> {
        let earlier_sources = self
            .existing
            .iter()
            .flat_map(|existing| existing.study.sources.iter().cloned());
        let new_sources = self
            .inputs
            .iter()
            .zip(&pipeline.tallies)
            .zip(self.formats)
            .map(|((input, tally), format)| {
                Ok(SourceRow::new(SourceFacts {
                    path: &record_path(&input.path).map_err(Error::usage)?,
                    size: input.size,
                    mtime: input.mtime,
                    checksum: tally.checksum,
                    first_row: tally.first_row,
                    rows: tally.rows,
                    format: &format.name,
                    skipped: tally.skipped,
                }))
            });
        let sources: Vec<SourceRow> = earlier_sources
            .map(Ok)
            .chain(new_sources)
            .collect::<Result<_>>()?;
        let presets = sources
            .iter()
            .any(|source| !matches!(source.format.as_str(), "native" | formats::EMPTY));
        let options = self.writer_options;
        let info = RunInfo {
            command_line: self.settings.command_line.clone(),
            created: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            schema: options.schema.describe(presets),
            dataset: options.dataset.clone(),
            compression: options.compression.to_string(),
            shard: self.settings.shard.map(|shard| shard.to_string()),
            input_set,
        };
        writer
            .finish(&sources, &pipeline.index, &info)
            .map_err(|source| Error::hdf5(&self.settings.output, source))?;
        match interrupt.received() {
            Some(signal) => Err(Error::Interrupted { signal }),
            None => Ok(()),
        }
    }

    /// What the run did, for the summary line and `--json`.
    fn report(&self, pipeline: &PipelineReport, skipped: Vec<String>, seconds: f64) -> LoadReport {
        let rows: u64 = pipeline.tallies.iter().map(|tally| tally.rows).sum();
        let existing_rows = self.existing.map_or(0, |existing| existing.study.rows);
        let sources = self
            .inputs
            .iter()
            .zip(&pipeline.tallies)
            .zip(self.encodings.iter().zip(self.formats))
            .map(|((input, tally), (encoding, format))| SourceReport {
                // As /sources records it: lossless where the name is not UTF-8.
                path: record_path(&input.path)
                    .unwrap_or_else(|_| input.path.to_string_lossy().into_owned()),
                format: format.name.clone(),
                encoding: encoding.name(),
                bytes: input.size,
                first_row: tally.first_row,
                rows: tally.rows,
                skipped: tally.skipped.into(),
                xxh3_128: format!("{:032x}", tally.checksum),
            })
            .collect();
        LoadReport {
            output: self.settings.output.to_string_lossy().into_owned(),
            dataset: self.writer_options.dataset.clone(),
            files: self.inputs.len(),
            rows,
            total_rows: existing_rows + rows,
            skipped,
            bytes: self.inputs.iter().map(|input| input.size).sum(),
            seconds,
            rows_per_second: if seconds > 0.0 {
                rows as f64 / seconds
            } else {
                0.0
            },
            threads: self.settings.threads,
            compression: self.writer_options.compression.to_string(),
            spilled_bytes: pipeline.spilled_bytes,
            rows_skipped: pipeline
                .tallies
                .iter()
                .fold(Skipped::default(), |mut total, tally| {
                    total.add(tally.skipped);
                    total
                })
                .into(),
            sources,
        }
    }
}
