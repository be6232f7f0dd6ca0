//! The differential CLI fuzzer (`tests/support/fuzz.py`, also `scripts/fuzz`) in its short,
//! fixed-seed form, so that CI runs it: generated plain, gzip and BGZF files of valid and
//! corrupted lines, loaded by this binary and by `np.loadtxt`, must agree bit for bit, or
//! both reject the file at the same first line, or txt2h5 rejects what numpy would silently
//! change (the documented cases). Longer runs: `scripts/fuzz --long`, other `--seed`s.

use std::process::Command;

use crate::util::{binary, python, repo};

#[test]
fn cli_agrees_with_numpy_on_generated_and_corrupted_files() {
    let output = Command::new(python())
        .arg(repo().join("tests/support/fuzz.py"))
        .arg("--binary")
        .arg(binary())
        .args(["--seed", "20261123", "--cases", "120"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("120 passed, 0 failed"),
        "\nfuzz.py found differences\n--- stdout ---\n{stdout}\n--- stderr ---\n{}\n---",
        String::from_utf8_lossy(&output.stderr)
    );
}
