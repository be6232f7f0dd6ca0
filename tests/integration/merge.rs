//! Shards and merge: parts of a sharded load merge into exactly what one load gives.

use crate::generate::{gzip, methylation_text};
use crate::util::{expect_code, h5check, run, stderr, txt2h5, TestDir};

/// Inputs of very different sizes, so byte balancing matters.
fn study(dir: &TestDir) {
    dir.write("in/s01.txt", &methylation_text(21, 9_000));
    dir.write("in/s02.txt", b"");
    dir.write("in/s03.txt.gz", &gzip(&methylation_text(22, 4_000)));
    dir.write("in/s04.txt", &methylation_text(23, 500));
    dir.write("in/s05.txt", &methylation_text(24, 12_000));
    dir.write("in/s06.txt", b"chr9 1 1 1 1\n");
    dir.write("in/s07.txt", &methylation_text(25, 3_000));
}

#[test]
fn three_shards_merged_equal_a_single_load() {
    for compression in ["gzip:1", "none"] {
        let dir = TestDir::new();
        study(&dir);
        let common = ["--chunk-rows", "1000", "--compression", compression];
        let mut single = vec!["load", "in", "-o", "single.h5"];
        single.extend_from_slice(&common);
        expect_code(&run(dir.path(), &single), 0);
        let mut rows = Vec::new();
        for shard in ["1/3", "2/3", "3/3"] {
            let name = format!("part{}.h5", &shard[..1]);
            let mut args = vec!["load", "in", "-o", &name, "--shard", shard, "--json"];
            args.extend_from_slice(&common);
            let output = run(dir.path(), &args);
            expect_code(&output, 0);
            let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
            rows.push(summary["rows"].as_u64().unwrap());
        }
        assert!(
            rows.iter().all(|&rows| rows > 0),
            "every shard gets work: {rows:?}"
        );
        // Parts in any order on the command line.
        let output = run(
            dir.path(),
            &[
                "merge",
                "part3.h5",
                "part1.h5",
                "part2.h5",
                "-o",
                "merged.h5",
                "--json",
            ],
        );
        expect_code(&output, 0);
        let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert!(summary["copied_chunks"].as_u64().unwrap() > 0, "{summary}");
        assert_eq!(summary["rows"].as_u64().unwrap(), rows.iter().sum::<u64>());
        assert_eq!(
            h5check(dir.path(), &["same", "single.h5", "merged.h5"]).trim(),
            "equal rows=28501"
        );
    }
}

#[test]
fn virtual_merge_reads_back_equal_from_anywhere() {
    let dir = TestDir::new();
    study(&dir);
    expect_code(&run(dir.path(), &["load", "in", "-o", "single.h5"]), 0);
    dir.create_dir("parts");
    dir.create_dir("final");
    for shard in ["1/2", "2/2"] {
        let name = format!("parts/{}.h5", &shard[..1]);
        expect_code(
            &run(dir.path(), &["load", "in", "-o", &name, "--shard", shard]),
            0,
        );
    }
    expect_code(
        &run(
            dir.path(),
            &[
                "merge",
                "parts/1.h5",
                "parts/2.h5",
                "-o",
                "final/all.h5",
                "--virtual",
            ],
        ),
        0,
    );
    // Read from another directory: the mappings are relative to the merged file.
    assert_eq!(
        h5check(
            &dir.join("parts"),
            &["same", "../single.h5", "../final/all.h5"]
        )
        .trim(),
        "equal rows=28501"
    );
    // A virtual output maps other files: it is read, not merged again or appended to.
    let output = run(dir.path(), &["merge", "final/all.h5", "-o", "again.h5"]);
    expect_code(&output, 2);
    assert!(
        stderr(&output).contains("merge --virtual output"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn shard_slurm_takes_k_and_n_from_the_array_environment() {
    let dir = TestDir::new();
    study(&dir);
    expect_code(
        &run(
            dir.path(),
            &["load", "in", "-o", "explicit.h5", "--shard", "2/3"],
        ),
        0,
    );
    let output = txt2h5()
        .current_dir(dir.path())
        .args(["load", "in", "-o", "slurm.h5", "--shard", "slurm"])
        .env("SLURM_ARRAY_TASK_ID", "5")
        .env("SLURM_ARRAY_TASK_MIN", "4")
        .env("SLURM_ARRAY_TASK_MAX", "6")
        .output()
        .unwrap();
    expect_code(&output, 0);
    let explicit = h5check(dir.path(), &["same", "explicit.h5", "slurm.h5"]);
    assert!(explicit.starts_with("equal rows="), "{explicit}");
    let output = txt2h5()
        .current_dir(dir.path())
        .args(["load", "in", "-o", "unset.h5", "--shard", "slurm"])
        .env_remove("SLURM_ARRAY_TASK_ID")
        .output()
        .unwrap();
    expect_code(&output, 2);
    assert!(
        stderr(&output).contains("SLURM_ARRAY_TASK_ID is not set"),
        "{}",
        stderr(&output)
    );
    assert!(!dir.join("unset.h5").exists());
}

#[test]
fn merge_refuses_parts_that_do_not_fit_together() {
    let dir = TestDir::new();
    study(&dir);
    dir.write("other/x.txt", b"chr1 5 50 1 1\n");
    for shard in ["1/2", "2/2"] {
        let name = format!("p{}.h5", &shard[..1]);
        expect_code(
            &run(dir.path(), &["load", "in", "-o", &name, "--shard", shard]),
            0,
        );
    }
    expect_code(
        &run(
            dir.path(),
            &["load", "in", "-o", "wide.h5", "--chr-width", "12"],
        ),
        0,
    );
    expect_code(
        &run(
            dir.path(),
            &["load", "other", "-o", "o2.h5", "--shard", "2/2"],
        ),
        0,
    );
    expect_code(&run(dir.path(), &["load", "in", "-o", "plain.h5"]), 0);
    dir.write("notes.h5", b"not hdf5");
    for (parts, needle) in [
        (&["p1.h5"][..], "shard 2/2 is missing"),
        (&["p1.h5", "p1.h5"][..], "are the same file"),
        (&["p1.h5", "o2.h5"][..], "different load"),
        (&["plain.h5", "wide.h5"][..], "different schemas"),
        (&["p1.h5", "plain.h5"][..], "some parts are shards"),
        (&["p1.h5", "missing.h5"][..], "no such part file"),
        (
            &["notes.h5"][..],
            "cannot merge it: not a txt2h5 output: not an HDF5 file",
        ),
    ] {
        let mut args = vec!["merge"];
        args.extend_from_slice(parts);
        args.extend_from_slice(&["-o", "merged.h5"]);
        let output = run(dir.path(), &args);
        expect_code(&output, 2);
        assert!(
            stderr(&output).contains(needle),
            "{parts:?}: {}",
            stderr(&output)
        );
        assert!(!dir.join("merged.h5").exists());
    }
}

/// A directory of parts stands for its `*.h5` files, so a merge of thousands of shards
/// needs no command line past the system's limit.
#[test]
fn a_directory_of_parts_merges_like_the_parts_listed() {
    let dir = TestDir::new();
    study(&dir);
    expect_code(&run(dir.path(), &["load", "in", "-o", "single.h5"]), 0);
    dir.create_dir("parts");
    for shard in ["1/3", "2/3", "3/3"] {
        let name = format!("parts/part{}.h5", &shard[..1]);
        expect_code(
            &run(dir.path(), &["load", "in", "-o", &name, "--shard", shard]),
            0,
        );
    }
    dir.write("parts/notes.txt", b"not a part");
    dir.write("parts/.hidden.h5", b"not a part either");
    expect_code(&run(dir.path(), &["merge", "parts", "-o", "merged.h5"]), 0);
    assert_eq!(
        h5check(dir.path(), &["same", "single.h5", "merged.h5"]).trim(),
        "equal rows=28501"
    );
    dir.create_dir("empty");
    let output = run(dir.path(), &["merge", "empty", "-o", "none.h5"]);
    expect_code(&output, 2);
    assert!(stderr(&output).contains("empty: directory has no .h5 part files"));
    // The output written into the parts directory is refused as a part next time.
    let output = run(
        dir.path(),
        &["merge", "parts", "-o", "parts/part1.h5", "--force"],
    );
    expect_code(&output, 2);
    assert!(stderr(&output).contains("the output file is also a part"));
}
