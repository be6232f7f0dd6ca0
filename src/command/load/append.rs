//! `load --append`: what the existing output holds, and which inputs it already has.
//!
//! The existing file is only read here. Its rows are copied into the new file by the
//! pipeline, and the new file replaces it by rename, so an interrupted append leaves the
//! old file as it was and a re-run resumes by skipping the inputs already recorded.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::h5::{record_path, ExistingOutput, SourceRow};
use crate::input::checksum::HashingReader;
use crate::input::discover::Input;
use crate::settings::LoadSettings;

/// Opens the output an append adds to and checks that this command fits it.
pub(super) fn open(settings: &LoadSettings) -> Result<Option<ExistingOutput>> {
    if !(settings.append && settings.output.exists()) {
        return Ok(None);
    }
    let output = &settings.output;
    let existing =
        ExistingOutput::open(output).map_err(|error| error.into_error(output, "append to"))?;
    let mismatch = |what: String| {
        Error::usage(format!(
            "{}: cannot append: {what}; repeat the options of the load that made it",
            output.display()
        ))
    };
    if existing.study.dataset_name != settings.writer.dataset {
        return Err(mismatch(format!(
            "its dataset is {:?}, this command writes {:?} (--dataset)",
            existing.study.dataset_name, settings.writer.dataset
        )));
    }
    if existing.study.schema != settings.writer.schema {
        return Err(mismatch(format!(
            "its records are ({}), this command's are ({}) (--chr-width, --wide-pos, --extra)",
            existing.study.schema.summary(),
            settings.writer.schema.summary()
        )));
    }
    let compression = existing.compression;
    let (chunk_rows, explicit_compression) = settings.explicit_storage;
    if chunk_rows.is_some_and(|rows| rows != existing.chunk_rows) {
        return Err(mismatch(format!(
            "its chunks are {} rows (--chunk-rows)",
            existing.chunk_rows
        )));
    }
    if explicit_compression.is_some_and(|given| given != compression) {
        return Err(mismatch(format!(
            "its compression is {compression} (--compression)"
        )));
    }
    Ok(Some(existing))
}

/// Splits the inputs into those to load and those the output already holds (same path,
/// size and checksum). A recorded path whose content changed is an error: loading it again
/// would duplicate or contradict rows. Paths compare as `/sources` records them, losslessly
/// (see [`record_path`]); a name that is not UTF-8 is also looked up as outputs written
/// before lossless names recorded it (`to_string_lossy`), so that their re-runs resume.
pub(super) fn split_already_loaded(
    inputs: Vec<Input>,
    existing: &ExistingOutput,
) -> Result<(Vec<Input>, Vec<String>)> {
    // By path, so that resuming a load of 100,000 files is not 10^10 comparisons.
    let recorded_by_path: HashMap<&str, &SourceRow> = existing
        .study
        .sources
        .iter()
        .map(|row| (row.path.as_str(), row))
        .collect();
    let mut new = Vec::new();
    let mut skipped = Vec::new();
    for input in inputs {
        let path = record_path(&input.path).map_err(Error::usage)?;
        let recorded = recorded_by_path.get(path.as_str()).or_else(|| {
            let lossy = input.path.to_string_lossy();
            let legacy = matches!(lossy, std::borrow::Cow::Owned(_));
            legacy.then(|| recorded_by_path.get(&*lossy)).flatten()
        });
        let Some(&recorded) = recorded else {
            new.push(input);
            continue;
        };
        let checksum = if recorded.size == input.size {
            Some(file_checksum(&input)?)
        } else {
            None
        };
        let recorded_checksum = recorded.xxh3_128.as_str();
        if checksum.as_deref() != Some(recorded_checksum) {
            return Err(Error::BadInput {
                path: input.path.clone(),
                message: format!(
                    "changed since it was loaded into {} (then {} bytes, xxh3_128 {recorded_checksum}; \
                     now {} bytes{}); load changed files into a new output",
                    existing.study.path.display(),
                    recorded.size,
                    input.size,
                    checksum.map(|sum| format!(", xxh3_128 {sum}")).unwrap_or_default()
                ),
            });
        }
        skipped.push(path);
    }
    Ok((new, skipped))
}

/// XXH3-128 of a file's bytes, as recorded in `/sources`.
fn file_checksum(input: &Input) -> Result<String> {
    let file = std::fs::File::open(&input.path).map_err(|error| Error::io(&input.path, error))?;
    let mut reader = HashingReader::new(file);
    let mut scratch = vec![0; 1 << 20];
    reader
        .finish(&mut scratch)
        .map_err(|error| Error::io(&input.path, error))?;
    Ok(format!("{:032x}", reader.digest()))
}
