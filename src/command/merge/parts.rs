//! Which files a merge combines, and whether they fit together: directories expanded,
//! the same file or the output refused, sharded parts put in shard order and checked for
//! completeness, and two parts holding the same source refused.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::h5::ExistingOutput;
use crate::input::discover::{sorted_entries, FileId};

/// The part files: operands in the order given, each directory replaced by its `*.h5`
/// files sorted by name (hidden ones skipped), so that a merge of 100,000 parts needs no
/// command line longer than the system allows.
fn expand_parts(operands: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut parts = Vec::new();
    for operand in operands {
        if !operand.is_dir() {
            parts.push(operand.clone());
            continue;
        }
        let found: Vec<PathBuf> = sorted_entries(operand)?
            .into_iter()
            .filter(|path| path.as_os_str().as_encoded_bytes().ends_with(b".h5"))
            .collect();
        if found.is_empty() {
            return Err(Error::usage(format!(
                "{}: directory has no .h5 part files",
                operand.display()
            )));
        }
        parts.extend(found);
    }
    Ok(parts)
}

/// Opens every part, refusing missing files, the output itself and a part given twice.
pub(super) fn open_parts(operands: &[PathBuf], output: &Path) -> Result<Vec<ExistingOutput>> {
    let paths = expand_parts(operands)?;
    let output_identity = std::fs::metadata(output)
        .ok()
        .map(|metadata| FileId::of(&metadata));
    let mut seen: HashMap<FileId, &Path> = HashMap::new();
    let mut parts = Vec::with_capacity(paths.len());
    for path in &paths {
        let metadata = std::fs::metadata(path).map_err(|error| match error.kind() {
            std::io::ErrorKind::NotFound => {
                Error::usage(format!("{}: no such part file", path.display()))
            }
            _ => Error::io(path, error),
        })?;
        if !metadata.is_file() {
            return Err(Error::usage(format!(
                "{}: not a regular file",
                path.display()
            )));
        }
        let identity = FileId::of(&metadata);
        if output_identity == Some(identity) {
            return Err(Error::usage(format!(
                "{}: the output file is also a part; write the merged output elsewhere",
                path.display()
            )));
        }
        if let Some(first) = seen.insert(identity, path) {
            return Err(Error::usage(format!(
                "{} and {} are the same file; merging it twice would duplicate its rows",
                first.display(),
                path.display()
            )));
        }
        let part = ExistingOutput::open(path).map_err(|error| error.into_error(path, "merge"))?;
        parts.push(part);
    }
    Ok(parts)
}

/// Two parts that record the same source file (same path, size and checksum) hold the same
/// rows: a copy of one part given as another, or two loads of one file. Merging them would
/// duplicate those rows, so it is refused.
pub(super) fn refuse_shared_sources(parts: &[ExistingOutput]) -> Result<()> {
    let mut owner: HashMap<(&str, u64, &str), &Path> = HashMap::new();
    for part in parts {
        for source in &part.study.sources {
            let key = (source.path.as_str(), source.size, source.xxh3_128.as_str());
            if let Some(first) = owner.insert(key, &part.study.path) {
                if first != part.study.path.as_path() {
                    return Err(Error::usage(format!(
                        "{} and {} both hold the rows of {} (same size and xxh3_128); merging \
                         them would duplicate those rows: is one a copy of the other?",
                        first.display(),
                        part.study.path.display(),
                        source.path.as_str()
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Checks that the parts fit together and puts them in shard order.
pub(super) fn order_parts(mut parts: Vec<ExistingOutput>) -> Result<Vec<ExistingOutput>> {
    let first = &parts[0];
    for part in &parts[1..] {
        if part.study.dataset_name != first.study.dataset_name
            || part.study.schema != first.study.schema
        {
            return Err(Error::usage(format!(
                "{} and {} have different schemas (dataset {:?} with {} vs {:?} with {}); \
                 parts must come from loads with the same --dataset, --chr-width, --wide-pos \
                 and --extra",
                first.study.path.display(),
                part.study.path.display(),
                first.study.dataset_name,
                first.study.schema.summary(),
                part.study.dataset_name,
                part.study.schema.summary()
            )));
        }
    }
    let sharded = parts
        .iter()
        .filter(|part| part.study.provenance.shard.is_some())
        .count();
    if sharded == 0 {
        return Ok(parts);
    }
    if sharded != parts.len() {
        return Err(Error::usage(
            "some parts are shards (--shard) and some are not; merge the shards of one load",
        ));
    }
    let mut keyed = Vec::new();
    for part in parts.drain(..) {
        let spec = part.study.provenance.shard.clone().unwrap_or_default();
        let shard = crate::input::shard::Shard::parse(&spec, |_| None).map_err(|_| {
            Error::usage(format!(
                "{}: unreadable shard attribute {spec:?}",
                part.study.path.display()
            ))
        })?;
        keyed.push((shard, part));
    }
    keyed.sort_by_key(|(shard, _)| shard.index);
    let count = keyed[0].0.count;
    let set = keyed[0].1.study.provenance.input_set.clone();
    for (position, (shard, part)) in keyed.iter().enumerate() {
        if shard.count != count || part.study.provenance.input_set != set {
            return Err(Error::usage(format!(
                "{} is shard {shard} of a different load than {} (shard {}); merge the parts of one load",
                part.study.path.display(),
                keyed[0].1.study.path.display(),
                keyed[0].0
            )));
        }
        if shard.index != position + 1 {
            let missing = if shard.index > position + 1 {
                position + 1
            } else {
                shard.index
            };
            return Err(Error::usage(format!(
                "shard {missing}/{count} is {}; merge needs every shard 1/{count}..{count}/{count} exactly once",
                if shard.index > position + 1 { "missing" } else { "given twice" }
            )));
        }
    }
    if keyed.len() != count {
        return Err(Error::usage(format!(
            "shard {}/{count} is missing; merge needs every shard 1/{count}..{count}/{count} exactly once",
            keyed.len() + 1
        )));
    }
    Ok(keyed.into_iter().map(|(_, part)| part).collect())
}
