//! Append and resume: re-running a load adds only what is missing, never duplicates a row,
//! refuses changed inputs, and an append killed at any moment loses nothing.

use std::process::Stdio;
use std::time::Duration;

use crate::generate::{gzip, methylation_text};
use crate::util::{expect_code, h5check, run, stderr, txt2h5, wait_for_partial_output, TestDir};

fn samples(dir: &TestDir) {
    dir.write("in/a.txt", &methylation_text(31, 3_000));
    dir.write("in/b.txt.gz", &gzip(&methylation_text(32, 2_000)));
    dir.write("in/c.txt", &methylation_text(33, 1_500));
}

#[test]
fn append_adds_only_new_files_and_twice_changes_nothing() {
    let dir = TestDir::new();
    samples(&dir);
    expect_code(
        &run(
            dir.path(),
            &["load", "in", "-o", "single.h5", "--chunk-rows", "700"],
        ),
        0,
    );
    expect_code(
        &run(
            dir.path(),
            &["load", "in/a.txt", "-o", "out.h5", "--chunk-rows", "700"],
        ),
        0,
    );
    let output = run(
        dir.path(),
        &["load", "in", "-o", "out.h5", "--append", "--json"],
    );
    expect_code(&output, 0);
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["skipped"], serde_json::json!(["in/a.txt"]));
    assert_eq!(
        (summary["rows"].as_u64(), summary["total_rows"].as_u64()),
        (Some(3_500), Some(6_500))
    );
    assert_eq!(
        h5check(dir.path(), &["same", "single.h5", "out.h5"]).trim(),
        "equal rows=6500"
    );
    let before = std::fs::read(dir.join("out.h5")).unwrap();
    let output = run(dir.path(), &["load", "in", "-o", "out.h5", "--append"]);
    expect_code(&output, 0);
    assert!(
        stderr(&output).contains("skipped 3 already loaded"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        std::fs::read(dir.join("out.h5")).unwrap(),
        before,
        "a no-op append rewrote the file"
    );
    // --append on a missing output simply creates it, so one command serves first run and re-run.
    expect_code(
        &run(
            dir.path(),
            &[
                "load",
                "in",
                "-o",
                "fresh.h5",
                "--append",
                "--chunk-rows",
                "700",
            ],
        ),
        0,
    );
    assert_eq!(
        h5check(dir.path(), &["same", "single.h5", "fresh.h5"]).trim(),
        "equal rows=6500"
    );
}

#[test]
fn append_refuses_changed_inputs_and_other_schemas() {
    let dir = TestDir::new();
    samples(&dir);
    expect_code(&run(dir.path(), &["load", "in", "-o", "out.h5"]), 0);
    let before = std::fs::read(dir.join("out.h5")).unwrap();
    // Same size, different content: only the checksum tells.
    let mut changed = std::fs::read(dir.join("in/c.txt")).unwrap();
    let last_digit = changed.iter().rposition(u8::is_ascii_digit).unwrap();
    changed[last_digit] = if changed[last_digit] == b'9' {
        b'8'
    } else {
        b'9'
    };
    dir.write("in/c.txt", &changed);
    let output = run(dir.path(), &["load", "in", "-o", "out.h5", "--append"]);
    expect_code(&output, 3);
    assert!(
        stderr(&output).contains("in/c.txt: changed since it was loaded into out.h5"),
        "{}",
        stderr(&output)
    );
    for (args, needle) in [
        (&["--chr-width", "12"][..], "--chr-width"),
        (&["--dataset", "other"][..], "--dataset"),
        (&["--compression", "none"][..], "--compression"),
        (&["--chunk-rows", "10"][..], "--chunk-rows"),
        (&["--force"][..], "cannot be used with"),
    ] {
        let mut full = vec!["load", "in/a.txt", "-o", "out.h5", "--append"];
        full.extend_from_slice(args);
        let output = run(dir.path(), &full);
        expect_code(&output, 2);
        assert!(
            stderr(&output).contains(needle),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    assert_eq!(std::fs::read(dir.join("out.h5")).unwrap(), before);
}

/// kill -9 in the middle of an append: the earlier rows read back unchanged, and the same
/// command run again completes the job.
#[test]
fn append_killed_midway_loses_nothing_and_a_rerun_completes() {
    let dir = TestDir::new();
    dir.write("in/a.txt", &methylation_text(41, 2_000));
    expect_code(&run(dir.path(), &["load", "in/a.txt", "-o", "out.h5"]), 0);
    expect_code(
        &run(dir.path(), &["load", "in/a.txt", "-o", "a-only.h5"]),
        0,
    );
    dir.write("in/big.txt", &methylation_text(42, 600_000));
    let args = ["load", "in", "-o", "out.h5", "--append", "-j", "1"];
    let mut child = txt2h5()
        .current_dir(dir.path())
        .args(args)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_partial_output(&dir, &mut child);
    std::thread::sleep(Duration::from_millis(100));
    child.kill().unwrap(); // SIGKILL: no handler runs
    child.wait().unwrap();
    assert_eq!(
        h5check(dir.path(), &["same", "a-only.h5", "out.h5"]).trim(),
        "equal rows=2000"
    );
    expect_code(
        &run(dir.path(), &["load", "in", "-o", "out.h5", "--append"]),
        0,
    );
    expect_code(&run(dir.path(), &["load", "in", "-o", "single.h5"]), 0);
    assert_eq!(
        h5check(dir.path(), &["same", "single.h5", "out.h5"]).trim(),
        "equal rows=602000"
    );
}
