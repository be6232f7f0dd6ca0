//! `--region`, `--regions`, `--source` and `--source-index`, checked against the study.

use crate::error::{Error, Result};
use crate::h5::Study;
use crate::query::region::{parse_region, read_bed, Regions};
use crate::query::select::Selection;
use crate::settings::ExportSettings;

/// The selection the flags ask for; `None` parts select everything.
pub fn selection(settings: &ExportSettings, study: &Study) -> Result<Selection> {
    Ok(Selection {
        sources: sources(settings, study)?,
        regions: regions(settings, study)?,
    })
}

fn regions(settings: &ExportSettings, study: &Study) -> Result<Option<Regions>> {
    if settings.regions.is_empty() && settings.bed_files.is_empty() {
        return Ok(None);
    }
    let known = |chr: &[u8]| {
        study
            .index
            .as_ref()
            .is_some_and(|index| index.runs.iter().any(|run| run.chr == chr))
    };
    let mut regions = Vec::new();
    for text in &settings.regions {
        regions.push(parse_region(text, known)?);
    }
    for bed in &settings.bed_files {
        regions.extend(read_bed(bed)?);
    }
    Ok(Some(Regions::new(regions)))
}

fn sources(settings: &ExportSettings, study: &Study) -> Result<Option<Vec<usize>>> {
    if settings.sources.is_empty() && settings.source_indices.is_empty() {
        return Ok(None);
    }
    let count = study.sources.len();
    let mut chosen = Vec::new();
    for &index in &settings.source_indices {
        if index >= count {
            return Err(Error::usage(format!(
                "--source-index {index}: {} has {count} sources (0 to {}); txt2h5 inspect lists them",
                study.path.display(),
                count.saturating_sub(1)
            )));
        }
        chosen.push(index);
    }
    for glob in &settings.sources {
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
