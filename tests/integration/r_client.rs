//! R's rhdf5 as a client: what `h5read` returns for the datasets txt2h5 writes, compared
//! with h5py/numpy on the same file. Runs where Rscript with rhdf5 is installed
//! (`scripts/setup-r`); elsewhere each test returns at once and `scripts/test` says on one
//! line that they were skipped. With `TXT2H5_REQUIRE_R=1` (CI) a missing R is a failure.

use crate::generate::methylation_text;
use crate::util::{
    doc_snippet, expect_code, python_stdout, r_present, repo, rscript, run, TestDir,
};

fn rhdf5_present() -> bool {
    r_present(&["rhdf5"])
}

/// `/data` as lines `chr pos pct c t`, pct with 9 significant digits (enough for any
/// float32), the way R prints what `h5read` gave it.
const R_DUMP_DATA: &str = r#"
suppressMessages(library(rhdf5))
d <- h5read("out.h5", "data")
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
fn r_reads_data_as_h5py_does() {
    if !rhdf5_present() {
        return;
    }
    let dir = TestDir::new();
    let samples = repo().join("fixtures/samples");
    let output = run(
        dir.path(),
        &["load", samples.to_str().unwrap(), "-o", "out.h5", "-q"],
    );
    expect_code(&output, 0);
    let from_r = rscript(dir.path(), R_DUMP_DATA, &[]);
    let from_python = python_stdout(dir.path(), &["-c", PY_DUMP_DATA]);
    assert!(from_r.lines().count() > 50, "R read only:\n{from_r}");
    assert_eq!(from_r, from_python);
}

/// Reads every dataset of each file named on the command line with R's default `h5read`
/// and stops on a warning or an NA (NaN, a value, is allowed: a pct or beta of 0/0); prints
/// `FILE NAME` for each dataset read.
const R_READ_EVERY_DATASET: &str = r#"
suppressMessages(library(rhdf5))
for (f in commandArgs(TRUE)) {
  listing <- h5ls(f, recursive = TRUE)
  listing <- listing[listing$otype == "H5I_DATASET", ]
  for (k in seq_len(nrow(listing))) {
    name <- sub("^/+", "", paste(listing$group[k], listing$name[k], sep = "/"))
    warned <- character(0)
    value <- withCallingHandlers(h5read(f, name),
      warning = function(w) { warned <<- c(warned, conditionMessage(w)); invokeRestart("muffleWarning") })
    if (length(warned)) stop(sprintf("%s %s warns: %s", f, name, paste(warned, collapse = "; ")))
    values <- if (is.list(value)) value else list(value)
    if (any(vapply(values, function(v) any(is.na(v) & !is.nan(v)), logical(1))))
      stop(sprintf("%s %s reads with NA", f, name))
    cat(f, name, "\n")
  }
}
"#;

/// The same `FILE NAME` lines from h5py, in HDF5's name order as `h5ls` lists them.
const PY_LIST_DATASETS: &str = r#"
import sys, h5py
for f in sys.argv[1:]:
    names = []
    h5py.File(f, "r").visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset) else None)
    by_group = sorted(names, key=lambda n: (n.rsplit("/", 1)[0] if "/" in n else "", n.rsplit("/", 1)[-1]))
    for name in by_group:
        print(f, name, "")
"#;

/// `/sources` as R gives it and as h5py gives it, one line per row, every field.
const R_DUMP_SOURCES: &str = r#"
suppressMessages(library(rhdf5))
for (f in commandArgs(TRUE)) {
  s <- h5read(f, "sources")
  cat(sprintf("%s %s %d %d %d %s %d %d %s %d %d %d\n", f, s$path, s$size, s$mtime_s, s$mtime_nsec,
              s$xxh3_128, s$first_row, s$rows, s$format, s$skipped_zero_coverage,
              s$skipped_context, s$skipped_mod_code), sep = "")
}
"#;

const PY_DUMP_SOURCES: &str = r#"
import sys, h5py
for f in sys.argv[1:]:
    for r in h5py.File(f, "r")["sources"][...]:
        text = lambda v: v.decode() if isinstance(v, bytes) else v
        print(f, text(r["path"]), *(int(r[k]) for k in ("size", "mtime_s", "mtime_nsec")), text(r["xxh3_128"]),
              *(int(r[k]) for k in ("first_row", "rows")), text(r["format"]),
              *(int(r["skipped_" + k]) for k in ("zero_coverage", "context", "mod_code")))
"#;

/// Every dataset of every kind of file txt2h5 writes (a load with presets, filters and
/// extra fields, a merge, a `merge --virtual`, matrices with `--beta`, `--samples` and
/// `--tile`) reads in R with no warning and no NA, and `/sources` reads as h5py reads it.
#[test]
fn r_reads_every_dataset_of_every_output_without_na() {
    if !rhdf5_present() {
        return;
    }
    let dir = TestDir::new();
    let d = dir.path();
    let fixture = |name: &str| repo().join("fixtures").join(name);
    let samples = fixture("samples");
    let report = fixture("formats/bismark-report/sample.CpG_report.txt");
    let cx = fixture("formats/bismark-report/sample.CX_report.txt.gz");
    let cov = fixture("formats/bismark-cov/sample.bismark.cov");
    dir.write(
        "samples.tsv",
        b"*CX_report.txt.gz\tcx\n*CpG_report.txt\tcpg\n*.bismark.cov\tcpg\n",
    );
    for args in [
        vec!["load", samples.to_str().unwrap(), "-o", "plain.h5"],
        vec![
            "load",
            report.to_str().unwrap(),
            cx.to_str().unwrap(),
            "--context",
            "CG",
            "--extra",
            "strand,context",
            "-o",
            "presets.h5",
        ],
        vec![
            "load",
            cov.to_str().unwrap(),
            "--extra",
            "strand,context",
            "-o",
            "cov.h5",
        ],
        vec!["merge", "plain.h5", "--virtual", "-o", "virtual.h5"],
        vec!["merge", "presets.h5", "cov.h5", "-o", "merged.h5"],
        vec!["matrix", "plain.h5", "-o", "sites.h5", "--beta"],
        vec![
            "matrix",
            "merged.h5",
            "-o",
            "collapsed.h5",
            "--strand-collapse",
            "--samples",
            "samples.tsv",
        ],
        vec![
            "matrix", "plain.h5", "-o", "tiles.h5", "--tile", "1000", "--beta",
        ],
    ] {
        let mut args = args;
        args.push("-q");
        expect_code(&run(d, &args), 0);
    }
    let files = [
        "plain.h5",
        "presets.h5",
        "cov.h5",
        "virtual.h5",
        "merged.h5",
        "sites.h5",
        "collapsed.h5",
        "tiles.h5",
    ];
    let mut from_r: Vec<String> = rscript(d, R_READ_EVERY_DATASET, &files)
        .lines()
        .map(str::to_string)
        .collect();
    let mut listed: Vec<String> =
        python_stdout(d, &[&["-c", PY_LIST_DATASETS], &files[..]].concat())
            .lines()
            .map(str::to_string)
            .collect();
    from_r.sort();
    listed.sort();
    assert_eq!(from_r, listed, "R did not read every dataset h5py lists");
    for needed in [
        "presets.h5 sources ",
        "sites.h5 beta ",
        "tiles.h5 rows/end ",
    ] {
        assert!(listed.iter().any(|line| line == needed), "{needed}");
    }

    let studies = ["plain.h5", "presets.h5", "merged.h5", "virtual.h5"];
    let from_r = rscript(d, R_DUMP_SOURCES, &studies);
    let from_python = python_stdout(d, &[&["-c", PY_DUMP_SOURCES], &studies[..]].concat());
    assert_eq!(from_r, from_python);
    // The filters' counts are there to be read: zero-coverage lines of the CpG report,
    // contexts other than CG of the CX report.
    let presets: Vec<&str> = from_r
        .lines()
        .filter(|line| line.starts_with("presets.h5 "))
        .collect();
    assert_eq!(presets.len(), 2, "{from_r}");
    let counts = |line: &str| -> Vec<u64> {
        let fields: Vec<&str> = line.split(' ').collect();
        fields[fields.len() - 3..]
            .iter()
            .map(|v| v.parse().unwrap())
            .collect()
    };
    for (name, reason) in [("CpG_report", 0), ("CX_report", 1)] {
        let line = presets.iter().find(|line| line.contains(name)).unwrap();
        assert!(counts(line)[reason] > 0, "{line}");
    }
}

/// The guide's R snippet runs as written, and what it reads equals h5py's; where a
/// 64-bit field passes 2^31 (here a `size` set to 3,000,000,123 bytes), the default read
/// gives NA with a warning, and the guide's `bit64conversion = "double"` the exact value.
#[test]
fn the_readme_r_snippet_runs_and_bit64conversion_reads_past_2_31() {
    if !rhdf5_present() {
        return;
    }
    let dir = TestDir::new();
    let d = dir.path();
    let samples = repo().join("fixtures/samples");
    expect_code(
        &run(
            d,
            &["load", samples.to_str().unwrap(), "-o", "study.h5", "-q"],
        ),
        0,
    );
    dir.write("snippet.R", doc_snippet("snippet-r").as_bytes());
    let printed = rscript(
        d,
        "source('snippet.R'); cat(nrow(calls), sum(sources$rows), nrow(sources), \
         format(mtime[1], '%s'), sources$size[1], '\\n')",
        &[],
    );
    let expected = python_stdout(
        d,
        &[
            "-c",
            "import h5py, os; f = h5py.File('study.h5'); s = f['sources'][...]; \
             print(len(f['data']), int(s['rows'].sum()), len(s), int(s['mtime_s'][0]), \
             int(s['size'][0]), '')",
        ],
    );
    assert_eq!(printed, expected);
    python_stdout(
        d,
        &[
            "-c",
            "import h5py; f = h5py.File('study.h5', 'r+'); s = f['sources'][...]; \
             s['size'][0] = 3_000_000_123; f['sources'][...] = s",
        ],
    );
    let printed = rscript(
        d,
        r#"suppressMessages(library(rhdf5))
warned <- FALSE
plain <- withCallingHandlers(h5read("study.h5", "sources")$size[1],
  warning = function(w) { warned <<- TRUE; invokeRestart("muffleWarning") })
cat(is.na(plain), warned, sprintf("%.0f", h5read("study.h5", "sources", bit64conversion = "double")$size[1]), "\n")
"#,
        &[],
    );
    assert_eq!(printed, "TRUE TRUE 3000000123 \n");
}

/// R's reads of the codecs, the facts behind the guide's *Who can read what*: with
/// rhdf5filters installed, `h5read` decodes blosc chunks (zstd and lz4 inside) of a load
/// and of matrices exactly as the uncompressed files read, and so does h5py with
/// hdf5plugin; the zstd and lz4 filters (32015, 32004) it cannot decode.
#[test]
fn r_reads_blosc_chunks_but_not_the_zstd_or_lz4_filters() {
    if !r_present(&["rhdf5", "rhdf5filters"]) {
        return;
    }
    let dir = TestDir::new();
    let d = dir.path();
    // Several chunks of 65,536 rows, each of two 1 MiB blosc blocks and a leftover one.
    dir.write("in/a.txt", &methylation_text(61, 150_000));
    dir.write("in/b.txt", &methylation_text(62, 90_000));
    for (out, spec) in [
        ("none.h5", "none"),
        ("bz.h5", "blosc:zstd"),
        ("bl.h5", "blosc:lz4"),
        ("z.h5", "zstd"),
        ("l.h5", "lz4"),
    ] {
        expect_code(
            &run(d, &["load", "in", "-o", out, "--compression", spec, "-q"]),
            0,
        );
    }
    for (study, out, spec) in [
        ("none.h5", "mn.h5", "none"),
        ("bz.h5", "mz.h5", "blosc:zstd:3"),
        ("bl.h5", "ml.h5", "blosc:lz4"),
    ] {
        let args = [
            "matrix",
            study,
            "-o",
            out,
            "--beta",
            "--compression",
            spec,
            "-q",
        ];
        expect_code(&run(d, &args), 0);
    }
    let script = r#"
suppressMessages(library(rhdf5))
same <- function(f, ref, name) cat(f, name, identical(h5read(f, name), h5read(ref, name)), "\n")
for (f in c("bz.h5", "bl.h5")) same(f, "none.h5", "data")
for (f in c("mz.h5", "ml.h5"))
  for (name in c("M", "Cov", "beta", "rows/chr", "rows/start", "rows/end")) same(f, "mn.h5", name)
for (f in c("z.h5", "l.h5")) {
  why <- tryCatch({ h5read(f, "data"); "read" }, error = function(e) conditionMessage(e))
  cat(f, "data", why, "\n")
}
"#;
    let from_r = rscript(d, script, &[]);
    let refused = "'idx' argument is outside the range of filters set on this property list.";
    let mut expected = String::new();
    for f in ["bz.h5", "bl.h5"] {
        expected += &format!("{f} data TRUE \n");
    }
    for f in ["mz.h5", "ml.h5"] {
        for name in ["M", "Cov", "beta", "rows/chr", "rows/start", "rows/end"] {
            expected += &format!("{f} {name} TRUE \n");
        }
    }
    for f in ["z.h5", "l.h5"] {
        expected += &format!("{f} data {refused} \n");
    }
    assert_eq!(
        from_r, expected,
        "R's reads changed: update docs/guide.md, Who can read what"
    );
    let py = r#"
import h5py, hdf5plugin, numpy as np
def same(f, ref, name):
    a, b = h5py.File(f, "r")[name][...], h5py.File(ref, "r")[name][...]
    print(f, name, a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes())
for f in ["bz.h5", "bl.h5", "z.h5", "l.h5"]:
    same(f, "none.h5", "data")
for f in ["mz.h5", "ml.h5"]:
    for name in ["M", "Cov", "beta", "rows/chr", "rows/start", "rows/end"]:
        same(f, "mn.h5", name)
print(h5py.File("bz.h5", "r")["data"].shape[0])
"#;
    let from_python = python_stdout(d, &["-c", py]);
    assert!(!from_python.contains("False"), "{from_python}");
    assert_eq!(from_python.lines().count(), 17, "{from_python}");
    assert!(from_python.ends_with("240000\n"), "{from_python}");
}
