//! Crafted and damaged txt2h5 files on the read side (issue 16): every command that reads
//! an output (`inspect`, `export`, `merge`, `load --append`) refuses what it cannot trust
//! with a clear message and the right exit code, never a crash, an abort or a wrong answer
//! with exit 0, and leaves nothing behind. Each file is made by a real load and then
//! tampered with through h5py, as a user's script or a damaged disk would.

use std::path::Path;

use crate::util::{expect_code, ok, python_stdout, run, stderr, TestDir, BAD_DATA, FAILURE, USAGE};

/// Ten rows on two chromosomes.
const ROWS: &[u8] = b"chr1 1 50 1 1\nchr1 2 0 0 3\nchr1 3 100 4 0\nchr1 4 25 1 3\nchr1 5 75 3 1\n\
chr2 1 50 1 1\nchr2 2 0 0 3\nchr2 3 100 4 0\nchr2 4 25 1 3\nchr2 5 75 3 1\n";

/// Runs `script` with the tests' Python (h5py, numpy, hdf5plugin imported) in `dir`.
fn tamper(dir: &TestDir, script: &str) {
    let script = format!("import h5py, hdf5plugin, numpy as np\n{script}");
    python_stdout(dir.path(), &["-c", &script]);
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

/// Every reading command refuses `file` with `code` and `needles` in the message.
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

/// A crafted `/index/runs` of 2^40 elements (a chunked dataset h5py creates without
/// writing a chunk) reached `read_all`, which multiplied the count by the record size
/// unchecked and sized a buffer from it: 45 TB asked for, the process aborted (a product
/// that wrapped would have sized a short buffer HDF5 then overran). The product is checked
/// and bounded by the file's size first. So are the anchors, read the same way now.
#[test]
fn a_crafted_index_runs_extent_is_refused_before_it_sizes_a_buffer() {
    let dir = TestDir::new();
    // chr fields of 27 bytes: a run record is 64 bytes, and 2^58 of them wrap to 0.
    output(&dir, "out.h5", &["--chr-width", "27"]);
    for (member, elements, needle) in [
        (
            "runs",
            "2**40",
            "/index/runs claims 1099511627776 elements of 64 bytes (70368744177664 bytes)",
        ),
        (
            "runs",
            "2**58",
            "/index/runs claims 288230376151711744 elements of 64 bytes (more than 2^64 bytes)",
        ),
        (
            "anchors",
            "2**40",
            "/index/anchors claims 1099511627776 elements of 16 bytes (17592186044416 bytes)",
        ),
    ] {
        edited_copy_refused(
            &dir,
            &format!(
                r#"
    old = f["index/{member}"][:]
    del f["index/{member}"]
    f["index"].create_dataset("{member}", shape=({elements},), maxshape=(None,), dtype=old.dtype, chunks=(1024,))
"#
            ),
            &["edited.h5", needle, "more than the", "bytes of its file"],
        );
    }
}

/// `/sources` resized by h5py to 2^40 rows: `inspect` aborted (exit 134) on the allocation
/// `read_raw` made from the extent. The extent is checked against the file first.
#[test]
fn a_crafted_sources_extent_is_refused_before_it_sizes_a_buffer() {
    let dir = TestDir::new();
    output(&dir, "out.h5", &[]);
    edited_copy_refused(
        &dir,
        r#"
    old = f["sources"]
    dtype, attrs = old.dtype, dict(old.attrs)
    del f["sources"]
    new = f.create_dataset("sources", shape=(2**40,), maxshape=(None,), dtype=dtype, chunks=(1024,))
    for key, value in attrs.items():
        new.attrs[key] = value
"#,
        &[
            "edited.h5",
            "/sources claims 1099511627776 elements",
            "more than the",
            "bytes of its file",
        ],
    );
}

/// `/data` resized by h5py to 10^12 rows with no chunk written (and `/sources`, `/index`
/// grown to match): `export` and `matrix` aborted on a 6 GB allocation, `merge` and
/// `--append` ran on, writing fill rows (at 10^8 rows `merge` exited 0 with 10^8 rows of
/// zeros). A chunk that holds rows but was never written is refused, before anything is
/// sized by the row count.
#[test]
fn data_resized_to_10_pow_12_rows_with_no_chunks_written_is_refused() {
    let dir = TestDir::new();
    output(&dir, "out.h5", &["--chunk-rows", "4"]);
    tamper(
        &dir,
        r#"
with h5py.File("out.h5", "r+") as f:
    extra = 10**12 - 10
    f["data"].resize((10**12,))
    s = f["sources"][:]
    s[1]["rows"] += extra
    f["sources"][:] = s
    r = f["index/runs"][:]
    r[1]["rows"] += extra
    f["index/runs"][:] = r
"#,
    );
    let needles = [
        "out.h5",
        "not a consistent txt2h5 output",
        "/data claims 1000000000000 rows in 250000000000 chunks of 4 rows, but only 3 are stored",
        "chunk 3 (rows 12..16) was never written",
    ];
    refused_everywhere(&dir, "out.h5", USAGE, &needles);
    refused(
        &dir,
        "out.h5",
        &["matrix", "out.h5", "-o", "m.h5"],
        USAGE,
        &needles,
    );
}

/// Writes, through h5py, `/data` of `file` again in one chunk of `chunk_rows` rows
/// (shuffle + deflate, as txt2h5 writes it), streaming the compressed chunk so that the
/// test does not hold it whole.
fn rechunk_in_one(dir: &TestDir, file: &str, chunk_rows: u64) {
    tamper(
        dir,
        &format!(
            r#"
import zlib
with h5py.File("{file}", "r+") as f:
    rows = f["data"][:]
    attrs = dict(f["data"].attrs)
    del f["data"]
    n = {chunk_rows}
    d = f.create_dataset("data", shape=rows.shape, maxshape=(None,), dtype=rows.dtype,
                         chunks=(n,), shuffle=True, compression="gzip", compression_opts=1)
    for key, value in attrs.items():
        d.attrs[key] = value
    raw, size = rows.tobytes(), rows.dtype.itemsize
    z, parts, zeros = zlib.compressobj(1), [], bytes(1 << 20)
    for plane in range(size):
        parts.append(z.compress(raw[plane::size]))
        left = n - len(rows)
        while left:
            step = min(left, len(zeros))
            parts.append(z.compress(zeros[:step]))
            left -= step
    parts.append(z.flush())
    d.id.write_direct_chunk((0,), b"".join(parts), 0)
"#
        ),
    );
}

/// A valid file whose `/data` chunk is 150 million rows long with 80,000 rows stored made
/// `merge` and `--append` peak at 3.7 GB: the chunk shape, read from the file, sized their
/// buffers. A chunk that its rows do not fill is bounded: at most 256 MiB (here 11 million
/// rows of 26 bytes over ten rows is refused; a million, 26 MB, reads as before).
#[test]
fn a_chunk_of_150_million_rows_over_80000_rows_is_bounded() {
    let dir = TestDir::new();
    output(&dir, "out.h5", &[]);
    std::fs::copy(dir.join("out.h5"), dir.join("small.h5")).unwrap();
    rechunk_in_one(&dir, "small.h5", 1_000_000);
    assert_eq!(
        exported(dir.path(), &["small.h5"]),
        exported(dir.path(), &["out.h5"])
    );
    ok(&dir, &["merge", "small.h5", "-o", "merged.h5", "--quiet"]);
    assert_eq!(
        exported(dir.path(), &["merged.h5"]),
        exported(dir.path(), &["out.h5"])
    );
    std::fs::remove_file(dir.join("merged.h5")).unwrap();
    rechunk_in_one(&dir, "out.h5", 11_000_000);
    refused_everywhere(
        &dir,
        "out.h5",
        USAGE,
        &[
            "out.h5",
            "/data has chunks of 11000000 rows (286000000 bytes) for 10 rows",
            "more than 268435456 bytes only where its rows fill one",
        ],
    );
}

/// A study of `rows` (text) loaded from `a.txt` and `b.txt` in chunks of 4 rows into
/// `out.h5`, then `edit` (Python, `f` the open file) applied.
fn edited_study(dir: &TestDir, edit: &str) {
    output(dir, "out.h5", &["--chunk-rows", "4"]);
    let body: String = edit.lines().map(|line| format!("    {line}\n")).collect();
    tamper(
        dir,
        &format!("with h5py.File(\"out.h5\", \"r+\") as f:\n{body}"),
    );
}

/// `matrix` and `export --region` trusted `/index` without checking the rows they read: a
/// run flagged sorted whose rows were shuffled lost sites in the matrix and rows of a
/// region export, a run's chr changed made wrong rows, and a row whose pos lay beyond its
/// run's `max_pos` was dropped, all with exit 0. Each row read is checked against its
/// run's claims (chr, bounds, order, anchors): exit 3, naming the row, the claim and the
/// value.
#[test]
fn rows_that_disagree_with_the_index_stop_matrix_and_region_export() {
    for (edit, region, needle) in [
        // The chr1 run (rows 0..5, sorted) shuffled: positions 4, 2, 5, 1, 3.
        (
            "d = f['data'][:]\nf['data'][0:5] = d[[3, 1, 4, 0, 2]]",
            "chr1:2-3",
            "row 0 holds pos 4, but /index/anchors anchor 0 claims pos 1",
        ),
        // The same, anchors kept true: the order gives it away.
        (
            "d = f['data'][:]\nf['data'][0:4] = d[[0, 2, 1, 3]]",
            "chr1:2-3",
            "row 2 holds pos 2, below the 3 of the row before it, but /index/runs run 0 \
             (rows 0..5) claims its positions never decrease (sorted)",
        ),
        // The chr2 run renamed chr1 in the index.
        (
            "r = f['index/runs'][:]\nr[1]['chr'] = b'chr1'\nf['index/runs'][:] = r",
            "chr1:1-3",
            "row 5 holds chr \"chr2\", but /index/runs run 1 (rows 5..10) claims \"chr1\"",
        ),
        // A row past its run's max_pos.
        (
            "d = f['data'][:]\nd[3]['pos'] = 99\nf['data'][:] = d",
            "chr1:1-200",
            "row 3 holds pos 99, outside 1..=5, the positions /index/runs run 0 (rows 0..5) \
             claims",
        ),
    ] {
        let dir = TestDir::new();
        edited_study(&dir, edit);
        let needles = [
            "out.h5: /data disagrees with its /index",
            needle,
            "hint: the index no longer describes the rows",
        ];
        refused(
            &dir,
            "out.h5",
            &["export", "out.h5", "--region", region, "-o", "out.tsv"],
            BAD_DATA,
            &needles,
        );
        refused(
            &dir,
            "out.h5",
            &["matrix", "out.h5", "-o", "m.h5", "-j", "2"],
            BAD_DATA,
            &needles,
        );
        // A whole export reads no index: the rows as stored.
        assert_eq!(exported(dir.path(), &["out.h5"]).lines().count(), 10);
    }
}

/// `export` wrote chr bytes verbatim: a chr holding a tab and a newline turned 80,000 rows
/// into 106,668 lines, exit 0. TSV refuses such a row (exit 3, the row and the bytes
/// escaped), as `--with-source` refuses such a path; CSV quotes it, and reads back.
#[test]
fn a_chr_holding_a_tab_and_a_newline_is_refused_in_tsv_not_split() {
    let dir = TestDir::new();
    output(&dir, "out.h5", &[]);
    tamper(
        &dir,
        r#"
with h5py.File("out.h5", "r+") as f:
    d = f["data"][:]
    d[6]["chr"] = b"c\t\n2"
    f["data"][:] = d
"#,
    );
    refused(
        &dir,
        "out.h5",
        &["export", "out.h5", "-o", "out.tsv"],
        BAD_DATA,
        &[
            "out.h5: row 6: its chr \"c\\t\\n2\" holds a tab or line break, which a TSV line \
             cannot carry",
            "hint: --format csv quotes it",
        ],
    );
    let csv = exported(dir.path(), &["out.h5", "--format", "csv"]);
    assert!(csv.contains("\n\"c\t\n2\",2,0,0,3\n"), "{csv}");
    let records = python_stdout(
        dir.path(),
        &[
            "-c",
            "import csv, sys; print(len(list(csv.reader(open(sys.argv[1], newline='')))))",
            &{
                dir.write("out.csv", csv.as_bytes());
                "out.csv".to_string()
            },
        ],
    );
    assert_eq!(records.trim(), "11", "a header and ten records");
}

/// Negative counts load by design (numpy reads them), but `matrix` then wrote negative
/// Cov and a beta outside [0, 1] without a word, and `--min-samples 1` dropped the site as
/// "covered in fewer than 1 samples". The matrix refuses a negative count: exit 3 with the
/// file, row, sample and value.
#[test]
fn negative_counts_are_refused_by_matrix_not_written_as_negative_coverage() {
    let dir = TestDir::new();
    dir.write("a.txt", b"chr1 1 50 1 1\nchr1 2 0 -2 3\nchr1 3 100 4 0\n");
    dir.write("b.txt", b"chr1 1 50 1 1\nchr1 2 0 1 -7\n");
    ok(&dir, &["load", "a.txt", "b.txt", "-o", "neg.h5", "--quiet"]);
    for args in [
        &["matrix", "neg.h5", "-o", "m.h5", "--beta"][..],
        &["matrix", "neg.h5", "-o", "m.h5", "--min-samples", "1"],
        &["matrix", "neg.h5", "-o", "m.h5", "--tile", "100"],
    ] {
        refused(
            &dir,
            "neg.h5",
            args,
            BAD_DATA,
            &[
                "neg.h5: row 1 (sample \"a\") has c = -2; a matrix counts reads",
                "hint: `txt2h5 load` keeps negative counts",
            ],
        );
    }
}

/// `matrix --regions` (now `--sum-regions`) dropped a zero-length BED region (start ==
/// end): three lines gave two rows, which then no longer lined up with the BED lines. Each
/// line is a row; an empty one is `start + 1..=start` (width 0, as GenomicRanges reads
/// it) with no counts.
#[test]
fn a_zero_length_bed_region_keeps_its_matrix_row() {
    let dir = TestDir::new();
    output(&dir, "out.h5", &[]);
    dir.write("r.bed", b"chr1\t0\t3\nchr1\t3\t3\nchr2\t1\t5\n");
    ok(
        &dir,
        &[
            "matrix",
            "out.h5",
            "-o",
            "m.h5",
            "--sum-regions",
            "r.bed",
            "-q",
        ],
    );
    let script = r#"
import h5py
with h5py.File("m.h5", "r") as f:
    print(f["rows/chr"][:].tolist(), f["rows/start"][:].tolist(), f["rows/end"][:].tolist())
    print(f["Cov"][:].tolist(), f["M"][:].tolist())
"#;
    assert_eq!(
        python_stdout(dir.path(), &["-c", script]),
        "[b'chr1', b'chr1', b'chr2'] [1, 4, 2] [3, 3, 5]\n\
         [[9, 0, 0], [0, 0, 15]] [[5, 0, 0], [0, 0, 8]]\n"
    );
}
