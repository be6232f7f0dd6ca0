//! Reading outputs back: `/index`, `inspect` and `export` against numpy.
//!
//! Every kind of output (plain, appended, merged, `merge --virtual`, and an "old" one
//! without `/index`) is built over the same rows, then `tests/support/readback.py`
//! recomputes what the tool should say from `/data` and `/sources` alone: the index runs
//! and chunk anchors, the rows each selection picks (numpy masks, in row order), the
//! inspect facts. The exported text goes back through `load` to the same records, bit for
//! bit. Then the ways a read can go wrong, each with its exit code.

use std::io::Read;
use std::path::Path;
use std::process::Stdio;

use serde_json::{json, Value};

use crate::generate::{gzip, methylation_text, Rng};
use crate::util::{
    expect_code, ok, run, stderr, support_script, txt2h5, TestDir, BAD_DATA, FAILURE, USAGE,
};

/// One input row: chr, pos, c, t (pct is 100 c / (c + t)).
type Row = (&'static str, i64, u64, u64);

/// Rows written as the native format, `chr pos pct c t`.
fn native(rows: &[Row]) -> Vec<u8> {
    let mut out = Vec::new();
    for &(chr, pos, c, t) in rows {
        let pct = 100.0 * c as f64 / (c + t) as f64;
        out.extend_from_slice(format!("{chr}\t{pos}\t{pct}\t{c}\t{t}\n").as_bytes());
    }
    out
}

/// `per_chr` rows on each of `chroms` in turn, pos never decreasing from `start`; about one
/// step in five repeats the pos.
fn sorted_rows(rng: &mut Rng, chroms: &[&'static str], per_chr: usize, start: i64) -> Vec<Row> {
    let mut rows = Vec::new();
    for &chr in chroms {
        let mut pos = start + rng.below(500) as i64;
        for _ in 0..per_chr {
            if rng.below(5) != 0 {
                pos += 1 + rng.below(300) as i64;
            }
            let coverage = 1 + rng.below(30);
            let c = rng.below(coverage + 1);
            rows.push((chr, pos, c, coverage - c));
        }
    }
    rows
}

/// The rows of each chromosome block shuffled among themselves: one unsorted run each.
fn shuffled_within_chromosomes(rng: &mut Rng, mut rows: Vec<Row>) -> Vec<Row> {
    let mut start = 0;
    while start < rows.len() {
        let chr = rows[start].0;
        let end = start + rows[start..].iter().take_while(|row| row.0 == chr).count();
        for i in (start + 1..end).rev() {
            let j = start + rng.below((i - start + 1) as u64) as usize;
            rows.swap(i, j);
        }
        start = end;
    }
    rows
}

/// Sorted blocks that take turns: chr1, chr2, chr1, chr2, ... with overlapping positions,
/// so one source holds several runs of each chromosome.
fn interleaved_rows(rng: &mut Rng, blocks: usize, per_block: usize) -> Vec<Row> {
    let mut rows = Vec::new();
    for block in 0..blocks {
        let chr = ["chr1", "chr2"][block % 2];
        let start = 5_000 + rng.below(40_000) as i64;
        rows.extend(sorted_rows(rng, &[chr], per_block, start));
    }
    rows
}

/// Sorted rows on `chr` where a position often repeats for up to 200 rows, so plateaus of
/// one pos cross chunk boundaries.
fn plateau_rows(rng: &mut Rng, chr: &'static str, rows: usize) -> Vec<Row> {
    let mut out = Vec::new();
    let mut pos = 20_000;
    while out.len() < rows {
        pos += 1 + rng.below(100) as i64;
        let repeat = if rng.below(4) == 0 {
            50 + rng.below(150)
        } else {
            1
        };
        for _ in 0..repeat {
            let coverage = 1 + rng.below(10);
            let c = rng.below(coverage + 1);
            out.push((chr, pos, c, coverage - c));
        }
    }
    out.truncate(rows);
    out
}

/// Rows of `/sources` in the study.
const SOURCES: usize = 6;

/// The study every kind of output is built from: a messy sorted file, an unsorted one,
/// an interleaved one (gzip), an empty one, a sorted one with repeated positions, and one
/// with long plateaus of a single position.
fn inputs(dir: &TestDir) {
    let mut rng = Rng::new(71);
    dir.write("in/s1.txt", &methylation_text(72, 2_500));
    let unsorted = sorted_rows(&mut rng, &["chr1", "chr2"], 600, 9_000);
    dir.write(
        "in/s2.txt",
        &native(&shuffled_within_chromosomes(&mut rng, unsorted)),
    );
    dir.write(
        "in/s3.txt.gz",
        &gzip(&native(&interleaved_rows(&mut rng, 5, 240))),
    );
    dir.write("in/s4.txt", b"");
    let repeats = sorted_rows(&mut rng, &["chr1", "chr10", "chrM"], 500, 10_000);
    dir.write("in/s5.txt", &native(&repeats));
    dir.write("in/s6.txt", &native(&plateau_rows(&mut rng, "chr2", 1_200)));
}

/// The same rows five ways: `plain.h5` (read in one-row buffers); `appended.h5` (two
/// inputs, then the rest with `--append`); shards `parts/1.h5` and `parts/2.h5` with
/// different chunk sizes, copied into `merged.h5` and mapped by `virtual.h5`; and
/// `old.h5`, the plain one without `/index`.
fn outputs(dir: &TestDir) {
    inputs(dir);
    // Small pieces and one-row buffers (hidden tuning flags): every run is joined across
    // buffers, so its sorted flag comes from the joins alone.
    let small = ["--piece-bytes", "3000", "--buffer-rows", "1"];
    let load = ["load", "in", "-o", "plain.h5", "--chunk-rows", "64"];
    ok(dir, &[&load[..], &small].concat());
    let first_two = ["load", "in/s1.txt", "in/s2.txt", "-o", "appended.h5"];
    ok(dir, &[&first_two[..], &["--chunk-rows", "64"]].concat());
    ok(dir, &["load", "in", "-o", "appended.h5", "--append"]);
    dir.create_dir("parts");
    let shard = |k: &str, chunk: &str| {
        let name = format!("parts/{}.h5", &k[..1]);
        ok(
            dir,
            &[
                "load",
                "in",
                "-o",
                &name,
                "--shard",
                k,
                "--chunk-rows",
                chunk,
            ],
        );
    };
    shard("1/2", "64");
    shard("2/2", "100");
    ok(
        dir,
        &["merge", "parts/1.h5", "parts/2.h5", "-o", "merged.h5"],
    );
    ok(
        dir,
        &[
            "merge",
            "parts/1.h5",
            "parts/2.h5",
            "-o",
            "virtual.h5",
            "--virtual",
        ],
    );
    std::fs::copy(dir.join("plain.h5"), dir.join("old.h5")).unwrap();
    readback(dir.path(), &["drop-index", "old.h5"]);
}

fn readback(dir: &Path, args: &[&str]) -> String {
    support_script(dir, "readback.py", args)
}

/// Runs `export FILE ARGS...` with standard output into `name` (or, with `to_file`, through
/// `-o name -q`); expects exit 0 and returns stderr.
fn export_into(dir: &TestDir, file: &str, args: &[String], name: &str, to_file: bool) -> String {
    let mut full: Vec<&str> = vec!["export", file];
    full.extend(args.iter().map(String::as_str));
    if to_file {
        full.extend_from_slice(&["-o", name, "-q"]);
    }
    let output = run(dir.path(), &full);
    expect_code(&output, 0);
    if !to_file {
        dir.write(name, &output.stdout);
    }
    stderr(&output)
}

/// What numpy found the cases to select: rows in all, and cases that select none.
#[derive(Debug)]
struct Selected {
    rows: u64,
    empty: usize,
}

/// Exports every case from `file` and has numpy check each output. Without `/index`
/// (`indexed` false) a selection by region says so on stderr; otherwise nothing is said.
fn check_selections(dir: &TestDir, file: &str, cases: &[Vec<String>], indexed: bool) -> Selected {
    let stem = file.trim_end_matches(".h5");
    let mut listed = Vec::new();
    for (number, args) in cases.iter().enumerate() {
        let gz = number % 7 == 3;
        let to_file = gz || number % 5 == 1;
        let name = format!("{stem}-{number}.{}", if gz { "tsv.gz" } else { "out" });
        let message = export_into(dir, file, args, &name, to_file);
        let by_region = args.iter().any(|arg| arg.starts_with("--region"));
        if !indexed && by_region && !to_file {
            assert!(
                message.starts_with("txt2h5: note:") && message.contains("index"),
                "{file} {args:?}: {message}"
            );
        } else {
            assert_eq!(message, "", "{file} {args:?}");
        }
        listed.push(json!({"args": args, "output": name}));
    }
    let cases_file = format!("{stem}-cases.json");
    dir.write(&cases_file, listed_json(&listed).as_bytes());
    let summary = readback(dir.path(), &["select", file, &cases_file]);
    let counts = summary
        .trim()
        .strip_prefix(&format!("equal cases={} ", cases.len()))
        .unwrap_or_else(|| panic!("{summary}"));
    let number = |key: &str| -> u64 {
        let field = counts.split(' ').find_map(|field| field.strip_prefix(key));
        field
            .unwrap_or_else(|| panic!("{summary}"))
            .parse()
            .unwrap()
    };
    Selected {
        rows: number("rows="),
        empty: number("empty=") as usize,
    }
}

fn listed_json(listed: &[Value]) -> String {
    serde_json::to_string(listed).unwrap()
}

fn args(words: &[&str]) -> Vec<String> {
    words.iter().map(|word| word.to_string()).collect()
}

/// The selections of the region tests: numpy-chosen regions (chunk edges and ±1, gaps,
/// past the ends, random) and a BED file of intervals around chunk edges, some regions
/// together, plus whole chromosomes, overlapping regions, a hand-written BED file and
/// source filters, alone and combined.
fn selection_cases(dir: &TestDir) -> Vec<Vec<String>> {
    dir.write(
        "regions.bed",
        b"track name=probe\n# a comment\nchr1\t10000\t30000\tfirst\r\nchr1 25000 40000\n\
          chr2\t9000\t9000\nchrX\t0\t200000\nchr10\t10499\t10500\nchrM\t10000\t12000\n",
    );
    let edges = readback(dir.path(), &["bed", "plain.h5", "8", "40"]);
    dir.write("edges.bed", edges.as_bytes());
    let picked = readback(dir.path(), &["regions", "plain.h5", "7", "60"]);
    let picked: Vec<&str> = picked.lines().collect();
    assert!(picked.len() >= 60, "{picked:?}");
    let mut cases: Vec<Vec<String>> = picked
        .iter()
        .map(|region| args(&["--region", region]))
        .collect();
    for group in picked.chunks(3).take(6) {
        cases.push(
            group
                .iter()
                .flat_map(|r| ["--region", r])
                .map(String::from)
                .collect(),
        );
    }
    for fixed in [
        &[][..],
        &["--region", "chr1"],
        &["--region", "chrUn_KI27"],
        &["--region", "chr2:1-"],
        &[
            "--region",
            "chr1:1-50,000",
            "--region",
            "chr1:40,000-90,000",
            "--region",
            "chr2:15000-",
        ],
        &[
            "--region",
            "chr1:20000-30000",
            "--region",
            "chr1:20000-30000",
        ],
        &["--regions", "regions.bed"],
        &["--regions", "edges.bed"],
        &["--regions", "edges.bed", "--source-index", "4"],
        &["--regions", "regions.bed", "--region", "chr2:10000-12000"],
        &["--source", "s2.txt"],
        &["--source", "in/s3*"],
        &["--source", "*.txt", "--region", "chr1:10000-60000"],
        &[
            "--source-index",
            "4",
            "--source-index",
            "1",
            "--region",
            "chr2",
        ],
        &["--source-index", "3"],
        &[
            "--source",
            "s5.txt",
            "--source-index",
            "0",
            "--regions",
            "regions.bed",
        ],
        &[
            "--source",
            "s[12].txt",
            "--source",
            "s2.txt",
            "--region",
            "chr1:9000-20000",
        ],
        &["--with-source"],
        &[
            "--with-source",
            "--source-name",
            "basename",
            "--region",
            "chr10",
        ],
        &["--format", "csv", "--region", "chrM"],
        &["--format", "csv", "--with-source", "--source-index", "2"],
    ] {
        cases.push(args(fixed));
    }
    cases
}

/// `/index` of a load (sorted, unsorted, interleaved and empty sources), an append, a copy
/// merge of shards with different chunk sizes, a virtual merge (the parts' chunk starts),
/// an output with no rows, an old output indexed again by `merge` and by `--append`, and
/// loads with each compression, all equal the runs and anchors numpy recomputes from the rows.
#[test]
fn the_index_of_every_kind_of_output_equals_numpy() {
    let dir = TestDir::new();
    outputs(&dir);
    ok(&dir, &["load", "in/s4.txt", "-o", "empty.h5"]);
    ok(&dir, &["merge", "old.h5", "-o", "reindexed.h5"]);
    std::fs::copy(dir.join("old.h5"), dir.join("old-appended.h5")).unwrap();
    dir.write("more/t1.txt", &methylation_text(73, 700));
    ok(&dir, &["load", "more", "-o", "old-appended.h5", "--append"]);
    // An indexed part before an old one whose rows are re-chunked (50 rows, not 64).
    ok(
        &dir,
        &["load", "more", "-o", "more.h5", "--chunk-rows", "50"],
    );
    ok(&dir, &["merge", "more.h5", "old.h5", "-o", "mixed.h5"]);
    // Raw chunks stored straight from the record buffers (each holds many chunks), and
    // chunks compressed by the workers with the other codecs.
    for (name, compression) in [
        ("raw.h5", "none"),
        ("zstd.h5", "zstd:1"),
        ("lz4.h5", "lz4"),
        ("blosc.h5", "blosc:zstd"),
    ] {
        let codec = ["--compression", compression, "--chunk-rows", "64"];
        ok(&dir, &[&["load", "in", "-o", name][..], &codec].concat());
    }
    let files = [
        "raw.h5",
        "zstd.h5",
        "lz4.h5",
        "blosc.h5",
        "plain.h5",
        "appended.h5",
        "parts/1.h5",
        "parts/2.h5",
        "merged.h5",
        "virtual.h5",
        "empty.h5",
        "reindexed.h5",
        "old-appended.h5",
        "mixed.h5",
    ];
    let summary = readback(dir.path(), &[&["index"][..], &files].concat());
    assert!(summary.starts_with("equal runs="), "{summary}");
    assert!(!summary.contains(" unsorted=0 "), "{summary}");
}

/// Many regions, BED files and source filters pick exactly the rows numpy masks pick, in
/// row order, from a plain, an appended, a merged and an old (unindexed) output; the old
/// one says on stderr that it has no index.
#[test]
fn selections_equal_numpy_masks_on_plain_appended_merged_and_old_outputs() {
    let dir = TestDir::new();
    outputs(&dir);
    let cases = selection_cases(&dir);
    for file in ["plain.h5", "appended.h5", "merged.h5"] {
        // Both kinds are probed: gaps and ends select nothing, most regions something.
        let selected = check_selections(&dir, file, &cases, true);
        let found = cases.len() - selected.empty;
        assert!(selected.empty > 5 && found > 50, "{file}: {selected:?}");
    }
    check_selections(&dir, "old.h5", &cases, false);
}

/// The same selections on a `merge --virtual` output read through its parts.
#[test]
fn selections_equal_numpy_masks_on_a_virtual_output() {
    let dir = TestDir::new();
    outputs(&dir);
    let cases = selection_cases(&dir);
    check_selections(&dir, "virtual.h5", &cases, true);
}

/// `--region CHR` is the whole chromosome: the rows whose stored pos is 0 or negative
/// (the native format keeps pos as given) are on it too.
#[test]
fn a_whole_chromosome_region_holds_every_row_of_the_chromosome() {
    let dir = TestDir::new();
    dir.write(
        "in.txt",
        b"chr1\t0\t50\t1\t1\nchr1\t-3\t50\t1\t1\nchr1\t7\t50\t1\t1\nchr2\t0\t50\t1\t1\n",
    );
    ok(&dir, &["load", "in.txt", "-o", "out.h5"]);
    let cases = [args(&["--region", "chr1"]), args(&["--region", "chr2"])];
    check_selections(&dir, "out.h5", &cases, true);
}

/// Positions past 2^31 (`--wide-pos`, with a 20-byte `chr`) and the strand and context
/// fields (`--extra`, some strands `.` and some contexts unknown, both written `.`) are
/// indexed and selected as numpy says, in TSV and CSV; and both survive export and load
/// bit for bit.
#[test]
fn wide_positions_and_extra_fields_are_indexed_selected_and_read_back() {
    let dir = TestDir::new();
    let mut rng = Rng::new(81);
    // A 20-byte name: --chr-width 20, wider than the 8-to-16-byte fast comparison.
    let long = "chr22_KI270733v1_ran";
    let far = sorted_rows(&mut rng, &["chr1", long, "chr2"], 500, 3_000_000_000);
    let near = sorted_rows(&mut rng, &["chr1"], 300, 2_147_483_000);
    dir.write("wide/a.txt", &native(&far));
    dir.write(
        "wide/b.txt",
        &native(&shuffled_within_chromosomes(&mut rng, near)),
    );
    let mut extras = Vec::new();
    let mut pos = 100;
    for row in 0..1_500 {
        let chr = ["chr1", "chr2", "chr3"][row * 3 / 1_500];
        pos += 1 + rng.below(50);
        let strand = ["+", "-", "."][rng.below(3) as usize];
        let context = ["CG", "CHG", "CHH", "cg", "CNN"][rng.below(5) as usize];
        let coverage = 1 + rng.below(20);
        let pct = 100.0 * rng.below(coverage + 1) as f64 / coverage as f64;
        extras.extend_from_slice(
            format!("{chr} {pos} {strand} {context} {pct} {coverage}\n").as_bytes(),
        );
    }
    dir.write("extra/a.txt", &extras);
    ok(
        &dir,
        &[
            "load",
            "wide",
            "-o",
            "wide.h5",
            "--wide-pos",
            "--chunk-rows",
            "50",
            "--chr-width",
            "20",
        ],
    );
    let extra = [
        "--columns",
        "chr=1,pos=2,strand=3,context=4,pct=5,cov=6",
        "--context",
        "all",
        "--extra",
        "strand,context",
    ];
    let load = ["load", "extra", "-o", "extra.h5", "--chunk-rows", "50"];
    ok(&dir, &[&load[..], &extra].concat());
    let output = run(dir.path(), &["export", "extra.h5"]);
    expect_code(&output, 0);
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.lines().any(|line| line.ends_with("\t.\t.")),
        "no row with strand . and an unknown context: {text:.300}"
    );
    let summary = readback(dir.path(), &["index", "wide.h5", "extra.h5"]);
    assert!(summary.starts_with("equal runs="), "{summary}");

    for file in ["wide.h5", "extra.h5"] {
        let picked = readback(dir.path(), &["regions", file, "11", "30"]);
        let mut cases: Vec<Vec<String>> = picked
            .lines()
            .map(|region| args(&["--region", region]))
            .collect();
        cases.push(args(&[]));
        cases.push(args(&["--format", "csv", "--region", "chr1"]));
        cases.push(args(&[
            "--format",
            "csv",
            "--with-source",
            "--region",
            "chr2",
        ]));
        check_selections(&dir, file, &cases, true);
    }

    // Back through load: the wide file with --wide-pos, the extras with --columns.
    let output = run(dir.path(), &["export", "wide.h5", "-o", "wide.tsv"]);
    expect_code(&output, 0);
    ok(
        &dir,
        &[
            "load",
            "wide.tsv",
            "-o",
            "wide-back.h5",
            "--wide-pos",
            "--chr-width",
            "20",
        ],
    );
    same_data(&dir, "wide.h5", "wide-back.h5");
    ok(&dir, &["export", "extra.h5", "-o", "extra.tsv.gz"]);
    let back = [
        "--columns",
        "chr=1,pos=2,pct=3,c=4,t=5,strand=6,context=7",
        "--context",
        "all",
        "--extra",
        "strand,context",
    ];
    let load = ["load", "extra.tsv.gz", "-o", "extra-back.h5"];
    ok(&dir, &[&load[..], &back].concat());
    same_data(&dir, "extra.h5", "extra-back.h5");
}

fn same_data(dir: &TestDir, a: &str, b: &str) {
    let summary = readback(dir.path(), &["data", a, b]);
    assert!(summary.starts_with("equal rows="), "{a} {b}: {summary}");
}

/// `load` of an `export` gives back the records bit for bit: as TSV on standard output and
/// as BGZF through `-o x.tsv.gz`, from a plain and from an appended output (their
/// `/sources` differ: one input now, so only the records are compared).
#[test]
fn export_then_load_gives_back_the_same_records() {
    let dir = TestDir::new();
    outputs(&dir);
    for file in ["plain.h5", "appended.h5"] {
        let output = run(dir.path(), &["export", file]);
        expect_code(&output, 0);
        assert_eq!(stderr(&output), "");
        dir.write("back.tsv", &output.stdout);
        ok(&dir, &["load", "back.tsv", "-o", "back.h5", "--force"]);
        same_data(&dir, file, "back.h5");
        let output = run(
            dir.path(),
            &["export", file, "-o", "back.tsv.gz", "--force"],
        );
        expect_code(&output, 0);
        assert!(
            stderr(&output).contains("back.tsv.gz"),
            "a summary line names the output: {}",
            stderr(&output)
        );
        let mut text = Vec::new();
        flate2::read::MultiGzDecoder::new(&std::fs::read(dir.join("back.tsv.gz")).unwrap()[..])
            .read_to_end(&mut text)
            .unwrap();
        assert_eq!(text, dir_read(&dir, "back.tsv"), "gzip holds the same text");
        ok(
            &dir,
            &["load", "back.tsv.gz", "-o", "back-gz.h5", "--force"],
        );
        same_data(&dir, file, "back-gz.h5");
    }
}

fn dir_read(dir: &TestDir, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap()
}

/// Percentages that are arbitrary float32 values from 0 to 100 (subnormals included),
/// written with 25 significant digits or as the nearest double, and the special values
/// (-0, NaNs, infinities, the smallest subnormal, the one float32 whose shortest text
/// misreads through a double) come back from `load` of the export bit for bit, each
/// written as the shortest decimal that reads back.
#[test]
fn awkward_float32_percentages_survive_export_and_load() {
    let dir = TestDir::new();
    let mut rng = Rng::new(91);
    let hundred = 100f32.to_bits() as u64;
    let mut text = String::new();
    let mut pos = 1;
    for row in 0..4_000 {
        pos += 1 + rng.below(10);
        let value = f32::from_bits(rng.below(hundred + 1) as u32);
        let pct = match row % 3 {
            0 => format!("{:.24e}", f64::from(value)),
            1 => format!("{}", f64::from(value)),
            // A double near the float32, which load rounds to a float32.
            _ => format!("{:.17e}", f64::from(value) * (1.0 + 1e-9)),
        };
        text.push_str(&format!("chr1\t{pos}\t{pct}\t{}\t{}\n", row % 7, row % 5));
    }
    // The last is float32 0x15ae43fd exactly, whose shortest text misreads through a double.
    let specials = [
        "-0",
        "nan",
        "-nan",
        "inf",
        "-inf",
        "1e-45",
        "7.038530691851209e-26",
    ];
    for (pos, special) in specials.iter().enumerate() {
        text.push_str(&format!("chr2\t{}\t{special}\t1\t1\n", pos + 1));
    }
    dir.write("awkward.txt", text.as_bytes());
    ok(
        &dir,
        &[
            "load",
            "awkward.txt",
            "-o",
            "awkward.h5",
            "--chunk-rows",
            "128",
        ],
    );
    let selected = check_selections(&dir, "awkward.h5", &[args(&[])], true);
    assert_eq!(selected.rows, 4_007);
    ok(&dir, &["export", "awkward.h5", "-o", "back.tsv"]);
    ok(&dir, &["load", "back.tsv", "-o", "back.h5"]);
    same_data(&dir, "awkward.h5", "back.h5");
}

/// Runs `inspect FILE --json` and has numpy check it; returns the report.
fn inspect_json(dir: &TestDir, file: &str) -> Value {
    let output = run(dir.path(), &["inspect", file, "--json"]);
    expect_code(&output, 0);
    let name = format!("{}-inspect.json", file.trim_end_matches(".h5"));
    dir.write(&name, &output.stdout);
    let summary = readback(dir.path(), &["inspect", file, &name]);
    assert!(summary.starts_with("equal rows="), "{file}: {summary}");
    serde_json::from_slice(&output.stdout).unwrap()
}

/// `inspect --json` on plain, appended, merged and old outputs: rows, fields, storage,
/// sources and chromosomes (rows and sources per chr, in order of first appearance) equal
/// what numpy reads; the old one has no index, and its table says so.
#[test]
fn inspect_agrees_with_numpy_on_plain_appended_merged_and_old_outputs() {
    let dir = TestDir::new();
    outputs(&dir);
    for file in ["plain.h5", "appended.h5", "merged.h5"] {
        let report = inspect_json(&dir, file);
        assert_eq!(report["index"]["present"], json!(true), "{file}");
        assert_eq!(report["sources"].as_array().unwrap().len(), SOURCES);
    }
    let report = inspect_json(&dir, "old.h5");
    assert_eq!(report["index"]["present"], json!(false));
    assert_eq!(report["chromosomes"], Value::Null);
    let output = run(dir.path(), &["inspect", "old.h5"]);
    expect_code(&output, 0);
    let table = String::from_utf8(output.stdout).unwrap();
    assert!(
        table
            .lines()
            .any(|line| line.starts_with("index") && line.contains("none")),
        "{table}"
    );
}

/// `inspect --json` on a `merge --virtual` output: its parts (file, rows, present) and
/// everything else as numpy reads it through the mapping.
#[test]
fn inspect_agrees_with_numpy_on_a_virtual_output() {
    let dir = TestDir::new();
    outputs(&dir);
    let report = inspect_json(&dir, "virtual.h5");
    assert_eq!(report["storage"]["layout"], json!("virtual"));
    assert_eq!(report["storage"]["parts"].as_array().unwrap().len(), 2);
}

/// With a part of a virtual output deleted, `inspect` still answers as before, but marks
/// the part missing; `export` fails naming it and never writes a row that is not in the
/// file (no fill values), on standard output or through `-o`.
#[test]
fn a_virtual_output_with_a_missing_part_is_inspected_but_not_exported() {
    let dir = TestDir::new();
    outputs(&dir);
    let whole = run(dir.path(), &["export", "virtual.h5"]);
    expect_code(&whole, 0);
    let mut expected = inspect_json(&dir, "virtual.h5");
    std::fs::remove_file(dir.join("parts/2.h5")).unwrap();
    let output = run(dir.path(), &["inspect", "virtual.h5", "--json"]);
    expect_code(&output, 0);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let part = &report["storage"]["parts"][1];
    assert_eq!(part["present"], json!(false), "{report}");
    assert!(part["problem"].is_string(), "{report}");
    expected["storage"]["parts"][1]["present"] = json!(false);
    expected["storage"]["parts"][1]["problem"] = part["problem"].clone();
    assert_eq!(report, expected, "only the part's state changed");
    for extra in [&[][..], &["--region", "chr1"], &["--source-index", "0"]] {
        let output = run(dir.path(), &[&["export", "virtual.h5"][..], extra].concat());
        assert!(
            !output.status.success() && output.status.code() != Some(101),
            "{extra:?}: {:?}",
            output.status
        );
        assert!(stderr(&output).contains("2.h5"), "{}", stderr(&output));
        assert!(
            whole.stdout.starts_with(&output.stdout),
            "{extra:?}: rows written that the file does not hold"
        );
    }
    let before = dir.entries();
    let output = run(dir.path(), &["export", "virtual.h5", "-o", "out.tsv"]);
    assert!(!output.status.success() && output.status.code() != Some(101));
    assert!(stderr(&output).contains("2.h5"), "{}", stderr(&output));
    assert_eq!(dir.entries(), before, "files left behind");
}

/// Runs `export ARGS...` expecting `code`; returns stderr, checking that nothing went to
/// standard output.
fn export_fails(dir: &TestDir, args: &[&str], code: i32) -> String {
    let output = run(dir.path(), &[&["export"][..], args].concat());
    expect_code(&output, code);
    assert!(output.stdout.is_empty(), "{args:?} wrote to stdout");
    stderr(&output)
}

/// An unknown chromosome is an empty answer with a note; bad region text, a glob that
/// matches no source and a source row out of range are usage errors naming what was
/// typed; a bad BED line is bad data named by file, line and column.
#[test]
fn selection_mistakes_are_notes_usage_errors_or_bad_data() {
    let dir = TestDir::new();
    outputs(&dir);
    for unknown in ["chrNope:1-100", "chrNope", "chr_longer_than_the_field:5-9"] {
        let output = run(dir.path(), &["export", "plain.h5", "--region", unknown]);
        expect_code(&output, 0);
        assert!(output.stdout.is_empty(), "{unknown}");
        assert!(
            stderr(&output).starts_with("txt2h5: note:"),
            "{unknown}: {}",
            stderr(&output)
        );
    }
    // An unknown chromosome beside a known one: the known one's rows, and the note.
    let known = run(
        dir.path(),
        &["export", "plain.h5", "--region", "chr2:1-20000"],
    );
    let both = run(
        dir.path(),
        &[
            "export",
            "plain.h5",
            "--region",
            "chr2:1-20000",
            "--region",
            "chrNope",
        ],
    );
    expect_code(&both, 0);
    assert!(!known.stdout.is_empty());
    assert_eq!(both.stdout, known.stdout);
    assert!(stderr(&both).contains("chrNope"), "{}", stderr(&both));

    for bad in ["chr1:5-x", "chr1:10-5", "chr1:0-5", ":5-10"] {
        let message = export_fails(&dir, &["plain.h5", "--region", bad], USAGE);
        assert!(message.contains(bad), "{bad}: {message}");
    }
    let message = export_fails(&dir, &["plain.h5", "--source", "nothing*.txt"], USAGE);
    assert!(message.contains("nothing*.txt"), "{message}");
    let past = SOURCES.to_string();
    let message = export_fails(&dir, &["plain.h5", "--source-index", &past], USAGE);
    assert!(message.contains(&past), "{message}");

    dir.write("bad.bed", b"chr1\t10\t20\n# fine\nchr1\t5\tx\n");
    let message = export_fails(&dir, &["plain.h5", "--regions", "bad.bed"], BAD_DATA);
    for needle in ["bad.bed", "line 3", "column 3", "\"x\""] {
        assert!(message.contains(needle), "{needle}: {message}");
    }
    dir.write("short.bed", b"chr1\t10\n");
    let message = export_fails(&dir, &["plain.h5", "--regions", "short.bed"], BAD_DATA);
    for needle in ["short.bed", "line 1", "column 3"] {
        assert!(message.contains(needle), "{needle}: {message}");
    }
}

/// A text file, an empty HDF5 file and one h5py made with a `/data` much like ours are
/// refused by `inspect` and `export` as not txt2h5 outputs: exit 2, never a panic.
#[test]
fn files_that_are_not_txt2h5_outputs_are_refused() {
    let dir = TestDir::new();
    dir.write("notes.h5", b"chr1\t5\t50\t1\t1\n");
    readback(dir.path(), &["foreign", "bare.h5", "lookalike.h5"]);
    for file in ["notes.h5", "bare.h5", "lookalike.h5"] {
        for args in [
            &["inspect", file][..],
            &["inspect", file, "--json"],
            &["export", file],
            &["export", file, "--region", "chr1:1-10"],
        ] {
            let output = run(dir.path(), args);
            expect_code(&output, USAGE);
            assert!(output.stdout.is_empty(), "{args:?}");
            assert!(
                stderr(&output).contains("not a txt2h5 output"),
                "{args:?}: {}",
                stderr(&output)
            );
        }
    }
    let output = run(dir.path(), &["inspect", "missing.h5"]);
    assert!(
        !output.status.success() && output.status.code() != Some(101),
        "{:?}",
        output.status
    );
}

/// `-o` onto an existing file is refused without `--force` (the file untouched, nothing
/// left beside it) and replaced with it.
#[test]
fn an_existing_output_is_replaced_only_with_force() {
    let dir = TestDir::new();
    outputs(&dir);
    let precious = b"an earlier export";
    dir.write("out.tsv", precious);
    let before = dir.entries();
    let message = export_fails(&dir, &["plain.h5", "-o", "out.tsv"], USAGE);
    assert!(message.contains("out.tsv"), "{message}");
    assert_eq!(dir_read(&dir, "out.tsv"), precious);
    assert_eq!(dir.entries(), before, "files left behind");
    let output = run(
        dir.path(),
        &["export", "plain.h5", "-o", "out.tsv", "--force", "-q"],
    );
    expect_code(&output, 0);
    assert_eq!(stderr(&output), "", "-q prints nothing but errors");
    assert_eq!(dir.entries(), before);
    let listed = listed_json(&[json!({"args": ["-o", "out.tsv"], "output": "out.tsv"})]);
    dir.write("cases.json", listed.as_bytes());
    readback(dir.path(), &["select", "plain.h5", "cases.json"]);
}

/// A reader that stops early (`| head`) ends the export quietly: exit 0, no message.
#[test]
fn a_closed_pipe_ends_the_export_quietly() {
    let dir = TestDir::new();
    dir.write("big.txt", &methylation_text(101, 200_000));
    ok(
        &dir,
        &["load", "big.txt", "-o", "big.h5", "--chunk-rows", "4096"],
    );
    let mut child = txt2h5()
        .current_dir(dir.path())
        .args(["export", "big.h5"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut start = [0u8; 100];
    stdout.read_exact(&mut start).unwrap();
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    expect_code(&output, 0);
    assert_eq!(stderr(&output), "");
    assert!(start.starts_with(b"chr1\t"), "{start:?}");
}

/// No space on the device (standard output on /dev/full) and an output directory where no
/// file can be made (/proc, even for root) are I/O errors, exit 1; a directory that does
/// not exist is a usage error, exit 2, as for `load`. Nothing is left behind.
#[test]
fn a_full_device_or_an_unwritable_directory_is_an_io_error() {
    let dir = TestDir::new();
    outputs(&dir);
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let output = txt2h5()
        .current_dir(dir.path())
        .args(["export", "plain.h5"])
        .stdout(Stdio::from(full))
        .output()
        .unwrap();
    expect_code(&output, FAILURE);
    assert!(
        stderr(&output).starts_with("txt2h5: error:"),
        "{}",
        stderr(&output)
    );
    let target = "/proc/txt2h5-readback-test.tsv";
    let output = run(dir.path(), &["export", "plain.h5", "-o", target]);
    expect_code(&output, FAILURE);
    assert!(stderr(&output).contains("/proc"), "{}", stderr(&output));
    assert!(!Path::new(target).exists());
    let before = dir.entries();
    for target in ["nowhere/out.tsv", "nowhere/out.tsv.gz"] {
        let output = run(dir.path(), &["export", "plain.h5", "-o", target]);
        expect_code(&output, USAGE);
        assert!(stderr(&output).contains("nowhere"), "{}", stderr(&output));
        assert_eq!(dir.entries(), before, "files left behind");
    }
}

/// CSV starts with a header and quotes what needs quoting: a source path with a comma or
/// a quote, read back by Python's csv module, names its rows exactly, as path or basename.
#[test]
fn csv_has_a_header_and_quotes_source_paths_that_need_it() {
    let dir = TestDir::new();
    let mut rng = Rng::new(111);
    dir.write(
        "in/a,b.txt",
        &native(&sorted_rows(&mut rng, &["chr1"], 300, 100)),
    );
    dir.write(
        "in/plain.txt",
        &native(&sorted_rows(&mut rng, &["chr1", "chr2"], 200, 100)),
    );
    dir.write(
        "in/say \"hi\".txt",
        &native(&sorted_rows(&mut rng, &["chr2"], 300, 100)),
    );
    ok(&dir, &["load", "in", "-o", "out.h5", "--chunk-rows", "64"]);
    let cases = [
        args(&["--format", "csv"]),
        args(&["--format", "csv", "--with-source"]),
        args(&[
            "--format",
            "csv",
            "--with-source",
            "--source-name",
            "basename",
            "--region",
            "chr2:150-",
        ]),
    ];
    check_selections(&dir, "out.h5", &cases, true);
    let text = String::from_utf8(dir_read(&dir, "out-1.out")).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("source,chr,pos,pct,c,t"));
    assert!(text.contains("\n\"in/a,b.txt\",chr1,"), "{text:.300}");
    assert!(text.contains("\nin/plain.txt,chr1,"), "{text:.300}");
    assert!(text.contains("\n\"in/say \"\"hi\"\".txt\",chr2,"));
    let plain = String::from_utf8(dir_read(&dir, "out-0.out")).unwrap();
    assert!(plain.starts_with("chr,pos,pct,c,t\nchr1,"), "{plain:.100}");
}

/// A whole-file export draws a progress bar on a terminal, and none for a selection, with
/// `--quiet`, or off a terminal; the rows on stdout are the same either way.
#[test]
fn a_whole_file_export_shows_progress_on_a_terminal() {
    use crate::terminal::output_on_terminal;
    let dir = TestDir::new();
    dir.write("big.txt", &methylation_text(61, 300_000));
    ok(
        &dir,
        &["load", "big.txt", "-o", "out.h5", "--chunk-rows", "4096"],
    );
    let on_terminal = |extra: &[&str]| {
        let mut command = txt2h5();
        command
            .current_dir(dir.path())
            .args(["export", "out.h5", "-j", "1"])
            .args(extra);
        let output = output_on_terminal(command);
        expect_code(&output, 0);
        (output.stdout.len(), stderr(&output))
    };
    let (bytes, shown) = on_terminal(&[]);
    assert!(
        shown.contains("rows") && shown.contains("ETA"),
        "no progress bar on a terminal:\n{shown}"
    );
    let piped = run(dir.path(), &["export", "out.h5", "-j", "1"]);
    expect_code(&piped, 0);
    assert_eq!(piped.stdout.len(), bytes);
    assert!(piped.stderr.is_empty(), "{}", stderr(&piped));
    let (_, quiet) = on_terminal(&["--quiet"]);
    assert!(!quiet.contains("ETA"), "progress despite --quiet:\n{quiet}");
    let (_, selection) = on_terminal(&["--region", "chr1"]);
    assert!(
        !selection.contains("ETA"),
        "progress for a selection:\n{selection}"
    );
}

/// In TSV a source path holding a tab would shift every column after it: exporting that
/// source with `--with-source` is a usage error naming it, while other sources of the same
/// file export, and CSV carries the name as it is.
#[test]
fn tsv_refuses_a_selected_source_name_with_a_tab() {
    let dir = TestDir::new();
    dir.write("in/a\tb.txt", b"chr1\t5\t50\t1\t1\n");
    dir.write("in/c.txt", b"chr1\t7\t50\t1\t1\n");
    ok(&dir, &["load", "in", "-o", "out.h5"]);
    let refused = run(dir.path(), &["export", "out.h5", "--with-source"]);
    expect_code(&refused, USAGE);
    assert!(
        stderr(&refused).contains("in/a\\tb.txt"),
        "{}",
        stderr(&refused)
    );
    let other = run(
        dir.path(),
        &["export", "out.h5", "--with-source", "--source-index", "1"],
    );
    expect_code(&other, 0);
    assert_eq!(other.stdout, b"in/c.txt\tchr1\t7\t50\t1\t1\n");
    let csv = run(
        dir.path(),
        &["export", "out.h5", "--with-source", "--format", "csv"],
    );
    expect_code(&csv, 0);
    assert_eq!(
        String::from_utf8(csv.stdout).unwrap(),
        // A tab is an ordinary character in CSV: no quotes needed.
        "source,chr,pos,pct,c,t\nin/a\tb.txt,chr1,5,50,1,1\nin/c.txt,chr1,7,50,1,1\n"
    );
}
