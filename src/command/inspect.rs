//! `txt2h5 inspect`: what an output holds, at a glance or as JSON.
//!
//! Everything comes from metadata: the dataset's type and layout, the root attributes,
//! `/sources` and `/index`. No row is read, so it answers at once on any size of file.

use std::collections::HashMap;

use serde::Serialize;

use crate::command::report::human_bytes;
use crate::error::Result;
use crate::output::h5::{SkippedRow, Storage, Study};
use crate::progress::group_thousands;
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
    pub provenance: crate::output::h5::Provenance,
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

pub fn inspect(study: &Study) -> Result<InspectReport> {
    let record_bytes = study.schema.record_size() as u64 * study.rows;
    let storage = match &study.storage {
        Storage::Chunked {
            chunk_rows,
            compression,
            stored_bytes,
        } => StorageReport {
            layout: "chunked",
            chunk_rows: Some(*chunk_rows),
            chunks: Some(study.rows.div_ceil(*chunk_rows as u64)),
            compression: Some(compression.to_string()),
            readers_need: compression.plugin_note(),
            record_bytes,
            stored_bytes: Some(*stored_bytes),
            compression_ratio: (*stored_bytes > 0)
                .then(|| record_bytes as f64 / *stored_bytes as f64),
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
    };
    let fields = match study.schema.type_descriptor() {
        TypeDescriptor::Compound(compound) => compound
            .fields
            .iter()
            .map(|field| (field.name.clone(), numpy_type(&field.ty)))
            .collect(),
        _ => unreachable!("a schema is a compound type"),
    };
    let chromosomes = study.index.as_ref().map(|index| {
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
    });
    let index = match &study.index {
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
    };
    Ok(InspectReport {
        file: study.path.to_string_lossy().into_owned(),
        file_bytes: study.file_bytes,
        dataset: study.dataset_name.clone(),
        rows: study.rows,
        record_bytes: study.schema.record_size(),
        fields,
        storage,
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
                skipped: source.skipped,
            })
            .collect(),
        chromosomes,
        index,
    })
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

impl InspectReport {
    /// The report as aligned text for people.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let mut line = |label: &str, value: String| {
            out.push_str(&format!("{label:<12} {value}\n"));
        };
        line(
            "file",
            format!("{} ({})", self.file, human_bytes(self.file_bytes)),
        );
        line(
            "dataset",
            format!(
                "/{}: {} rows of {} bytes",
                self.dataset,
                group_thousands(self.rows),
                self.record_bytes
            ),
        );
        line(
            "fields",
            self.fields
                .iter()
                .map(|(name, ty)| format!("{name} {ty}"))
                .collect::<Vec<_>>()
                .join(", "),
        );
        let storage = &self.storage;
        match storage.layout {
            "chunked" => {
                line(
                    "storage",
                    format!(
                        "chunked, {} rows a chunk ({} chunks), compression {}",
                        group_thousands(storage.chunk_rows.unwrap_or(0) as u64),
                        group_thousands(storage.chunks.unwrap_or(0)),
                        storage.compression.as_deref().unwrap_or("?")
                    ),
                );
                line(
                    "",
                    format!(
                        "{} stored for {} of records (ratio {})",
                        human_bytes(storage.stored_bytes.unwrap_or(0)),
                        human_bytes(storage.record_bytes),
                        storage
                            .compression_ratio
                            .map_or("-".to_string(), |ratio| format!("{ratio:.2}"))
                    ),
                );
                if let Some(need) = storage.readers_need {
                    line("", format!("readers need {need}"));
                }
            }
            _ => {
                let missing = storage
                    .parts
                    .iter()
                    .filter(|part| part.problem.is_some())
                    .count();
                line(
                    "storage",
                    format!(
                        "virtual, over {} part{} ({} readable, {missing} not)",
                        storage.parts.len(),
                        if storage.parts.len() == 1 { "" } else { "s" },
                        storage.parts.len() - missing
                    ),
                );
                for part in &storage.parts {
                    line(
                        "",
                        format!(
                            "{} rows {}..{}: {}",
                            part.file,
                            part.first_row,
                            part.first_row + part.rows,
                            part.problem.as_deref().unwrap_or("present")
                        ),
                    );
                }
            }
        }
        let provenance = &self.provenance;
        line(
            "made by",
            format!(
                "txt2h5 {} on {}",
                provenance.tool_version.as_deref().unwrap_or("?"),
                provenance.created.as_deref().unwrap_or("?")
            ),
        );
        line(
            "command",
            provenance
                .command_line
                .clone()
                .unwrap_or_else(|| "?".into()),
        );
        if let Some(shard) = &provenance.shard {
            line("shard", shard.clone());
        }
        line(
            "index",
            if self.index.present {
                format!(
                    "{} runs ({} sorted), {} anchors",
                    group_thousands(self.index.runs as u64),
                    group_thousands(self.index.sorted_runs as u64),
                    group_thousands(self.index.anchors as u64)
                )
            } else {
                "none (written before txt2h5 had one; `txt2h5 merge FILE -o NEW.h5` adds it)".into()
            },
        );
        line("sources", group_thousands(self.sources.len() as u64));
        let mut table = vec![[
            "#".to_string(),
            "rows".to_string(),
            "first_row".to_string(),
            "format".to_string(),
            "skipped".to_string(),
            "path".to_string(),
        ]];
        for source in &self.sources {
            let skipped = source.skipped;
            let total = skipped.zero_coverage + skipped.context + skipped.mod_code;
            table.push([
                source.index.to_string(),
                group_thousands(source.rows),
                group_thousands(source.first_row),
                source.format.clone(),
                group_thousands(total),
                source.path.clone(),
            ]);
        }
        out.push_str(&aligned(&table, [true, true, true, false, true, false]));
        match &self.chromosomes {
            Some(chromosomes) => {
                out.push_str(&format!(
                    "{:<12} {}\n",
                    "chromosomes",
                    group_thousands(chromosomes.len() as u64)
                ));
                let mut table =
                    vec![["chr".to_string(), "rows".to_string(), "sources".to_string()]];
                for chromosome in chromosomes {
                    table.push([
                        chromosome.chr.clone(),
                        group_thousands(chromosome.rows),
                        chromosome.sources.to_string(),
                    ]);
                }
                out.push_str(&aligned(&table, [false, true, true]));
            }
            None => out.push_str(&format!("{:<12} unknown without an index\n", "chromosomes")),
        }
        out
    }
}

/// Rows of cells as text columns, indented; columns marked `right` right-aligned.
fn aligned<const N: usize>(rows: &[[String; N]], right: [bool; N]) -> String {
    let widths: Vec<usize> = (0..N)
        .map(|column| rows.iter().map(|row| row[column].len()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(column, cell)| {
                let width = widths[column];
                if right[column] {
                    format!("{cell:>width$}")
                } else if column + 1 == N {
                    cell.clone()
                } else {
                    format!("{cell:<width$}")
                }
            })
            .collect();
        out.push_str("  ");
        out.push_str(&cells.join("  "));
        out.push('\n');
    }
    out
}
