//! Format presets, `--columns`, `auto`, the filters, `--extra` and `--wide-pos`: every
//! output is compared bit for bit with the numpy reference implementation of the mapping
//! rules (`tests/support/presets.py`), on the hand-written fixtures and on generated files.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::util::{
    describe, expect_code, python_stdout, repo, run, stderr, support_script, TestDir,
};

fn fixture(relative: &str) -> String {
    repo()
        .join("fixtures/formats")
        .join(relative)
        .to_string_lossy()
        .into_owned()
}

/// Runs `presets.py ARGS...` (the numpy reference; see the module doc).
fn presets(dir: &Path, args: &[&str]) -> String {
    support_script(dir, "presets.py", args)
}

/// Loads `inputs` with `options` (flag name to value; `true` for a bare flag) and compares
/// the output with the reference, which reads each input with the `format` `auto` should
/// have picked. Returns the `--json` report.
fn load_and_compare(dir: &TestDir, inputs: &[(String, &str)], options: Value) -> Value {
    let mut args: Vec<String> = vec!["load".into(), "-o".into(), "out.h5".into()];
    args.extend(["--force".into(), "--json".into()]);
    args.extend(["--buffer-rows".into(), "3".into()]);
    for (flag, value) in options.as_object().unwrap() {
        args.push(format!("--{flag}"));
        match value {
            Value::Bool(true) => {}
            Value::String(value) => args.push(value.clone()),
            other => args.push(other.to_string()),
        }
    }
    args.extend(inputs.iter().map(|(path, _)| path.clone()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = run(dir.path(), &args);
    expect_code(&output, 0);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    // The reference names the inputs in load order, as /sources does.
    let mut sorted: Vec<&(String, &str)> = inputs.iter().collect();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let spec = json!({
        "options": options,
        "inputs": sorted.iter().map(|(path, format)| json!({"path": path, "format": format})).collect::<Vec<_>>(),
    });
    std::fs::write(dir.join("inputs.json"), spec.to_string()).unwrap();
    let verdict = presets(
        dir.path(),
        &["compare", "out.h5", "data", "--inputs-json", "inputs.json"],
    );
    assert!(verdict.starts_with("ok "), "{verdict}");
    report
}

/// Every fixture, read with `auto`, in one run (mixed formats) and one at a time.
#[test]
fn every_fixture_loads_as_the_reference_reads_it() {
    let fixtures = [
        ("native/sample.txt", "native"),
        ("bismark-cov/sample.bismark.cov", "bismark-cov"),
        ("bismark-cov/sample.bismark.cov.gz", "bismark-cov"),
        ("bismark-cov/crlf.bismark.cov", "bismark-cov"),
        ("bismark-report/sample.CpG_report.txt", "bismark-report"),
        ("bismark-report/sample.CX_report.txt.gz", "bismark-report"),
        ("methylkit/sample_CpG.txt", "methylkit"),
        ("methylkit/ties_CpG.txt", "methylkit"),
        ("methylkit/sample_CpG.methylKit", "methylkit"),
        ("methylkit/test1.txt.bgz", "methylkit"),
        ("bedmethyl/sample.bed", "bedmethyl"),
        ("bedmethyl/sample.combined_mods.bed", "bedmethyl"),
        ("bedmethyl/sample.cpg_combined_strands.bed", "bedmethyl"),
        ("bedmethyl/sample.header.bed", "bedmethyl"),
        ("bedmethyl/sample.v0.2.bed", "bedmethyl"),
        ("bedmethyl/sample.motifs.bed.gz", "bedmethyl"),
        ("allc/allc_sample.tsv.gz", "allc"),
        ("allc/allc_methylpy_sample.tsv", "allc"),
        ("allc/allc_snp_sample.tsv", "allc"),
        ("allc/allc_cell2.tsv.bgz", "allc"),
        ("allc/allc_old_header.tsv", "allc"),
        ("methyldackel/sample_CpG.bedGraph", "methyldackel"),
        ("methyldackel/sample_CHH.bedGraph", "methyldackel"),
        ("bsmap/methratio.txt", "bsmap"),
        ("bsmap/methratio_noheader.txt", "bsmap"),
    ];
    let dir = TestDir::new();
    let all: Vec<(String, &str)> = fixtures
        .iter()
        .map(|(path, format)| (fixture(path), *format))
        .collect();
    let report = load_and_compare(&dir, &all, json!({}));
    for source in report["sources"].as_array().unwrap() {
        let path = source["path"].as_str().unwrap();
        let expected = all.iter().find(|(p, _)| p == path).unwrap().1;
        assert_eq!(source["format"], expected, "{path}");
    }
    let total: u64 = report["rows_skipped"]
        .as_object()
        .unwrap()
        .values()
        .map(|count| count.as_u64().unwrap())
        .sum();
    assert!(total > 0, "the fixtures have rows to leave out");
    for input in &all {
        load_and_compare(&dir, std::slice::from_ref(input), json!({}));
        // Named explicitly, the same.
        load_and_compare(
            &dir,
            std::slice::from_ref(input),
            json!({"format": input.1}),
        );
    }
}

/// The filters and the schema options, against the reference on the fixtures that have
/// what they act on.
#[test]
fn filters_and_schema_options_match_the_reference() {
    let dir = TestDir::new();
    let contexts = [
        ("bismark-report/sample.CX_report.txt.gz", "bismark-report"),
        ("allc/allc_sample.tsv.gz", "allc"),
        ("bsmap/methratio.txt", "bsmap"),
    ];
    let inputs: Vec<(String, &str)> = contexts
        .iter()
        .map(|(path, format)| (fixture(path), *format))
        .collect();
    for context in ["CG", "CHG", "CHH", "CH", "all"] {
        load_and_compare(&dir, &inputs, json!({"context": context}));
        load_and_compare(
            &dir,
            &inputs,
            json!({"context": context, "extra": "strand,context", "wide-pos": true}),
        );
    }
    let bed = [
        (fixture("bedmethyl/sample.bed"), "bedmethyl"),
        (fixture("bedmethyl/sample.motifs.bed.gz"), "bedmethyl"),
    ];
    for codes in ["m", "h", "m,h", "a", "17596", "all"] {
        load_and_compare(
            &dir,
            &bed,
            json!({"mod-code": codes, "extra": "context,strand"}),
        );
    }
    let long = [(
        fixture("bismark-cov/long_contigs.bismark.cov"),
        "bismark-cov",
    )];
    load_and_compare(&dir, &long, json!({"chr-width": 23}));
}

#[test]
fn columns_specs_match_the_reference() {
    let dir = TestDir::new();
    let beta = "chr=1,start=2,beta=4,cov=5";
    let report = load_and_compare(
        &dir,
        &[(
            fixture("columns/sample.beta.bedGraph"),
            "columns:chr=1,start=2,beta=4,cov=5",
        )],
        json!({"columns": beta}),
    );
    assert_eq!(report["sources"][0]["format"], format!("columns:{beta}"));
    let spec = "chr=1,pos=2,strand=3,context=4,pct=5,cov=6";
    for context in ["CG", "all"] {
        load_and_compare(
            &dir,
            &[(
                fixture("columns/with_header.txt"),
                "columns:chr=1,pos=2,strand=3,context=4,pct=5,cov=6",
            )],
            json!({"columns": spec, "skip-lines": 2, "context": context, "extra": "strand,context"}),
        );
    }
}

/// Generated files of every preset, plain, gzip and BGZF, some CRLF: one run with `auto`
/// for the presets, one with `--columns` for the rest, with and without the options.
#[test]
fn generated_files_of_every_preset_match_the_reference() {
    let dir = TestDir::new();
    for seed in ["1", "2"] {
        let listing = presets(
            dir.path(),
            &["generate", "gen", "--rows", "300", "--seed", seed],
        );
        let files: Vec<Value> = serde_json::from_str(&listing).unwrap();
        let mut presets_files = Vec::new();
        let mut columns_files = Vec::new();
        for file in &files {
            let path = file["path"].as_str().unwrap().to_string();
            let format = file["format"].as_str().unwrap();
            let format: &'static str = Box::leak(format.to_string().into_boxed_str());
            if let Some(spec) = format.strip_prefix("columns:") {
                columns_files.push(((path, format), spec));
            } else {
                presets_files.push((path, format));
            }
        }
        assert!(presets_files.len() >= 24, "{listing}");
        load_and_compare(&dir, &presets_files, json!({}));
        load_and_compare(
            &dir,
            &presets_files,
            json!({"context": "all", "mod-code": "all", "extra": "strand,context", "wide-pos": true}),
        );
        // Piece boundaries everywhere: many small pieces per plain file.
        load_and_compare(
            &dir,
            &presets_files,
            json!({"piece-bytes": 700, "threads": "2"}),
        );
        // An explicit filter needs its column in every file: one run per family.
        let with = |formats: &[&str]| -> Vec<(String, &'static str)> {
            presets_files
                .iter()
                .filter(|(_, format)| formats.contains(format))
                .cloned()
                .collect()
        };
        load_and_compare(
            &dir,
            &with(&["bismark-report", "allc", "bsmap"]),
            json!({"piece-bytes": 700, "context": "CH", "extra": "context"}),
        );
        load_and_compare(
            &dir,
            &with(&["bedmethyl"]),
            json!({"piece-bytes": 700, "mod-code": "h,a", "extra": "strand"}),
        );
        for (input, spec) in columns_files {
            load_and_compare(&dir, &[input], json!({"columns": spec}));
        }
    }
}

/// The seed's output is unchanged: a native file read with `auto` gives the same bytes as
/// before presets (the same record type, no extra field), and `/sources` gains only
/// `format` and `skipped`.
#[test]
fn native_output_keeps_the_seed_record() {
    let dir = TestDir::new();
    let output = run(
        dir.path(),
        &["load", "-o", "out.h5", &fixture("native/sample.txt")],
    );
    expect_code(&output, 0);
    let description = describe(dir.path(), "out.h5");
    assert_eq!(
        description["dtype"],
        "[('chr', '|S10'), ('pos', '<i4'), ('pct', '<f4'), ('c', '<i4'), ('t', '<i4')]"
    );
    assert_eq!(description["equals_numpy_dtype"], true);
    assert_eq!(description["itemsize"], 26);
    let sources = &description["sources"][0];
    assert_eq!(sources["format"], "native");
    assert_eq!(
        sources["skipped"],
        json!({"zero_coverage": 0, "context": 0, "mod_code": 0})
    );
}

fn write_lines(dir: &TestDir, name: &str, lines: &[&str]) -> PathBuf {
    let mut text = lines.join("\n");
    text.push('\n');
    dir.write(name, text.as_bytes())
}

#[test]
fn auto_refuses_a_file_it_cannot_place_and_names_what_it_considered() {
    let dir = TestDir::new();
    write_lines(&dir, "odd.txt", &["# a comment", "chr1\t100\t200\t0.5"]);
    let output = run(dir.path(), &["load", "-o", "out.h5", "odd.txt"]);
    expect_code(&output, 3);
    let message = stderr(&output);
    for needle in [
        "odd.txt:2: --format auto",
        "line 2 (4 columns)",
        "fits none of the format presets",
        "bismark-cov (6 columns",
        "bedmethyl (18 columns",
        "--columns",
    ] {
        assert!(message.contains(needle), "{needle:?} not in {message}");
    }
    assert!(!dir.join("out.h5").exists());
    // A bedGraph with a beta column has native's column count, so the native parser
    // refuses it, naming the column, its text and the format auto picked.
    write_lines(&dir, "beta.bedGraph", &["chr1\t100\t101\t0.5\t12"]);
    let output = run(dir.path(), &["load", "-o", "out.h5", "beta.bedGraph"]);
    expect_code(&output, 3);
    for needle in [
        "beta.bedGraph:1: column 4 (c): not a whole number: \"0.5\"",
        "read as: native (5 columns: chr pos pct c t), picked by --format auto",
    ] {
        assert!(stderr(&output).contains(needle), "{}", stderr(&output));
    }
    // Bismark's bedGraph has no counts: the hint names the file to load instead.
    write_lines(
        &dir,
        "s.bedGraph",
        &[
            "track type=bedGraph",
            "chr1\t10468\t10469\t33.3333333333333",
        ],
    );
    let output = run(dir.path(), &["load", "-o", "out.h5", "s.bedGraph"]);
    expect_code(&output, 3);
    assert!(
        stderr(&output).contains(".bismark.cov.gz"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_bad_line_names_file_line_column_text_and_the_format() {
    let dir = TestDir::new();
    let mut lines: Vec<String> = (0..5)
        .map(|k| {
            format!(
                "chr1\t{k}\t{}\tm\t10\t+\t{k}\t{}\t255,0,0\t10\t50.00\t5\t5\t0\t0\t0\t0\t0",
                k + 1,
                k + 1
            )
        })
        .collect();
    lines.push("chr1\t9\t10\tm\t10\t+\t9\t10\t255,0,0\t10\t50.00\tfive\t5\t0\t0\t0\t0\t0".into());
    let text = lines.join("\n") + "\n";
    dir.write("calls.bed", text.as_bytes());
    let output = run(dir.path(), &["load", "-o", "out.h5", "calls.bed"]);
    expect_code(&output, 3);
    let message = stderr(&output);
    for needle in [
        "calls.bed:6: column 12 (Nmod): not a whole number: \"five\"",
        "hint: expected a whole number",
        "read as: bedmethyl (18 columns: chrom start end mod_code",
    ] {
        assert!(message.contains(needle), "{needle:?} not in {message}");
    }
    // A wrong column count says what the preset expects.
    dir.write("short.cov", b"chr1\t5\t5\t50\t1\t1\nchr1\t6\t6\t50\t1\n");
    let output = run(
        dir.path(),
        &[
            "load",
            "-o",
            "out.h5",
            "--format",
            "bismark-cov",
            "short.cov",
        ],
    );
    expect_code(&output, 3);
    assert!(
        stderr(&output).contains("short.cov:2: expected 6 columns (bismark-cov: chr start end"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_position_past_2_31_needs_wide_pos() {
    let dir = TestDir::new();
    write_lines(
        &dir,
        "axolotl.bismark.cov",
        &[
            "chr1p\t3000000000\t3000000000\t50\t1\t1",
            "chr1p\t5\t5\t0\t0\t3",
        ],
    );
    let output = run(dir.path(), &["load", "-o", "out.h5", "axolotl.bismark.cov"]);
    expect_code(&output, 3);
    assert!(
        stderr(&output).contains("--wide-pos"),
        "{}",
        stderr(&output)
    );
    load_and_compare(
        &dir,
        &[(
            dir.join("axolotl.bismark.cov")
                .to_string_lossy()
                .into_owned(),
            "bismark-cov",
        )],
        json!({"wide-pos": true}),
    );
}

#[test]
fn derived_values_are_checked() {
    let dir = TestDir::new();
    // ALLC: mc larger than cov makes t negative.
    write_lines(&dir, "bad.allc.tsv", &["chr1\t5\t+\tCGA\t4\t3\t1"]);
    let output = run(dir.path(), &["load", "-o", "out.h5", "bad.allc.tsv"]);
    expect_code(&output, 3);
    assert!(
        stderr(&output)
            .contains("column 6 (cov): the coverage 3 is smaller than the methylated count 4"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn usage_errors_name_what_is_wrong() {
    let dir = TestDir::new();
    let cov = fixture("bismark-cov/sample.bismark.cov");
    for (args, needle) in [
        (vec!["--columns", "chr=1,pos=2,t=4"], "does not determine c"),
        (
            vec!["--columns", "chr=1,start=2,cov=4"],
            "does not determine c",
        ),
        (
            vec!["--format", "bismark"],
            "expected auto or one of native, bismark-cov",
        ),
        (vec!["--context", "CpH"], "--context \"CpH\""),
        (vec!["--extra", "strand,depth"], "--extra \"depth\""),
        (
            vec!["--context", "CHH"],
            "it is read as bismark-cov, which has no context column",
        ),
        (
            vec!["--mod-code", "h"],
            "which has no modification code column",
        ),
        (vec!["--skip-lines", "1"], "--columns"),
    ] {
        let mut full = vec!["load", "-o", "out.h5", cov.as_str()];
        full.extend(args.iter());
        let output = run(dir.path(), &full);
        expect_code(&output, 2);
        assert!(
            stderr(&output).contains(needle),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(!dir.join("out.h5").exists());
    }
}

/// The schema (pos width, extras) is part of what append and merge check.
#[test]
fn append_and_merge_refuse_a_different_schema_naming_both() {
    let dir = TestDir::new();
    let cov = fixture("bismark-cov/sample.bismark.cov");
    let report = fixture("bismark-report/sample.CpG_report.txt");
    let output = run(
        dir.path(),
        &["load", "-o", "a.h5", "--extra", "strand", &cov],
    );
    expect_code(&output, 0);
    let output = run(dir.path(), &["load", "-o", "a.h5", "--append", &report]);
    expect_code(&output, 2);
    assert!(
        stderr(&output).contains("(chr S10, pos <i4, strand)")
            && stderr(&output).contains("(chr S10, pos <i4)"),
        "{}",
        stderr(&output)
    );
    let output = run(
        dir.path(),
        &[
            "load", "-o", "a.h5", "--append", "--extra", "strand", &report,
        ],
    );
    expect_code(&output, 0);
    let output = run(dir.path(), &["load", "-o", "b.h5", "--wide-pos", &report]);
    expect_code(&output, 0);
    let output = run(dir.path(), &["merge", "-o", "m.h5", "a.h5", "b.h5"]);
    expect_code(&output, 2);
    assert!(
        stderr(&output).contains("chr S10, pos <i8"),
        "{}",
        stderr(&output)
    );
}

/// `/sources` as earlier releases wrote it, for [`earlier_sources_versions_are_appended_to_and_merged`]:
/// the first version (no `format`, no skipped counts) and the presets' (a nested compound
/// `skipped`), both with `mtime_ns`. The rewritten row holds a time with nanoseconds and,
/// in the presets' version, skipped counts, so that their conversion is seen.
const EARLIER_SOURCES: &str = r#"
import sys, h5py, numpy as np
version = sys.argv[2]
with h5py.File(sys.argv[1], "r+") as f:
    rows = f["sources"][:]
    skipped = np.dtype([(k, "<u8") for k in ("zero_coverage", "context", "mod_code")])
    fields = [(n, rows.dtype[n]) for n in ("path", "size")] + [("mtime_ns", "<i8")]
    fields += [(n, rows.dtype[n]) for n in ("xxh3_128", "first_row", "rows")]
    if version == "presets":
        fields += [("format", rows.dtype["format"]), ("skipped", skipped)]
    table = np.empty(len(rows), np.dtype(fields))
    for name, _ in fields:
        if name not in ("mtime_ns", "skipped"):
            table[name] = rows[name]
    table["mtime_ns"] = 1_700_000_000_123_456_789
    if version == "presets":
        table["skipped"] = (7, 0, 3)
    del f["sources"]
    f.create_dataset("sources", data=table)
"#;

/// Outputs of earlier releases are appended to and merged: their `/sources` rows are read
/// by field names (a file of the first version as `native` files that left nothing out) and
/// written in today's flat form, time and counts kept.
#[test]
fn earlier_sources_versions_are_appended_to_and_merged() {
    for (version, skipped) in [
        (
            "first",
            json!({"zero_coverage": 0, "context": 0, "mod_code": 0}),
        ),
        (
            "presets",
            json!({"zero_coverage": 7, "context": 0, "mod_code": 3}),
        ),
    ] {
        let dir = TestDir::new();
        let native = fixture("native/sample.txt");
        let output = run(dir.path(), &["load", "-o", "old.h5", &native]);
        expect_code(&output, 0);
        python_stdout(dir.path(), &["-c", EARLIER_SOURCES, "old.h5", version]);
        let cov = fixture("bismark-cov/sample.bismark.cov");
        let output = run(dir.path(), &["load", "-o", "old.h5", "--append", &cov]);
        expect_code(&output, 0);
        let output = run(dir.path(), &["merge", "-o", "merged.h5", "old.h5"]);
        expect_code(&output, 0);
        for file in ["old.h5", "merged.h5"] {
            let description = describe(dir.path(), file);
            let sources = description["sources"].as_array().unwrap();
            let formats: Vec<&Value> = sources.iter().map(|source| &source["format"]).collect();
            assert_eq!(
                formats,
                [&json!("native"), &json!("bismark-cov")],
                "{version} {file}"
            );
            let first = &sources[0];
            assert_eq!(first["mtime_s"], json!(1_700_000_000), "{version} {file}");
            assert_eq!(first["mtime_nsec"], json!(123_456_789), "{version} {file}");
            assert!(first.get("mtime_ns").is_none(), "{version} {file}: {first}");
            assert_eq!(first["skipped"], skipped, "{version} {file}");
        }
    }
}
