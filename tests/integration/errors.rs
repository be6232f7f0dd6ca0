//! Every way a load can fail: a clear message, the documented exit code, no output left
//! behind, and an existing output untouched.

use std::process::Stdio;

use rustix::process::Signal;

use crate::generate::{bgzf, gzip, methylation_text};
use crate::terminal::send_signal;
use crate::util::{
    expect_code, repo, run, stderr, txt2h5, wait_for_partial_output, TestDir, BAD_DATA, SLOW_LOAD,
    USAGE,
};

/// Runs a load expected to fail with `code`, checks that nothing was written and that a
/// pre-existing output survived byte for byte, and returns stderr.
fn fails(dir: &TestDir, args: &[&str], code: i32) -> String {
    let precious = b"an earlier, valuable result";
    dir.write("existing.h5", precious);
    let before = dir.entries();
    let mut full = vec!["load"];
    full.extend_from_slice(args);
    full.extend_from_slice(&["-o", "existing.h5", "--force"]);
    let output = run(dir.path(), &full);
    expect_code(&output, code);
    assert_eq!(std::fs::read(dir.join("existing.h5")).unwrap(), precious);
    assert_eq!(dir.entries(), before, "files left behind");
    let message = stderr(&output);
    assert!(message.starts_with("txt2h5: error: "), "{message}");
    message
}

#[test]
fn unparseable_number_names_file_line_column_text_and_hint() {
    let dir = TestDir::new();
    let bad = repo().join("fixtures/bad/bad_pct.txt");
    let message = fails(&dir, &[bad.to_str().unwrap()], BAD_DATA);
    assert!(
        message.contains("bad_pct.txt:4: column 3 (pct): not a decimal number: \"5O.0\""),
        "{message}"
    );
    assert!(
        message.contains("hint: expected a decimal number"),
        "{message}"
    );
}

#[test]
fn wrong_column_count_and_out_of_range_integers() {
    let dir = TestDir::new();
    let few = repo().join("fixtures/bad/too_few_columns.txt");
    let message = fails(&dir, &[few.to_str().unwrap()], BAD_DATA);
    assert!(
        message.contains("too_few_columns.txt:2: expected 5 columns"),
        "{message}"
    );
    assert!(message.contains("column 5 (t) is missing"), "{message}");
    let overflow = repo().join("fixtures/bad/pos_overflow.txt");
    let message = fails(&dir, &[overflow.to_str().unwrap()], BAD_DATA);
    assert!(
        message.contains("pos_overflow.txt:1: column 2 (pos)"),
        "{message}"
    );
    assert!(message.contains("\"3000000000\""), "{message}");
    // A native file names --wide-pos, as the presets do; a count past int32 does not.
    assert!(
        message.contains("need --wide-pos, which stores pos as <i8"),
        "{message}"
    );
    dir.write("count.txt", b"chr1 10 50 3000000000 1\n");
    let message = fails(&dir, &["count.txt"], BAD_DATA);
    assert!(message.contains("column 4 (c)"), "{message}");
    assert!(!message.contains("--wide-pos"), "{message}");
    dir.write("extra.txt", b"chr1 1 2 3 4\nchr1 1 2 3 4 5\n");
    let message = fails(&dir, &["extra.txt"], BAD_DATA);
    assert!(
        message.contains("extra.txt:2: expected 5 columns"),
        "{message}"
    );
    assert!(message.contains("column 6 is \"5\""), "{message}");
}

#[test]
fn long_chromosome_name_is_refused_with_a_chr_width_hint() {
    let dir = TestDir::new();
    let contigs = repo().join("fixtures/long-contigs/contigs.txt");
    let message = fails(&dir, &[contigs.to_str().unwrap()], BAD_DATA);
    assert!(
        message.contains("contigs.txt:4: column 1 (chr)"),
        "{message}"
    );
    assert!(message.contains("\"chrUn_KI270302v1\""), "{message}");
    assert!(
        message.contains("raise --chr-width to at least 16"),
        "{message}"
    );
}

/// The line number must count every line before the error, across pieces of a split file
/// and across decompressed blocks of a gzip file.
#[test]
fn error_deep_in_a_split_or_compressed_file_reports_its_true_line() {
    let dir = TestDir::new();
    let mut text = methylation_text(5, 20_000);
    let lines_before = text.iter().filter(|&&b| b == b'\n').count();
    text.extend_from_slice(b"chr1\t99\t12.5\tx\t1\n");
    text.extend_from_slice(&methylation_text(6, 500));
    dir.write("big.txt", &text);
    dir.write("big.txt.gz", &gzip(&text));
    dir.write("big.bgz", &bgzf(&text, 5_000));
    let expected = format!(
        ":{}: column 4 (c): not a whole number: \"x\"",
        lines_before + 1
    );
    for (input, extra) in [
        ("big.txt", &["--piece-bytes", "65536", "-j", "4"][..]),
        ("big.txt.gz", &[][..]),
        ("big.bgz", &["--piece-bytes", "65536", "-j", "3"][..]),
    ] {
        let mut args = vec![input];
        args.extend_from_slice(extra);
        let message = fails(&dir, &args, BAD_DATA);
        assert!(message.contains(&format!("{input}{expected}")), "{message}");
    }
}

#[test]
fn the_first_error_in_load_order_is_reported_whatever_the_timing() {
    let dir = TestDir::new();
    let mut first = methylation_text(9, 30_000);
    first.extend_from_slice(b"chr1 1 2 3\n");
    dir.write("in/a.txt", &first);
    dir.write("in/b.txt", b"garbage\n");
    for threads in ["1", "2", "4"] {
        let message = fails(
            &dir,
            &["in", "-j", threads, "--piece-bytes", "100000"],
            BAD_DATA,
        );
        assert!(
            message.contains("in/a.txt:"),
            "{threads} threads: {message}"
        );
    }
}

#[test]
fn corrupt_gzip_and_unsupported_compression() {
    let dir = TestDir::new();
    let truncated = repo().join("fixtures/bad/truncated.txt.gz");
    let message = fails(&dir, &[truncated.to_str().unwrap()], BAD_DATA);
    assert!(
        message.contains("truncated.txt.gz: gzip data is corrupt or truncated"),
        "{message}"
    );
    dir.write("calls.txt.zst", &[0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0]);
    let message = fails(&dir, &["calls.txt.zst"], BAD_DATA);
    assert!(
        message.contains("zstd-compressed input is not supported"),
        "{message}"
    );
    let mut trailing = gzip(b"chr1 1 50 1 1\n");
    trailing.extend_from_slice(b"junk after the gzip member");
    dir.write("trailing.gz", &trailing);
    fails(&dir, &["trailing.gz"], BAD_DATA);
    let mut damaged = bgzf(&methylation_text(12, 2_000), 4_000);
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0x55;
    dir.write("damaged.bgz", &damaged);
    let message = fails(&dir, &["damaged.bgz", "--piece-bytes", "8192"], BAD_DATA);
    assert!(
        message.contains("damaged.bgz: the BGZF block at byte"),
        "{message}"
    );
}

#[test]
fn usage_errors_exit_2() {
    let dir = TestDir::new();
    dir.write("in.txt", b"chr1 1 50 1 1\n");
    dir.create_dir("empty");
    for (args, needle) in [
        (
            &["missing.txt"][..],
            "missing.txt: no such file or directory",
        ),
        (&["empty"][..], "empty: directory has no input files"),
        (&[".", "--glob", "*.gz"][..], "matching --glob"),
        (
            &["in.txt", "--compression", "lzf"][..],
            "--compression \"lzf\"",
        ),
        (
            &["in.txt", "--chr-width", "0"][..],
            "--chr-width: a chr field of 0 bytes is outside the supported 1 to 255",
        ),
        (&["in.txt", "-j", "0"][..], "--threads must be at least 1"),
        (&["in.txt", "./in.txt"][..], "are the same file"),
        (&["in.txt", "--dataset", "sources"][..], "reserved"),
    ] {
        let message = fails(&dir, args, USAGE);
        assert!(message.contains(needle), "{args:?}: {message}");
    }
}

#[test]
fn output_problems_are_usage_errors() {
    let dir = TestDir::new();
    dir.write("in.txt", b"chr1 1 50 1 1\n");
    dir.write("out.h5", b"keep me");
    let output = run(dir.path(), &["load", "in.txt", "-o", "out.h5"]);
    expect_code(&output, USAGE);
    assert!(stderr(&output).contains("out.h5: output file exists; pass --force"));
    assert_eq!(std::fs::read(dir.join("out.h5")).unwrap(), b"keep me");
    let output = run(dir.path(), &["load", "in.txt", "-o", "no/such/dir/out.h5"]);
    expect_code(&output, USAGE);
    assert!(stderr(&output).contains("output directory no/such/dir does not exist"));
    let output = run(dir.path(), &["load", ".", "-o", "out.h5", "--force"]);
    expect_code(&output, USAGE);
    assert!(
        stderr(&output).contains("the output file is also an input"),
        "{}",
        stderr(&output)
    );
    assert_eq!(std::fs::read(dir.join("out.h5")).unwrap(), b"keep me");
    let output = run(dir.path(), &["load", "in.txt"]);
    expect_code(&output, USAGE);
}

/// SIGTERM and SIGINT mid-load: exit 128 + signal, no partial output, old file intact.
#[test]
fn signals_stop_the_load_and_leave_nothing_behind() {
    let dir = TestDir::new();
    dir.write("big.txt", &methylation_text(10, 600_000));
    for (signal, code) in [(Signal::TERM, 143), (Signal::INT, 130)] {
        dir.write("out.h5", b"previous result");
        let mut child = txt2h5()
            .current_dir(dir.path())
            .args(SLOW_LOAD)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_for_partial_output(&dir, &mut child);
        send_signal(&child, signal);
        let output = child.wait_with_output().unwrap();
        expect_code(&output, code);
        assert!(
            stderr(&output).contains("interrupted by signal"),
            "{}",
            stderr(&output)
        );
        assert_eq!(dir.entries(), ["big.txt", "out.h5"]);
        assert_eq!(
            std::fs::read(dir.join("out.h5")).unwrap(),
            b"previous result"
        );
    }
}
