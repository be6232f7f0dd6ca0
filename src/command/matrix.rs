//! `txt2h5 matrix`: the site x sample matrices of methylated (`M`) and total (`Cov`) counts
//! of a study, the input of bsseq, DSS, dmrseq, methrix and methylKit.
//!
//! Thin, as every command: settings ─► the study opened, the samples chosen
//! ([`samples`]) ─► one [`MatrixPipeline`] (planned, then run into the pending output) ─►
//! the output committed ─► a [`MatrixReport`]. The pipeline itself lives in
//! [`crate::matrix`].
//!
//! Rows are the union of (chr, pos) over the selected sources (or tiles, or BED regions),
//! chromosomes in the order they first appear in the study and positions ascending: the
//! order `bsseq::read.bismark` gives.

mod samples;

use std::time::Instant;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::h5::{MatrixFacts, Study};
use crate::matrix::{MatrixOptions, MatrixPipeline, SampleColumns};
use crate::ordered::thread_pool;
use crate::output::pending::OutputClaim;
use crate::progress::{group_thousands, Progress};
use crate::query::select::{Selection, SelectionFlags};
use crate::settings::MatrixSettings;
use crate::signals::Interrupt;

/// What a matrix run did.
#[derive(Debug, Serialize)]
pub struct MatrixReport {
    pub output: String,
    pub rows: u64,
    pub samples: Vec<String>,
    pub sources: usize,
    /// What a row is: sites, tiles of N bp, or regions.
    pub rows_kind: String,
    /// Rows left out by `--min-samples`.
    pub left_out: u64,
    pub min_samples: usize,
    pub chunks_read: usize,
    pub seconds: f64,
    #[serde(skip)]
    pub notes: Vec<String>,
}

impl MatrixReport {
    pub fn summary_line(&self) -> String {
        let left_out = if self.left_out > 0 {
            format!(
                "; left out {} covered in fewer than {} samples",
                crate::command::report::rows(self.left_out),
                self.min_samples
            )
        } else {
            String::new()
        };
        format!(
            "matrix of {} {} x {} sample{} from {} source{} in {:.2} s{left_out} -> {}",
            group_thousands(self.rows),
            self.rows_kind,
            self.samples.len(),
            if self.samples.len() == 1 { "" } else { "s" },
            self.sources,
            if self.sources == 1 { "" } else { "s" },
            self.seconds,
            self.output
        )
    }
}

pub fn matrix(settings: &MatrixSettings, interrupt: &Interrupt) -> Result<MatrixReport> {
    let started = Instant::now();
    // Before the claim, which would suggest --force for the existing study.
    refuse_study_as_output(settings)?;
    let claim = OutputClaim::new(&settings.output, settings.force, false)?;
    let study =
        Study::open(&settings.file).map_err(|error| error.into_error(&settings.file, "matrix"))?;
    check_strand(settings, &study)?;
    let selection = Selection::from_flags(
        &SelectionFlags {
            regions: &settings.regions,
            bed_files: &[],
            sources: &settings.sources,
            source_indices: &settings.source_indices,
        },
        &study,
    )?;
    let samples = samples::samples(&study, &selection, settings.samples.as_deref())?;
    let columns = SampleColumns {
        names: &samples.names,
        of_source: &samples.of_source,
    };
    let pipeline = MatrixPipeline::new(&study, &selection, columns, options(settings))?;
    let chunk_reads = pipeline.chunk_reads();
    let facts = MatrixFacts {
        sample_names: samples.names.clone(),
        sources: sources(&study, &samples),
        study: settings.file.to_string_lossy().into_owned(),
        rows_kind: settings.rows.kind(),
        options: options_text(settings),
        command_line: settings.command_line.clone(),
    };
    let pending = claim.into_pending()?;
    let progress = Progress::rows(!settings.quiet, pipeline.rows_to_read());
    let pool = thread_pool(settings.threads, "matrix")?;
    let done = pipeline.run(
        pending.path(),
        &settings.output,
        &facts,
        &pool,
        &progress,
        interrupt,
    )?;
    progress.finish();
    if let Some(signal) = interrupt.received() {
        return Err(Error::Interrupted { signal });
    }
    pending.commit()?;
    Ok(MatrixReport {
        output: settings.output.to_string_lossy().into_owned(),
        rows: done.rows,
        samples: samples.names,
        sources: facts.sources.len(),
        rows_kind: facts.rows_kind,
        left_out: done.dropped,
        min_samples: settings.min_samples,
        chunks_read: chunk_reads,
        seconds: started.elapsed().as_secs_f64(),
        notes: samples.notes,
    })
}

/// What the pipeline needs of the settings.
fn options(settings: &MatrixSettings) -> MatrixOptions<'_> {
    MatrixOptions {
        rows: &settings.rows,
        strand_collapse: settings.strand_collapse,
        min_samples: settings.min_samples,
        beta: settings.beta,
        compression: settings.compression,
        window_cells: settings.budget.window_cells,
        held_entries: settings.budget.held_entries,
    }
}

/// `--strand-collapse` needs a study with a strand field.
fn check_strand(settings: &MatrixSettings, study: &Study) -> Result<()> {
    if settings.strand_collapse && !study.schema.shape().strand {
        return Err(Error::usage(format!(
            "--strand-collapse needs the strand of each row, and {} has no strand field; \
             load the files with --extra strand (CpG reports and other files that carry it)",
            study.path.display()
        )));
    }
    Ok(())
}

/// `(recorded path, sample name)` of each source that makes a sample, in study order.
fn sources(study: &Study, samples: &samples::Samples) -> Vec<(String, String)> {
    study
        .sources
        .iter()
        .zip(&samples.of_source)
        .filter_map(|(source, sample)| {
            sample.map(|sample| {
                (
                    source.path.as_str().to_string(),
                    samples.names[sample].clone(),
                )
            })
        })
        .collect()
}

/// Replacing the study with its own matrix would destroy the input.
fn refuse_study_as_output(settings: &MatrixSettings) -> Result<()> {
    let same = match (
        std::fs::canonicalize(&settings.file),
        std::fs::canonicalize(&settings.output),
    ) {
        (Ok(study), Ok(output)) => study == output,
        _ => false,
    };
    if same {
        return Err(Error::usage(format!(
            "{}: the output is the study itself; write the matrix to another file",
            settings.output.display()
        )));
    }
    Ok(())
}

/// The options that shape the matrix, as recorded in the file.
fn options_text(settings: &MatrixSettings) -> String {
    let mut parts = vec![format!("compression={}", settings.compression)];
    if settings.strand_collapse {
        parts.push("strand_collapse".into());
    }
    if settings.min_samples > 0 {
        parts.push(format!("min_samples={}", settings.min_samples));
    }
    if let Some(samples) = &settings.samples {
        parts.push(format!("samples={}", samples.display()));
    }
    if settings.beta {
        parts.push("beta".into());
    }
    for region in &settings.regions {
        parts.push(format!("region={region}"));
    }
    for glob in &settings.sources {
        parts.push(format!("source={}", glob.text));
    }
    for index in &settings.source_indices {
        parts.push(format!("source_index={index}"));
    }
    parts.join(" ")
}
