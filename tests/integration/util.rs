//! Running the binary and the Python reference client.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fresh directory for one test, removed afterwards.
pub struct TestDir {
    dir: tempfile::TempDir,
}

impl TestDir {
    pub fn new() -> Self {
        Self {
            dir: tempfile::Builder::new()
                .prefix("txt2h5-test-")
                .tempdir()
                .unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes `bytes` to `name` (creating parent directories) and returns the path.
    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        path
    }

    pub fn create_dir(&self, name: &str) {
        std::fs::create_dir_all(self.join(name)).unwrap();
    }

    /// Names of the entries in the directory (hidden ones included), sorted.
    pub fn entries(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

/// `load big.txt -o out.h5`, slowed down (one thread, deflate level 9) so that a test can
/// act while it runs: send a signal, watch the progress bar.
pub const SLOW_LOAD: [&str; 9] = [
    "load",
    "big.txt",
    "-o",
    "out.h5",
    "--force",
    "-j",
    "1",
    "--compression",
    "gzip:9",
];

/// The repository root, where fixtures live.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The binary under test; `TXT2H5_BIN` points the suite at another build (for example the
/// one before a fix, to see a regression test fail).
pub fn binary() -> PathBuf {
    std::env::var_os("TXT2H5_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_txt2h5")))
}

pub fn txt2h5() -> Command {
    let mut command = Command::new(binary());
    command.env_remove("RUST_LOG");
    command
}

/// Runs `txt2h5 ARGS...` in `dir`.
pub fn run(dir: &Path, args: &[&str]) -> Output {
    txt2h5().current_dir(dir).args(args).output().unwrap()
}

/// Runs `txt2h5 ARGS...` in `dir` and expects exit 0 (see [`expect_code`]).
pub fn ok(dir: &TestDir, args: &[&str]) -> Output {
    let output = run(dir.path(), args);
    expect_code(&output, 0);
    output
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The exit statuses of docs/guide.md "Exit status": a failure (I/O, HDF5, resources), a
/// usage error, bad input data.
pub const FAILURE: i32 = 1;
pub const USAGE: i32 = 2;
pub const BAD_DATA: i32 = 3;

/// Panics with the command's output framed when it did not exit with `code`.
pub fn expect_code(output: &Output, code: i32) {
    if output.status.code() != Some(code) {
        panic!(
            "\nexpected exit code {code}, got {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}\n---",
            output.status.code(),
            String::from_utf8_lossy(&output.stdout),
            stderr(output)
        );
    }
}

/// The Python with numpy, h5py and xxhash that `scripts/setup` installs.
pub fn python() -> PathBuf {
    let python = std::env::var_os("TXT2H5_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".venv/bin/python"));
    assert!(
        python.exists(),
        "no Python with h5py at {}: run `scripts/setup` (or scripts/test) first",
        python.display()
    );
    python
}

/// Runs `tests/support/SCRIPT ARGS...` in `dir`; returns its stdout, panicking with its
/// report when it fails (finds a difference).
pub fn support_script(dir: &Path, script: &str, args: &[&str]) -> String {
    let output = Command::new(python())
        .current_dir(dir)
        .arg(repo().join("tests/support").join(script))
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "\n{script} {args:?} found differences\n--- stdout ---\n{stdout}\n--- stderr ---\n{}\n---",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Runs `python ARGS...` (the venv's) in `dir`; returns its stdout, panicking with its
/// stderr if it fails.
pub fn python_stdout(dir: &Path, args: &[&str]) -> String {
    let output = Command::new(python())
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "python {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs `tests/support/h5check.py ARGS...` (see [`support_script`]).
pub fn h5check(dir: &Path, args: &[&str]) -> String {
    support_script(dir, "h5check.py", args)
}

/// `h5check describe`, parsed.
pub fn describe(dir: &Path, file: &str) -> serde_json::Value {
    serde_json::from_str(&h5check(dir, &["describe", file])).unwrap()
}

/// Waits until `child` has created its temporary output in `dir`: by then its signal
/// handlers are installed and work has begun. Panics if it finishes first.
pub fn wait_for_partial_output(dir: &TestDir, child: &mut std::process::Child) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !dir
        .entries()
        .iter()
        .any(|name| name.ends_with(".txt2h5-partial"))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "no temporary output appeared"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the command finished too early"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Whether Rscript with each of `packages` is here to run an R test; with
/// `TXT2H5_REQUIRE_R=1` (CI) their absence is a failure, not a skip.
pub fn r_present(packages: &[&str]) -> bool {
    let libraries: String = packages
        .iter()
        .map(|package| format!("library({package});"))
        .collect();
    let present = Command::new("Rscript")
        .args([
            "-e",
            &format!("suppressPackageStartupMessages({{{libraries}}})"),
        ])
        .output()
        .is_ok_and(|output| output.status.success());
    assert!(
        present || std::env::var_os("TXT2H5_REQUIRE_R").is_none(),
        "TXT2H5_REQUIRE_R is set but R with {packages:?} is missing: run scripts/setup-r as root"
    );
    present
}

/// Runs the R expressions `script` in `dir` with `args` (R's `commandArgs(TRUE)`); returns
/// its stdout, panicking with its stderr if it fails.
pub fn rscript(dir: &Path, script: &str, args: &[&str]) -> String {
    let output = Command::new("Rscript")
        .current_dir(dir)
        .args(["-e", script])
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "Rscript failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The documentation a user reads: README.md and every docs/*.md, as paths relative to the
/// repository, sorted.
pub fn doc_files() -> Vec<PathBuf> {
    let mut files = vec![PathBuf::from("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(repo().join("docs"))
        .unwrap()
        .map(|entry| PathBuf::from("docs").join(entry.unwrap().file_name()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// The fenced code block after `<!-- marker -->` in README.md or a docs/*.md file. The
/// marker must occur exactly once across them, so the snippet a test runs is the one a
/// reader sees (tests/support/region_snippet.py follows the same rule).
pub fn doc_snippet(marker: &str) -> String {
    let tag = format!("<!-- {marker} -->");
    let mut found = Vec::new();
    for file in doc_files() {
        let text = std::fs::read_to_string(repo().join(&file)).unwrap();
        for (at, _) in text.match_indices(&tag) {
            found.push((file.clone(), text[at + tag.len()..].to_string()));
        }
    }
    let names: Vec<String> = found
        .iter()
        .map(|(file, _)| file.display().to_string())
        .collect();
    assert!(
        found.len() == 1,
        "{tag} occurs {} times in README.md and docs/*.md ({}); it must occur once",
        found.len(),
        names.join(", ")
    );
    let (file, after) = found.pop().unwrap();
    let body = after
        .split_once("```")
        .unwrap_or_else(|| panic!("{}: no code block after {tag}", file.display()))
        .1;
    let body = body.split_once('\n').unwrap().1;
    body.split_once("```").unwrap().0.to_string()
}
