//! The output appears whole or not at all.
//!
//! HDF5 writes into a hidden temporary file beside the target (same directory, so the final
//! rename is atomic and never crosses file systems). Only a successful run renames it into
//! place; on any error or signal the temporary file is deleted when this guard drops, and
//! an existing target is never touched. Without `--force` the rename refuses to replace a
//! file that appeared meanwhile.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tempfile::TempPath;

use crate::error::{Error, Result};

pub struct PendingOutput {
    temp: TempPath,
    target: PathBuf,
    overwrite: bool,
}

impl PendingOutput {
    /// Checks that `target` may be written and creates the temporary file beside it.
    pub fn new(target: &Path, overwrite: bool) -> Result<Self> {
        check_target(target, overwrite)?;
        let dir = parent_dir(target);
        let name = target
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        // tempfile creates 0600 files; an output gets the usual 0666 less the umask, as any
        // file a command writes.
        let temp = tempfile::Builder::new()
            .permissions(std::fs::Permissions::from_mode(0o666))
            .prefix(&format!(".{name}."))
            .suffix(".txt2h5-partial")
            .tempfile_in(dir)
            .map_err(|error| Error::io(dir, error))?
            .into_temp_path();
        Ok(Self {
            temp,
            target: target.to_path_buf(),
            overwrite,
        })
    }

    /// Where HDF5 should write.
    pub fn path(&self) -> &Path {
        &self.temp
    }

    /// Moves the finished file into place.
    pub fn commit(self) -> Result<()> {
        let target = self.target;
        let result = if self.overwrite {
            self.temp.persist(&target)
        } else {
            self.temp.persist_noclobber(&target)
        };
        result.map_err(|error| {
            if error.error.kind() == std::io::ErrorKind::AlreadyExists {
                exists_error(&target)
            } else {
                Error::io(&target, error.error)
            }
        })
    }
}

fn parent_dir(target: &Path) -> &Path {
    match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

fn exists_error(target: &Path) -> Error {
    Error::usage(format!(
        "{}: output file exists; pass --force to replace it",
        target.display()
    ))
}

/// Refuses a target in a missing directory, a directory, or an existing file without
/// `overwrite`. Called before any input is read so that a typo fails at once.
pub fn check_target(target: &Path, overwrite: bool) -> Result<()> {
    let dir = parent_dir(target);
    if !dir.is_dir() {
        return Err(Error::usage(format!(
            "{}: output directory {} does not exist",
            target.display(),
            dir.display()
        )));
    }
    match std::fs::metadata(target) {
        Ok(metadata) if metadata.is_dir() => Err(Error::usage(format!(
            "{}: output path is a directory; name a file such as {}/out.h5",
            target.display(),
            target.display()
        ))),
        Ok(_) if !overwrite => Err(exists_error(target)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_file_is_removed_unless_committed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.h5");
        let pending = PendingOutput::new(&target, false).unwrap();
        let temp = pending.path().to_path_buf();
        assert!(temp.exists());
        assert_eq!(temp.parent(), Some(dir.path()));
        drop(pending);
        assert!(!temp.exists());
        assert!(!target.exists());

        let pending = PendingOutput::new(&target, false).unwrap();
        std::fs::write(pending.path(), b"done").unwrap();
        pending.commit().unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"done");
        // The same mode as a file written the ordinary way (0666 less the umask).
        let ordinary = dir.path().join("ordinary");
        std::fs::write(&ordinary, b"").unwrap();
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode();
        assert_eq!(mode(&target), mode(&ordinary));
        std::fs::remove_file(ordinary).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn existing_target_needs_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.h5");
        std::fs::write(&target, b"old").unwrap();
        assert!(PendingOutput::new(&target, false).is_err());
        let pending = PendingOutput::new(&target, true).unwrap();
        std::fs::write(pending.path(), b"new").unwrap();
        pending.commit().unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
    }

    #[test]
    fn missing_directory_is_a_usage_error() {
        let error = check_target(Path::new("/no/such/dir/out.h5"), false).unwrap_err();
        assert!(error.to_string().contains("does not exist"), "{error}");
    }
}
