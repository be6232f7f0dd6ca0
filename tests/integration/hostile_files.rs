//! Crafted and damaged txt2h5 files on the read side (issue 16): every command that reads
//! an output (`inspect`, `export`, `merge`, `load --append`) refuses what it cannot trust
//! with a clear message and the right exit code, never a crash, an abort or a wrong answer
//! with exit 0, and leaves nothing behind. Each file is made by a real load and then
//! tampered with through h5py, as a user's script or a damaged disk would.

use std::path::Path;
use std::process::Output;

use crate::util::{expect_code, python, run, stderr, TestDir};

const USAGE: i32 = 2;
const FAILURE: i32 = 1;

/// Ten rows on two chromosomes.
const ROWS: &[u8] = b"chr1 1 50 1 1\nchr1 2 0 0 3\nchr1 3 100 4 0\nchr1 4 25 1 3\nchr1 5 75 3 1\n\
chr2 1 50 1 1\nchr2 2 0 0 3\nchr2 3 100 4 0\nchr2 4 25 1 3\nchr2 5 75 3 1\n";

/// Runs `script` with the tests' Python (h5py, numpy, hdf5plugin imported) in `dir`.
fn tamper(dir: &TestDir, script: &str) {
    let script = format!("import h5py, hdf5plugin, numpy as np\n{script}");
    let output = std::process::Command::new(python())
        .current_dir(dir.path())
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the tampering script failed:\n{script}\n{}",
        stderr(&output)
    );
}

fn ok(dir: &TestDir, args: &[&str]) -> Output {
    let output = run(dir.path(), args);
    expect_code(&output, 0);
    output
}

/// `a.txt` (ten rows over two sources: `a.txt`, `b.txt`) loaded into `name` with `extra`
/// load flags.
fn output(dir: &TestDir, name: &str, extra: &[&str]) {
    dir.write("a.txt", &ROWS[..ROWS.len() / 2]);
    dir.write("b.txt", &ROWS[ROWS.len() / 2..]);
    let mut args = vec!["load", "a.txt", "b.txt", "-o", name, "--quiet", "-j", "1"];
    args.extend_from_slice(extra);
    ok(dir, &args);
}

/// Runs `args`, expects `code` and every one of `needles` in its message, no output on
/// stdout, no abort or signal, and the directory as it was (no output, no temporary file,
/// `file` unchanged).
fn refused(dir: &TestDir, file: &str, args: &[&str], code: i32, needles: &[&str]) {
    let before = dir.entries();
    let bytes = std::fs::read(dir.join(file)).unwrap();
    let output = run(dir.path(), args);
    expect_code(&output, code);
    let message = stderr(&output);
    for needle in needles {
        assert!(
            message.contains(needle),
            "{args:?}: no {needle:?} in\n{message}"
        );
    }
    assert!(output.stdout.is_empty(), "{args:?} printed output");
    assert_eq!(dir.entries(), before, "{args:?} left files behind");
    assert_eq!(
        std::fs::read(dir.join(file)).unwrap(),
        bytes,
        "{args:?} changed {file}"
    );
}

/// Every reading command refuses `file` with `code` and `needles` in the message.
/// A fresh copy of `out.h5` as `edited.h5`, edited by `with h5py.File("edited.h5", "r+") as
/// f:` followed by `body` (indented lines), then refused by every reader with exit 2 and
/// all of `needles` in the message.
fn edited_copy_refused(dir: &TestDir, body: &str, needles: &[&str]) {
    std::fs::copy(dir.join("out.h5"), dir.join("edited.h5")).unwrap();
    tamper(
        dir,
        &format!("with h5py.File(\"edited.h5\", \"r+\") as f:\n{body}"),
    );
    refused_everywhere(dir, "edited.h5", USAGE, needles);
}

fn refused_everywhere(dir: &TestDir, file: &str, code: i32, needles: &[&str]) {
    if !dir.join("extra.txt").exists() {
        dir.write("extra.txt", b"chr3 1 50 1 1\n");
    }
    for args in [
        &["inspect", file][..],
        &["inspect", file, "--json"],
        &["export", file, "-o", "out.tsv"],
        &["export", file, "--region", "chr2:1-3", "-o", "out.tsv"],
        &["merge", file, "-o", "merged.h5"],
        &["merge", file, "-o", "merged.h5", "--virtual"],
        &["load", "extra.txt", "-o", file, "--append"],
    ] {
        refused(dir, file, args, code, needles);
    }
}

/// The rows `txt2h5 export` gives for `args`, as text.
fn exported(dir: &Path, args: &[&str]) -> String {
    let mut all = vec!["export"];
    all.extend_from_slice(args);
    let output = run(dir, &all);
    expect_code(&output, 0);
    String::from_utf8(output.stdout).unwrap()
}

/// A `merge --virtual` file whose part maps a 21-dimensional source selection made
/// `inspect` and `export` segfault (exit 139): `H5Sget_select_bounds` wrote 21 values into
/// one `u64`. A virtual `/data` of rank 2 did the same through its own selection.
#[test]
fn a_virtual_part_of_21_dimensions_is_refused_not_a_segfault() {
    let dir = TestDir::new();
    output(&dir, "part.h5", &[]);
    ok(
        &dir,
        &["merge", "part.h5", "-o", "v.h5", "--virtual", "--quiet"],
    );
    tamper(
        &dir,
        r#"
with h5py.File("part.h5", "r") as f:
    rows = f["data"][:]
with h5py.File("part21.h5", "w") as g:
    g.create_dataset("data", data=rows.reshape((len(rows),) + (1,) * 20))
with h5py.File("v.h5", "r+") as f:
    attrs = dict(f["data"].attrs)
    del f["data"]
    layout = h5py.VirtualLayout(shape=(len(rows),), dtype=rows.dtype)
    source = h5py.VirtualSource("part21.h5", "data", shape=(len(rows),) + (1,) * 20)
    layout[:] = source[(slice(None),) + (0,) * 20]
    d = f.create_virtual_dataset("data", layout)
    for key, value in attrs.items():
        d.attrs[key] = value
with h5py.File("v.h5", "r") as f:
    assert f["data"].is_virtual
"#,
    );
    for args in [
        &["inspect", "v.h5"][..],
        &["inspect", "v.h5", "--json"],
        &["export", "v.h5"],
    ] {
        refused(
            &dir,
            "v.h5",
            args,
            USAGE,
            &["not a consistent txt2h5 output", "21 dimensions"],
        );
    }
    // A virtual /data of rank 2 over the same part.
    tamper(
        &dir,
        r#"
with h5py.File("v.h5", "r+") as f:
    attrs = dict(f["data"].attrs)
    dtype = f["data"].dtype
    del f["data"]
    layout = h5py.VirtualLayout(shape=(10, 1), dtype=dtype)
    layout[:, 0] = h5py.VirtualSource("part.h5", "data", shape=(10,))[:]
    d = f.create_virtual_dataset("data", layout)
    for key, value in attrs.items():
        d.attrs[key] = value
"#,
    );
    for args in [&["inspect", "v.h5"][..], &["export", "v.h5"]] {
        refused(
            &dir,
            "v.h5",
            args,
            USAGE,
            &["not a consistent txt2h5 output", "2 dimensions"],
        );
    }
}

/// Rewrites stored chunk `chunk` of `file`'s `/data` (chunks of `chunk_rows`) with
/// `python_bytes` (an expression of the stored bytes `b`).
/// Rewrites a stored chunk as `python_bytes` of its bytes `b` as the codec left them,
/// with a right checksum where the dataset has one (tests/support/chunks.py `rewrite`).
fn rewrite_chunk(dir: &TestDir, file: &str, chunk: u64, chunk_rows: u64, python_bytes: &str) {
    let support = crate::util::repo().join("tests/support");
    tamper(
        dir,
        &format!(
            r#"
import sys
sys.path.insert(0, {support:?})
from chunks import rewrite
with h5py.File("{file}", "r+") as f:
    rewrite(f["data"], ({offset},), lambda b: {python_bytes})
"#,
            offset = chunk * chunk_rows
        ),
    );
}

/// A stored lz4 chunk whose header claims 2^60 bytes aborted `merge` (exit 134, "memory
/// allocation ... failed") in the lz4 filter txt2h5 registers with HDF5; so did a zstd
/// frame that claims as much. Every reader refuses the chunk, naming what is wrong; and a
/// blosc frame that claims 4 GiB (its header's largest size).
#[test]
fn a_chunk_that_claims_2_pow_60_bytes_is_refused_not_an_abort() {
    let huge_lz4 = "(1 << 60).to_bytes(8, 'big') + b[8:]";
    // A zstd frame: single segment, an 8-byte content size of 2^60, one empty raw block.
    let huge_zstd =
        "bytes.fromhex('28b52ffde0') + (1 << 60).to_bytes(8, 'little') + b'\\x01\\x00\\x00'";
    let huge_blosc = "b[:4] + (2**32 - 1).to_bytes(4, 'little') + b[8:]";
    for (compression, damage, claim) in [
        ("lz4", huge_lz4, "1152921504606846976"),
        ("zstd", huge_zstd, "1152921504606846976"),
        ("blosc:lz4", huge_blosc, "4294967295"),
        ("blosc:zstd", huge_blosc, "4294967295"),
    ] {
        for chunk in [0, 2] {
            let dir = TestDir::new();
            output(
                &dir,
                "bad.h5",
                &["--compression", compression, "--chunk-rows", "4"],
            );
            // A good part with other chunks: merged before the bad one, it puts the bad
            // part's rows through the re-chunking path.
            dir.write("c.txt", b"chr9 1 50 1 1\nchr9 2 50 1 1\nchr9 3 50 1 1\n");
            ok(
                &dir,
                &[
                    "load",
                    "c.txt",
                    "-o",
                    "good.h5",
                    "--compression",
                    compression,
                    "--chunk-rows",
                    "3",
                    "--quiet",
                ],
            );
            rewrite_chunk(&dir, "bad.h5", chunk, 4, damage);
            let what = format!("chunk {chunk} of bad.h5 ({compression}, chunk {chunk})");
            dir.write("extra.txt", b"chr3 1 50 1 1\n");
            for args in [
                &["merge", "bad.h5", "-o", "merged.h5"][..],
                &["merge", "good.h5", "bad.h5", "-o", "merged.h5"],
                &["load", "extra.txt", "-o", "bad.h5", "--append"],
                &["export", "bad.h5", "-o", "out.tsv"],
            ] {
                let before = dir.entries();
                let output = run(dir.path(), args);
                let message = stderr(&output);
                assert!(
                    matches!(output.status.code(), Some(1..=3)),
                    "{what}: {args:?} exited {:?}:\n{message}",
                    output.status
                );
                assert!(
                    message.contains("bad.h5")
                        && message.contains("damaged")
                        && message.contains(claim),
                    "{what}: {args:?}: {message}"
                );
                assert_eq!(dir.entries(), before, "{what}: {args:?} left files");
            }
        }
    }
}

/// Rows added to `/data` with h5py (resize and write) were left out of exports and merges
/// without a word: `/sources` says where rows are, and nobody checked it against `/data`.
#[test]
fn rows_added_to_data_behind_the_sources_are_refused() {
    let dir = TestDir::new();
    output(&dir, "out.h5", &[]);
    tamper(
        &dir,
        r#"
with h5py.File("out.h5", "r+") as f:
    d = f["data"]
    d.resize((12,))
    d[10:12] = d[0:2]
"#,
    );
    refused_everywhere(
        &dir,
        "out.h5",
        USAGE,
        &[
            "not a consistent txt2h5 output",
            "/data has 12 rows",
            "/sources accounts for 10",
        ],
    );
}

/// An edited `/index/runs` gave wrong region answers with exit 0: the runs must cover the
/// rows of `/data` exactly, in order, each inside its source.
#[test]
fn an_edited_index_run_is_refused() {
    let dir = TestDir::new();
    output(&dir, "out.h5", &[]);
    assert_eq!(
        exported(dir.path(), &["out.h5", "--region", "chr2:1-2"]),
        "chr2\t1\t50\t1\t1\nchr2\t2\t0\t0\t3\n"
    );
    for (edit, needle) in [
        // The chr2 run starts a row late: its first row would never be found.
        (
            "r[1]['first_row'] += 1; r[1]['rows'] -= 1",
            "/index/runs: run 1 starts at row 6, not 5",
        ),
        ("r[1]['rows'] += 1", "/index/runs: run 1 ends at row 11"),
        (
            "r[0]['source'] = 1",
            "/index/runs: run 0 (rows 0..5) is not inside source 1",
        ),
        (
            "r[1]['source'] = 7",
            "/index/runs: run 1 names source 7 of 2",
        ),
    ] {
        edited_copy_refused(
            &dir,
            &format!(
                r#"
    r = f["index/runs"][:]
    {edit}
    f["index/runs"][:] = r
"#
            ),
            &["not a consistent txt2h5 output", needle],
        );
    }
    // Anchors out of the rows, or out of row order.
    for (edit, needle) in [
        ("a[0]['row'] = 99", "/index/anchors: anchor 0 is at row 99"),
        (
            "a = np.concatenate([a, a])",
            "/index/anchors: anchor 1 (row 0) does not follow anchor 0 (row 0)",
        ),
    ] {
        edited_copy_refused(
            &dir,
            &format!(
                r#"
    a = f["index/anchors"][:]
    {edit}
    del f["index/anchors"]
    f["index"].create_dataset("anchors", data=a)
"#
            ),
            &["not a consistent txt2h5 output", needle],
        );
    }
}

/// Edited `/sources` row counts gave short exports (and merged files whose `/data`
/// disagreed with their `/sources`) with exit 0.
#[test]
fn edited_source_row_counts_are_refused() {
    let dir = TestDir::new();
    output(&dir, "out.h5", &[]);
    for (edit, needle) in [
        ("s[1]['rows'] -= 1", "/sources accounts for 9"),
        (
            "s[1]['first_row'] += 1",
            "/sources: source 1 (b.txt) starts at row 6, not 5",
        ),
        // The counts still add up, but the index puts a chr1 row in b.txt.
        (
            "s[0]['rows'] -= 1; s[1]['first_row'] -= 1; s[1]['rows'] += 1",
            "/index/runs: run 0 (rows 0..5) is not inside source 0",
        ),
    ] {
        edited_copy_refused(
            &dir,
            &format!(
                r#"
    s = f["sources"][:]
    {edit}
    f["sources"][:] = s
"#
            ),
            &["not a consistent txt2h5 output", needle],
        );
    }
}

/// `/data` replaced by an external link to another output was read through the link:
/// the other file's rows under this file's `/sources`, with exit 0. txt2h5 reads only a
/// dataset stored in the file itself (a `merge --virtual` dataset is one: its mappings
/// are its own).
#[test]
fn data_as_a_link_to_another_file_is_refused() {
    let dir = TestDir::new();
    output(&dir, "out.h5", &[]);
    std::fs::copy(dir.join("out.h5"), dir.join("other.h5")).unwrap();
    for (link, needle) in [
        (
            "h5py.ExternalLink('other.h5', 'data')",
            "/data is an external link",
        ),
        ("h5py.SoftLink('/moved')", "/data is a soft link"),
    ] {
        std::fs::copy(dir.join("other.h5"), dir.join("linked.h5")).unwrap();
        tamper(
            &dir,
            &format!(
                r#"
with h5py.File("linked.h5", "r+") as f:
    f.move("data", "moved")
    f["data"] = {link}
"#
            ),
        );
        refused_everywhere(
            &dir,
            "linked.h5",
            USAGE,
            &["not a consistent txt2h5 output", needle],
        );
    }
    // The tables too.
    std::fs::copy(dir.join("other.h5"), dir.join("linked.h5")).unwrap();
    tamper(
        &dir,
        r#"
with h5py.File("linked.h5", "r+") as f:
    del f["sources"]
    f["sources"] = h5py.ExternalLink("other.h5", "sources")
"#,
    );
    refused_everywhere(
        &dir,
        "linked.h5",
        USAGE,
        &[
            "not a consistent txt2h5 output",
            "/sources is an external link",
        ],
    );
}

/// A txt2h5 file with `/sources` deleted gave exit 1 and a raw HDF5 message; so did the
/// other members a reader needs.
#[test]
fn missing_members_are_named_with_exit_2() {
    let dir = TestDir::new();
    output(&dir, "out.h5", &[]);
    for (edit, needle) in [
        ("del f['sources']", "it has no /sources"),
        ("del f['data']", "it has no /data"),
        ("del f['index/runs']", "it has no /index/runs"),
        ("del f['index/anchors']", "it has no /index/anchors"),
        (
            "del f['sources']; f.create_group('sources')",
            "/sources is not a dataset",
        ),
        (
            "del f['data']; f.create_group('data')",
            "/data is not a dataset",
        ),
        (
            "s = f['sources'][:]; del f['sources']; \
             f['sources'] = s[['path', 'size', 'mtime_s', 'mtime_nsec', 'xxh3_128', 'first_row', 'format']]",
            "/sources has no field rows",
        ),
    ] {
        edited_copy_refused(&dir, &format!("    {edit}\n"), &["edited.h5", needle]);
    }
}

/// The sweep found these held; they stay held: a truncated output (exit 1, an HDF5
/// error), an HDF5 file h5py wrote with an unrelated dataset and a file that is not HDF5
/// (exit 2, not a txt2h5 output), for every command that reads an output.
#[test]
fn truncated_foreign_and_non_hdf5_files_are_refused_by_every_reader() {
    let dir = TestDir::new();
    output(&dir, "out.h5", &[]);
    let whole = std::fs::read(dir.join("out.h5")).unwrap();
    dir.write("truncated.h5", &whole[..whole.len() / 2]);
    refused_everywhere(&dir, "truncated.h5", FAILURE, &["truncated.h5", "HDF5"]);
    tamper(
        &dir,
        r#"
with h5py.File("unrelated.h5", "w") as f:
    f.create_dataset("temperatures", data=np.arange(100.0))
    f.attrs["title"] = "weather"
"#,
    );
    refused_everywhere(
        &dir,
        "unrelated.h5",
        USAGE,
        &["unrelated.h5", "not a txt2h5 output"],
    );
    dir.write("notes.h5", b"chr1\t5\t50\t1\t1\n");
    refused_everywhere(
        &dir,
        "notes.h5",
        USAGE,
        &["notes.h5", "not a txt2h5 output: not an HDF5 file"],
    );
}
