//! An [`InspectReport`] as aligned text for people: a label column, then the tables of
//! sources and chromosomes; and a [`MatrixSummary`], whose samples are summarized (the first
//! and last few with the count), so that a matrix of hundreds of samples still prints a
//! screenful; `--json` lists them all.

use super::{InspectReport, StorageReport};
use crate::command::report::human_bytes;
use crate::h5::MatrixSummary;
use crate::progress::group_thousands;

/// Names shown at each end of a summarized list.
const SHOWN_AT_EACH_END: usize = 5;

impl MatrixSummary {
    /// The summary for people.
    pub fn to_text(&self) -> String {
        let mut text = format!(
            "txt2h5 matrix: {} rows ({}) x {} samples\n  datasets: M, Cov{} (int32, HDF5 shape \
             (samples, rows); rows x samples in R), rows/chr, rows/start, rows/end, \
             samples/name, sources/path, sources/sample\n  samples: {}\n",
            group_thousands(self.rows),
            self.rows_kind,
            self.samples.len(),
            if self.beta { ", beta (float32)" } else { "" },
            summarized(&self.samples)
        );
        for (name, value) in [
            ("study", &self.study),
            ("options", &self.options),
            ("created", &self.created),
            ("tool version", &self.tool_version),
            ("command line", &self.command_line),
        ] {
            if let Some(value) = value {
                text.push_str(&format!("  {name}: {value}\n"));
            }
        }
        text
    }
}

/// `names` joined by commas, or, when showing them all would hide little, the first and
/// last [`SHOWN_AT_EACH_END`] around how many are left out and where to find them all.
fn summarized(names: &[String]) -> String {
    // Two more than the ends: leaving out one or two names saves no space.
    if names.len() <= 2 * SHOWN_AT_EACH_END + 2 {
        return names.join(", ");
    }
    let left_out = names.len() - 2 * SHOWN_AT_EACH_END;
    format!(
        "{}, ... {} more ..., {} ({} in all; --json lists every one)",
        names[..SHOWN_AT_EACH_END].join(", "),
        group_thousands(left_out as u64),
        names[names.len() - SHOWN_AT_EACH_END..].join(", "),
        group_thousands(names.len() as u64)
    )
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn names(count: usize) -> Vec<String> {
        (0..count).map(|k| format!("S{k}")).collect()
    }

    #[test]
    fn a_short_list_is_shown_whole() {
        assert_eq!(summarized(&[]), "");
        assert_eq!(summarized(&names(1)), "S0");
        assert_eq!(summarized(&names(12)), names(12).join(", "));
    }

    #[test]
    fn a_long_list_shows_its_ends_and_the_count() {
        assert_eq!(
            summarized(&names(13)),
            "S0, S1, S2, S3, S4, ... 3 more ..., S8, S9, S10, S11, S12 (13 in all; --json lists every one)"
        );
        let text = summarized(&names(3_000));
        assert!(
            text.starts_with("S0, S1, S2, S3, S4, ... 2,990 more ..., S2995,"),
            "{text}"
        );
        assert!(
            text.ends_with("S2999 (3,000 in all; --json lists every one)"),
            "{text}"
        );
    }
}
