//! `txt2h5 matrix`: the site x sample matrices of methylated (`M`) and total (`Cov`) counts
//! of a study, the input of bsseq, DSS, dmrseq, methrix and methylKit.
//!
//! ```text
//! study (/index) ─► plan: streams (runs of samples' sources), windows, chunk pieces
//!   ─► engine: read chunks (one thread) ─► decode + extract (pool) ─► stream buffers
//!      ─► complete windows merged into blocks (pool) ─► assembler: row blocks of R rows
//!      ─► compressed (pool) ─► stored in order (one thread)  inside a pending output
//! ```
//!
//! Rows are the union of (chr, pos) over the selected sources (or tiles, or BED regions),
//! chromosomes in the order they first appear in the study and positions ascending: the
//! order `bsseq::read.bismark` gives.

mod samples;

use std::time::Instant;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::h5::{MatrixFacts, MatrixStorage, MatrixWriter, Study};
use crate::matrix::assemble::{chunk_rows, MatrixShape, RegionSums};
use crate::matrix::block::Keys;
use crate::matrix::engine::MatrixRequest;
use crate::matrix::{engine, plan};
use crate::ordered::thread_pool;
use crate::output::pending::OutputClaim;
use crate::progress::{group_thousands, Progress};
use crate::query::chunks::Span;
use crate::query::region::read_bed;
use crate::query::select::{Selection, SelectionFlags};
use crate::schema::Fields;
use crate::settings::{MatrixRows, MatrixSettings};
use crate::signals::Interrupt;
pub use samples::sample_name;

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
    if settings.strand_collapse && !study.schema.shape().strand {
        return Err(Error::usage(format!(
            "--strand-collapse needs the strand of each row, and {} has no strand field; \
             load the files with --extra strand (CpG reports and other files that carry it)",
            study.path.display()
        )));
    }
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
    let segments = study
        .segments()
        .map_err(|(path, error)| error.into_error(&path, "read"))?;
    let spans: Vec<Span> = segments.iter().map(Span::from).collect();
    let keys = match settings.rows {
        MatrixRows::Tiles(bases) => Keys::Tiles(i64::try_from(bases).unwrap_or(i64::MAX)),
        _ => Keys::Sites,
    };
    let cuts = plan::Cuts {
        shift: i64::from(settings.strand_collapse),
        tile: match settings.rows {
            MatrixRows::Tiles(bases) => Some(bases),
            _ => None,
        },
        window_cells: settings.budget.window_cells,
        held_entries: settings.budget.held_entries,
    };
    let plan = plan::plan(&study, &selection, &samples.of_source, &spans, cuts)?;
    let regions = match &settings.rows {
        MatrixRows::Regions(bed) => Some(read_bed(bed)?),
        _ => None,
    };
    let chr_width = regions
        .iter()
        .flatten()
        .map(|region| region.chr.len())
        .max()
        .unwrap_or(0)
        .max(study.schema.chr_width());
    let rows_hint = regions
        .as_ref()
        .map_or(plan.rows, |regions| regions.len() as u64);
    let shape = MatrixShape {
        samples: samples.names.len(),
        chunk_rows: chunk_rows(samples.names.len(), rows_hint),
        chr_width,
        wide_pos: study.schema.shape().wide_pos,
        beta: settings.beta,
        compression: settings.compression,
    };
    let pending = claim.into_pending()?;
    let hdf5_error = |source| Error::hdf5(&settings.output, source);
    let mut writer = MatrixWriter::create(
        pending.path(),
        &settings.output,
        &MatrixStorage {
            samples: shape.samples,
            chunk_rows: shape.chunk_rows,
            chr_width,
            wide_pos: shape.wide_pos,
            compression: shape.compression,
            beta: shape.beta,
        },
    )
    .map_err(hdf5_error)?;
    let job = MatrixRequest {
        plan: &plan,
        segments: &segments,
        fields: Fields::of(&study.schema),
        regions: selection.regions.as_ref(),
        strand_collapse: settings.strand_collapse,
        keys,
        min_samples: settings.min_samples,
        names: &samples.names,
        shape,
    };
    let progress = Progress::rows(!settings.quiet, plan.rows);
    let region_sums = regions.map(|regions| RegionSums::new(regions, shape.samples));
    let pool = thread_pool(settings.threads, "matrix")?;
    let done = engine::run(&job, &pool, &mut writer, region_sums, &progress, interrupt)?;
    progress.finish();
    let rows_kind = match &settings.rows {
        MatrixRows::Sites => "sites".to_string(),
        MatrixRows::Tiles(bases) => format!("tiles of {bases} bp"),
        MatrixRows::Regions(bed) => format!("regions of {}", bed.display()),
    };
    let sources: Vec<(String, String)> = study
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
        .collect();
    let facts = MatrixFacts {
        sample_names: samples.names.clone(),
        sources: sources.clone(),
        study: settings.file.to_string_lossy().into_owned(),
        rows_kind: rows_kind.clone(),
        options: options_text(settings),
        command_line: settings.command_line.clone(),
        created: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
    };
    writer.finish(&facts).map_err(hdf5_error)?;
    if let Some(signal) = interrupt.received() {
        return Err(Error::Interrupted { signal });
    }
    pending.commit()?;
    Ok(MatrixReport {
        output: settings.output.to_string_lossy().into_owned(),
        rows: done.rows,
        samples: samples.names,
        sources: sources.len(),
        rows_kind,
        left_out: done.dropped,
        min_samples: settings.min_samples,
        chunks_read: plan.pieces.len(),
        seconds: started.elapsed().as_secs_f64(),
        notes: samples.notes,
    })
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
