//! Progress on stderr for people: bytes and rows done, rate, ETA.
//!
//! Drawn only when stderr is a terminal and `--quiet` is off; otherwise every call is a
//! cheap no-op, so batch logs stay clean.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar over `total_bytes` of input, shown if `wanted` and stderr is a terminal.
    pub fn new(wanted: bool, total_bytes: u64) -> Self {
        Self::bar(
            wanted,
            total_bytes,
            "{spinner} {elapsed_precise} [{wide_bar}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta} {msg}",
        )
    }

    /// A bar over `total_rows` rows (reading back), shown if `wanted` and stderr is a
    /// terminal.
    pub fn rows(wanted: bool, total_rows: u64) -> Self {
        Self::bar(
            wanted,
            total_rows,
            "{spinner} {elapsed_precise} [{wide_bar}] {human_pos}/{human_len} rows {per_sec} ETA {eta}",
        )
    }

    fn bar(wanted: bool, total: u64, template: &str) -> Self {
        if !wanted || !std::io::stderr().is_terminal() {
            return Self::hidden();
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(template)
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        Self { bar: Some(bar) }
    }

    pub fn add_rows(&self, rows: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(rows);
        }
    }

    pub fn hidden() -> Self {
        Self { bar: None }
    }

    pub fn add_bytes(&self, bytes: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(bytes);
        }
    }

    pub fn set_rows(&self, rows: u64) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("{} rows", group_thousands(rows)));
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// `1234567` as `1,234,567` (indicatif's grouping, as the progress bars show counts).
pub fn group_thousands(value: u64) -> String {
    indicatif::HumanCount(value).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn groups_thousands() {
        assert_eq!(super::group_thousands(0), "0");
        assert_eq!(super::group_thousands(999), "999");
        assert_eq!(super::group_thousands(1000), "1,000");
        assert_eq!(super::group_thousands(32_000_000), "32,000,000");
    }
}
