//! Sources and regions become the row ranges that can hold the selected rows.
//!
//! With a position index, a region reads only the runs of its chromosome whose positions
//! reach it, and in a sorted run only the rows between the anchors around it. Runs that
//! are not sorted are read whole, never skipped, so the answer is right on any input
//! order. Without an index every selected source is read and checked row by row.

use globset::{Glob, GlobMatcher};

use crate::error::{Error, Result};
use crate::h5::Study;
use std::path::PathBuf;

use crate::query::region::{parse_region, read_bed, Regions};

/// What to read back.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Rows of `/sources` to read, sorted and distinct; `None` for all.
    pub sources: Option<Vec<usize>>,
    /// Positions to keep; `None` for all.
    pub regions: Option<Regions>,
}

/// The rows to read for a selection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RowPlan {
    /// Sorted, disjoint, non-empty row ranges holding every selected row. With regions
    /// they may hold other rows too, which the row check drops.
    pub ranges: Vec<(u64, u64)>,
    /// Notes for people: unknown chromosomes, a missing index.
    pub notes: Vec<String>,
}

impl Selection {
    /// Whether `source` is selected.
    pub fn has_source(&self, source: usize) -> bool {
        self.sources
            .as_ref()
            .is_none_or(|sources| sources.binary_search(&source).is_ok())
    }
}

/// A `--source` glob: on the whole recorded path, and, without a `/`, on the file name.
#[derive(Clone, Debug)]
pub struct SourceGlob {
    /// The glob as given.
    pub text: String,
    matcher: GlobMatcher,
    name_only: bool,
}

impl SourceGlob {
    pub fn new(text: &str) -> Result<Self> {
        let glob =
            Glob::new(text).map_err(|error| Error::usage(format!("--source {text:?}: {error}")))?;
        Ok(Self {
            text: text.to_string(),
            matcher: glob.compile_matcher(),
            name_only: !text.contains('/'),
        })
    }

    /// Whether it selects the source recorded as `path`.
    pub fn matches(&self, path: &str) -> bool {
        self.matcher.is_match(path)
            || (self.name_only
                && self
                    .matcher
                    .is_match(path.rsplit_once('/').map_or(path, |(_, name)| name)))
    }
}

/// The row ranges `selection` needs in `study`.
pub fn plan(study: &Study, selection: &Selection) -> RowPlan {
    let mut notes = Vec::new();
    let source_ranges = study
        .sources
        .iter()
        .enumerate()
        .filter(|(number, _)| selection.has_source(*number))
        .map(|(_, source)| (source.first_row, source.first_row + source.rows));
    let Some(regions) = &selection.regions else {
        return RowPlan {
            ranges: merged(source_ranges.collect()),
            notes,
        };
    };
    let width = study.schema.chr_width();
    let Some(index) = &study.index else {
        notes.push(format!(
            "{} has no position index (written before txt2h5 had one): reading every selected \
             row to answer the regions; `txt2h5 merge {0} -o NEW.h5` writes an indexed copy",
            study.path.display()
        ));
        for chr in regions.chromosomes() {
            if chr.len() > width {
                notes.push(too_long(chr, width));
            }
        }
        return RowPlan {
            ranges: merged(source_ranges.collect()),
            notes,
        };
    };
    let mut ranges = Vec::new();
    for run in &index.runs {
        if !selection.has_source(run.source as usize) {
            continue;
        }
        let intervals = regions.on(&run.chr);
        // The intervals that reach into [min_pos, max_pos].
        let first = intervals.partition_point(|&(_, end)| end < run.min_pos);
        for &(start, end) in &intervals[first..] {
            if start > run.max_pos {
                break;
            }
            let (lo, hi) = index.narrow(run, start.max(run.min_pos), end.min(run.max_pos));
            if lo < hi {
                ranges.push((lo, hi));
            }
        }
    }
    for chr in regions.chromosomes() {
        if chr.len() > width {
            notes.push(too_long(chr, width));
        } else if !index.runs.iter().any(|run| run.chr == chr) {
            notes.push(format!(
                "no rows on {} in {} (its chromosomes: txt2h5 inspect {1})",
                String::from_utf8_lossy(chr),
                study.path.display()
            ));
        }
    }
    RowPlan {
        ranges: merged(ranges),
        notes,
    }
}

fn too_long(chr: &[u8], width: usize) -> String {
    format!(
        "no rows on {}: the name is longer than the file's chr field ({width} bytes)",
        String::from_utf8_lossy(chr)
    )
}

/// Ranges sorted and joined where they touch or overlap; empty ones dropped.
pub(crate) fn merged(mut ranges: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    ranges.retain(|(lo, hi)| lo < hi);
    ranges.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
    for (lo, hi) in ranges {
        match out.last_mut() {
            Some(last) if lo <= last.1 => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

/// The selection flags of `export` and `matrix`, as given.
#[derive(Clone, Copy, Debug)]
pub struct SelectionFlags<'a> {
    /// `--region` texts, parsed against the study's chromosomes.
    pub regions: &'a [String],
    pub bed_files: &'a [PathBuf],
    pub sources: &'a [SourceGlob],
    pub source_indices: &'a [usize],
}

impl Selection {
    /// The selection the flags ask for, checked against `study`; `None` parts select
    /// everything.
    pub fn from_flags(flags: &SelectionFlags<'_>, study: &Study) -> Result<Selection> {
        Ok(Selection {
            sources: sources(flags, study)?,
            regions: regions(flags, study)?,
        })
    }
}

fn regions(flags: &SelectionFlags<'_>, study: &Study) -> Result<Option<Regions>> {
    if flags.regions.is_empty() && flags.bed_files.is_empty() {
        return Ok(None);
    }
    let known = |chr: &[u8]| {
        study
            .index
            .as_ref()
            .is_some_and(|index| index.runs.iter().any(|run| run.chr == chr))
    };
    let mut regions = Vec::new();
    for text in flags.regions {
        regions.push(parse_region(text, known)?);
    }
    for bed in flags.bed_files {
        regions.extend(read_bed(bed)?);
    }
    Ok(Some(Regions::new(regions)))
}

fn sources(flags: &SelectionFlags<'_>, study: &Study) -> Result<Option<Vec<usize>>> {
    if flags.sources.is_empty() && flags.source_indices.is_empty() {
        return Ok(None);
    }
    let count = study.sources.len();
    let mut chosen = Vec::new();
    for &index in flags.source_indices {
        if index >= count {
            return Err(Error::usage(format!(
                "--source-index {index}: {} has {count} sources (0 to {}); txt2h5 inspect lists them",
                study.path.display(),
                count.saturating_sub(1)
            )));
        }
        chosen.push(index);
    }
    for glob in flags.sources {
        let before = chosen.len();
        chosen.extend(
            study
                .sources
                .iter()
                .enumerate()
                .filter(|(_, source)| glob.matches(source.path.as_str()))
                .map(|(index, _)| index),
        );
        if chosen.len() == before {
            return Err(Error::usage(format!(
                "--source {:?} matches none of the {count} sources of {}; txt2h5 inspect lists them",
                glob.text,
                study.path.display()
            )));
        }
    }
    chosen.sort_unstable();
    chosen.dedup();
    Ok(Some(chosen))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_glob_without_a_slash_also_matches_the_file_name() {
        let glob = SourceGlob::new("sample_1*.txt").unwrap();
        assert!(glob.matches("data/run1/sample_12.txt"));
        assert!(glob.matches("sample_1.txt"));
        assert!(!glob.matches("data/sample_2.txt"));
        let glob = SourceGlob::new("data/*/sample_2.txt").unwrap();
        assert!(glob.matches("data/run1/sample_2.txt"));
        assert!(!glob.matches("sample_2.txt"));
    }

    #[test]
    fn ranges_merge_where_they_touch() {
        assert_eq!(
            merged(vec![(5, 9), (0, 2), (2, 3), (7, 12), (20, 20), (15, 16)]),
            [(0, 3), (5, 12), (15, 16)]
        );
    }
}
