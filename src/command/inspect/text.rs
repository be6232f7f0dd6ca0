//! An [`InspectReport`] as aligned text for people: a label column, then the tables of
//! sources and chromosomes.

use super::{InspectReport, StorageReport};
use crate::command::report::human_bytes;
use crate::progress::group_thousands;

impl InspectReport {
    /// The report as aligned text for people.
    pub fn to_text(&self) -> String {
        let mut text = Text::default();
        self.dataset_lines(&mut text);
        storage_lines(&self.storage, &mut text);
        self.provenance_lines(&mut text);
        self.sources_table(&mut text);
        self.chromosomes_table(&mut text);
        text.out
    }

    fn dataset_lines(&self, text: &mut Text) {
        text.line(
            "file",
            format!("{} ({})", self.file, human_bytes(self.file_bytes)),
        );
        text.line(
            "dataset",
            format!(
                "/{}: {} rows of {} bytes",
                self.dataset,
                group_thousands(self.rows),
                self.record_bytes
            ),
        );
        text.line(
            "fields",
            self.fields
                .iter()
                .map(|(name, ty)| format!("{name} {ty}"))
                .collect::<Vec<_>>()
                .join(", "),
        );
    }

    fn provenance_lines(&self, text: &mut Text) {
        let provenance = &self.provenance;
        text.line(
            "made by",
            format!(
                "txt2h5 {} on {}",
                provenance.tool_version.as_deref().unwrap_or("?"),
                provenance.created.as_deref().unwrap_or("?")
            ),
        );
        text.line(
            "command",
            provenance
                .command_line
                .clone()
                .unwrap_or_else(|| "?".into()),
        );
        if let Some(shard) = &provenance.shard {
            text.line("shard", shard.clone());
        }
        text.line(
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
    }

    fn sources_table(&self, text: &mut Text) {
        text.line("sources", group_thousands(self.sources.len() as u64));
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
        text.out
            .push_str(&aligned(&table, [true, true, true, false, true, false]));
    }

    fn chromosomes_table(&self, text: &mut Text) {
        let Some(chromosomes) = &self.chromosomes else {
            text.line("chromosomes", "unknown without an index".into());
            return;
        };
        text.line("chromosomes", group_thousands(chromosomes.len() as u64));
        let mut table = vec![["chr".to_string(), "rows".to_string(), "sources".to_string()]];
        for chromosome in chromosomes {
            table.push([
                chromosome.chr.clone(),
                group_thousands(chromosome.rows),
                chromosome.sources.to_string(),
            ]);
        }
        text.out.push_str(&aligned(&table, [false, true, true]));
    }
}

fn storage_lines(storage: &StorageReport, text: &mut Text) {
    if storage.layout == "chunked" {
        text.line(
            "storage",
            format!(
                "chunked, {} rows a chunk ({} chunks), compression {}",
                group_thousands(storage.chunk_rows.unwrap_or(0) as u64),
                group_thousands(storage.chunks.unwrap_or(0)),
                storage.compression.as_deref().unwrap_or("?")
            ),
        );
        text.line(
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
            text.line("", format!("readers need {need}"));
        }
        return;
    }
    let missing = storage
        .parts
        .iter()
        .filter(|part| part.problem.is_some())
        .count();
    text.line(
        "storage",
        format!(
            "virtual, over {} part{} ({} readable, {missing} not)",
            storage.parts.len(),
            if storage.parts.len() == 1 { "" } else { "s" },
            storage.parts.len() - missing
        ),
    );
    for part in &storage.parts {
        text.line(
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

/// Text being written: labelled lines and tables.
#[derive(Default)]
struct Text {
    out: String,
}

impl Text {
    /// `value` after `label` padded to the label column.
    fn line(&mut self, label: &str, value: String) {
        self.out.push_str(&format!("{label:<12} {value}\n"));
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
