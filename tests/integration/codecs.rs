//! zstd, lz4 and blosc chunks: what h5py with hdf5plugin (HDF5's own plugins) reads from
//! them, and what txt2h5 reads from chunks those plugins wrote. R's reads: r_client.rs.

use crate::generate::methylation_text;
use std::process::Output;

use crate::util::{
    describe, expect_code, h5check, r_present, rscript, run, stderr, support_script, TestDir,
    FAILURE,
};

/// Shuffle (filter 2, client value: the record size), the codec's filter, then Fletcher32
/// (filter 3, no client values).
fn expected_filters(spec: &str) -> serde_json::Value {
    let mut filters = codec_filters(spec);
    filters
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!([3, []]));
    filters
}

/// The pipeline of `spec` before Fletcher32: shuffle then the codec's filter.
fn codec_filters(spec: &str) -> serde_json::Value {
    let codec = match spec.split_once(':') {
        None if spec == "none" => return serde_json::json!([]),
        None if spec == "zstd" => serde_json::json!([32015, [3]]),
        None if spec == "lz4" => serde_json::json!([32004, [0]]),
        Some(("zstd", level)) => serde_json::json!([32015, [level.parse::<u32>().unwrap()]]),
        Some(("gzip", level)) => serde_json::json!([1, [level.parse::<u32>().unwrap()]]),
        // hdf5-blosc's values: revision 2, format 2, type size, chunk bytes (chunks of
        // 1,000 records here), level, byte shuffle, codec (5 zstd, 1 lz4); no shuffle filter.
        Some(("blosc", "lz4")) => return serde_json::json!([[32001, [2, 2, 26, 26_000, 9, 1, 1]]]),
        Some(("blosc", codec)) => {
            let level: u32 = codec.strip_prefix("zstd:").unwrap().parse().unwrap();
            return serde_json::json!([[32001, [2, 2, 26, 26_000, level, 1, 5]]]);
        }
        _ => panic!("{spec}"),
    };
    serde_json::json!([[2, [26]], codec])
}

fn ok(dir: &TestDir, args: &[&str]) -> String {
    let output = run(dir.path(), args);
    expect_code(&output, 0);
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn zstd_lz4_and_blosc_chunks_read_back_through_the_hdf5_plugins() {
    let dir = TestDir::new();
    // 2,500 rows in chunks of 1,000: two full chunks and a padded last one.
    dir.write("in.txt", &methylation_text(31, 2_500));
    for spec in [
        "zstd",
        "zstd:1",
        "zstd:19",
        "lz4",
        "blosc:zstd:1",
        "blosc:zstd:9",
        "blosc:lz4",
    ] {
        let out = format!("{}.h5", spec.replace(':', "-"));
        ok(
            &dir,
            &[
                "load",
                "in.txt",
                "-o",
                &out,
                "--compression",
                spec,
                "--chunk-rows",
                "1000",
            ],
        );
        let info = describe(dir.path(), &out);
        assert_eq!(info["filters"], expected_filters(spec), "{spec}");
        assert_eq!(info["chunks"], serde_json::json!([1000]));
        assert_eq!(
            info["data_attrs"]["compression"],
            if spec == "zstd" { "zstd:3" } else { spec },
            "{info}"
        );
        assert_eq!(
            h5check(dir.path(), &["loadtxt", &out, "10", "in.txt"]).trim(),
            "equal rows=2500",
            "{spec}"
        );
        let inspect = ok(&dir, &["inspect", &out, "--json"]);
        let inspect: serde_json::Value = serde_json::from_str(&inspect).unwrap();
        assert_eq!(
            inspect["storage"]["compression"],
            if spec == "zstd" { "zstd:3" } else { spec }
        );
        let need = inspect["storage"]["readers_need"].as_str().unwrap();
        let filter = match spec {
            "lz4" => "(32004)",
            _ if spec.starts_with("blosc") => "(32001)",
            _ => "(32015)",
        };
        assert!(
            need.contains(filter) && need.contains("hdf5plugin"),
            "{need}"
        );
        let text = ok(&dir, &["inspect", &out]);
        assert!(text.contains("readers need the HDF5"), "{text}");
    }
}

/// Append keeps the file's codec and merge copies chunks as stored where their storage agrees,
/// decoding (through the filters txt2h5 registers with HDF5) only where they do not.
#[test]
fn append_and_merge_keep_zstd_and_lz4_chunks() {
    let dir = TestDir::new();
    for (name, seed) in [("a.txt", 41), ("b.txt", 42), ("c.txt", 43), ("d.txt", 44)] {
        dir.write(name, &methylation_text(seed, 2_300));
    }
    let common = ["--chunk-rows", "1000"];
    let load = |inputs: &[&str], out: &str, spec: &str, extra: &[&str]| {
        let mut args = vec!["load"];
        args.extend_from_slice(inputs);
        args.extend_from_slice(&["-o", out, "--compression", spec]);
        args.extend_from_slice(&common);
        args.extend_from_slice(extra);
        ok(&dir, &args);
    };
    load(
        &["a.txt", "b.txt", "c.txt", "d.txt"],
        "single.h5",
        "zstd:1",
        &[],
    );
    // Parts in the first part's codec are copied as stored, the others' rows re-chunked;
    // the merge equals one load.
    let merge_parts = |codecs: [&str; 3], out: &str| {
        load(&["a.txt"], "part1.h5", codecs[0], &["--force"]);
        load(&["b.txt"], "part2.h5", codecs[1], &["--force"]);
        load(&["c.txt", "d.txt"], "part3.h5", codecs[2], &["--force"]);
        let args = [
            "merge", "part1.h5", "part2.h5", "part3.h5", "-o", out, "--json",
        ];
        let summary: serde_json::Value = serde_json::from_str(&ok(&dir, &args)).unwrap();
        assert!(summary["copied_chunks"].as_u64().unwrap() >= 2, "{summary}");
        assert!(
            summary["rechunked_rows"].as_u64().unwrap() >= 2_300,
            "{summary}"
        );
        assert_eq!(
            describe(dir.path(), out)["filters"],
            expected_filters(codecs[0])
        );
        assert_eq!(
            h5check(dir.path(), &["same", "single.h5", out]).trim(),
            "equal rows=9200"
        );
    };
    merge_parts(["zstd:1", "lz4", "zstd:1"], "merged.h5");
    merge_parts(
        ["blosc:zstd:1", "blosc:lz4", "blosc:zstd:1"],
        "blosc-merged.h5",
    );

    // Append to an lz4 and a blosc file: the codec kept, rows in order.
    for spec in ["lz4", "blosc:zstd:3", "blosc:lz4"] {
        load(&["a.txt", "b.txt"], "grown.h5", spec, &["--force"]);
        ok(
            &dir,
            &["load", "c.txt", "d.txt", "-o", "grown.h5", "--append"],
        );
        assert_eq!(
            describe(dir.path(), "grown.h5")["filters"],
            expected_filters(spec)
        );
        assert_eq!(
            h5check(
                dir.path(),
                &["loadtxt", "grown.h5", "10", "a.txt", "b.txt", "c.txt", "d.txt"]
            )
            .trim(),
            "equal rows=9200",
            "{spec}"
        );
    }
}

/// Chunks that HDF5's zstd and lz4 plugins wrote (through h5py), lz4 with several blocks
/// per chunk, export exactly as txt2h5's own.
#[test]
fn export_reads_chunks_the_hdf5_plugins_wrote() {
    let dir = TestDir::new();
    dir.write("in.txt", &methylation_text(51, 3_100));
    ok(
        &dir,
        &["load", "in.txt", "-o", "ours.h5", "--chunk-rows", "1000"],
    );
    let whole = ok(&dir, &["export", "ours.h5"]);
    let region = ok(&dir, &["export", "ours.h5", "--region", "chr2:70000-90000"]);
    assert!(whole.lines().count() == 3_100 && region.lines().count() > 10);
    for filter in [
        "zstd:5",
        "lz4:4096",
        "lz4:0",
        "blosc:zstd:shuffle",
        "blosc:lz4:shuffle",
        "blosc:lz4:noshuffle",
    ] {
        let theirs = format!("{}.h5", filter.replace(':', "-"));
        h5check(dir.path(), &["recompress", "ours.h5", &theirs, filter]);
        let filters = describe(dir.path(), &theirs)["filters"].clone();
        let codec = filters.as_array().unwrap().last().unwrap()[0].clone();
        assert_eq!(
            codec,
            match filter.split(':').next().unwrap() {
                "zstd" => 32015,
                "lz4" => 32004,
                _ => 32001,
            }
        );
        assert_eq!(ok(&dir, &["export", &theirs]), whole, "{filter}");
        assert_eq!(
            ok(&dir, &["export", &theirs, "--region", "chr2:70000-90000"]),
            region,
            "{filter}"
        );
    }
}

#[test]
fn unknown_codecs_and_levels_are_usage_errors() {
    let dir = TestDir::new();
    dir.write("in.txt", b"chr1 1 50 1 1\n");
    for spec in [
        "zstd:0",
        "zstd:23",
        "lz4:1",
        "blosc:zlib",
        "blosc:zstd:10",
        "zstd:x",
    ] {
        let output = run(
            dir.path(),
            &["load", "in.txt", "-o", "out.h5", "--compression", spec],
        );
        expect_code(&output, 2);
        let stderr = crate::util::stderr(&output);
        assert!(
            stderr.contains("zstd:LEVEL (1 to 22), lz4, blosc, blosc:zstd"),
            "{stderr}"
        );
        assert!(!dir.join("out.h5").exists());
    }
    // Chunks of over 2 GiB: HDF5 takes them, but no blosc reader would; and over 256 MiB,
    // txt2h5's own readers refuse a chunk its rows do not fill, so no load writes one.
    let args = [
        "load",
        "in.txt",
        "-o",
        "out.h5",
        "--compression",
        "blosc",
        "--chunk-rows",
        "90000000",
    ];
    let output = run(dir.path(), &args);
    expect_code(&output, 2);
    let stderr = crate::util::stderr(&output);
    assert!(
        stderr.contains("make chunks of at most 256 MiB (10324440 rows of 26 bytes), not 90000000"),
        "{stderr}"
    );
    assert!(!dir.join("out.h5").exists());
}

/// Without hdf5plugin (and no plugin path), h5py reads gzip chunks but not the registered
/// filters' (zstd, lz4, blosc): HDF5 looks for the plugin and the read fails, the data
/// intact. The guide's *Who can read what* quotes this.
#[test]
fn h5py_without_hdf5plugin_reads_gzip_but_not_the_registered_filters() {
    let dir = TestDir::new();
    dir.write("in.txt", &methylation_text(33, 500));
    for spec in ["gzip:1", "zstd", "lz4", "blosc:zstd", "blosc:lz4"] {
        let out = format!("{}.h5", spec.replace(':', "-"));
        ok(&dir, &["load", "in.txt", "-o", &out, "--compression", spec]);
    }
    let script = r#"
import os, sys
os.environ.pop("HDF5_PLUGIN_PATH", None)
import h5py
for name in sys.argv[1:]:
    try:
        print(name, len(h5py.File(name, "r")["data"][...]))
    except OSError as error:
        print(name, "OSError" if "can't open directory" in str(error) else error)
"#;
    let report = crate::util::python_stdout(
        dir.path(),
        &[
            "-c",
            script,
            "gzip-1.h5",
            "zstd.h5",
            "lz4.h5",
            "blosc-zstd.h5",
            "blosc-lz4.h5",
        ],
    );
    assert_eq!(
        report,
        "gzip-1.h5 500\nzstd.h5 OSError\nlz4.h5 OSError\nblosc-zstd.h5 OSError\nblosc-lz4.h5 OSError\n"
    );
}

/// Every codec, none included: each dataset ends with the Fletcher32 checksum.
const EVERY_CODEC: [&str; 6] = [
    "none",
    "gzip:1",
    "zstd:1",
    "lz4",
    "blosc:zstd:1",
    "blosc:lz4",
];

/// `tests/support/chunks.py ARGS...`.
fn chunks(dir: &TestDir, args: &[&str]) -> String {
    support_script(dir.path(), "chunks.py", args)
}

/// 2,500 rows in chunks of 1,000, loaded as `spec` into `out`.
fn load_chunked(dir: &TestDir, out: &str, spec: &str) {
    ok(
        dir,
        &[
            "load",
            "in.txt",
            "-o",
            out,
            "--compression",
            spec,
            "--chunk-rows",
            "1000",
            "--force",
        ],
    );
}

/// The command failed on damaged stored data (exit 1, as the guide's table gives it: not a
/// crash, not a usage error), naming the file, the chunk's rows and what is wrong.
fn expect_damaged(output: &Output, file: &str, rows: &str, why: &str) {
    expect_code(output, FAILURE);
    let text = stderr(output);
    for needed in [file, rows, why, "damaged"] {
        assert!(text.contains(needed), "no {needed:?} in: {text}");
    }
}

/// Defect 8, "silent spread of damage": a byte flipped inside a stored chunk of any codec
/// (found with h5py's `get_chunk_info`) stops export, matrix, merge and append, each naming
/// the file and the chunk's rows, and leaves no output; before, zstd, lz4 and blosc chunks
/// decoded to garbage and merge and append copied any damaged chunk on, exit 0.
#[test]
fn silent_spread_of_damage_a_flipped_byte_stops_every_reader() {
    let dir = TestDir::new();
    dir.write("in.txt", &methylation_text(71, 2_500));
    dir.write("more.txt", &methylation_text(72, 300));
    for spec in EVERY_CODEC {
        load_chunked(&dir, "study.h5", spec);
        chunks(&dir, &["flip", "study.h5", "data", "1"]);
        let before = std::fs::read(dir.join("study.h5")).unwrap();
        let listing = dir.entries();
        for args in [
            &["export", "study.h5", "-o", "out.txt"][..],
            &["matrix", "study.h5", "-o", "m.h5"],
            &["merge", "study.h5", "-o", "merged.h5"],
            &["load", "more.txt", "-o", "study.h5", "--append"],
        ] {
            let output = run(dir.path(), args);
            expect_damaged(&output, "study.h5", "1000..2000", "Fletcher32");
        }
        assert_eq!(dir.entries(), listing, "{spec}: output left behind");
        assert!(
            std::fs::read(dir.join("study.h5")).unwrap() == before,
            "{spec}: the study changed"
        );
    }
}

/// Defect 8: h5py (HDF5's own Fletcher32 filter) verifies the checksum txt2h5 writes into
/// `/data` and the matrix datasets, and refuses a chunk with a flipped byte.
#[test]
fn silent_spread_of_damage_h5py_verifies_our_checksums() {
    let dir = TestDir::new();
    dir.write("in.txt", &methylation_text(73, 2_500));
    for spec in EVERY_CODEC {
        load_chunked(&dir, "study.h5", spec);
        ok(
            &dir,
            &[
                "matrix",
                "study.h5",
                "-o",
                "m.h5",
                "--beta",
                "--compression",
                spec,
                "--force",
            ],
        );
        let matrix = describe_filters(&dir, "m.h5", "M");
        assert_eq!(
            matrix.as_array().unwrap().last().unwrap(),
            &serde_json::json!([3, []]),
            "{spec}"
        );
        let names = ["M", "Cov", "beta", "rows/chr", "rows/start", "rows/end"];
        let mut args = vec!["read", "m.h5"];
        args.extend_from_slice(&names);
        let read = chunks(&dir, &args);
        let expected: String = names.iter().map(|name| format!("{name} read\n")).collect();
        assert_eq!(read, expected, "{spec}");
        assert_eq!(chunks(&dir, &["read", "study.h5", "data"]), "data read\n");
        chunks(&dir, &["flip", "study.h5", "data", "2"]);
        chunks(&dir, &["flip", "m.h5", "Cov", "0"]);
        for (file, name) in [("study.h5", "data"), ("m.h5", "Cov")] {
            let refused = chunks(&dir, &["read", file, name]);
            assert!(
                refused.starts_with(&format!("{name} refused: ")),
                "{spec}: {refused}"
            );
        }
    }
}

/// The filter pipeline (ids and client values) of dataset `name` in `file`.
fn describe_filters(dir: &TestDir, file: &str, name: &str) -> serde_json::Value {
    let script = format!(
        "import h5py, json, hdf5plugin\n\
         p = h5py.File('{file}', 'r')['{name}'].id.get_create_plist()\n\
         print(json.dumps([[p.get_filter(i)[0], list(p.get_filter(i)[2])] \
         for i in range(p.get_nfilters())]))"
    );
    serde_json::from_str(&crate::util::python_stdout(dir.path(), &["-c", &script])).unwrap()
}

/// Defect 8: files written before the checksum (the same pipelines without Fletcher32)
/// still export, merge and take appends; what merge and append write from them carries
/// the checksum. Their copied chunks are decoded once to check them, which finds a
/// damaged gzip chunk (zlib's Adler-32).
#[test]
fn silent_spread_of_damage_files_without_checksums_still_read_merge_and_append() {
    let dir = TestDir::new();
    dir.write("in.txt", &methylation_text(74, 2_500));
    dir.write("more.txt", &methylation_text(75, 700));
    for spec in EVERY_CODEC {
        load_chunked(&dir, "ours.h5", spec);
        let _ = std::fs::remove_file(dir.join("old.h5"));
        chunks(&dir, &["unchecked", "ours.h5", "old.h5", spec]);
        let old = describe(dir.path(), "old.h5")["filters"].clone();
        assert_eq!(old, codec_filters(spec), "{spec}");
        assert_eq!(
            ok(&dir, &["export", "old.h5"]),
            ok(&dir, &["export", "ours.h5"]),
            "{spec}"
        );
        let summary = ok(
            &dir,
            &["merge", "old.h5", "-o", "merged.h5", "--force", "--json"],
        );
        let summary: serde_json::Value = serde_json::from_str(&summary).unwrap();
        assert_eq!(summary["copied_chunks"], 2, "{spec}: {summary}");
        assert_eq!(
            describe(dir.path(), "merged.h5")["filters"],
            expected_filters(spec),
            "{spec}"
        );
        assert_eq!(
            h5check(dir.path(), &["same", "ours.h5", "merged.h5"]).trim(),
            "equal rows=2500"
        );
        ok(&dir, &["load", "more.txt", "-o", "old.h5", "--append"]);
        assert_eq!(
            describe(dir.path(), "old.h5")["filters"],
            expected_filters(spec),
            "{spec}"
        );
        assert_eq!(
            h5check(
                dir.path(),
                &["loadtxt", "old.h5", "10", "in.txt", "more.txt"]
            )
            .trim(),
            "equal rows=3200",
            "{spec}"
        );
    }
    load_chunked(&dir, "ours.h5", "gzip:1");
    let _ = std::fs::remove_file(dir.join("old.h5"));
    chunks(&dir, &["unchecked", "ours.h5", "old.h5", "gzip:1"]);
    chunks(&dir, &["flip", "old.h5", "data", "0"]);
    let merge = run(dir.path(), &["merge", "old.h5", "-o", "refused.h5"]);
    expect_damaged(&merge, "old.h5", "0..1000", "inflate");
    assert!(!dir.join("refused.h5").exists());
}

/// Defect 8: R's rhdf5 reads a file whose chunks carry the checksum (HDF5's own filter,
/// no plugin needed), the same values as h5py, and refuses a damaged chunk. Raw chunks
/// (`none`), which have nothing else that could tell: before, R read the flipped byte.
#[test]
fn silent_spread_of_damage_r_reads_checksummed_chunks() {
    if !r_present(&["rhdf5"]) {
        return;
    }
    let dir = TestDir::new();
    dir.write("in.txt", &methylation_text(76, 2_500));
    load_chunked(&dir, "study.h5", "none");
    let script = r#"
suppressMessages(library(rhdf5))
why <- tryCatch({ d <- h5read("study.h5", "data"); sprintf("%d %d %d", length(d$pos), sum(as.numeric(d$c)), sum(as.numeric(d$pos))) },
                error = function(e) "refused")
cat(why, "\n")
"#;
    let from_python = crate::util::python_stdout(
        dir.path(),
        &[
            "-c",
            "import h5py\nd = h5py.File('study.h5', 'r')['data'][...]\n\
             print(len(d), int(d['c'].sum()), int(d['pos'].astype('i8').sum()), '')",
        ],
    );
    assert_eq!(rscript(dir.path(), script, &[]), from_python);
    chunks(&dir, &["flip", "study.h5", "data", "1"]);
    assert_eq!(rscript(dir.path(), script, &[]), "refused \n");
}
