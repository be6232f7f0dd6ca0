//! `txt2h5 matrix`: the site x sample M and Cov matrices against a numpy reference
//! (`tests/support/matrix_ref.py`) in every mode, and against bsseq's own `read.bismark` and
//! `getCoverage` in R where R with bsseq is installed; its refusals of bad input.

use std::path::Path;

use crate::util::{
    doc_snippet, expect_code, python_stdout, r_present, rscript, run, stderr, support_script,
    txt2h5, TestDir,
};

/// Generated coverage files (one not sorted) and CpG reports, loaded with small chunks so
/// that every chromosome spans many windows.
fn study() -> TestDir {
    let dir = TestDir::new();
    support_script(dir.path(), "matrix_ref.py", &["make", "."]);
    let load = |args: &[&str]| {
        let output = run(dir.path(), args);
        assert!(output.status.success(), "{}", stderr(&output));
    };
    load(&[
        "load",
        "cov",
        "-o",
        "cov.h5",
        "--chunk-rows",
        "300",
        "--chr-width",
        "16",
        "-q",
    ]);
    load(&[
        "load",
        "rep",
        "-o",
        "rep.h5",
        "--extra",
        "strand",
        "--chunk-rows",
        "300",
        "--chr-width",
        "16",
        "-q",
    ]);
    dir
}

fn matrix(dir: &Path, args: &[&str]) {
    matrix_in_budget(dir, args, None);
}

/// `txt2h5 matrix ARGS`, with `TXT2H5_MATRIX_BUDGET` set to `budget` where given.
fn matrix_in_budget(dir: &Path, args: &[&str], budget: Option<&str>) {
    let mut command = txt2h5();
    command.current_dir(dir).arg("matrix").args(args);
    if let Some(budget) = budget {
        command.env("TXT2H5_MATRIX_BUDGET", budget);
    }
    let output = command.output().unwrap();
    assert!(output.status.success(), "{budget:?}: {}", stderr(&output));
}

/// Runs the numpy reference check of `MATRIX` against the files it was built from.
fn numpy_check(dir: &Path, matrix: &str, files: &str, options: &[&str]) {
    let mut files: Vec<String> = std::fs::read_dir(dir.join(files))
        .unwrap()
        .map(|entry| entry.unwrap().path().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut args = vec!["check", matrix];
    args.extend(files.iter().map(String::as_str));
    args.extend_from_slice(options);
    let printed = support_script(dir, "matrix_ref.py", &args);
    assert!(
        printed.starts_with("matrix equal"),
        "{matrix} {options:?}: {printed}"
    );
}

/// Every mode equals numpy, with the default budget and with tiny ones
/// (`TXT2H5_MATRIX_BUDGET`): windows of a few rows inside each stored chunk, and chunks read
/// once per window or per group of windows, as a study of hundreds of samples is read.
#[test]
fn sites_tiles_regions_and_samples_equal_numpy() {
    let dir = study();
    let d = dir.path();
    dir.write(
        "samples.tsv",
        b"S1.bismark.cov.gz\tA\nS3.bismark.cov.gz\tA\nS2.bismark.cov.gz\tB\n",
    );
    dir.write(
        "regions.bed",
        b"chr2\t1000\t5000\nchr1\t0\t3000\nchrZ\t0\t10\nchr1\t2000\t60000\n",
    );
    for budget in [None, Some("40,160"), Some("1,1")] {
        let matrix = |args: &[&str]| matrix_in_budget(d, args, budget);
        matrix(&["cov.h5", "-o", "sites.h5", "--beta", "-q", "--force"]);
        numpy_check(d, "sites.h5", "cov", &["--beta"]);
        matrix(&[
            "rep.h5",
            "-o",
            "collapsed.h5",
            "--strand-collapse",
            "-q",
            "--force",
        ]);
        numpy_check(d, "collapsed.h5", "rep", &["--collapse"]);
        matrix(&[
            "cov.h5",
            "-o",
            "summed.h5",
            "--samples",
            "samples.tsv",
            "--min-samples",
            "2",
            "-q",
            "--force",
        ]);
        numpy_check(
            d,
            "summed.h5",
            "cov",
            &["--samples", "samples.tsv", "--min-samples", "2"],
        );
        matrix(&[
            "cov.h5", "-o", "tiles.h5", "--tile", "1000", "-q", "-j", "1", "--force",
        ]);
        numpy_check(d, "tiles.h5", "cov", &["--tile", "1000"]);
        matrix(&[
            "cov.h5",
            "-o",
            "regions.h5",
            "--sum-regions",
            "regions.bed",
            "-q",
            "--force",
        ]);
        numpy_check(d, "regions.h5", "cov", &["--regions", "regions.bed"]);
        matrix(&[
            "rep.h5",
            "-o",
            "region.h5",
            "--region",
            "chr1:5000-40000",
            "--strand-collapse",
            "-q",
            "--force",
        ]);
        numpy_check(
            d,
            "region.h5",
            "rep",
            &["--collapse", "--region", "chr1:5000-40000"],
        );
    }
}

#[test]
fn min_samples_is_counted_in_the_summary() {
    let dir = study();
    let output = run(
        dir.path(),
        &["matrix", "cov.h5", "-o", "m.h5", "--min-samples", "4"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        text.contains("left out") && text.contains("covered in fewer than 4 samples"),
        "{text}"
    );
    // inspect says what a matrix file holds, its row count the datasets'.
    let rows: u64 = python_stdout(
        dir.path(),
        &["-c", "import h5py; print(h5py.File('m.h5')['M'].shape[1])"],
    )
    .trim()
    .parse()
    .unwrap();
    let output = run(dir.path(), &["inspect", "m.h5"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let shown = String::from_utf8_lossy(&output.stdout);
    let expected = format!(
        "txt2h5 matrix: {} rows (sites) x 4 samples",
        txt2h5::progress::group_thousands(rows)
    );
    assert!(shown.starts_with(&expected), "{shown}");
    assert!(shown.contains("samples: S1, S2, S3, S4"), "{shown}");
}

#[test]
fn bad_input_is_refused_and_leaves_nothing() {
    let dir = study();
    let d = dir.path();
    let refused = |args: &[&str], code: i32, says: &str| {
        let output = run(d, args);
        expect_code(&output, code);
        assert!(
            stderr(&output).contains(says),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(!d.join("m.h5").exists(), "{args:?} left an output");
    };
    refused(
        &["matrix", "cov.h5", "-o", "m.h5", "--strand-collapse"],
        2,
        "--extra strand",
    );
    dir.write("none.tsv", b"nothing_like_this.gz\tA\n");
    refused(
        &["matrix", "cov.h5", "-o", "m.h5", "--samples", "none.tsv"],
        3,
        "line 1, column 1: \"nothing_like_this.gz\" names no selected source",
    );
    dir.write("twice.tsv", b"S1.bismark.cov.gz\tA\nS1*\tB\n");
    refused(
        &["matrix", "cov.h5", "-o", "m.h5", "--samples", "twice.tsv"],
        3,
        "line 2, column 1: \"S1*\" names source \"cov/S1.bismark.cov.gz\" again (line 1 named \
         it first): a source belongs to one sample",
    );
    for (text, says) in [
        (
            &b"# samples\n\nS1.bismark.cov.gz A\n"[..],
            "line 3, column 1: \"S1.bismark.cov.gz A\" has 1 tab-separated fields, not 2",
        ),
        (
            b"S1.bismark.cov.gz\t \r\n",
            "line 1, column 2: \"\" is empty: every source needs a sample name",
        ),
        (
            b"S1[.gz\tA\n",
            "line 1, column 1: \"S1[.gz\" is not a valid glob",
        ),
        (b"source\tsample\n# none\n", "names no sample"),
        (b"S1\xff\tA\n", "is not UTF-8 text (byte 2)"),
    ] {
        dir.write("lines.tsv", text);
        refused(
            &["matrix", "cov.h5", "-o", "m.h5", "--samples", "lines.tsv"],
            3,
            says,
        );
    }
    dir.write("bad.bed", b"chr1\t10\t20\nchr1\tten\t20\n");
    refused(
        &["matrix", "cov.h5", "-o", "m.h5", "--sum-regions", "bad.bed"],
        3,
        "line 2, column 2",
    );
    dir.write("not.h5", b"chr1\t1\t50\t1\t1\n");
    refused(&["matrix", "not.h5", "-o", "m.h5"], 2, "not an HDF5 file");
    refused(
        &["matrix", "cov.h5", "-o", "cov.h5", "--force"],
        2,
        "the study itself",
    );
}

/// Whether R with bsseq is here; with `TXT2H5_REQUIRE_R=1` (CI) its absence fails.
fn bsseq_present() -> bool {
    r_present(&["rhdf5", "bsseq", "HDF5Array"])
}

const R_AGAINST_BSSEQ: &str = r#"
suppressPackageStartupMessages({library(bsseq); library(rhdf5); library(HDF5Array)})
same <- function(f, bs) {
  M <- h5read(f, "M"); Cov <- h5read(f, "Cov")
  stopifnot(identical(dim(M), dim(bs)))
  stopifnot(identical(as.character(seqnames(bs)), as.vector(h5read(f, "rows/chr"))))
  stopifnot(identical(start(bs), as.vector(h5read(f, "rows/start"))))
  stopifnot(all(M == as.matrix(getCoverage(bs, type = "M"))))
  stopifnot(all(Cov == as.matrix(getCoverage(bs, type = "Cov"))))
}
cov <- sort(Sys.glob("cov/*.gz")); rep <- sort(Sys.glob("rep/*.gz"))
bs <- read.bismark(cov, strandCollapse = FALSE, verbose = FALSE)
same("sites.h5", bs)
same("collapsed.h5", read.bismark(rep, strandCollapse = TRUE, rmZeroCov = TRUE, verbose = FALSE))
bed <- read.table("regions.bed", sep = "\t", col.names = c("chr", "start", "end"))
regions <- GRanges(bed$chr, IRanges(bed$start + 1, bed$end))
for (type in c("M", "Cov")) {
  want <- getCoverage(bs, regions, type = type, what = "perRegionTotal")
  want[is.na(want)] <- 0
  got <- h5read("regions.h5", type)
  stopifnot(all(got == as.matrix(want)))
}
cat("equal to read.bismark and getCoverage\n")
"#;

#[test]
fn equals_read_bismark_and_get_coverage_in_r() {
    if !bsseq_present() {
        return;
    }
    let dir = study();
    let d = dir.path();
    matrix(d, &["cov.h5", "-o", "sites.h5", "-q"]);
    matrix(
        d,
        &["rep.h5", "-o", "collapsed.h5", "--strand-collapse", "-q"],
    );
    dir.write(
        "regions.bed",
        b"chr2\t1000\t5000\nchr1\t0\t3000\nchrZ\t0\t10\nchr1\t2000\t60000\n",
    );
    matrix(
        d,
        &[
            "cov.h5",
            "-o",
            "regions.h5",
            "--sum-regions",
            "regions.bed",
            "-q",
        ],
    );
    let printed = rscript(d, R_AGAINST_BSSEQ, &[]);
    assert!(printed.contains("equal to read.bismark"), "{printed}");
}

#[test]
fn the_readme_snippets_run_as_written() {
    let dir = study();
    let d = dir.path();
    matrix(d, &["cov.h5", "-o", "matrix.h5", "-q"]);
    numpy_check(d, "matrix.h5", "cov", &[]);
    dir.write(
        "snippet.py",
        doc_snippet("snippet-matrix-python").as_bytes(),
    );
    let printed = python_stdout(d, &["snippet.py"]);
    assert!(
        printed.starts_with("['S1', 'S2', 'S3', 'S4'] (4, "),
        "{printed}"
    );
    if !bsseq_present() {
        return;
    }
    dir.write("snippet.R", doc_snippet("snippet-matrix-r").as_bytes());
    let printed = rscript(d, "source('snippet.R')", &[]);
    // A BSseq of every row and sample, its Cov column sums those numpy makes.
    let sums = python_stdout(
        d,
        &[
            "-c",
            "import h5py; print(' '.join(str(v) for v in h5py.File('matrix.h5')['Cov'][...].sum(axis=1)))",
        ],
    );
    assert!(printed.contains("An object of type 'BSseq'"), "{printed}");
    assert_eq!(sums.split_whitespace().count(), 4, "{sums}");
    for sum in sums.split_whitespace() {
        assert!(printed.contains(sum), "{sum} not in {printed}");
    }
}

/// A `merge --virtual` study gives the matrix of the same rows loaded whole; with a part
/// missing it is an error naming the part, and nothing is written.
#[test]
fn a_virtual_study_gives_the_same_matrix_and_a_missing_part_is_named() {
    let dir = study();
    let d = dir.path();
    for shard in ["1/2", "2/2"] {
        let part = format!("part{}.h5", &shard[..1]);
        let output = run(
            d,
            &[
                "load",
                "cov",
                "-o",
                &part,
                "--shard",
                shard,
                "--chr-width",
                "16",
                "--chunk-rows",
                "300",
                "-q",
            ],
        );
        assert!(output.status.success(), "{}", stderr(&output));
    }
    let output = run(
        d,
        &[
            "merge",
            "part1.h5",
            "part2.h5",
            "-o",
            "v.h5",
            "--virtual",
            "-q",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    matrix(d, &["v.h5", "-o", "virtual.h5", "-q"]);
    numpy_check(d, "virtual.h5", "cov", &[]);
    std::fs::rename(d.join("part2.h5"), d.join("elsewhere.h5")).unwrap();
    let output = run(d, &["matrix", "v.h5", "-o", "m.h5"]);
    expect_code(&output, 2);
    let text = stderr(&output);
    assert!(
        text.contains("part2.h5") && text.contains("missing"),
        "{text}"
    );
    assert!(!d.join("m.h5").exists());
}

/// As for load: the progress bar is drawn on a terminal (a pseudo-terminal the test opens),
/// never with --quiet or into a pipe, and the summary line follows it. The run is slowed
/// (one thread, deflate level 9, windows of a few rows) so that the bar is drawn at all.
#[test]
fn matrix_progress_is_drawn_only_on_a_terminal() {
    let dir = TestDir::new();
    dir.write("a.txt", &crate::generate::methylation_text(61, 60_000));
    dir.write("b.txt", &crate::generate::methylation_text(62, 60_000));
    expect_code(
        &run(
            dir.path(),
            &["load", "a.txt", "b.txt", "-o", "study.h5", "-q"],
        ),
        0,
    );
    let on_terminal = |extra: &[&str]| {
        let mut command = txt2h5();
        command
            .current_dir(dir.path())
            .env("TXT2H5_MATRIX_BUDGET", "256,256")
            .args(["matrix", "study.h5", "-o", "m.h5", "--force", "-j", "1"])
            .args(["--compression", "gzip:9"])
            .args(extra);
        let output = crate::terminal::output_on_terminal(command);
        expect_code(&output, 0);
        stderr(&output)
    };
    let shown = on_terminal(&[]);
    assert!(
        shown.contains(" rows") && shown.contains("ETA") && shown.contains("/120,000"),
        "no progress bar on a terminal:\n{shown}"
    );
    assert!(shown.contains("txt2h5: matrix of "), "{shown}");
    let quiet = on_terminal(&["--quiet"]);
    assert!(
        !quiet.contains("ETA"),
        "progress drawn despite --quiet:\n{quiet}"
    );
    let piped = run(dir.path(), &["matrix", "study.h5", "-o", "m.h5", "--force"]);
    expect_code(&piped, 0);
    assert!(
        !stderr(&piped).contains("ETA"),
        "progress drawn into a pipe"
    );
    assert!(stderr(&piped).contains("txt2h5: matrix of "));
}

/// Sources summed into one sample (`--samples`) whose counts pass int32 at a site: an
/// error naming the sample, matrix and site (exit 2), never a wrapped count, and no file.
#[test]
fn a_sample_sum_beyond_int32_is_an_error() {
    let dir = TestDir::new();
    let max = i64::from(i32::MAX);
    dir.write(
        "a.txt",
        format!("chr1 100 100 {} 0\nchr1 200 50 1 1\n", max - 1).as_bytes(),
    );
    dir.write("b.txt", b"chr1 100 100 2 0\nchr1 200 50 1 1\n");
    expect_code(
        &run(
            dir.path(),
            &["load", "a.txt", "b.txt", "-o", "study.h5", "-q"],
        ),
        0,
    );
    // Apart, each fits.
    expect_code(
        &run(dir.path(), &["matrix", "study.h5", "-o", "apart.h5", "-q"]),
        0,
    );
    dir.write("samples.tsv", b"a.txt\tS\nb.txt\tS\n");
    let output = run(
        dir.path(),
        &[
            "matrix",
            "study.h5",
            "-o",
            "summed.h5",
            "--samples",
            "samples.tsv",
        ],
    );
    expect_code(&output, 2);
    let message = stderr(&output);
    assert!(
        message.contains("M of sample \"S\" at chr1:100-100 is 2147483648, beyond int32"),
        "{message}"
    );
    assert!(!dir.path().join("summed.h5").exists());
    let leftovers: Vec<String> = dir
        .entries()
        .into_iter()
        .filter(|name| name.contains("summed"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// `TXT2H5_MATRIX_BUDGET` is read once, in settings, and reaches the matrix's plan: tiny
/// windows read the stored chunks in more pieces (the report counts them) for the same
/// matrix, and a malformed value is a usage error naming the variable before anything is
/// written.
#[test]
fn the_matrix_budget_is_read_in_settings_and_reaches_the_plan() {
    let dir = study();
    let matrix_with = |budget: Option<&str>, output: &str| {
        let mut command = txt2h5();
        command
            .current_dir(dir.path())
            .args(["matrix", "cov.h5", "-o", output, "--json", "-q"])
            .env_remove("TXT2H5_MATRIX_BUDGET");
        if let Some(budget) = budget {
            command.env("TXT2H5_MATRIX_BUDGET", budget);
        }
        command.output().unwrap()
    };
    let pieces = |output: &std::process::Output| {
        expect_code(output, 0);
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        report["chunks_read"].as_u64().expect("chunks_read")
    };
    let default = pieces(&matrix_with(None, "default.h5"));
    let tiny = pieces(&matrix_with(Some("64,64"), "tiny.h5"));
    assert!(
        tiny > default,
        "tiny windows: {tiny} pieces, default: {default}"
    );
    let same = python_stdout(
        dir.path(),
        &[
            "-c",
            "import h5py, numpy, sys; a, b = h5py.File('default.h5'), h5py.File('tiny.h5'); \
             print(all(numpy.array_equal(a[n][()], b[n][()]) for n in ('M', 'Cov')))",
        ],
    );
    assert_eq!(same.trim(), "True");
    for bad in ["0,5", "64", "x,y"] {
        let output = matrix_with(Some(bad), "bad.h5");
        expect_code(&output, 2);
        let message = stderr(&output);
        assert!(
            message.contains(&format!(
                "TXT2H5_MATRIX_BUDGET is \"{bad}\", not CELLS,ENTRIES"
            )),
            "{bad}: {message}"
        );
        assert!(!dir.path().join("bad.h5").exists());
    }
}

/// Every dataset of a matrix file, one line each, to compare two files by content.
const MATRIX_DATASETS: &str = r#"
import sys, h5py
with h5py.File(sys.argv[1]) as f:
    f.visititems(lambda name, item: print(name, item[...].tolist())
                 if isinstance(item, h5py.Dataset) else None)
"#;

/// `matrix --regions FILE.bed` summed per region while `export --regions FILE.bed` filters
/// rows; the matrix's flag is now `--sum-regions`. The old spelling still works, with the
/// same matrix and a deprecation warning on stderr (none with `-q`, none for the new
/// spelling), and `--tile` conflicts with both spellings.
#[test]
fn matrix_regions_is_renamed_sum_regions_and_the_old_spelling_warns() {
    let dir = study();
    let d = dir.path();
    let bed = b"chr2\t1000\t5000\nchr1\t0\t3000\nchrZ\t0\t10\n";
    dir.write("regions.bed", bed);
    let new = run(
        d,
        &[
            "matrix",
            "cov.h5",
            "-o",
            "new.h5",
            "--sum-regions",
            "regions.bed",
        ],
    );
    assert!(new.status.success(), "{}", stderr(&new));
    assert!(!stderr(&new).contains("deprecated"), "{}", stderr(&new));
    numpy_check(d, "new.h5", "cov", &["--regions", "regions.bed"]);

    let old = run(
        d,
        &[
            "matrix",
            "cov.h5",
            "-o",
            "old.h5",
            "--regions",
            "regions.bed",
        ],
    );
    assert!(old.status.success(), "{}", stderr(&old));
    let warning = stderr(&old);
    assert!(
        warning.contains("warning: matrix --regions is deprecated")
            && warning.contains("use --sum-regions"),
        "{warning}"
    );
    let quiet = run(
        d,
        &[
            "matrix",
            "cov.h5",
            "-o",
            "quiet.h5",
            "--regions",
            "regions.bed",
            "-q",
        ],
    );
    assert!(quiet.status.success(), "{}", stderr(&quiet));
    assert_eq!(stderr(&quiet), "");

    let datasets = |file: &str| python_stdout(d, &["-c", MATRIX_DATASETS, file]);
    let (made_new, made_old) = (datasets("new.h5"), datasets("old.h5"));
    assert_eq!(made_new, made_old);
    assert_eq!(made_old, datasets("quiet.h5"));
    // One row per BED line, so the content compared above is not empty.
    let rows = bed.iter().filter(|&&byte| byte == b'\n').count();
    let starts = made_old
        .lines()
        .find_map(|line| line.strip_prefix("rows/start "))
        .unwrap_or_else(|| panic!("no rows/start dataset: {made_old}"));
    assert_eq!(starts.matches(',').count() + 1, rows, "{starts}");

    for spelling in ["--sum-regions", "--regions"] {
        let both = run(
            d,
            &[
                "matrix",
                "cov.h5",
                "-o",
                "t.h5",
                "--tile",
                "1000",
                spelling,
                "regions.bed",
            ],
        );
        expect_code(&both, 2);
        assert!(
            stderr(&both).contains("cannot be used with"),
            "{}",
            stderr(&both)
        );
    }
    let twice = run(
        d,
        &[
            "matrix",
            "cov.h5",
            "-o",
            "t.h5",
            "--sum-regions",
            "regions.bed",
            "--regions",
            "regions.bed",
        ],
    );
    expect_code(&twice, 2);
}
