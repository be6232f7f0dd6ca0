//! `--region`, `--regions`, `--source` and `--source-index`, checked against the study.

use std::os::unix::ffi::OsStrExt;

use globset::{Glob, GlobMatcher};

use crate::cli::ExportArgs;
use crate::error::{Error, Result};
use crate::output::h5::{escape_bytes, Study};
use crate::query::region::{parse_region, read_bed, Regions};
use crate::query::select::Selection;

/// The selection the flags ask for; `None` parts select everything.
pub fn selection(args: &ExportArgs, study: &Study) -> Result<Selection> {
    Ok(Selection {
        sources: sources(args, study)?,
        regions: regions(args, study)?,
    })
}

fn regions(args: &ExportArgs, study: &Study) -> Result<Option<Regions>> {
    if args.regions.is_empty() && args.bed_files.is_empty() {
        return Ok(None);
    }
    let known = |chr: &[u8]| {
        study
            .index
            .as_ref()
            .is_some_and(|index| index.runs.iter().any(|run| run.chr == chr))
    };
    let mut regions = Vec::new();
    for text in &args.regions {
        regions.push(parse_region(text, known)?);
    }
    for bed in &args.bed_files {
        regions.extend(read_bed(bed)?);
    }
    Ok(Some(Regions::new(regions)))
}

/// A `--source` glob: on the whole recorded path, and, without a `/`, on the file name.
struct SourceGlob {
    text: String,
    matcher: GlobMatcher,
    name_only: bool,
}

impl SourceGlob {
    fn new(text: &str) -> Result<Self> {
        let glob =
            Glob::new(text).map_err(|error| Error::usage(format!("--source {text:?}: {error}")))?;
        Ok(Self {
            text: text.to_string(),
            matcher: glob.compile_matcher(),
            name_only: !text.contains('/'),
        })
    }

    fn matches(&self, path: &str) -> bool {
        self.matcher.is_match(path)
            || (self.name_only
                && self
                    .matcher
                    .is_match(path.rsplit_once('/').map_or(path, |(_, name)| name)))
    }
}

fn sources(args: &ExportArgs, study: &Study) -> Result<Option<Vec<usize>>> {
    if args.sources.is_empty() && args.source_indices.is_empty() {
        return Ok(None);
    }
    let count = study.sources.len();
    let mut chosen = Vec::new();
    for &index in &args.source_indices {
        if index >= count {
            return Err(Error::usage(format!(
                "--source-index {index}: {} has {count} sources (0 to {}); txt2h5 inspect lists them",
                study.path.display(),
                count.saturating_sub(1)
            )));
        }
        chosen.push(index);
    }
    for text in &args.sources {
        // In the escaped form /sources records a name that is not UTF-8 in, so that such a
        // name, given in its own bytes, selects exactly its source.
        let glob = SourceGlob::new(&escape_bytes(text.as_bytes()))?;
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
}
