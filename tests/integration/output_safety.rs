//! Every command that writes an output (load, --append, --force, merge -o, export -o) never
//! loses an update and never damages a file: one writer at a time, links kept, mode and
//! group kept, no FIFO opened, and names recorded so that they round-trip. Also the
//! hostile-file sweep items that held but had no test: FIFOs as inputs, symbolic link loops,
//! read-only directories and odd file names.

use std::ffi::OsStr;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use rustix::fs::{flock, FlockOperation, Mode};

use crate::generate::methylation_text;
use crate::util::{
    describe, expect_code, h5check, ok, run, stderr, txt2h5, wait_for_partial_output, TestDir,
    FAILURE, USAGE,
};

/// Waits for `child` at most 30 s; a command still running then is killed and the test fails
/// (a FIFO opened for reading blocks forever).
fn finish_within_timeout(mut child: Child, what: &str) -> Output {
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("{what}: still running after 30 s (blocked on a FIFO?)");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn spawn(dir: &TestDir, args: &[&str]) -> Child {
    txt2h5()
        .current_dir(dir.path())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn mkfifo(path: &Path) {
    rustix::fs::mknodat(
        rustix::fs::CWD,
        path,
        rustix::fs::FileType::Fifo,
        Mode::from_raw_mode(0o644),
        0,
    )
    .unwrap();
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Two `load --append` onto one output at once both exited 0, and the rows of the one that
/// renamed first were gone. The second now fails at once, naming the first.
#[test]
fn concurrent_appends_never_lose_rows() {
    let dir = TestDir::new();
    dir.write("big.txt", &methylation_text(41, 600_000));
    dir.write("small.txt", &methylation_text(42, 500));
    let slow = [
        "load",
        "big.txt",
        "-o",
        "out.h5",
        "--append",
        "-j",
        "1",
        "--compression",
        "gzip:9",
    ];
    let mut first = spawn(&dir, &slow);
    wait_for_partial_output(&dir, &mut first);
    let second = run(
        dir.path(),
        &["load", "small.txt", "-o", "out.h5", "--append"],
    );
    expect_code(&second, USAGE);
    let message = stderr(&second);
    assert!(
        message.contains("another txt2h5 is writing this output")
            && message.contains(&format!("pid {} on host ", first.id()))
            && message.contains("load big.txt -o out.h5 --append"),
        "{message}"
    );
    let first = first.wait_with_output().unwrap();
    expect_code(&first, 0);
    ok(&dir, &["load", "small.txt", "-o", "out.h5", "--append"]);
    h5check(
        dir.path(),
        &["loadtxt", "out.h5", "10", "big.txt", "small.txt"],
    );
    assert_eq!(dir.entries(), ["big.txt", "out.h5", "small.txt"]);
}

/// The lock covers every writer: with the lock held (here by the test itself, through the
/// lock file beside the output), load --force, --append, merge -o and export -o all refuse
/// at once and name the holder from the lock file; the output is untouched. A lock file
/// left by a process that died holds nothing.
#[test]
fn every_writer_refuses_a_locked_output() {
    let dir = TestDir::new();
    dir.write("a.txt", &methylation_text(43, 300));
    ok(&dir, &["load", "a.txt", "-o", "a.h5"]);
    ok(&dir, &["load", "a.txt", "-o", "out.h5"]);
    ok(&dir, &["export", "a.h5", "-o", "out.tsv"]);
    let before = (
        std::fs::read(dir.join("out.h5")).unwrap(),
        std::fs::read(dir.join("out.tsv")).unwrap(),
    );
    let holder = "pid 4242 on host testhost since 2026-01-01T00:00:00Z: the test\n";
    let mut locks = Vec::new();
    for name in [".out.h5.txt2h5-lock", ".out.tsv.txt2h5-lock"] {
        let mut file = std::fs::File::create(dir.join(name)).unwrap();
        flock(&file, FlockOperation::NonBlockingLockExclusive).unwrap();
        file.write_all(holder.as_bytes()).unwrap();
        locks.push(file);
    }
    for args in [
        &["load", "a.txt", "-o", "out.h5", "--force"][..],
        &["load", "a.txt", "-o", "out.h5", "--append"],
        &["merge", "a.h5", "-o", "out.h5", "--force"],
        &["export", "a.h5", "-o", "out.tsv", "--force"],
    ] {
        let output = run(dir.path(), args);
        expect_code(&output, USAGE);
        assert!(
            stderr(&output).contains(&format!("lock held by {}", holder.trim())),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    assert_eq!(std::fs::read(dir.join("out.h5")).unwrap(), before.0);
    assert_eq!(std::fs::read(dir.join("out.tsv")).unwrap(), before.1);
    // The holder dies (its locks go with its descriptors): the stale files are no obstacle.
    drop(locks);
    ok(&dir, &["load", "a.txt", "-o", "out.h5", "--force"]);
    ok(&dir, &["export", "a.h5", "-o", "out.tsv", "--force"]);
    assert_eq!(dir.entries(), ["a.h5", "a.txt", "out.h5", "out.tsv"]);
}

/// `--append` (and `--force`) onto a symbolic link replaced the link with a new file, and
/// the file it named never got the rows. The link now stays and its target is replaced
/// (the temporary and lock files beside the target).
#[test]
fn append_through_a_symlink_writes_the_file_it_names() {
    let dir = TestDir::new();
    dir.write("a.txt", &methylation_text(44, 400));
    dir.write("b.txt", &methylation_text(45, 300));
    dir.create_dir("real");
    ok(&dir, &["load", "a.txt", "-o", "real/target.h5"]);
    std::os::unix::fs::symlink("real/target.h5", dir.join("out.h5")).unwrap();
    ok(&dir, &["load", "b.txt", "-o", "out.h5", "--append"]);
    let is_link = |name: &str| {
        std::fs::symlink_metadata(dir.join(name))
            .unwrap()
            .file_type()
            .is_symlink()
    };
    assert!(is_link("out.h5"), "the link was replaced");
    h5check(
        dir.path(),
        &["loadtxt", "real/target.h5", "10", "a.txt", "b.txt"],
    );
    ok(&dir, &["load", "b.txt", "-o", "out.h5", "--force"]);
    assert!(is_link("out.h5"), "the link was replaced");
    h5check(dir.path(), &["loadtxt", "real/target.h5", "10", "b.txt"]);
    let left: Vec<_> = std::fs::read_dir(dir.join("real")).unwrap().collect();
    assert_eq!(left.len(), 1, "files left beside the target");
}

/// A dangling symbolic link as output said "output file exists; pass --force". It is
/// followed like any link: the file it names is created, and a link into a missing
/// directory says what it is.
#[test]
fn a_dangling_symlink_output_is_created_where_it_points() {
    let dir = TestDir::new();
    dir.write("a.txt", &methylation_text(46, 200));
    std::os::unix::fs::symlink("new.h5", dir.join("out.h5")).unwrap();
    ok(&dir, &["load", "a.txt", "-o", "out.h5"]);
    h5check(dir.path(), &["loadtxt", "new.h5", "10", "a.txt"]);
    assert!(std::fs::symlink_metadata(dir.join("out.h5"))
        .unwrap()
        .file_type()
        .is_symlink());
    std::os::unix::fs::symlink("nowhere/x.h5", dir.join("lost.h5")).unwrap();
    let output = run(dir.path(), &["load", "a.txt", "-o", "lost.h5"]);
    expect_code(&output, USAGE);
    assert!(
        stderr(&output).contains(
            "lost.h5 (a symbolic link to nowhere/x.h5): output directory nowhere does not exist"
        ),
        "{}",
        stderr(&output)
    );
}

/// `--append` or `--force` reset the output's mode and group (0640 became 0644). The
/// replaced file's mode and group are kept (the group where this user may set it).
#[test]
fn append_and_force_keep_the_mode_and_group() {
    let dir = TestDir::new();
    dir.write("a.txt", &methylation_text(47, 300));
    dir.write("b.txt", &methylation_text(48, 300));
    ok(&dir, &["load", "a.txt", "-o", "out.h5"]);
    let out = dir.join("out.h5");
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o640)).unwrap();
    // A group to keep: as root any group; otherwise one of ours other than the default.
    let own = rustix::process::getegid();
    let group = if is_root() {
        Some(rustix::fs::Gid::from_raw(4242))
    } else {
        rustix::process::getgroups()
            .unwrap()
            .into_iter()
            .find(|&group| group != own)
    };
    match group {
        Some(group) => rustix::fs::chown(&out, None, Some(group)).unwrap(),
        None => println!("no second group to set: only the mode is checked"),
    }
    let expect = |mode: u32| {
        let metadata = std::fs::metadata(&out).unwrap();
        assert_eq!(metadata.mode() & 0o7777, mode, "mode");
        if let Some(group) = group {
            assert_eq!(metadata.gid(), group.as_raw(), "group");
        }
    };
    ok(&dir, &["load", "b.txt", "-o", "out.h5", "--append"]);
    expect(0o640);
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o600)).unwrap();
    ok(&dir, &["load", "a.txt", "-o", "out.h5", "--force"]);
    expect(0o600);
    h5check(dir.path(), &["loadtxt", "out.h5", "10", "a.txt"]);
}

/// `load --append -o FIFO` blocked forever opening the FIFO (and ignored SIGTERM and
/// SIGINT); `--force` renamed over it. An output that is not a regular file is refused
/// before anything opens it.
#[test]
fn a_fifo_as_output_is_refused_at_once() {
    let dir = TestDir::new();
    dir.write("a.txt", &methylation_text(49, 100));
    ok(&dir, &["load", "a.txt", "-o", "a.h5"]);
    mkfifo(&dir.join("out.h5"));
    for args in [
        &["load", "a.txt", "-o", "out.h5", "--append"][..],
        &["load", "a.txt", "-o", "out.h5", "--force"],
        &["merge", "a.h5", "-o", "out.h5", "--force"],
        &["export", "a.h5", "-o", "out.h5", "--force"],
    ] {
        let output = finish_within_timeout(spawn(&dir, args), &format!("{args:?}"));
        expect_code(&output, USAGE);
        assert!(
            stderr(&output).contains("out.h5: output path is a FIFO (named pipe)"),
            "{args:?}: {}",
            stderr(&output)
        );
        let kind = std::fs::symlink_metadata(dir.join("out.h5")).unwrap();
        assert!(
            std::os::unix::fs::FileTypeExt::is_fifo(&kind.file_type()),
            "{args:?}: the FIFO was replaced"
        );
    }
}

/// With the output inside an input directory, every `--append` re-run failed with "the
/// output file is also an input". An append's own output (with its temporary and lock
/// files) is left out of a directory; named as an input it is still refused.
#[test]
fn append_leaves_its_own_output_out_of_an_input_directory() {
    let dir = TestDir::new();
    dir.write("in/a.txt", &methylation_text(50, 300));
    ok(&dir, &["load", "in", "-o", "in/out.h5", "--append"]);
    dir.write("in/b.txt", &methylation_text(51, 200));
    ok(&dir, &["load", "in", "-o", "in/out.h5", "--append"]);
    ok(&dir, &["load", "in", "-o", "in/out.h5", "--append"]);
    h5check(
        dir.path(),
        &["loadtxt", "in/out.h5", "10", "in/a.txt", "in/b.txt"],
    );
    let output = run(
        dir.path(),
        &[
            "load",
            "in/a.txt",
            "in/out.h5",
            "-o",
            "in/out.h5",
            "--append",
        ],
    );
    expect_code(&output, USAGE);
    assert!(
        stderr(&output).contains("the output file is also an input"),
        "{}",
        stderr(&output)
    );
}

/// Names that are not UTF-8 were recorded with replacement characters: `caf\xe9.txt` and
/// `caf\xe8.txt` both as `caf\u{fffd}.txt`, so a re-run of the same `--append` failed with
/// exit 3 ("changed since it was loaded"). Each name is recorded losslessly (U+FDD0 and
/// the byte's hex digits), a re-run resumes, and `export --source` selects one by its bytes.
#[test]
fn names_that_are_not_utf8_round_trip() {
    let dir = TestDir::new();
    dir.create_dir("in");
    let path = |name: &[u8]| {
        let mut bytes = b"in/".to_vec();
        bytes.extend_from_slice(name);
        dir.path().join(OsStr::from_bytes(&bytes))
    };
    std::fs::write(path(b"caf\xe9.txt"), methylation_text(52, 30)).unwrap();
    std::fs::write(path(b"caf\xe8.txt"), methylation_text(53, 20)).unwrap();
    ok(&dir, &["load", "in", "-o", "out.h5", "--append"]);
    let recorded = |dir: &TestDir| -> Vec<String> {
        describe(dir.path(), "out.h5")["sources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|source| source["path"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        recorded(&dir),
        ["in/caf\u{fdd0}e8.txt", "in/caf\u{fdd0}e9.txt"]
    );
    let before = std::fs::read(dir.join("out.h5")).unwrap();
    let output = ok(&dir, &["load", "in", "-o", "out.h5", "--append", "--json"]);
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        summary["skipped"],
        serde_json::json!(["in/caf\u{fdd0}e8.txt", "in/caf\u{fdd0}e9.txt"])
    );
    assert_eq!(std::fs::read(dir.join("out.h5")).unwrap(), before);
    // By its own bytes, by its recorded text, and by a glob over both.
    let lines = |source: &OsStr| {
        let output = txt2h5()
            .current_dir(dir.path())
            .args([
                OsStr::new("export"),
                OsStr::new("out.h5"),
                OsStr::new("--source"),
            ])
            .arg(source)
            .output()
            .unwrap();
        expect_code(&output, 0);
        output.stdout.iter().filter(|&&byte| byte == b'\n').count()
    };
    assert_eq!(lines(OsStr::from_bytes(b"caf\xe9.txt")), 30);
    assert_eq!(lines(OsStr::from_bytes(b"in/caf\xe8.txt")), 20);
    assert_eq!(lines(OsStr::new("caf\u{fdd0}e9.txt")), 30);
    assert_eq!(lines(OsStr::new("caf*.txt")), 50);
}

/// A FIFO named as an input is refused (txt2h5 reads inputs in parallel pieces, which a pipe
/// cannot give), before anything opens it; one inside an input directory is not an input.
#[test]
fn a_fifo_as_input_is_refused_and_skipped_in_a_directory() {
    let dir = TestDir::new();
    dir.write("in/a.txt", &methylation_text(54, 100));
    mkfifo(&dir.join("in/pipe.txt"));
    let output = finish_within_timeout(
        spawn(&dir, &["load", "in/pipe.txt", "-o", "out.h5"]),
        "a FIFO input",
    );
    expect_code(&output, USAGE);
    assert!(
        stderr(&output).contains("in/pipe.txt: not a regular file or directory"),
        "{}",
        stderr(&output)
    );
    let output = finish_within_timeout(
        spawn(&dir, &["load", "in", "-o", "out.h5"]),
        "a directory holding a FIFO",
    );
    expect_code(&output, 0);
    h5check(dir.path(), &["loadtxt", "out.h5", "10", "in/a.txt"]);
}

/// A symbolic link back to a directory being read is an I/O error (exit 1) with
/// `--recursive`, reported at once; without `--recursive` the link is not entered. A link to
/// itself is the kernel's ELOOP either way. Nothing is written.
#[test]
fn symlink_loops_in_input_directories_are_io_errors() {
    let dir = TestDir::new();
    dir.write("in/a.txt", &methylation_text(55, 100));
    dir.write("in/sub/b.txt", &methylation_text(56, 100));
    std::os::unix::fs::symlink("..", dir.join("in/sub/up")).unwrap();
    let output = finish_within_timeout(
        spawn(&dir, &["load", "in", "-o", "out.h5", "--recursive"]),
        "a loop",
    );
    expect_code(&output, FAILURE);
    assert!(
        stderr(&output).contains("in/sub/up: a symbolic link loop"),
        "{}",
        stderr(&output)
    );
    assert!(!dir.join("out.h5").exists());
    ok(&dir, &["load", "in", "-o", "out.h5"]);
    h5check(dir.path(), &["loadtxt", "out.h5", "10", "in/a.txt"]);
    std::os::unix::fs::symlink("self", dir.join("in/self")).unwrap();
    for args in [
        &["load", "in", "-o", "loop.h5"][..],
        &["load", "in/self", "-o", "loop.h5"],
    ] {
        let output = run(dir.path(), args);
        expect_code(&output, FAILURE);
        assert!(
            stderr(&output).contains("in/self: Too many levels of symbolic links"),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    assert!(!dir.join("loop.h5").exists());
}

/// A read-only output directory is an I/O error (exit 1) that leaves nothing behind, and a
/// read-only input directory is read as any other. Root ignores permission bits, so as
/// root the output check is skipped (with a line saying so; /proc, where even root cannot
/// create files, is covered by readback's export test).
#[test]
fn read_only_directories() {
    let dir = TestDir::new();
    dir.write("in/a.txt", &methylation_text(57, 100));
    dir.create_dir("ro");
    let read_only = std::fs::Permissions::from_mode(0o555);
    std::fs::set_permissions(dir.join("in"), read_only.clone()).unwrap();
    std::fs::set_permissions(dir.join("ro"), read_only).unwrap();
    ok(&dir, &["load", "in", "-o", "out.h5"]);
    h5check(dir.path(), &["loadtxt", "out.h5", "10", "in/a.txt"]);
    if is_root() {
        println!("running as root, which writes into a 0555 directory: output check skipped");
    } else {
        for args in [
            &["load", "in", "-o", "ro/out.h5"][..],
            &["load", "in", "-o", "ro/out.h5", "--append"],
        ] {
            let output = run(dir.path(), args);
            expect_code(&output, FAILURE);
            assert!(
                stderr(&output).contains("Permission denied"),
                "{}",
                stderr(&output)
            );
        }
        assert_eq!(std::fs::read_dir(dir.join("ro")).unwrap().count(), 0);
    }
    for name in ["in", "ro"] {
        std::fs::set_permissions(dir.join(name), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// Names with spaces, a newline and leading dashes load, are recorded as they are, and a
/// re-run of the append finds every one of them again.
#[test]
fn odd_file_names_load_and_resume() {
    let dir = TestDir::new();
    let names = [
        "-lead.txt",
        "in/-dash.txt",
        "in/a b.txt",
        "in/new\nline.txt",
    ];
    for (seed, name) in names.iter().enumerate() {
        dir.write(name, &methylation_text(60 + seed as u64, 50));
    }
    let load = [
        "load",
        "-o",
        "out.h5",
        "--append",
        "--json",
        "--",
        "-lead.txt",
        "in",
    ];
    ok(&dir, &load);
    let mut check = vec!["loadtxt", "out.h5", "10"];
    check.extend(names);
    h5check(dir.path(), &check);
    let output = ok(&dir, &load);
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["skipped"], serde_json::json!(names));
}
