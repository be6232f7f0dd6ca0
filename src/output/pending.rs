//! The output appears whole or not at all, and one writer at a time.
//!
//! A writer first claims its output ([`OutputClaim`]): the path is checked (its directory
//! exists, it is no directory, FIFO, device or socket), a symbolic link is followed to the
//! file it names, and the output is locked. The file is then written under a hidden
//! temporary name beside that final target (same directory, so the final rename is atomic
//! and never crosses file systems). Only a successful run renames it into place, after
//! giving it the replaced file's mode and group and syncing it to disk; the directory is
//! synced after the rename. On any error or signal the temporary file is deleted when the
//! guard drops, and an existing target is never touched. Without `--force` the rename
//! refuses to replace a file that appeared meanwhile.
//!
//! # The lock
//!
//! The output is replaced by rename, so a lock on the output's own inode would be lost at
//! the first rename: the next writer would lock the new inode while an older one still
//! holds the old. The lock is therefore a separate file beside the target,
//! `.NAME.txt2h5-lock`, locked with `flock(2)` and holding one line that names the holder
//! (pid, host, since when, command). The kernel drops a flock when its process dies, so a
//! file left by `kill -9` is stale and harmless. The holder deletes the file before it
//! unlocks; a writer that locked a file someone deleted meanwhile finds, by comparing the
//! locked inode with the one at the path, that its lock guards nothing, and retries.
//!
//! A second writer fails at once (exit 2, naming the holder) instead of waiting: a batch job
//! that waits behind another can hang until its time limit. Where the file system does not
//! support locks (Lustre mounted without `flock` fails with ENOSYS), an `--append`, the one
//! writer whose update can be lost (it reads the old file and writes old plus new), fails
//! with exit 1; the other writers go on unlocked, since each writes a whole file and the
//! no-clobber rename already refuses a file that appeared meanwhile.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rustix::fs::{FlockOperation, Gid, Mode, Uid};
use rustix::io::Errno;
use tempfile::TempPath;

use crate::error::{file_kind, Error, Result};

/// Suffix of the lock file beside an output (`.NAME.txt2h5-lock`).
pub const LOCK_SUFFIX: &str = ".txt2h5-lock";

/// Symbolic links followed from an output to its file, as the kernel's own limit (40).
const MAX_LINKS: usize = 40;

/// An output this process may write: checked, its links followed, and locked.
pub struct OutputClaim {
    /// The path as given, for messages.
    given: PathBuf,
    /// The file that is replaced: `given` with its symbolic links followed.
    target: PathBuf,
    overwrite: bool,
    /// `None` only where the file system has no locks and the writer may go on without.
    _lock: Option<OutputLock>,
}

impl OutputClaim {
    /// Checks `target` (see [`check_target`]) and takes its lock. `read_modify_write`: the
    /// writer reads the existing output and writes it again with more (`--append`), so it
    /// may not go on without a lock.
    pub fn new(target: &Path, overwrite: bool, read_modify_write: bool) -> Result<Self> {
        let resolved = check_target(target, overwrite)?;
        let lock = OutputLock::acquire(target, &resolved, read_modify_write)?;
        Ok(Self {
            given: target.to_path_buf(),
            target: resolved,
            overwrite,
            _lock: lock,
        })
    }

    /// Creates the temporary file beside the final target.
    pub fn into_pending(self) -> Result<PendingOutput> {
        let dir = parent_dir(&self.target);
        let name = self
            .target
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        // tempfile creates 0600 files; a new output gets the usual 0666 less the umask, as
        // any file a command writes (a replaced one gets its predecessor's mode at commit).
        let temp = tempfile::Builder::new()
            .permissions(std::fs::Permissions::from_mode(0o666))
            .prefix(&format!(".{name}."))
            .suffix(".txt2h5-partial")
            .tempfile_in(dir)
            .map_err(|error| Error::io(dir, error))?
            .into_temp_path();
        Ok(PendingOutput { temp, claim: self })
    }
}

/// The temporary file an output is written to, and the claim on its target.
pub struct PendingOutput {
    temp: TempPath,
    claim: OutputClaim,
}

impl PendingOutput {
    /// Claims `target` and creates the temporary file beside it.
    pub fn new(target: &Path, overwrite: bool) -> Result<Self> {
        OutputClaim::new(target, overwrite, false)?.into_pending()
    }

    /// Where HDF5 should write.
    pub fn path(&self) -> &Path {
        &self.temp
    }

    /// Moves the finished file into place: the replaced file's mode and group, the data on
    /// disk, the rename, the rename on disk; then the lock is released.
    pub fn commit(self) -> Result<()> {
        self.commit_with(&mut |path| File::open(path)?.sync_all())
    }

    /// [`PendingOutput::commit`] with the sync of a file or directory given (a test watches
    /// that the commit syncs the file before the rename and the directory after it).
    fn commit_with(self, sync: &mut dyn FnMut(&Path) -> std::io::Result<()>) -> Result<()> {
        let Self { temp, claim } = self;
        let target = &claim.target;
        let file = File::open(&temp).map_err(|error| Error::io(&*temp, error))?;
        keep_mode_and_group(&file, target).map_err(|error| Error::io(&claim.given, error))?;
        drop(file);
        sync(&temp).map_err(|error| Error::io(&claim.given, error))?;
        let result = if claim.overwrite {
            temp.persist(target)
        } else {
            temp.persist_noclobber(target)
        };
        result.map_err(|error| {
            if error.error.kind() == std::io::ErrorKind::AlreadyExists {
                exists_error(&claim.given)
            } else {
                Error::io(&claim.given, error.error)
            }
        })?;
        let dir = parent_dir(target);
        match sync(dir) {
            // Some file systems cannot sync a directory; the rename is all they offer.
            Err(error) if error.raw_os_error() == Some(Errno::INVAL.raw_os_error()) => Ok(()),
            result => result.map_err(|error| Error::io(dir, error)),
        }
    }
}

/// Gives the new file at `file` the mode and group of the file it replaces at `target` (none
/// for a new output). The group is kept where this user may set it: `fchown` to a group one
/// is not a member of fails with EPERM, and the file then keeps the user's group; the owner
/// is kept too where that is allowed (root). The mode is set after, as chown clears setgid.
fn keep_mode_and_group(file: &File, target: &Path) -> std::io::Result<()> {
    let old = match std::fs::metadata(target) {
        Ok(old) => old,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(error),
    };
    let new = file.metadata()?;
    let owner = (old.uid() != new.uid()).then(|| Uid::from_raw(old.uid()));
    let group = (old.gid() != new.gid()).then(|| Gid::from_raw(old.gid()));
    if owner.is_some() || group.is_some() {
        match rustix::fs::fchown(file, owner, group) {
            Err(Errno::PERM) if owner.is_some() => match rustix::fs::fchown(file, None, group) {
                Err(Errno::PERM) | Ok(()) => {}
                Err(error) => return Err(error.into()),
            },
            Err(Errno::PERM) | Ok(()) => {}
            Err(error) => return Err(error.into()),
        }
    }
    rustix::fs::fchmod(file, Mode::from_raw_mode(old.mode() & 0o7777))?;
    Ok(())
}

/// The lock of one output, held until dropped (see the module comment).
struct OutputLock {
    file: File,
    path: PathBuf,
}

impl OutputLock {
    /// Locks the output at `target` (the followed path; `given` names it in messages).
    /// `Ok(None)`: the file system has no locks and `required` is false.
    fn acquire(given: &Path, target: &Path, required: bool) -> Result<Option<Self>> {
        let path = lock_path(target);
        let io_error = |error: std::io::Error| Error::io(&path, error);
        // A lock file deleted between our open and our flock guards nothing: try again. Each
        // retry needs another writer to finish in between, so a few suffice.
        for _ in 0..100 {
            let mut file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(io_error)?;
            match rustix::fs::flock(&file, FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => {}
                Err(Errno::WOULDBLOCK) => {
                    let mut holder = String::new();
                    // The holder's line, if it has written it yet; the refusal stands anyway.
                    let _ = file.read_to_string(&mut holder);
                    return Err(busy_error(given, holder.trim()));
                }
                Err(error) if is_unsupported(error) => {
                    return if required {
                        Err(unsupported_error(given, &path, error))
                    } else {
                        Ok(None)
                    };
                }
                Err(error) => return Err(io_error(error.into())),
            }
            let locked = file.metadata().map_err(io_error)?;
            match std::fs::symlink_metadata(&path) {
                Ok(now) if now.dev() == locked.dev() && now.ino() == locked.ino() => {}
                _ => continue,
            }
            // Ours from here: if the holder's line cannot be written (a full disk), the
            // lock goes, and its file with it, as at the end of any run.
            let mut lock = Self { file, path };
            lock.write_holder().map_err(|error| {
                Error::io(
                    given,
                    std::io::Error::new(
                        error.kind(),
                        format!(
                            "cannot write its lock file {}: {error}",
                            lock.path.display()
                        ),
                    ),
                )
            })?;
            return Ok(Some(lock));
        }
        Err(Error::io(
            &path,
            std::io::Error::other("the lock file keeps being replaced"),
        ))
    }

    /// Replaces the lock file's text with this process's [`holder_line`].
    fn write_holder(&mut self) -> std::io::Result<()> {
        self.file.set_len(0)?;
        self.file.rewind()?;
        self.file.write_all(holder_line().as_bytes())
    }
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        // Deleted while still locked, so that no other writer can lock this inode and think
        // it holds the output (it compares inodes after locking); a file left behind is
        // harmless anyway, so a failure here changes nothing.
        let _ = std::fs::remove_file(&self.path);
        let _ = rustix::fs::flock(&self.file, FlockOperation::Unlock);
    }
}

/// `.NAME.txt2h5-lock` beside `target`.
pub fn lock_path(target: &Path) -> PathBuf {
    let name = target.file_name().unwrap_or_default();
    let mut lock_name = std::ffi::OsString::from(".");
    lock_name.push(name);
    lock_name.push(LOCK_SUFFIX);
    parent_dir(target).join(lock_name)
}

/// Errors of a file system without locks: ENOSYS (Lustre without `flock`), EOPNOTSUPP,
/// ENOLCK (NFSv3 without a lock manager).
fn is_unsupported(error: Errno) -> bool {
    matches!(error, Errno::NOSYS | Errno::OPNOTSUPP | Errno::NOLCK)
}

/// `pid P on host H since T: COMMAND`, what another writer shows of this one.
fn holder_line() -> String {
    let host = rustix::system::uname();
    format!(
        "pid {} on host {} since {}: {}\n",
        rustix::process::getpid().as_raw_nonzero(),
        host.nodename().to_string_lossy(),
        humantime::format_rfc3339_seconds(std::time::SystemTime::now()),
        crate::shell::command_line()
    )
}

fn busy_error(given: &Path, holder: &str) -> Error {
    let holder = if holder.is_empty() {
        "a process that has not yet said who it is"
    } else {
        holder
    };
    Error::usage(format!(
        "{}: another txt2h5 is writing this output (lock held by {holder}); run again when \
         it has finished (txt2h5 does not wait, so that a batch job never hangs)",
        given.display()
    ))
}

fn unsupported_error(given: &Path, lock: &Path, error: Errno) -> Error {
    Error::io(
        lock,
        std::io::Error::other(format!(
            "cannot lock the output {} for --append: the file system does not support flock \
             ({error}); on Lustre mount with the flock option, or append on another file \
             system",
            given.display()
        )),
    )
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

/// Refuses an output that is the file `input` this run reads (links followed, so the same
/// file by any name): replacing it would destroy what is being read, and `--force`, which
/// the "output file exists" refusal suggests, would do just that. Call it before
/// [`OutputClaim::new`], so that this refusal, not that one, is what the user sees.
pub fn refuse_input_as_output(output: &Path, input: &Path) -> Result<()> {
    let (Ok(output_file), Ok(input_file)) = (std::fs::metadata(output), std::fs::metadata(input))
    else {
        // A new output cannot be an input; a missing input is reported where it is read.
        return Ok(());
    };
    if (output_file.dev(), output_file.ino()) == (input_file.dev(), input_file.ino()) {
        return Err(Error::usage(format!(
            "{}: the output is {}, which this run reads; write the output elsewhere",
            output.display(),
            input.display()
        )));
    }
    Ok(())
}

/// `target` with its symbolic links followed: the file an output at `target` replaces.
/// Relative links are relative to the link's directory, as the kernel reads them.
fn follow_links(target: &Path) -> Result<PathBuf> {
    let mut path = target.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&path) {
            Ok(metadata) if metadata.file_type().is_symlink() => {
                let link = std::fs::read_link(&path).map_err(|error| Error::io(&path, error))?;
                path = match path.parent() {
                    Some(parent) if link.is_relative() => parent.join(link),
                    _ => link,
                };
            }
            _ => return Ok(path),
        }
    }
    Err(Error::io(target, Errno::LOOP.into()))
}

/// Refuses a target in a missing directory, a directory, a FIFO, device or socket, or an
/// existing file without `overwrite`; returns the file the output replaces (links
/// followed: an output that is a symbolic link keeps the link, and the file it names gets
/// the rows). Called before any input is read so that a typo fails at once, and before any
/// file is opened, since opening a FIFO blocks.
pub fn check_target(target: &Path, overwrite: bool) -> Result<PathBuf> {
    let resolved = follow_links(target)?;
    let through = if resolved == target {
        String::new()
    } else {
        format!(" (a symbolic link to {})", resolved.display())
    };
    let dir = parent_dir(&resolved);
    if !dir.is_dir() {
        return Err(Error::usage(format!(
            "{}{through}: output directory {} does not exist",
            target.display(),
            dir.display()
        )));
    }
    match std::fs::symlink_metadata(&resolved) {
        Ok(metadata) if metadata.is_dir() => Err(Error::usage(format!(
            "{}{through}: output path is a directory; name a file such as {}/out.h5",
            target.display(),
            target.display()
        ))),
        Ok(metadata) if !metadata.is_file() => Err(Error::usage(format!(
            "{}{through}: output path is {}; txt2h5 writes a whole file and renames it into \
             place, so the output must be a regular file or a new name",
            target.display(),
            file_kind(&metadata)
        ))),
        Ok(_) if !overwrite => Err(exists_error(target)),
        _ => Ok(resolved),
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
        // Neither the temporary file nor the lock file is left.
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

    /// Regression: the commit renamed without syncing, so a node crash could keep the
    /// rename and lose the data. The file is synced, whole, before the rename; the
    /// directory after it.
    #[test]
    fn commit_syncs_the_file_before_the_rename_and_the_directory_after() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.h5");
        std::fs::write(&target, b"old").unwrap();
        let pending = PendingOutput::new(&target, true).unwrap();
        std::fs::write(pending.path(), b"new").unwrap();
        let temp = pending.path().to_path_buf();
        let mut synced = Vec::new();
        pending
            .commit_with(&mut |path| {
                // What is on disk at each sync: the temporary file whole and the old target,
                // then the directory with the new target in place.
                synced.push((
                    path.to_path_buf(),
                    std::fs::read(&temp).ok(),
                    std::fs::read(&target).unwrap(),
                ));
                File::open(path)?.sync_all()
            })
            .unwrap();
        assert_eq!(
            synced,
            [
                (temp.clone(), Some(b"new".to_vec()), b"old".to_vec()),
                (dir.path().to_path_buf(), None, b"new".to_vec()),
            ]
        );
    }

    /// A second claim on a locked output fails at once and names the holder; the lock file
    /// goes with the claim, and a stale one (its process died) is no obstacle.
    #[test]
    fn a_claimed_output_cannot_be_claimed_twice() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.h5");
        let first = OutputClaim::new(&target, true, true).unwrap();
        let error = OutputClaim::new(&target, true, true).err().unwrap();
        let message = error.to_string();
        let pid = std::process::id();
        assert!(
            message.contains(&format!("lock held by pid {pid} on host ")),
            "{message}"
        );
        assert_eq!(error.exit_code(), crate::error::exit_code::USAGE);
        drop(first);
        assert!(!lock_path(&target).exists());
        std::fs::write(
            lock_path(&target),
            b"pid 1 on host gone since then: txt2h5\n",
        )
        .unwrap();
        let claim = OutputClaim::new(&target, true, true).unwrap();
        drop(claim);
        assert!(!lock_path(&target).exists());
    }

    #[test]
    fn an_output_that_is_the_input_by_any_name_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("study.h5");
        std::fs::write(&input, b"rows").unwrap();
        std::os::unix::fs::symlink("study.h5", dir.path().join("link.h5")).unwrap();
        for output in [
            input.clone(),
            dir.path().join("link.h5"),
            dir.path().join(".").join("study.h5"),
        ] {
            let error = refuse_input_as_output(&output, &input).unwrap_err();
            assert_eq!(error.exit_code(), crate::error::exit_code::USAGE);
            assert!(
                error.to_string().contains("which this run reads"),
                "{error}"
            );
        }
        refuse_input_as_output(&dir.path().join("new.h5"), &input).unwrap();
        std::fs::write(dir.path().join("other.h5"), b"rows").unwrap();
        refuse_input_as_output(&dir.path().join("other.h5"), &input).unwrap();
    }

    #[test]
    fn lock_files_sit_beside_the_target() {
        assert_eq!(
            lock_path(Path::new("a/b/out.h5")),
            Path::new("a/b/.out.h5.txt2h5-lock")
        );
        assert_eq!(
            lock_path(Path::new("out.h5")),
            Path::new("./.out.h5.txt2h5-lock")
        );
    }
}
