//! The command lines of README.md and docs/*.md run as written: every line of each block
//! marked [`COMMANDS`] runs through `sh` in a fresh directory holding the inputs it names,
//! and what it wrote is checked against numpy (`h5check.py loadtxt`, `matrix_ref.py`) or
//! against the generated inputs. A line this file does not know fails the test, so a new
//! example cannot slip in unrun.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Output};

use crate::generate::{bgzf, gzip, methylation_text};
use crate::util::{binary, expect_code, h5check, python_stdout, run, support_script, TestDir};

/// The marker before a block whose every line a test runs.
pub const COMMANDS: &str = "commands: each line runs in a test";

/// Runs `command` with `sh` in `dir`, the binary under test first on PATH as `txt2h5`;
/// panics with its output unless it succeeds.
fn sh(dir: &Path, command: &str) -> Output {
    let path = format!(
        "{}:{}",
        binary().parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = Command::new("sh")
        .current_dir(dir)
        .env("PATH", path)
        .env_remove("RUST_LOG")
        .args(["-e", "-c", command])
        .output()
        .unwrap();
    expect_code(&output, 0);
    output
}

/// `h5check loadtxt`: `file`'s /data equals numpy.loadtxt of `inputs`, in order, and its
/// /sources names them; returns the row count.
fn equals_loadtxt(dir: &Path, file: &str, inputs: &[&str]) -> u64 {
    let mut args = vec!["loadtxt", file, "10"];
    args.extend_from_slice(inputs);
    let report = h5check(dir, &args);
    report
        .trim()
        .strip_prefix("equal rows=")
        .unwrap_or_else(|| panic!("{report}"))
        .parse()
        .unwrap()
}

/// The same, where /data is blosc-compressed: h5py reads it with hdf5plugin's filters.
fn equals_loadtxt_with_plugins(dir: &Path, file: &str, inputs: &[&str]) {
    let script = crate::util::repo().join("tests/support/h5check.py");
    let mut argv = vec![script.to_str().unwrap(), "loadtxt", file, "10"];
    argv.extend_from_slice(inputs);
    let code = format!(
        "import sys, runpy, hdf5plugin; sys.argv = {argv:?}; runpy.run_path(sys.argv[0], run_name='__main__')"
    );
    let report = python_stdout(dir, &["-c", &code]);
    assert!(report.starts_with("equal rows="), "{report}");
}

/// Writes `calls/NAME.txt` for each name, generated rows in numpy's many spellings.
fn calls(dir: &TestDir, names: &[&str]) -> Vec<String> {
    names
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let path = format!("calls/{name}.txt");
            dir.write(&path, &methylation_text(100 + k as u64, 300 + 50 * k));
            path
        })
        .collect()
}

fn strs(paths: &[String]) -> Vec<&str> {
    paths.iter().map(String::as_str).collect()
}

/// A study of fifteen samples `sample_00` .. `sample_14` in the plain `chr pos pct c t`
/// spelling txt2h5 exports, rows on chr1 and around chr7:27,100,000-27,250,000 (the
/// README's region); returns each sample's lines.
fn export_study(dir: &TestDir) -> Vec<(String, Vec<String>)> {
    let mut samples = Vec::new();
    for k in 0..15u64 {
        let mut lines = Vec::new();
        for row in 0..40u64 {
            let c = (row * 7 + k) % 20;
            let t = (row * 3 + 2 * k) % 15 + 1;
            lines.push(format!("chr1\t{}\t{}\t{c}\t{t}", 5_000 + row * 311, c * 5));
        }
        for row in 0..80u64 {
            // 27,050,000 .. 27,299,999: some before, in and after the region.
            let pos = 27_050_037 + row * 3_137 + k * 13;
            let c = (row + k) % 9;
            lines.push(format!("chr7\t{pos}\t{}\t{c}\t{}", c * 10, 9 - c));
        }
        let name = format!("sample_{k:02}.txt");
        let mut text = lines.join("\n");
        text.push('\n');
        dir.write(&name, text.as_bytes());
        samples.push((name, lines));
    }
    let names: Vec<&str> = samples.iter().map(|(name, _)| name.as_str()).collect();
    let mut args = vec!["load"];
    args.extend_from_slice(&names);
    args.extend_from_slice(&["-o", "study.h5", "-q"]);
    expect_code(&run(dir.path(), &args), 0);
    samples
}

/// `chr7\t27100037...` → 27100037.
fn position(line: &str) -> u64 {
    line.split('\t').nth(1).unwrap().parse().unwrap()
}

/// Loads the shards 1/8 .. 8/8 of `calls/` into parts/part-K.h5, as eight tasks would.
fn shards(dir: &TestDir) -> Vec<String> {
    let names: Vec<String> = (0..10).map(|k| format!("S{k:02}")).collect();
    let inputs = calls(dir, &strs(&names));
    dir.create_dir("parts");
    for k in 1..=8 {
        let shard = format!("{k}/8");
        let part = format!("parts/part-{k}.h5");
        expect_code(
            &run(
                dir.path(),
                &["load", "calls/", "--shard", &shard, "-o", &part, "-q"],
            ),
            0,
        );
    }
    inputs
}

/// The coverage files (`cov/`) and CpG reports (`rep/`) of `matrix_ref.py make`, with the
/// long contig left out so that the default 10-byte `chr` holds every name, as `calls/`
/// and `reports/`.
fn matrix_inputs(dir: &TestDir) {
    support_script(dir.path(), "matrix_ref.py", &["make", "."]);
    python_stdout(
        dir.path(),
        &[
            "-c",
            "import gzip, os\n\
             for src, dst in (('cov', 'calls'), ('rep', 'reports')):\n\
             \x20   os.makedirs(dst)\n\
             \x20   for name in sorted(os.listdir(src)):\n\
             \x20       opener = gzip.open if name.endswith('.gz') else open\n\
             \x20       with opener(f'{src}/{name}', 'rt') as i, opener(f'{dst}/{name}', 'wt') as o:\n\
             \x20           o.writelines(l for l in i if not l.startswith('chrUn_'))\n",
        ],
    );
}

/// `matrix_ref.py check`: the matrix equals the one numpy makes of the files in `files/`.
fn matrix_equals_numpy(dir: &Path, matrix: &str, files: &str, options: &[&str]) {
    let mut paths: Vec<String> = std::fs::read_dir(dir.join(files))
        .unwrap()
        .map(|entry| format!("{files}/{}", entry.unwrap().file_name().to_string_lossy()))
        .collect();
    paths.sort();
    let mut args = vec!["check", matrix];
    args.extend(paths.iter().map(String::as_str));
    args.extend_from_slice(options);
    let printed = support_script(dir, "matrix_ref.py", &args);
    assert!(printed.starts_with("matrix equal"), "{printed}");
}

/// The study's rows, read with h5py, equal `expected` (chr, pos, pct, c, t; pct compared
/// as float32, the others exactly), plus `context` where given.
fn rows_are(dir: &Path, file: &str, expected: &[(String, i64, f64, i64, i64)], context: &[&str]) {
    let rows: Vec<String> = expected
        .iter()
        .map(|(chr, pos, pct, c, t)| format!("({chr:?}, {pos}, {pct:?}, {c}, {t})"))
        .collect();
    let code = format!(
        "import h5py, numpy as np\n\
         d = h5py.File({file:?}, 'r')['data'][:]\n\
         e = [{}]\n\
         assert len(d) == len(e), (len(d), len(e))\n\
         for got, (chr_, pos, pct, c, t) in zip(d, e):\n\
         \x20   want = (chr_.encode(), pos, np.float32(pct), c, t)\n\
         \x20   have = (got['chr'], int(got['pos']), got['pct'], int(got['c']), int(got['t']))\n\
         \x20   assert have == want, (have, want)\n\
         context = {context:?}\n\
         if context:\n\
         \x20   assert [c.decode() for c in d['context']] == context, d['context']\n\
         print('ok', len(d))\n",
        rows.join(", ")
    );
    let printed = python_stdout(dir, &["-c", &code]);
    assert_eq!(printed.trim(), format!("ok {}", expected.len()));
}

/// Runs one documented command line (`line`, its trailing comment included) as written, in
/// a fresh directory set up with the inputs it names, and checks what it did. Panics on a
/// line it does not know.
pub fn run_documented(line: &str) {
    let command = line.split(" #").next().unwrap().trim();
    let dir = TestDir::new();
    let d = dir.path();
    match command {
        "txt2h5 load calls/ -o study.h5" => {
            let inputs = calls(&dir, &["S1", "S2", "S3"]);
            sh(d, line);
            equals_loadtxt(d, "study.h5", &strs(&inputs));
        }
        "txt2h5 load calls/ --glob '*.cov.gz' -r -o study.h5" => {
            let text = |seed| gzip(&methylation_text(seed, 400));
            dir.write("calls/a.cov.gz", &text(1));
            dir.write("calls/b.txt", &methylation_text(2, 50));
            dir.write("calls/run2/c.cov.gz", &text(3));
            dir.write("calls/run2/d.cov", &methylation_text(4, 50));
            sh(d, line);
            equals_loadtxt(d, "study.h5", &["calls/a.cov.gz", "calls/run2/c.cov.gz"]);
        }
        "txt2h5 load a.txt b.txt.gz c.bgz -o study.h5 --compression none -j 8" => {
            dir.write("a.txt", &methylation_text(5, 700));
            dir.write("b.txt.gz", &gzip(&methylation_text(6, 800)));
            dir.write("c.bgz", &bgzf(&methylation_text(7, 900), 4096));
            sh(d, line);
            equals_loadtxt(d, "study.h5", &["a.txt", "b.txt.gz", "c.bgz"]);
            // No codec: only the Fletcher32 checksum (filter 3) every chunk carries.
            let described = h5check(d, &["describe", "study.h5"]);
            assert!(described.contains("\"filters\": [[3, []]]"), "{described}");
        }
        "txt2h5 load calls/ -o study.h5 --append" => {
            // The first run creates the file; a re-run after a new input arrived adds it.
            let mut inputs = calls(&dir, &["S1", "S2"]);
            sh(d, line);
            equals_loadtxt(d, "study.h5", &strs(&inputs));
            dir.write("calls/S3.txt", &methylation_text(300, 500));
            inputs.push("calls/S3.txt".to_string());
            sh(d, line);
            equals_loadtxt(d, "study.h5", &strs(&inputs));
        }
        "txt2h5 load calls/ -o study.h5 --compression blosc" => {
            let inputs = calls(&dir, &["S1", "S2"]);
            sh(d, line);
            equals_loadtxt_with_plugins(d, "study.h5", &strs(&inputs));
        }
        "txt2h5 load calls/ -o study.h5 --json --quiet > summary.json" => {
            let inputs = calls(&dir, &["S1", "S2", "S3"]);
            sh(d, line);
            let rows = equals_loadtxt(d, "study.h5", &strs(&inputs));
            let summary: serde_json::Value =
                serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap())
                    .unwrap();
            assert_eq!(summary["rows"], rows, "{summary}");
            assert_eq!(summary["sources"].as_array().unwrap().len(), inputs.len());
        }
        "txt2h5 load calls/ --shard 2/8 -o parts/part-2.h5" => {
            let inputs = calls(&dir, &["S00", "S01", "S02", "S03", "S04", "S05", "S06"]);
            // The job that runs the eight tasks makes parts/ (examples/slurm/load.sbatch
            // and the guide's one-machine example do): txt2h5 makes no directory.
            dir.create_dir("parts");
            sh(d, line);
            // Shard 2 holds a part of the inputs, as numpy reads them.
            let described = crate::util::describe(d, "parts/part-2.h5");
            let held: Vec<String> = described["sources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|source| source["path"].as_str().unwrap().to_string())
                .collect();
            assert!(!held.is_empty() && held.len() < inputs.len(), "{held:?}");
            assert!(held.iter().all(|path| inputs.contains(path)), "{held:?}");
            equals_loadtxt(d, "parts/part-2.h5", &strs(&held));
        }
        "txt2h5 merge parts/part-*.h5 -o study.h5"
        | "txt2h5 merge parts/part-*.h5 -o study.h5 --virtual"
        | "txt2h5 merge parts/ -o study.h5" => {
            let inputs = shards(&dir);
            sh(d, line);
            equals_loadtxt(d, "study.h5", &strs(&inputs));
        }
        "txt2h5 inspect study.h5" => {
            let inputs = calls(&dir, &["S1", "S2", "S3"]);
            expect_code(&run(d, &["load", "calls/", "-o", "study.h5", "-q"]), 0);
            let rows = equals_loadtxt(d, "study.h5", &strs(&inputs));
            let output = sh(d, line);
            let text = String::from_utf8_lossy(&output.stdout);
            let rows = txt2h5::progress::group_thousands(rows);
            assert!(text.contains(&format!("/data: {rows} rows")), "{text}");
            for input in &inputs {
                assert!(text.contains(input.as_str()), "{input}: {text}");
            }
        }
        "txt2h5 export study.h5 --region chr7:27,100,000-27,250,000 --with-source" => {
            let samples = export_study(&dir);
            let expected: Vec<String> = samples
                .iter()
                .flat_map(|(name, lines)| {
                    lines
                        .iter()
                        .filter(|line| {
                            line.starts_with("chr7\t")
                                && (27_100_000..=27_250_000).contains(&position(line))
                        })
                        .map(move |line| format!("{name}\t{line}"))
                })
                .collect();
            assert!(expected.len() > 100, "{}", expected.len());
            let script = format!("{line} > region.txt");
            sh(d, &script);
            let printed = std::fs::read_to_string(dir.join("region.txt")).unwrap();
            assert_eq!(printed.lines().collect::<Vec<_>>(), expected);
        }
        "txt2h5 export study.h5 --regions dmrs.bed --source 'sample_1*' -o dmrs.tsv.gz" => {
            let samples = export_study(&dir);
            // BED: 0-based starts, ends exclusive; no generated position on a bound.
            let regions = [(27_100_000u64, 27_140_000u64), (27_200_000, 27_210_000)];
            let bed: String = regions
                .iter()
                .map(|(start, end)| format!("chr7\t{start}\t{end}\n"))
                .collect();
            dir.write("dmrs.bed", bed.as_bytes());
            let mut expected: Vec<String> = samples
                .iter()
                .filter(|(name, _)| name.starts_with("sample_1"))
                .flat_map(|(_, lines)| lines.iter())
                .filter(|line| {
                    line.starts_with("chr7\t")
                        && regions
                            .iter()
                            .any(|&(start, end)| (start + 1..=end).contains(&position(line)))
                })
                .cloned()
                .collect();
            assert!(expected.len() > 20, "{}", expected.len());
            sh(d, line);
            let mut text = String::new();
            flate2::read::MultiGzDecoder::new(std::fs::File::open(dir.join("dmrs.tsv.gz")).unwrap())
                .read_to_string(&mut text)
                .unwrap();
            let mut printed: Vec<String> = text.lines().map(str::to_string).collect();
            printed.sort();
            expected.sort();
            assert_eq!(printed, expected);
        }
        "txt2h5 export study.h5 --source-index 12 > sample12.txt" => {
            let samples = export_study(&dir);
            sh(d, line);
            let printed = std::fs::read_to_string(dir.join("sample12.txt")).unwrap();
            let (name, lines) = &samples[12];
            assert_eq!(name, "sample_12.txt");
            assert_eq!(printed.lines().collect::<Vec<_>>(), *lines);
        }
        "txt2h5 matrix study.h5 -o matrix.h5" => {
            matrix_inputs(&dir);
            expect_code(&run(d, &["load", "calls", "-o", "study.h5", "-q"]), 0);
            sh(d, line);
            matrix_equals_numpy(d, "matrix.h5", "calls", &[]);
        }
        "txt2h5 load reports/ -o reports.h5 --extra strand" => {
            // What the next line of the block needs: the strands, for --strand-collapse.
            matrix_inputs(&dir);
            sh(d, line);
            expect_code(
                &run(
                    d,
                    &["matrix", "reports.h5", "-o", "matrix.h5", "--strand-collapse", "-q"],
                ),
                0,
            );
            matrix_equals_numpy(d, "matrix.h5", "reports", &["--collapse"]);
        }
        "txt2h5 matrix reports.h5 -o matrix.h5 --strand-collapse" => {
            matrix_inputs(&dir);
            let load = ["load", "reports/", "-o", "reports.h5", "--extra", "strand", "-q"];
            expect_code(&run(d, &load), 0);
            sh(d, line);
            matrix_equals_numpy(d, "matrix.h5", "reports", &["--collapse"]);
        }
        // A bedGraph of fractions and coverages: pos is start + 1, pct 100 x beta, and the
        // counts those of the coverage.
        "txt2h5 load calls/ -o study.h5 --columns chr=1,start=2,beta=4,cov=5" => {
            let mut text = String::new();
            let mut expected = Vec::new();
            for row in 0..30i64 {
                let (start, cov) = (1_000 + 17 * row, 1 + row % 7);
                let c = row % (cov + 1);
                let beta = c as f64 / cov as f64;
                text.push_str(&format!("chr2\t{start}\t{}\t{beta}\t{cov}\n", start + 1));
                expected.push(("chr2".to_string(), start + 1, 100.0 * beta, c, cov - c));
            }
            dir.write("calls/x.bedGraph", text.as_bytes());
            sh(d, line);
            rows_are(d, "study.h5", &expected, &[]);
        }
        "txt2h5 load calls/ -o study.h5 --columns chr=1,pos=2,pct=5,c=6,t=7 --skip-lines 1" => {
            let mut text = "chr\tpos\tstrand\tcontext\tpct\tc\tt\n".to_string();
            let mut expected = Vec::new();
            for row in 0..30i64 {
                let (pos, c, t) = (500 + 9 * row, row % 5, 1 + row % 3);
                let pct = 100.0 * c as f64 / (c + t) as f64;
                text.push_str(&format!("chrX\t{pos}\t+\tCG\t{pct}\t{c}\t{t}\n"));
                expected.push(("chrX".to_string(), pos, pct, c, t));
            }
            dir.write("calls/x.txt", text.as_bytes());
            sh(d, line);
            rows_are(d, "study.h5", &expected, &[]);
        }
        "txt2h5 load calls/ -o study.h5 --columns chr=1,pos=2,strand=3,context=4,pct=5,cov=6 --extra context" => {
            let mut text = String::new();
            let mut expected = Vec::new();
            let mut contexts = Vec::new();
            for row in 0..30i64 {
                let (pos, cov) = (700 + 11 * row, 4);
                let c = row % 5;
                let context = ["CG", "CHG", "CHH"][row as usize % 3];
                // Quarters: every level gives a whole count of 4 reads.
                let pct = 25.0 * c as f64;
                text.push_str(&format!("chr3\t{pos}\t-\t{context}\t{pct}\t{cov}\n"));
                // --context defaults to CG: the other rows are left out (and counted).
                if context == "CG" {
                    expected.push(("chr3".to_string(), pos, pct, c, cov - c));
                    contexts.push(context);
                }
            }
            dir.write("calls/x.txt", text.as_bytes());
            sh(d, line);
            rows_are(d, "study.h5", &expected, &contexts);
        }
        _ => panic!(
            "a documented command line that no test runs: {line:?}; add a case to \
             tests/integration/docs/commands.rs (run_documented)"
        ),
    }
}

/// The distinct lines of the blocks marked [`COMMANDS`], each with where it is written
/// (one line may appear in the README and in the guide).
pub fn documented_lines(blocks: &[super::Block]) -> BTreeMap<String, Vec<String>> {
    let mut lines: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for block in blocks
        .iter()
        .filter(|block| block.marker.as_deref() == Some(COMMANDS))
    {
        for (k, line) in block.body.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            lines.entry(line.to_string()).or_default().push(format!(
                "{}:{}",
                block.file,
                block.line + 1 + k
            ));
        }
    }
    lines
}
