//! The matrix pipeline, beside the load's: a study's stored chunks in, site x sample count
//! matrices out.
//!
//! ```text
//! study (/index) ─► plan: streams (runs of samples' sources), windows, chunk pieces
//!   ─► engine: read chunks (one thread) ─► decode + extract (pool) ─► stream buffers
//!      ─► complete windows merged into blocks (pool) ─► assembler: row blocks of R rows
//!      ─► compressed (pool) ─► stored in order (one thread)
//! ```
//!
//! `command::matrix` opens the study, chooses the samples and hands them with the
//! [`MatrixOptions`] to a [`MatrixPipeline`], which plans the run, sizes the file
//! ([`MatrixStorage`]) and, given the output's pending file, writes it; the command
//! commits the output and reports, as every other command does.

pub mod assemble;
pub mod block;
pub mod engine;
pub mod plan;

use std::path::{Path, PathBuf};

use crate::codec::Compression;
use crate::error::{Error, Result};
use crate::h5::{MatrixFacts, MatrixStorage, MatrixWriter, Segment, Study};
use crate::progress::Progress;
use crate::query::chunks::Span;
use crate::query::region::{read_bed, Region};
use crate::query::select::Selection;
use crate::schema::Fields;
use crate::signals::Interrupt;

use assemble::{chunk_rows, RegionSums};
use block::Keys;
use engine::{Done, MatrixRequest};
use plan::{Cuts, Plan};

/// How the rows of a matrix are made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MatrixRows {
    /// One row per site (chr, pos) of the union.
    Sites,
    /// One row per window of this many bases that holds a site.
    Tiles(u64),
    /// One row per region of this BED file, in its order.
    Regions(PathBuf),
}

impl MatrixRows {
    /// What a row is, for people and the file's `rows_kind`: "sites", "tiles of 100 bp",
    /// "regions of FILE".
    pub fn kind(&self) -> String {
        match self {
            MatrixRows::Sites => "sites".to_string(),
            MatrixRows::Tiles(bases) => format!("tiles of {bases} bp"),
            MatrixRows::Regions(bed) => format!("regions of {}", bed.display()),
        }
    }
}

/// What the matrix holds and how the run is cut, as the command settled it.
#[derive(Clone, Copy, Debug)]
pub struct MatrixOptions<'a> {
    pub rows: &'a MatrixRows,
    /// `--strand-collapse`: the two strands of a CpG make one row (a row at pos p may
    /// count for p - 1).
    pub strand_collapse: bool,
    /// Leave out rows covered in fewer samples.
    pub min_samples: usize,
    /// Write `beta` beside `M` and `Cov`.
    pub beta: bool,
    pub compression: Compression,
    /// Rows x streams a window aims at ([`plan::WINDOW_CELLS`]).
    pub window_cells: u64,
    /// Rows the stream buffers aim to hold ([`plan::HELD_ENTRIES`]).
    pub held_entries: u64,
}

/// The samples of a matrix: their names, in column order, and the sample of each row of
/// the study's `/sources` (`None` for a source left out).
#[derive(Clone, Copy, Debug)]
pub struct SampleColumns<'a> {
    pub names: &'a [String],
    pub of_source: &'a [Option<usize>],
}

/// A matrix run, planned: what it reads, in what order, and how the file is stored.
pub struct MatrixPipeline<'a> {
    study: &'a Study,
    selection: &'a Selection,
    samples: SampleColumns<'a>,
    options: MatrixOptions<'a>,
    segments: Vec<Segment>,
    plan: Plan,
    /// With `--sum-regions`: the BED file's regions, one row each.
    bed_regions: Option<Vec<Region>>,
    storage: MatrixStorage,
}

impl<'a> MatrixPipeline<'a> {
    /// Plans the matrix of `samples` in the rows `selection` keeps of `study`.
    pub fn new(
        study: &'a Study,
        selection: &'a Selection,
        samples: SampleColumns<'a>,
        options: MatrixOptions<'a>,
    ) -> Result<Self> {
        let segments = study
            .segments()
            .map_err(|(path, error)| error.into_error(&path, "read"))?;
        let spans: Vec<Span> = segments.iter().map(Span::from).collect();
        let cuts = Cuts {
            shift: i64::from(options.strand_collapse),
            tile: match options.rows {
                MatrixRows::Tiles(bases) => Some(*bases),
                _ => None,
            },
            window_cells: options.window_cells,
            held_entries: options.held_entries,
        };
        let plan = plan::plan(study, selection, samples.of_source, &spans, cuts)?;
        let bed_regions = match options.rows {
            MatrixRows::Regions(bed) => Some(read_bed(bed)?),
            _ => None,
        };
        let storage = storage(study, samples, options, &plan, bed_regions.as_deref());
        Ok(Self {
            study,
            selection,
            samples,
            options,
            segments,
            plan,
            bed_regions,
            storage,
        })
    }

    /// Rows of the study the run reads, for the progress bar.
    pub fn rows_to_read(&self) -> u64 {
        self.plan.rows
    }

    /// Reads of stored chunks the run makes.
    pub fn chunk_reads(&self) -> usize {
        self.plan.pieces.len()
    }

    /// Writes the matrix file at `path`, the pending file of `output` (named in errors),
    /// on `pool`, and records `facts` in it.
    pub fn run(
        self,
        path: &Path,
        output: &Path,
        facts: &MatrixFacts,
        pool: &rayon::ThreadPool,
        progress: &Progress,
        interrupt: &Interrupt,
    ) -> Result<Done> {
        let hdf5_error = |source| Error::hdf5(output, source);
        let mut writer = MatrixWriter::create(path, output, &self.storage).map_err(hdf5_error)?;
        let request = MatrixRequest {
            plan: &self.plan,
            segments: &self.segments,
            fields: Fields::of(&self.study.schema),
            regions: self.selection.regions.as_ref(),
            strand_collapse: self.options.strand_collapse,
            keys: match self.options.rows {
                MatrixRows::Tiles(bases) => Keys::Tiles(i64::try_from(*bases).unwrap_or(i64::MAX)),
                _ => Keys::Sites,
            },
            min_samples: self.options.min_samples,
            names: self.samples.names,
            storage: self.storage,
        };
        let region_sums = self
            .bed_regions
            .map(|regions| RegionSums::new(regions, self.storage.samples));
        let done = engine::run(
            &request,
            pool,
            &mut writer,
            region_sums,
            progress,
            interrupt,
        )?;
        writer.finish(facts).map_err(hdf5_error)?;
        Ok(done)
    }
}

/// How the matrix file is stored: chunks sized for the samples and the rows expected (the
/// plan's, or one per BED region), chr wide enough for the study's and the regions' names.
fn storage(
    study: &Study,
    samples: SampleColumns<'_>,
    options: MatrixOptions<'_>,
    plan: &Plan,
    bed_regions: Option<&[Region]>,
) -> MatrixStorage {
    let chr_width = bed_regions
        .into_iter()
        .flatten()
        .map(|region| region.chr.len())
        .max()
        .unwrap_or(0)
        .max(study.schema.chr_width());
    let rows_hint = bed_regions.map_or(plan.rows, |regions| regions.len() as u64);
    MatrixStorage {
        samples: samples.names.len(),
        chunk_rows: chunk_rows(samples.names.len(), rows_hint),
        chr_width,
        wide_pos: study.schema.shape().wide_pos,
        compression: options.compression,
        beta: options.beta,
    }
}
