//! `txt2h5 inspect`: what an output holds, at a glance or as JSON.
//!
//! Everything comes from metadata: the dataset's type and layout, the root attributes,
//! `/sources` and `/index`. No row is read, so it answers at once on any size of file.
//! The text for people (of a study and of a matrix file) is written by [`text`].

mod text;

use std::collections::HashMap;

use serde::Serialize;

use crate::error::Result;
use crate::h5::{SkippedRow, Storage, Study};
use crate::index::PositionIndex;
use hdf5::types::{FloatSize, IntSize, TypeDescriptor};

#[derive(Debug, Serialize)]
pub struct InspectReport {
    pub file: String,
    pub file_bytes: u64,
    pub dataset: String,
    pub rows: u64,
    pub record_bytes: usize,
    /// Field names and numpy type strings, in order.
    pub fields: Vec<(String, String)>,
    pub storage: StorageReport,
    pub provenance: crate::h5::Provenance,
    pub sources: Vec<SourceLine>,
    /// In order of first appearance; `None` without an index.
    pub chromosomes: Option<Vec<ChromosomeLine>>,
    pub index: IndexReport,
}

#[derive(Debug, Serialize)]
pub struct StorageReport {
    /// `chunked` or `virtual`.
    pub layout: &'static str,
    pub chunk_rows: Option<usize>,
    pub chunks: Option<u64>,
    pub compression: Option<String>,
    /// What a reader needs for the compression, when it is not built into HDF5.
    pub readers_need: Option<&'static str>,
    /// Bytes of the records, uncompressed.
    pub record_bytes: u64,
    /// Bytes the chunks take in the file (chunked only).
    pub stored_bytes: Option<u64>,
    /// `record_bytes / stored_bytes`.
    pub compression_ratio: Option<f64>,
    /// The files a virtual dataset maps.
    pub parts: Vec<PartLine>,
}

#[derive(Debug, Serialize)]
pub struct PartLine {
    pub file: String,
    pub dataset: String,
    pub first_row: u64,
    pub rows: u64,
    pub present: bool,
    /// Why it cannot be read, if it cannot.
    pub problem: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SourceLine {
    pub index: usize,
    pub path: String,
    pub format: String,
    pub first_row: u64,
    pub rows: u64,
    pub skipped: SkippedRow,
}

#[derive(Debug, Serialize)]
pub struct ChromosomeLine {
    pub chr: String,
    pub rows: u64,
    pub sources: usize,
}

#[derive(Debug, Serialize)]
pub struct IndexReport {
    pub present: bool,
    pub runs: usize,
    /// Runs whose positions never decrease (searched by anchors; others are scanned).
    pub sorted_runs: usize,
    pub anchors: usize,
}

/// The facts of `study`, from its metadata.
pub fn inspect(study: &Study) -> Result<InspectReport> {
    let stored_bytes = study
        .stored_bytes()
        .map_err(|error| error.into_error(&study.path, "inspect"))?;
    Ok(InspectReport {
        file: study.path.to_string_lossy().into_owned(),
        file_bytes: study.file_bytes,
        dataset: study.dataset_name.clone(),
        rows: study.rows,
        record_bytes: study.schema.record_size(),
        fields: field_types(study),
        storage: storage_report(study, stored_bytes.unwrap_or(0)),
        provenance: study.provenance.clone(),
        sources: study
            .sources
            .iter()
            .enumerate()
            .map(|(index, source)| SourceLine {
                index,
                path: source.path.as_str().to_string(),
                format: source.format.as_str().to_string(),
                first_row: source.first_row,
                rows: source.rows,
                skipped: source.skipped(),
            })
            .collect(),
        chromosomes: study.index.as_ref().map(chromosome_lines),
        index: index_report(study.index.as_ref()),
    })
}

/// How the rows are stored; `stored_bytes` is what a chunked dataset's chunks take.
fn storage_report(study: &Study, stored_bytes: u64) -> StorageReport {
    let record_bytes = study.schema.record_size() as u64 * study.rows;
    match &study.storage {
        Storage::Chunked {
            chunk_rows,
            compression,
        } => StorageReport {
            layout: "chunked",
            chunk_rows: Some(*chunk_rows),
            chunks: Some(study.rows.div_ceil(*chunk_rows as u64)),
            compression: Some(compression.to_string()),
            readers_need: compression.plugin_note(),
            record_bytes,
            stored_bytes: Some(stored_bytes),
            compression_ratio: (stored_bytes > 0)
                .then(|| record_bytes as f64 / stored_bytes as f64),
            parts: Vec::new(),
        },
        Storage::Virtual { parts } => StorageReport {
            layout: "virtual",
            chunk_rows: None,
            chunks: None,
            compression: None,
            readers_need: None,
            record_bytes,
            stored_bytes: None,
            compression_ratio: None,
            parts: parts
                .iter()
                .map(|part| PartLine {
                    file: part.recorded.clone(),
                    dataset: part.dataset.clone(),
                    first_row: part.first_row,
                    rows: part.rows,
                    present: part.path.exists(),
                    problem: part.status.as_ref().err().map(ToString::to_string),
                })
                .collect(),
        },
    }
}

/// The record's fields with numpy's names for their types.
fn field_types(study: &Study) -> Vec<(String, String)> {
    match study.schema.type_descriptor() {
        TypeDescriptor::Compound(compound) => compound
            .fields
            .iter()
            .map(|field| (field.name.clone(), numpy_type(&field.ty)))
            .collect(),
        _ => unreachable!("a schema is a compound type"),
    }
}

/// Rows and sources of each chromosome, in order of first appearance.
fn chromosome_lines(index: &PositionIndex) -> Vec<ChromosomeLine> {
    let mut order: Vec<&[u8]> = Vec::new();
    let mut totals: HashMap<&[u8], (u64, Vec<u32>)> = HashMap::new();
    for run in &index.runs {
        let entry = totals.entry(&run.chr).or_insert_with(|| {
            order.push(&run.chr);
            (0, Vec::new())
        });
        entry.0 += run.rows;
        if entry.1.last() != Some(&run.source) {
            entry.1.push(run.source);
        }
    }
    order
        .into_iter()
        .map(|chr| {
            let (rows, sources) = &totals[chr];
            let mut sources = sources.clone();
            sources.sort_unstable();
            sources.dedup();
            ChromosomeLine {
                chr: String::from_utf8_lossy(chr).into_owned(),
                rows: *rows,
                sources: sources.len(),
            }
        })
        .collect()
}

fn index_report(index: Option<&PositionIndex>) -> IndexReport {
    match index {
        Some(index) => IndexReport {
            present: true,
            runs: index.runs.len(),
            sorted_runs: index.runs.iter().filter(|run| run.sorted).count(),
            anchors: index.anchors.len(),
        },
        None => IndexReport {
            present: false,
            runs: 0,
            sorted_runs: 0,
            anchors: 0,
        },
    }
}

/// numpy's name for a field type txt2h5 writes.
fn numpy_type(ty: &TypeDescriptor) -> String {
    match ty {
        TypeDescriptor::FixedAscii(width) => format!("S{width}"),
        TypeDescriptor::Integer(IntSize::U4) => "<i4".into(),
        TypeDescriptor::Integer(IntSize::U8) => "<i8".into(),
        TypeDescriptor::Float(FloatSize::U4) => "<f4".into(),
        other => format!("{other:?}"),
    }
}
