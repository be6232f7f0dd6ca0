//! Successful loads: values, order, storage and metadata, checked with h5py against numpy.

use crate::generate::{bgzf, gzip, methylation_text};
use crate::terminal::output_on_terminal;
use crate::util::{describe, expect_code, h5check, repo, run, stderr, txt2h5, TestDir, SLOW_LOAD};

const NUMPY_DTYPE: &str =
    "[('chr', '|S10'), ('pos', '<i4'), ('pct', '<f4'), ('c', '<i4'), ('t', '<i4')]";

fn fixture_samples() -> Vec<String> {
    let mut paths: Vec<String> = std::fs::read_dir(repo().join("fixtures/samples"))
        .unwrap()
        .map(|entry| entry.unwrap().path().display().to_string())
        .collect();
    paths.sort();
    paths
}

#[test]
fn fixtures_load_bit_identical_to_numpy_loadtxt() {
    let dir = TestDir::new();
    let samples = repo().join("fixtures/samples");
    let output = run(
        dir.path(),
        &["load", samples.to_str().unwrap(), "-o", "out.h5"],
    );
    expect_code(&output, 0);
    assert!(
        stderr(&output).contains("loaded 6 files, 86 rows"),
        "{}",
        stderr(&output)
    );
    let mut args = vec!["loadtxt", "out.h5", "10"];
    let paths = fixture_samples();
    args.extend(paths.iter().map(String::as_str));
    assert_eq!(h5check(dir.path(), &args).trim(), "equal rows=86");
    let info = describe(dir.path(), "out.h5");
    assert_eq!(info["dtype"], NUMPY_DTYPE);
    assert_eq!(info["itemsize"], 26);
    assert_eq!(info["offsets"], serde_json::json!([0, 10, 14, 18, 22]));
    assert_eq!(info["equals_numpy_dtype"], true);
    assert_eq!(info["maxshape"], serde_json::json!([-1]));
}

/// Large files split into many pieces and buffers, with 0- and 1-row files between them,
/// in plain, gzip and BGZF form; tiny pieces, buffers and pool force every reorder path.
#[test]
fn generated_multi_file_load_matches_numpy() {
    let dir = TestDir::new();
    let big = methylation_text(1, 30_000);
    dir.write("in/a_big.txt", &big);
    dir.write("in/b_empty.txt", b"");
    dir.write("in/c_one.txt", b"chr5 1 50.0 1 1");
    dir.write("in/d_big.txt.gz", &gzip(&methylation_text(2, 20_000)));
    dir.write("in/e_comments.txt", b"# nothing here\n\n   \n");
    dir.write("in/f_big.bgz", &bgzf(&methylation_text(3, 20_000), 9_000));
    dir.write("in/g_one.txt.gz", &gzip(b"chrY\t7\t-inf\t0\t0\n"));
    let inputs: Vec<String> = [
        "a_big.txt",
        "b_empty.txt",
        "c_one.txt",
        "d_big.txt.gz",
        "e_comments.txt",
        "f_big.bgz",
        "g_one.txt.gz",
    ]
    .iter()
    .map(|name| format!("in/{name}"))
    .collect();
    for extra in [
        &[][..],
        &[
            "--piece-bytes",
            "40000",
            "--buffer-rows",
            "777",
            "--buffers",
            "3",
            "-j",
            "3",
            "--spill",
            "always",
        ][..],
    ] {
        let mut args = vec!["load", "in", "-o", "out.h5", "--force", "--json"];
        args.extend_from_slice(extra);
        let output = run(dir.path(), &args);
        expect_code(&output, 0);
        let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        if !extra.is_empty() {
            // Three buffers for three threads, spilling whenever no buffer is free: units
            // ahead of the writer must spill.
            assert!(summary["spilled_bytes"].as_u64().unwrap() > 0, "{summary}");
        }
        let mut check = vec!["loadtxt", "out.h5", "10"];
        check.extend(inputs.iter().map(String::as_str));
        assert_eq!(
            h5check(dir.path(), &check).trim(),
            "equal rows=70002",
            "with {extra:?}"
        );
    }
}

#[test]
fn output_does_not_depend_on_thread_count_or_piece_size() {
    let dir = TestDir::new();
    dir.write("in/one.txt", &methylation_text(7, 20_000));
    dir.write("in/two.txt.gz", &gzip(&methylation_text(8, 5_000)));
    expect_code(
        &run(dir.path(), &["load", "in", "-o", "j1.h5", "-j", "1"]),
        0,
    );
    for (name, args) in [
        ("j2.h5", &["-j", "2"][..]),
        (
            "j5.h5",
            &["-j", "5", "--piece-bytes", "30000", "--buffer-rows", "500"][..],
        ),
    ] {
        let mut full = vec!["load", "in", "-o", name];
        full.extend_from_slice(args);
        expect_code(&run(dir.path(), &full), 0);
        assert_eq!(
            h5check(dir.path(), &["same", "j1.h5", name]).trim(),
            "equal rows=25000"
        );
    }
}

#[test]
fn inputs_load_in_sorted_order_with_directories_expanded_in_place() {
    let dir = TestDir::new();
    dir.write("b/2.txt", b"chr1 2 2 2 2\n");
    dir.write("b/1.txt", b"chr1 1 1 1 1\n");
    dir.write("b/.hidden.txt", b"not data\n");
    dir.write("b/sub/3.txt", b"chr1 3 3 3 3\n");
    dir.write("a.txt", b"chr1 0 0 0 0\n");
    dir.write("c.txt", b"chr1 9 9 9 9\n");
    expect_code(
        &run(dir.path(), &["load", "c.txt", "b", "a.txt", "-o", "out.h5"]),
        0,
    );
    let paths = |info: &serde_json::Value| -> Vec<String> {
        info["sources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["path"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        paths(&describe(dir.path(), "out.h5")),
        ["a.txt", "b/1.txt", "b/2.txt", "c.txt"]
    );
    expect_code(
        &run(
            dir.path(),
            &[
                "load",
                "b",
                "-o",
                "rec.h5",
                "--recursive",
                "--glob",
                "[13].txt",
            ],
        ),
        0,
    );
    assert_eq!(
        paths(&describe(dir.path(), "rec.h5")),
        ["b/1.txt", "b/sub/3.txt"]
    );
}

#[test]
fn long_contig_names_load_whole_with_a_wider_chr_field() {
    let dir = TestDir::new();
    let contigs = repo().join("fixtures/long-contigs/contigs.txt");
    let contigs = contigs.to_str().unwrap();
    expect_code(
        &run(
            dir.path(),
            &["load", contigs, "-o", "out.h5", "--chr-width", "24"],
        ),
        0,
    );
    assert_eq!(
        h5check(dir.path(), &["loadtxt", "out.h5", "24", contigs]).trim(),
        "equal rows=12"
    );
    let info = describe(dir.path(), "out.h5");
    let names = info["chr"].as_array().unwrap();
    assert!(
        names.iter().any(|name| name == "chrUn_KI270302v1"),
        "{names:?}"
    );
    assert!(
        names.iter().any(|name| name == "HLA-DRB1*15:01:01:01"),
        "{names:?}"
    );
    assert_eq!(info["itemsize"], 40);
}

#[test]
fn storage_options_reach_the_file() {
    let dir = TestDir::new();
    dir.write("in.txt", &methylation_text(4, 3_000));
    expect_code(
        &run(
            dir.path(),
            &[
                "load",
                "in.txt",
                "-o",
                "none.h5",
                "--compression",
                "none",
                "--chunk-rows",
                "1000",
                "--dataset",
                "calls/cpg",
            ],
        ),
        0,
    );
    let info = describe(dir.path(), "none.h5");
    assert_eq!(info["compression"], serde_json::Value::Null);
    assert_eq!(info["shuffle"], false);
    assert_eq!(info["chunks"], serde_json::json!([1000]));
    assert_eq!(info["attrs"]["dataset"], "calls/cpg");
    assert_eq!(info["shape"], serde_json::json!([3000]));

    expect_code(
        &run(
            dir.path(),
            &["load", "in.txt", "-o", "gz.h5", "--compression", "gzip:7"],
        ),
        0,
    );
    let info = describe(dir.path(), "gz.h5");
    assert_eq!(info["compression"], "gzip");
    assert_eq!(info["compression_opts"], 7);
    assert_eq!(info["shuffle"], true);
    assert_eq!(info["chunks"], serde_json::json!([65536]));
    assert_eq!(
        h5check(dir.path(), &["loadtxt", "gz.h5", "10", "in.txt"]).trim(),
        "equal rows=3000"
    );
}

#[test]
fn provenance_attributes_describe_the_run() {
    let dir = TestDir::new();
    dir.write("in.txt", b"chr1 1 50 1 1\n");
    expect_code(
        &run(dir.path(), &["load", "in.txt", "-o", "out.h5", "--quiet"]),
        0,
    );
    let info = describe(dir.path(), "out.h5");
    let attrs = &info["attrs"];
    assert_eq!(attrs["tool"], "txt2h5");
    assert_eq!(attrs["tool_version"], env!("CARGO_PKG_VERSION"));
    assert!(attrs["command_line"]
        .as_str()
        .unwrap()
        .ends_with("load in.txt -o out.h5 --quiet"));
    assert!(
        attrs["created"].as_str().unwrap().starts_with("20"),
        "{attrs}"
    );
    let schema = attrs["schema"].as_str().unwrap();
    assert!(
        schema.contains("pct (<f4): methylation level in percent"),
        "{schema}"
    );
    assert!(info["data_attrs"]["schema"]
        .as_str()
        .unwrap()
        .contains("26 bytes a row"));
}

#[test]
fn quiet_prints_nothing_and_json_prints_a_summary() {
    let dir = TestDir::new();
    dir.write("a.txt", b"chr1 1 50 1 1\nchr1 2 0 0 1\n");
    dir.write("b.txt.gz", &gzip(b"chr2 5 100 3 0\n"));
    let output = run(
        dir.path(),
        &[
            "load", "a.txt", "b.txt.gz", "-o", "out.h5", "--quiet", "--json",
        ],
    );
    expect_code(&output, 0);
    assert_eq!(stderr(&output), "");
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["files"], 2);
    assert_eq!(summary["rows"], 3);
    assert_eq!(summary["output"], "out.h5");
    assert_eq!(summary["sources"][1]["encoding"], "gzip");
    assert_eq!(summary["sources"][1]["format"], "native");
    assert_eq!(summary["sources"][1]["first_row"], 2);
    assert_eq!(summary["sources"][0]["bytes"], 27);

    let output = run(dir.path(), &["load", "a.txt", "-o", "out2.h5"]);
    expect_code(&output, 0);
    assert!(output.stdout.is_empty());
    assert!(
        stderr(&output).starts_with("txt2h5: loaded 1 file, 2 rows, 27 B in "),
        "{}",
        stderr(&output)
    );
}

#[test]
fn only_empty_inputs_give_a_valid_empty_dataset() {
    let dir = TestDir::new();
    dir.write("empty.txt", b"");
    dir.write("comments.txt.gz", &gzip(b"# header only\n"));
    expect_code(
        &run(
            dir.path(),
            &["load", "empty.txt", "comments.txt.gz", "-o", "out.h5"],
        ),
        0,
    );
    assert_eq!(
        h5check(
            dir.path(),
            &["loadtxt", "out.h5", "10", "comments.txt.gz", "empty.txt"]
        )
        .trim(),
        "equal rows=0"
    );
    let info = describe(dir.path(), "out.h5");
    assert_eq!(info["dtype"], NUMPY_DTYPE);
    assert_eq!(info["shape"], serde_json::json!([0]));
}

#[test]
fn force_replaces_an_existing_output() {
    let dir = TestDir::new();
    dir.write("in.txt", b"chr1 1 50 1 1\n");
    dir.write("out.h5", b"old contents");
    expect_code(
        &run(dir.path(), &["load", "in.txt", "-o", "out.h5", "--force"]),
        0,
    );
    assert_eq!(
        h5check(dir.path(), &["loadtxt", "out.h5", "10", "in.txt"]).trim(),
        "equal rows=1"
    );
    assert_eq!(dir.entries(), ["in.txt", "out.h5"]);
}

/// The progress bar is drawn when stderr is a terminal (here a pseudo-terminal the test
/// opens itself), and never into a pipe, on a dumb terminal or with --quiet.
#[test]
fn progress_is_drawn_only_on_a_terminal() {
    let dir = TestDir::new();
    dir.write("big.txt", &methylation_text(51, 400_000));
    let on_terminal = |extra: &[&str], term: Option<&str>| {
        let mut command = txt2h5();
        if let Some(term) = term {
            command.env("TERM", term);
        }
        command.current_dir(dir.path()).args(SLOW_LOAD);
        command.args(extra);
        let output = output_on_terminal(command);
        expect_code(&output, 0);
        stderr(&output)
    };
    let shown = on_terminal(&[], None);
    assert!(
        shown.contains(" rows") && shown.contains("ETA"),
        "no progress bar on a terminal:\n{shown}"
    );
    assert!(
        shown.contains("txt2h5: loaded 1 file, 400,000 rows"),
        "{shown}"
    );
    let quiet = on_terminal(&["--quiet"], None);
    assert!(
        !quiet.contains("ETA"),
        "progress drawn despite --quiet:\n{quiet}"
    );
    // A terminal that cannot move the cursor gets the summary line only.
    let dumb = on_terminal(&[], Some("dumb"));
    assert!(
        !dumb.contains("ETA"),
        "progress drawn on TERM=dumb:\n{dumb}"
    );
    assert!(
        dumb.contains("txt2h5: loaded 1 file, 400,000 rows"),
        "{dumb}"
    );
    let piped = run(dir.path(), &["load", "big.txt", "-o", "out.h5", "--force"]);
    expect_code(&piped, 0);
    assert!(
        !stderr(&piped).contains("ETA"),
        "progress drawn into a pipe"
    );
}
