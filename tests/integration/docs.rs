//! The documentation (README.md and docs/*.md): its examples run as written.

use crate::generate::{methylation_text, Rng};
use crate::util::{doc_snippet, expect_code, repo, run, support_script, TestDir};

/// The h5py snippet that reads one region through `/index` gives the rows a mask over all
/// of `/data` gives, in the same order: on sorted files, a file whose chromosomes
/// interleave, regions at chunk edges and regions with no rows.
#[test]
fn the_region_snippet_reads_what_a_mask_reads() {
    let dir = TestDir::new();
    dir.write("in/a.txt", &methylation_text(1, 3_000));
    dir.write("in/b.txt", &methylation_text(2, 2_000));
    let mut interleaved = Vec::new();
    for block in 0..40u32 {
        let chr = if block % 2 == 0 { "chr1" } else { "chr2" };
        for row in 0..25u32 {
            let pos = 10_000 + block * 1_000 + row * 7;
            interleaved.extend_from_slice(format!("{chr}\t{pos}\t50\t1\t1\n").as_bytes());
        }
    }
    dir.write("in/c.txt", &interleaved);
    expect_code(
        &run(
            dir.path(),
            &["load", "in", "-o", "out.h5", "--chunk-rows", "64"],
        ),
        0,
    );
    let mut rng = Rng::new(9);
    let mut regions: Vec<String> = vec![
        "chr1:1-100000000".into(),
        "chr2:10000-10000".into(),
        "chrZ:1-10".into(),
        "chr1:1-9999".into(),
    ];
    for _ in 0..40 {
        let chr = ["chr1", "chr2", "chr10", "chrX"][rng.below(4) as usize];
        let start = 10_000 + rng.below(200_000);
        let end = start + rng.below(20_000);
        regions.push(format!("{chr}:{start}-{end}"));
    }
    let mut args = vec!["out.h5"];
    args.extend(regions.iter().map(String::as_str));
    let report = support_script(dir.path(), "region_snippet.py", &args);
    assert!(report.starts_with("ok 44 regions"), "{report}");
    let rows: u64 = report.split_whitespace().nth(3).unwrap().parse().unwrap();
    assert!(rows > 1_000, "the regions hold rows: {report}");
}

/// The guide quotes `examples/slurm/load.sbatch` as it is (scripts/check-slurm runs the
/// file on a real Slurm).
#[test]
fn the_guide_quotes_the_slurm_script_as_shipped() {
    let quoted = doc_snippet("snippet-slurm-sbatch");
    let shipped = std::fs::read_to_string(repo().join("examples/slurm/load.sbatch")).unwrap();
    assert_eq!(quoted, shipped);
}

/// The guide's one-machine shard example runs as written (GNU parallel where it is
/// installed, else its `xargs -P` line) and gives what one load gives.
#[test]
fn the_parallel_snippet_equals_one_load() {
    let dir = TestDir::new();
    for (k, rows) in [3_000usize, 10, 7_000, 1, 2_500, 4_000]
        .into_iter()
        .enumerate()
    {
        dir.write(
            &format!("calls/S{k}.txt"),
            &methylation_text(40 + k as u64, rows),
        );
    }
    let has_parallel = std::process::Command::new("parallel")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    let snippet = doc_snippet("snippet-parallel");
    let lines: Vec<&str> = snippet
        .lines()
        .filter(|line| {
            if line.starts_with("parallel ") {
                has_parallel
            } else if line.contains("| xargs ") {
                !has_parallel
            } else {
                true
            }
        })
        .collect();
    assert_eq!(lines.len(), 3, "{snippet}");
    let bin = crate::util::binary();
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let status = std::process::Command::new("sh")
        .current_dir(dir.path())
        .env("PATH", path)
        .args(["-e", "-c", &lines.join("\n")])
        .status()
        .unwrap();
    assert!(status.success());
    expect_code(
        &run(dir.path(), &["load", "calls", "-o", "one.h5", "-q"]),
        0,
    );
    let same = support_script(dir.path(), "h5check.py", &["same", "study.h5", "one.h5"]);
    assert!(same.starts_with("equal rows=16511"), "{same}");
}
