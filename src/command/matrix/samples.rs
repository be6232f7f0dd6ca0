//! The columns of a matrix: one sample per selected source, named by its file name without
//! the usual suffixes, or the samples a `--samples` file makes of the sources.

use std::path::Path;

use crate::error::{Error, Result};
use crate::h5::Study;
use crate::query::select::{Selection, SourceGlob};

/// The samples of a matrix and which sources make each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Samples {
    pub names: Vec<String>,
    /// The sample of each row of the study's `/sources`; `None` for a source left out.
    pub of_source: Vec<Option<usize>>,
    /// Notes for people (sources left out).
    pub notes: Vec<String>,
}

/// Suffixes taken off a file name to name its sample, longest first within each group:
/// compression, then what the callers write.
const COMPRESSION_SUFFIXES: [&str; 5] = [".gz", ".bgz", ".zst", ".bz2", ".xz"];
const CALLER_SUFFIXES: [&str; 13] = [
    ".bismark.cov",
    ".CpG_report.txt",
    ".CX_report.txt",
    "_CpG.bedGraph",
    ".bedGraph",
    ".bedgraph",
    ".methylKit",
    ".cov",
    ".bed",
    ".txt",
    ".tsv",
    ".csv",
    ".tab",
];

/// The sample name of the source recorded as `path`: its file name without a compression
/// suffix and then one caller suffix (`S1.bismark.cov.gz` is `S1`).
pub fn sample_name(path: &str) -> String {
    let mut name = path.rsplit_once('/').map_or(path, |(_, name)| name);
    let strip = |name: &mut &str, suffixes: &[&str]| {
        for suffix in suffixes {
            if let Some(stem) = name.strip_suffix(suffix).filter(|stem| !stem.is_empty()) {
                *name = stem;
                return;
            }
        }
    };
    strip(&mut name, &COMPRESSION_SUFFIXES);
    strip(&mut name, &CALLER_SUFFIXES);
    name.to_string()
}

/// The samples of `study` for `selection`: from the `--samples` file if given, else one
/// per selected source.
pub fn samples(study: &Study, selection: &Selection, file: Option<&Path>) -> Result<Samples> {
    match file {
        Some(file) => from_file(study, selection, file),
        None => one_per_source(study, selection),
    }
}

fn one_per_source(study: &Study, selection: &Selection) -> Result<Samples> {
    let mut names: Vec<String> = Vec::new();
    let mut of_source = vec![None; study.sources.len()];
    for (number, source) in study.sources.iter().enumerate() {
        if !selection.has_source(number) {
            continue;
        }
        let name = sample_name(&source.path);
        if let Some(other) = names.iter().position(|known| *known == name) {
            let first = of_source
                .iter()
                .position(|sample| *sample == Some(other))
                .expect("a named sample has a source");
            return Err(Error::usage(format!(
                "sources {:?} and {:?} would both be sample {name:?}; name the samples with \
                 --samples FILE.tsv (lines SOURCE<TAB>SAMPLE)",
                study.sources[first].path, source.path
            )));
        }
        of_source[number] = Some(names.len());
        names.push(name);
    }
    if names.is_empty() {
        return Err(Error::usage(format!(
            "no source of {} is selected",
            study.path.display()
        )));
    }
    Ok(Samples {
        names,
        of_source,
        notes: Vec::new(),
    })
}

/// A `--samples` file: `SOURCE<TAB>SAMPLE` lines; `#` lines, blank lines and a first line
/// `source<TAB>sample` are skipped. Every line must name a selected source, and no source
/// may be named twice.
fn from_file(study: &Study, selection: &Selection, file: &Path) -> Result<Samples> {
    let text = read_text(file)?;
    let mut reading = SampleFile {
        study,
        selection,
        file,
        names: Vec::new(),
        of_source: vec![None; study.sources.len()],
        named_on: vec![0; study.sources.len()],
    };
    for (index, line) in text.lines().enumerate() {
        reading.line(index, line)?;
    }
    if reading.names.is_empty() {
        return Err(Error::BadInput {
            path: file.to_path_buf(),
            message: "names no sample\n  hint: lines are SOURCE<TAB>SAMPLE".to_string(),
        });
    }
    let notes = left_out_notes(study, selection, &reading.of_source, file);
    Ok(Samples {
        names: reading.names,
        of_source: reading.of_source,
        notes,
    })
}

/// The text of a `--samples` file, which must be UTF-8.
fn read_text(file: &Path) -> Result<String> {
    let text = std::fs::read(file).map_err(|error| Error::io(file, error))?;
    String::from_utf8(text).map_err(|error| Error::BadInput {
        path: file.to_path_buf(),
        message: format!(
            "is not UTF-8 text (byte {})\n  hint: lines are SOURCE<TAB>SAMPLE",
            error.utf8_error().valid_up_to()
        ),
    })
}

/// A `--samples` file being read: the samples so far, and the sample of each source and
/// the line that named it.
struct SampleFile<'a> {
    study: &'a Study,
    selection: &'a Selection,
    file: &'a Path,
    names: Vec<String>,
    of_source: Vec<Option<usize>>,
    named_on: Vec<usize>,
}

impl SampleFile<'_> {
    /// Reads line `index` (0-based) of the file.
    fn line(&mut self, index: usize, line: &str) -> Result<()> {
        let number = index + 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() || line.starts_with('#') {
            return Ok(());
        }
        let bad = |column: usize, field: &str, why: &str| Error::BadInput {
            path: self.file.to_path_buf(),
            message: format!(
                "line {number}, column {column}: {field:?} {why}\n  hint: lines are \
                 SOURCE<TAB>SAMPLE, SOURCE a recorded path or a glob (txt2h5 inspect {} lists \
                 the sources)",
                self.study.path.display()
            ),
        };
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() != 2 {
            return Err(bad(
                1,
                line,
                &format!("has {} tab-separated fields, not 2", fields.len()),
            ));
        }
        let (pattern, sample) = (fields[0].trim(), fields[1].trim());
        if index == 0
            && pattern.eq_ignore_ascii_case("source")
            && sample.eq_ignore_ascii_case("sample")
        {
            return Ok(());
        }
        if sample.is_empty() {
            return Err(bad(2, sample, "is empty: every source needs a sample name"));
        }
        let glob = SourceGlob::new(pattern).map_err(|_| bad(1, pattern, "is not a valid glob"))?;
        let sample_index = match self.names.iter().position(|known| known == sample) {
            Some(known) => known,
            None => {
                self.names.push(sample.to_string());
                self.names.len() - 1
            }
        };
        self.assign(&glob, sample_index, number)
            .map_err(|why| bad(1, pattern, &why))
    }

    /// Gives every selected source that `glob` (of line `number`) matches to sample
    /// `sample_index`; what is wrong otherwise, to be said of the line's pattern.
    fn assign(
        &mut self,
        glob: &SourceGlob,
        sample_index: usize,
        number: usize,
    ) -> std::result::Result<(), String> {
        let mut matched = false;
        for (source_number, source) in self.study.sources.iter().enumerate() {
            if !self.selection.has_source(source_number) || !glob.matches(&source.path) {
                continue;
            }
            if self.of_source[source_number].is_some() {
                return Err(format!(
                    "names source {:?} again (line {} named it first): a source belongs to \
                     one sample",
                    source.path, self.named_on[source_number]
                ));
            }
            self.of_source[source_number] = Some(sample_index);
            self.named_on[source_number] = number;
            matched = true;
        }
        if !matched {
            return Err("names no selected source".to_string());
        }
        Ok(())
    }
}

/// A note on the selected sources the file did not name, if any.
fn left_out_notes(
    study: &Study,
    selection: &Selection,
    of_source: &[Option<usize>],
    file: &Path,
) -> Vec<String> {
    let left_out = (0..study.sources.len())
        .filter(|&number| selection.has_source(number) && of_source[number].is_none())
        .count();
    if left_out > 0 {
        vec![format!(
            "{left_out} selected source{} named in {} left out",
            if left_out == 1 { " not" } else { "s not" },
            file.display()
        )]
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_the_usual_suffixes() {
        assert_eq!(sample_name("calls/S1.bismark.cov.gz"), "S1");
        assert_eq!(sample_name("S002.CpG_report.txt.gz"), "S002");
        assert_eq!(sample_name("a/b/liver_CpG.bedGraph"), "liver");
        assert_eq!(sample_name("x.tsv"), "x");
        assert_eq!(sample_name("plain"), "plain");
        // One caller suffix only, and never the whole name.
        assert_eq!(sample_name("s.txt.txt"), "s.txt");
        assert_eq!(sample_name(".gz"), ".gz");
    }
}
