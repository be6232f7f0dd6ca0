//! The end-of-run summary: one line for people on stderr, JSON for scripts on stdout.

use serde::Serialize;

use crate::h5::{ExistingOutput, SkippedRow};
use crate::settings::LoadSettings;

use crate::progress::group_thousands;

#[derive(Debug, Serialize)]
pub struct LoadReport {
    pub output: String,
    pub dataset: String,
    /// Files loaded by this run.
    pub files: usize,
    /// Rows loaded by this run.
    pub rows: u64,
    /// Rows in the output (more than `rows` after an append).
    pub total_rows: u64,
    /// Inputs an append skipped because the output already holds them.
    pub skipped: Vec<String>,
    pub bytes: u64,
    pub seconds: f64,
    pub rows_per_second: f64,
    pub threads: usize,
    pub compression: String,
    /// Record bytes written to and read back from temporary spill files.
    pub spilled_bytes: u64,
    /// Data lines of this run's files left out on purpose, by reason.
    pub rows_skipped: SkippedRow,
    pub sources: Vec<SourceReport>,
}

#[derive(Debug, Serialize)]
pub struct SourceReport {
    pub path: String,
    /// The format the file was read with (`/sources` column `format`).
    pub format: String,
    /// How it is stored: `text`, `gzip` or `bgzf`.
    pub encoding: &'static str,
    pub bytes: u64,
    pub first_row: u64,
    pub rows: u64,
    /// Data lines left out on purpose, by reason.
    pub skipped: SkippedRow,
    pub xxh3_128: String,
}

impl LoadReport {
    /// An append that found every input already loaded and wrote nothing.
    pub fn unchanged(
        settings: &LoadSettings,
        existing: &ExistingOutput,
        skipped: Vec<String>,
        seconds: f64,
    ) -> Self {
        Self {
            output: settings.output.to_string_lossy().into_owned(),
            dataset: existing.study.dataset_name.clone(),
            files: 0,
            rows: 0,
            total_rows: existing.study.rows,
            skipped,
            bytes: 0,
            seconds,
            rows_per_second: 0.0,
            threads: settings.threads,
            compression: existing.compression.to_string(),
            spilled_bytes: 0,
            rows_skipped: SkippedRow::default(),
            sources: Vec::new(),
        }
    }

    /// `loaded 16 files, 32,000,000 rows, 906.1 MB in 4.73 s (6.8 M rows/s) -> out.h5:/data`
    pub fn summary_line(&self) -> String {
        let mut line = self.load_line();
        if !self.skipped.is_empty() || self.total_rows != self.rows {
            line.push_str(&format!(
                " (appended; skipped {} already loaded; {} in all)",
                self.skipped.len(),
                rows(self.total_rows)
            ));
        }
        line
    }

    fn load_line(&self) -> String {
        let mut line = format!(
            "loaded {} file{}{}, {}, {} in {:.2} s ({}) -> {}:/{}",
            self.files,
            if self.files == 1 { "" } else { "s" },
            self.formats_clause(),
            rows(self.rows),
            human_bytes(self.bytes),
            self.seconds,
            human_rate(self.rows_per_second),
            self.output,
            self.dataset
        );
        let skipped = &self.rows_skipped;
        let reasons: Vec<String> = [
            (skipped.zero_coverage, "zero coverage"),
            (skipped.context, "context"),
            (skipped.mod_code, "mod code"),
        ]
        .iter()
        .filter(|(count, _)| *count > 0)
        .map(|(count, reason)| format!("{reason} {}", group_thousands(*count)))
        .collect();
        if !reasons.is_empty() {
            let total = skipped.zero_coverage + skipped.context + skipped.mod_code;
            line.push_str(&format!(
                "; left out {} ({})",
                rows(total),
                reasons.join(", ")
            ));
        }
        line
    }

    /// ` (bismark-cov 2, allc 1)`: the formats read, unless every file was `native`.
    fn formats_clause(&self) -> String {
        let mut counts: Vec<(&str, usize)> = Vec::new();
        for source in &self.sources {
            match counts
                .iter_mut()
                .find(|(format, _)| *format == source.format)
            {
                Some((_, count)) => *count += 1,
                None => counts.push((&source.format, 1)),
            }
        }
        if counts
            .iter()
            .all(|(format, _)| matches!(*format, "native" | "empty"))
        {
            return String::new();
        }
        let list: Vec<String> = counts
            .iter()
            .map(|(format, count)| format!("{format} {count}"))
            .collect();
        format!(" ({})", list.join(", "))
    }
}

/// Bytes in decimal units (`865.20 MB`), as indicatif writes them.
pub fn human_bytes(bytes: u64) -> String {
    indicatif::DecimalBytes(bytes).to_string()
}

fn human_rate(rows_per_second: f64) -> String {
    if rows_per_second >= 1e6 {
        format!("{:.1} M rows/s", rows_per_second / 1e6)
    } else {
        format!("{rows_per_second:.0} rows/s")
    }
}

/// `1 row`, `2 rows`, `1,000 rows`.
pub(crate) fn rows(count: u64) -> String {
    let unit = if count == 1 { "row" } else { "rows" };
    format!("{} {unit}", group_thousands(count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_row_is_singular() {
        assert_eq!(rows(1), "1 row");
        assert_eq!(rows(0), "0 rows");
        assert_eq!(rows(1_000), "1,000 rows");
    }

    #[test]
    fn human_units() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(865_200_000), "865.20 MB");
        assert_eq!(human_rate(26_000_000.0), "26.0 M rows/s");
        assert_eq!(human_rate(12.4), "12 rows/s");
    }
}
