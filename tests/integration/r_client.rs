//! R's rhdf5 as a client: what `h5read` returns for the datasets txt2h5 writes, compared
//! with h5py/numpy on the same file. Runs where Rscript with rhdf5 is installed
//! (`scripts/setup-r`); elsewhere each test returns at once and `scripts/test` says on one
//! line that they were skipped. With `TXT2H5_REQUIRE_R=1` (CI) a missing R is a failure.

use std::process::Command;

use crate::util::{python, repo, run, TestDir};

/// Whether R with rhdf5 is here to run these tests.
fn r_present() -> bool {
    let present = Command::new("Rscript")
        .args(["-e", "suppressMessages(library(rhdf5))"])
        .output()
        .is_ok_and(|output| output.status.success());
    assert!(
        present || std::env::var_os("TXT2H5_REQUIRE_R").is_none(),
        "TXT2H5_REQUIRE_R is set but Rscript with rhdf5 is missing: run scripts/setup-r as root"
    );
    present
}

/// Runs an R script; returns its stdout, panicking with its stderr if it fails.
fn rscript(dir: &std::path::Path, script: &str) -> String {
    let output = Command::new("Rscript")
        .current_dir(dir)
        .args(["-e", script])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "Rscript failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `/data` as lines `chr pos pct c t`, pct with 9 significant digits (enough for any
/// float32), the way R prints what `h5read` gave it.
const R_DUMP_DATA: &str = r#"
suppressMessages(library(rhdf5))
warnings_seen <- 0
read <- function(name) withCallingHandlers(h5read("out.h5", name),
  warning = function(w) { warnings_seen <<- warnings_seen + 1; invokeRestart("muffleWarning") })
# NA, not NaN: a pct of NaN (a 0/0 line) is a value, an NA a value R could not read.
has_na <- function(x) any(vapply(x, function(v) any(is.na(v) & !is.nan(v)), logical(1)))
d <- read("data")
for (name in c("index/runs", "index/anchors")) {
  if (has_na(read(name))) stop(paste(name, "reads with NA"))
}
if (has_na(d)) stop("/data reads with NA")
if (warnings_seen > 0) stop(paste(warnings_seen, "warnings"))
cat(sprintf("%s %d %.9g %d %d\n", d$chr, d$pos, d$pct, d$c, d$t), sep = "")
"#;

/// The same lines from h5py/numpy (NaN spelt as R prints it).
const PY_DUMP_DATA: &str = r#"
import math, h5py
d = h5py.File("out.h5", "r")["data"][...]
for r in d:
    pct = float(r["pct"])
    pct = "NaN" if math.isnan(pct) else "%.9g" % pct
    print("%s %d %s %d %d" % (r["chr"].decode(), r["pos"], pct, r["c"], r["t"]))
"#;

#[test]
fn r_reads_data_and_index_as_h5py_does() {
    if !r_present() {
        return;
    }
    let dir = TestDir::new();
    let samples = repo().join("fixtures/samples");
    let output = run(
        dir.path(),
        &["load", samples.to_str().unwrap(), "-o", "out.h5", "-q"],
    );
    assert!(output.status.success(), "{output:?}");
    let from_r = rscript(dir.path(), R_DUMP_DATA);
    let from_python = Command::new(python())
        .current_dir(dir.path())
        .args(["-c", PY_DUMP_DATA])
        .output()
        .unwrap();
    assert!(from_python.status.success(), "{from_python:?}");
    let from_python = String::from_utf8_lossy(&from_python.stdout);
    assert!(from_r.lines().count() > 50, "R read only:\n{from_r}");
    assert_eq!(from_r, from_python);
}
