//! Which files a run loads, and in what order.
//!
//! Operands are sorted by their bytes (the order Python's `sorted()` gives, so a load matches
//! the reference pipelines), then each directory is expanded in place into its regular files
//! sorted by name. Hidden entries (names starting with `.`) are skipped inside directories;
//! subdirectories are entered only with `--recursive`; `--glob` filters files found inside
//! directories by file name (a file named on the command line is always loaded). The same
//! file reached twice is an error rather than a silent duplicate of its rows. An `--append`'s
//! own output found inside a directory is left out (its temporary and lock files are hidden);
//! named as an operand it stays an input, which the load refuses.
//!
//! walkdir does the walk: entries sorted by name, symbolic links followed, and a link back to
//! a directory being walked reported as a loop instead of being walked again and again.

use std::collections::HashMap;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use globset::GlobMatcher;
use walkdir::WalkDir;

use crate::error::{Error, Result};

/// One input file, with the metadata recorded in `/sources`.
#[derive(Clone, Debug)]
pub struct Input {
    pub path: PathBuf,
    pub size: u64,
    /// Modification time: seconds since the epoch and nanoseconds past them.
    pub mtime: (i64, u32),
    id: FileId,
}

/// A file's identity (device and inode): the same file under two names, or through a link,
/// has one. Inputs, merge parts and outputs are compared by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FileId {
    device: u64,
    inode: u64,
}

impl FileId {
    pub fn of(metadata: &std::fs::Metadata) -> Self {
        Self {
            device: metadata.dev(),
            inode: metadata.ino(),
        }
    }
}

impl Input {
    fn from_metadata(path: PathBuf, metadata: &std::fs::Metadata) -> Self {
        Self {
            path,
            size: metadata.len(),
            mtime: mtime(metadata),
            id: FileId::of(metadata),
        }
    }

    /// Whether this input is the file at `metadata` (same device and inode).
    pub fn is_same_file(&self, metadata: &std::fs::Metadata) -> bool {
        self.id == FileId::of(metadata)
    }

    /// Whether the file at this input's path is still what discovery saw: the same file,
    /// size and modification time, derived as they were then.
    pub fn is_unchanged(&self) -> std::io::Result<bool> {
        let now = Self::from_metadata(PathBuf::new(), &std::fs::metadata(&self.path)?);
        Ok((now.id, now.size, now.mtime) == (self.id, self.size, self.mtime))
    }
}

/// The error for an input that is no longer the file the run began with.
pub fn changed_while_reading(path: &Path) -> Error {
    Error::BadInput {
        path: path.to_path_buf(),
        message: "the file changed (its size or modification time) while it was being \
                  loaded; load it again once it is complete"
            .to_string(),
    }
}

/// Checks that reading all of `input` gave `bytes` bytes, its size when the run began.
pub fn check_size_read(input: &Input, bytes: u64) -> Result<()> {
    if bytes == input.size {
        Ok(())
    } else {
        Err(changed_while_reading(&input.path))
    }
}

/// Checks, once every byte of `input` has been read, that the file is the one the run
/// began with: same file, size and modification time. A caller still writing it (a
/// pipeline step that has not finished) grows it behind the reads, which stop at the
/// starting size; without this check the rows written after the start would be lost with
/// exit 0. One `stat` per file, off the parsing path.
pub fn check_unchanged(input: &Input) -> Result<()> {
    let unchanged = input
        .is_unchanged()
        .map_err(|error| Error::io(&input.path, error))?;
    if unchanged {
        Ok(())
    } else {
        Err(changed_while_reading(&input.path))
    }
}

/// A file's modification time as `stat` gives it: any seconds an `i64` holds (a file
/// stamped after 2262 is recorded exactly), and nanoseconds below 10^9.
fn mtime(metadata: &std::fs::Metadata) -> (i64, u32) {
    let nanoseconds = metadata.mtime_nsec().clamp(0, 999_999_999);
    (
        metadata.mtime(),
        u32::try_from(nanoseconds).expect("clamped"),
    )
}

/// How directories are expanded.
#[derive(Clone, Debug, Default)]
pub struct DiscoverOptions {
    pub recursive: bool,
    pub glob: Option<GlobMatcher>,
    /// A file left out where directories are expanded: an `--append`'s output.
    pub exclude: Option<PathBuf>,
}

/// Expands operands into the ordered list of input files.
pub fn discover(operands: &[PathBuf], options: &DiscoverOptions) -> Result<Vec<Input>> {
    let mut sorted: Vec<&PathBuf> = operands.iter().collect();
    sorted.sort_by(|a, b| a.as_os_str().as_bytes().cmp(b.as_os_str().as_bytes()));
    let mut inputs = Vec::new();
    let exclude = options
        .exclude
        .as_ref()
        .and_then(|path| std::fs::metadata(path).ok())
        .map(|metadata| FileId::of(&metadata));
    for operand in sorted {
        let metadata = std::fs::metadata(operand).map_err(|error| match error.kind() {
            std::io::ErrorKind::NotFound => {
                Error::usage(format!("{}: no such file or directory", operand.display()))
            }
            _ => Error::io(operand, error),
        })?;
        if metadata.is_dir() {
            let before = inputs.len();
            expand_directory(operand, options, exclude, &mut inputs)?;
            if inputs.len() == before {
                let filter = match &options.glob {
                    Some(glob) => format!(" matching --glob {:?}", glob.glob().glob()),
                    None => String::new(),
                };
                let depth = if options.recursive {
                    ""
                } else {
                    " (subdirectories need --recursive)"
                };
                return Err(Error::usage(format!(
                    "{}: directory has no input files{filter}{depth}",
                    operand.display()
                )));
            }
        } else if metadata.is_file() {
            inputs.push(Input::from_metadata(operand.clone(), &metadata));
        } else {
            return Err(Error::usage(format!(
                "{}: not a regular file or directory (pipes and devices are not supported: \
                 txt2h5 reads files in parallel pieces)",
                operand.display()
            )));
        }
    }
    reject_duplicates(&inputs)?;
    Ok(inputs)
}

/// Appends the regular files below `dir` (in subdirectories only with `recursive`), in
/// name order with each subdirectory in place, skipping hidden entries and `exclude`.
fn expand_directory(
    dir: &Path,
    options: &DiscoverOptions,
    exclude: Option<FileId>,
    inputs: &mut Vec<Input>,
) -> Result<()> {
    // Follow symbolic links, as `ls` and the shell's globs do (walkdir then watches for
    // loops); without --recursive a link to a directory is not entered, so not followed.
    let walk = sorted_walk(dir)
        .max_depth(if options.recursive { usize::MAX } else { 1 })
        .follow_links(options.recursive);
    for entry in walk.into_iter().filter_entry(|entry| !is_hidden(entry)) {
        let entry = entry.map_err(walk_error)?;
        let path = entry.path();
        let metadata = std::fs::metadata(path).map_err(|error| Error::io(path, error))?;
        if !metadata.is_file() || exclude == Some(FileId::of(&metadata)) {
            continue;
        }
        let name = path.file_name().map(Path::new).unwrap_or(path);
        if options.glob.as_ref().is_none_or(|glob| glob.is_match(name)) {
            inputs.push(Input::from_metadata(entry.into_path(), &metadata));
        }
    }
    Ok(())
}

/// A walk of `dir` with the entries of each directory sorted by their bytes.
fn sorted_walk(dir: &Path) -> WalkDir {
    WalkDir::new(dir).sort_by(|a, b| a.file_name().as_bytes().cmp(b.file_name().as_bytes()))
}

/// An entry below the walked directory whose name starts with `.`.
fn is_hidden(entry: &walkdir::DirEntry) -> bool {
    entry.depth() > 0 && entry.file_name().as_bytes().starts_with(b".")
}

/// A walk error as the I/O error it is, with its path; a loop as ELOOP, as the kernel
/// reports a link that leads back to itself.
fn walk_error(error: walkdir::Error) -> Error {
    let path = error.path().unwrap_or(Path::new("")).to_path_buf();
    if let Some(ancestor) = error.loop_ancestor() {
        let message = format!(
            "a symbolic link loop: it leads back to {}, which is being read",
            ancestor.display()
        );
        return Error::io(path, std::io::Error::other(message));
    }
    match error.into_io_error() {
        Some(error) => Error::io(path, error),
        None => Error::io(path, std::io::Error::other("directory walk failed")),
    }
}

/// The entries of `dir` that are not hidden (names starting with `.`), sorted by their
/// bytes: the order of a load's directory inputs and of a merge's directory of parts.
pub fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    sorted_walk(dir)
        .min_depth(1)
        .max_depth(1)
        .into_iter()
        .filter_entry(|entry| !is_hidden(entry))
        .map(|entry| entry.map(walkdir::DirEntry::into_path).map_err(walk_error))
        .collect()
}

fn reject_duplicates(inputs: &[Input]) -> Result<()> {
    let mut seen: HashMap<FileId, &Path> = HashMap::new();
    for input in inputs {
        if let Some(first) = seen.insert(input.id, &input.path) {
            return Err(Error::usage(format!(
                "{} and {} are the same file; loading it twice would duplicate its rows",
                first.display(),
                input.path.display()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::fs;

    fn names(inputs: &[Input], root: &Path) -> Vec<String> {
        inputs
            .iter()
            .map(|input| input.path.strip_prefix(root).unwrap().display().to_string())
            .collect()
    }

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "b/2.txt",
            "b/1.txt.gz",
            "b/.hidden",
            "b/sub/3.txt",
            "a.txt",
            "c.txt",
        ] {
            let path = dir.path().join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, name).unwrap();
        }
        dir
    }

    #[test]
    fn sorts_operands_and_expands_directories_in_place() {
        let dir = tree();
        let root = dir.path();
        let operands = [root.join("c.txt"), root.join("b"), root.join("a.txt")];
        let inputs = discover(&operands, &DiscoverOptions::default()).unwrap();
        assert_eq!(
            names(&inputs, root),
            ["a.txt", "b/1.txt.gz", "b/2.txt", "c.txt"]
        );
        assert_eq!(inputs[0].size, 5);
    }

    #[test]
    fn recursive_and_glob() {
        let dir = tree();
        let root = dir.path();
        let options = DiscoverOptions {
            recursive: true,
            glob: Some(globset::Glob::new("*.txt").unwrap().compile_matcher()),
            exclude: None,
        };
        let inputs = discover(&[root.join("b"), root.join("c.txt")], &options).unwrap();
        assert_eq!(names(&inputs, root), ["b/2.txt", "b/sub/3.txt", "c.txt"]);
    }

    #[test]
    fn empty_directory_missing_path_and_duplicates_are_errors() {
        let dir = tree();
        let root = dir.path();
        fs::create_dir(root.join("empty")).unwrap();
        let error = discover(&[root.join("empty")], &DiscoverOptions::default()).unwrap_err();
        assert!(error.to_string().contains("no input files"), "{error}");
        let error = discover(&[root.join("nope")], &DiscoverOptions::default()).unwrap_err();
        assert!(error.to_string().contains("no such file"), "{error}");
        let error = discover(
            &[root.join("b"), root.join("b/2.txt")],
            &DiscoverOptions::default(),
        )
        .unwrap_err();
        assert!(error.to_string().contains("same file"), "{error}");
    }
}
