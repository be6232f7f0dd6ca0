//! The documentation (README.md and docs/*.md): its examples run as written, every code
//! block either runs in a test or says why not, and every relative link and anchor in it
//! leads somewhere.

mod commands;

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use crate::generate::{methylation_text, Rng};
use crate::util::{
    doc_files, doc_snippet, expect_code, h5check, python_stdout, repo, run, support_script, TestDir,
};

/// A fenced code block of the documentation: where it is, the HTML comment on the line
/// before it (`<!-- ... -->`, its text trimmed), and its lines.
#[derive(Debug)]
pub struct Block {
    pub file: String,
    /// 0-based line of the opening fence.
    pub line: usize,
    pub marker: Option<String>,
    pub body: String,
}

/// The fenced code blocks of `text` (as [`outside_fences`] finds them), `file` naming it.
fn blocks(file: &str, text: &str) -> Vec<Block> {
    let all: Vec<&str> = text.lines().collect();
    let outside = outside_fences(text);
    let mut found = Vec::new();
    let mut at = 0;
    while at < all.len() {
        // An opening fence is a line blanked by outside_fences after a line it kept (or
        // the first line).
        let blanked = outside[at].is_empty() && !all[at].trim().is_empty();
        if !blanked {
            at += 1;
            continue;
        }
        let open = at;
        let mut end = at + 1;
        while end < all.len() && !(outside[end].is_empty() && is_fence(all[end])) {
            end += 1;
        }
        let marker = open
            .checked_sub(1)
            .map(|before| all[before].trim())
            .and_then(|before| before.strip_prefix("<!--")?.strip_suffix("-->"))
            .map(|inner| inner.trim().to_string());
        found.push(Block {
            file: file.to_string(),
            line: open,
            marker,
            body: all[open + 1..end.min(all.len())].join("\n"),
        });
        at = end + 1;
    }
    found
}

fn is_fence(line: &str) -> bool {
    let trimmed = line.trim_start();
    trimmed.starts_with("```") || trimmed.starts_with("~~~")
}

/// Every code block of README.md and docs/*.md.
fn doc_blocks() -> Vec<Block> {
    doc_files()
        .iter()
        .flat_map(|file| {
            let text = std::fs::read_to_string(repo().join(file)).unwrap();
            blocks(&file.display().to_string(), &text)
        })
        .collect()
}

/// What is wrong with the markers of `blocks`, one line each. A block must be preceded by
/// `<!-- snippet-NAME -->` where a file of `tests` (the test sources, as text) names
/// `snippet-NAME`; by `<!-- commands: each line runs in a test -->` (then it is shell);
/// or by `<!-- not run: REASON -->` with a reason of a few words.
fn marker_problems(blocks: &[Block], tests: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    for block in blocks {
        let place = format!("{}:{}", block.file, block.line + 1);
        match block.marker.as_deref() {
            Some(marker) if marker.starts_with("snippet-") => {
                if !tests.iter().any(|test| {
                    test.contains(&format!("\"{marker}\""))
                        || test.contains(&format!("<!-- {marker} -->"))
                }) {
                    problems.push(format!("{place}: no test runs <!-- {marker} -->"));
                }
            }
            Some(commands::COMMANDS) => {}
            Some(marker) if marker.starts_with("not run:") => {
                if marker["not run:".len()..].split_whitespace().count() < 3 {
                    problems.push(format!("{place}: <!-- {marker} --> gives no reason"));
                }
            }
            _ => problems.push(format!(
                "{place}: a code block neither run by a test nor marked `<!-- not run: REASON -->`"
            )),
        }
    }
    problems
}

/// The text of every test source: tests/**/*.rs and tests/support/*.
fn test_sources() -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if let Ok(text) = std::fs::read_to_string(&path) {
                out.push(text);
            }
        }
    }
    let mut out = Vec::new();
    walk(&repo().join("tests"), &mut out);
    out
}

/// Every code block of the documentation runs in a test (a snippet a test names, or a
/// block of command lines that `the_command_blocks_run_as_written` runs line by line) or
/// says in the text, in an HTML comment before it, why it does not.
#[test]
fn every_code_block_runs_in_a_test_or_says_why_not() {
    let problems = marker_problems(&doc_blocks(), &test_sources());
    assert!(
        problems.is_empty(),
        "code blocks of README.md and docs/*.md:\n{}",
        problems.join("\n")
    );
}

/// The marker check names an unmarked block, a snippet no test names and a reason left
/// out; it accepts the three kinds of marker.
#[test]
fn the_marker_check_names_what_is_missing() {
    let text = "# T\n\n```sh\nrm -rf /\n```\n\n<!-- snippet-tested -->\n```python\nok\n```\n\n\
                <!-- snippet-untested -->\n```r\nx\n```\n\n<!-- not run: -->\n```\nout\n```\n\n\
                <!-- not run: sample output, times vary -->\n~~~\nout\n~~~\n\n\
                <!-- commands: each line runs in a test -->\n```sh\ntxt2h5 inspect x.h5\n```\n";
    let found = blocks("README.md", text);
    assert_eq!(found.len(), 6, "{found:?}");
    assert_eq!(found[1].body, "ok");
    let tests = ["doc_snippet(\"snippet-tested\")".to_string()];
    let problems = marker_problems(&found, &tests);
    assert_eq!(
        problems,
        [
            "README.md:3: a code block neither run by a test nor marked `<!-- not run: REASON -->`",
            "README.md:13: no test runs <!-- snippet-untested -->",
            "README.md:18: <!-- not run: --> gives no reason",
        ]
    );
}

/// Each line of the blocks marked `<!-- commands: each line runs in a test -->` runs as
/// written, in a directory holding what it names, and does what the text says
/// (tests/integration/docs/commands.rs).
#[test]
fn the_command_blocks_run_as_written() {
    let lines = commands::documented_lines(&doc_blocks());
    assert!(lines.len() >= 15, "{lines:?}");
    for (line, places) in &lines {
        eprintln!("running {line:?} ({})", places.join(", "));
        commands::run_documented(line);
    }
}

/// A command line no case knows fails the test that runs the blocks.
#[test]
#[should_panic(expected = "a documented command line that no test runs")]
fn an_unknown_command_line_fails() {
    commands::run_documented("txt2h5 load calls/ -o study.h5 --some-new-flag");
}

/// The README's Python example reads /data whole, as numpy.loadtxt reads the inputs.
#[test]
fn the_readme_python_snippet_reads_the_rows() {
    let dir = TestDir::new();
    let inputs = ["calls/a.txt", "calls/b.txt"];
    dir.write(inputs[0], &methylation_text(11, 1_500));
    dir.write(inputs[1], &methylation_text(12, 700));
    expect_code(
        &run(dir.path(), &["load", "calls", "-o", "study.h5", "-q"]),
        0,
    );
    let mut args = vec!["loadtxt", "study.h5", "10"];
    args.extend_from_slice(&inputs);
    let rows = h5check(dir.path(), &args);
    let mut snippet = doc_snippet("snippet-readme-python");
    snippet.push_str("print(len(data), data.dtype.names)\n");
    dir.write("snippet.py", snippet.as_bytes());
    let printed = python_stdout(dir.path(), &["snippet.py"]);
    let rows = rows.trim().strip_prefix("equal rows=").unwrap();
    assert_eq!(
        printed.trim(),
        format!("{rows} ('chr', 'pos', 'pct', 'c', 't')")
    );
}

/// The guide's two error examples are what txt2h5 prints for those inputs, word for word.
#[test]
fn the_guides_error_examples_are_printed_as_shown() {
    let shown = doc_snippet("snippet-errors");
    let shown: Vec<&str> = shown.lines().collect();
    let first_lines: Vec<usize> = (0..shown.len())
        .filter(|&k| shown[k].starts_with("txt2h5: error: "))
        .collect();
    assert_eq!(first_lines, [0, 3], "{shown:?}");
    let dir = TestDir::new();
    let output = crate::util::txt2h5()
        .current_dir(repo())
        .args(["load", "fixtures/bad/bad_pct.txt", "-o"])
        .arg(dir.join("bad.h5"))
        .output()
        .unwrap();
    expect_code(&output, 3);
    let printed = crate::util::stderr(&output);
    assert_eq!(printed.lines().collect::<Vec<_>>(), shown[..3], "{printed}");
    dir.write(
        "contigs.txt",
        b"chr1\t10\t50\t1\t1\nchr2\t20\t50\t1\t1\n# a comment\nchrUn_KI270302v1\t30\t50\t1\t1\n",
    );
    let output = run(dir.path(), &["load", "contigs.txt", "-o", "contigs.h5"]);
    expect_code(&output, 3);
    let printed = crate::util::stderr(&output);
    assert_eq!(printed.lines().collect::<Vec<_>>(), shown[3..], "{printed}");
}

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

/// Every `[text](target)` in README.md and docs/*.md that is not a web or mail address
/// names a file of the repository, and every `#anchor`, alone or after a `.md` file, a
/// heading of that file.
#[test]
fn every_relative_link_and_anchor_resolves() {
    let problems = check_links(&repo(), &doc_files());
    assert!(
        problems.is_empty(),
        "links that do not resolve:\n{}",
        problems.join("\n")
    );
}

/// README.md links every file of docs/, so that none is found only by accident.
#[test]
fn the_readme_links_every_docs_file() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let linked: Vec<String> = links(&readme)
        .into_iter()
        .map(|target| target.split('#').next().unwrap().to_string())
        .collect();
    for file in doc_files().iter().skip(1) {
        let name = file.to_str().unwrap();
        assert!(
            linked.iter().any(|target| target == name),
            "README.md does not link {name}"
        );
    }
}

/// The check fails, naming the file, the link and what is missing: a file that does not
/// exist, a heading that does not exist (in the same file or another), a path out of the
/// repository. Links in code blocks and code spans, and web addresses, are not checked.
#[test]
fn the_link_check_names_the_file_the_link_and_what_is_missing() {
    let dir = TestDir::new();
    dir.write(
        "README.md",
        b"# Top\n\nSee [the guide](docs/guide.md#usage), [gone](docs/gone.md) and [up](../x.md).\n\
          [here](#top), [nowhere](#bottom), <https://example.org/>, [web](https://example.org/#x)\n\n\
          ```md\n[in a fence](fence.md)\n```\n\nAnd `[in a span](span.md)`.\n",
    );
    dir.write(
        "docs/guide.md",
        b"# Guide\n\n## Use\n\n## Use\n\n[dup](#use-1) [back](../README.md#top) [bad](../README.md#use-2)\n",
    );
    let problems = check_links(
        dir.path(),
        &[PathBuf::from("README.md"), PathBuf::from("docs/guide.md")],
    );
    assert_eq!(
        problems,
        [
            "README.md: link `docs/guide.md#usage`: no heading in docs/guide.md has the anchor `#usage`",
            "README.md: link `docs/gone.md`: no file docs/gone.md",
            "README.md: link `../x.md`: ../x.md is outside the repository",
            "README.md: link `#bottom`: no heading in README.md has the anchor `#bottom`",
            "docs/guide.md: link `../README.md#use-2`: no heading in README.md has the anchor `#use-2`",
        ]
    );
}

/// GitHub's anchors: lowercase, only letters, digits, spaces, hyphens and underscores kept,
/// spaces made hyphens, a repeated anchor numbered from 1.
#[test]
fn heading_anchors_follow_githubs_slug_rules() {
    let text = "# txt2h5\n\n### `/data` (or `--dataset NAME`)\n\n## Read it back: `inspect` and `export`\n\n\
                ## Shards, merge and Slurm\n\n### How `matrix` runs ##\n\n## Notes\n\n```sh\n# not a heading\n```\n\n\
                ## Notes\n\n## Notes\n\n## snake_case and [a link](x.md)\n";
    assert_eq!(
        anchors(text),
        [
            "txt2h5",
            "data-or---dataset-name",
            "read-it-back-inspect-and-export",
            "shards-merge-and-slurm",
            "how-matrix-runs",
            "notes",
            "notes-1",
            "notes-2",
            "snake_case-and-a-link",
        ]
    );
}

/// What is wrong with the relative links of `files` (paths relative to `root`), one line
/// each: the file, the link as written, and what is missing.
fn check_links(root: &Path, files: &[PathBuf]) -> Vec<String> {
    let mut headings: HashMap<PathBuf, Vec<String>> = HashMap::new();
    let mut problems = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        for target in links(&text) {
            let lower = target.to_ascii_lowercase();
            if ["http://", "https://", "mailto:"]
                .iter()
                .any(|scheme| lower.starts_with(scheme))
            {
                continue;
            }
            let (path, anchor) = match target.split_once('#') {
                Some((path, anchor)) => (path, Some(anchor)),
                None => (target.as_str(), None),
            };
            let linked = if path.is_empty() {
                file.clone()
            } else {
                match normalize(&file.parent().unwrap().join(path)) {
                    Some(linked) => linked,
                    None => {
                        problems.push(format!(
                            "{}: link `{target}`: {path} is outside the repository",
                            file.display()
                        ));
                        continue;
                    }
                }
            };
            if !root.join(&linked).exists() {
                problems.push(format!(
                    "{}: link `{target}`: no file {}",
                    file.display(),
                    linked.display()
                ));
                continue;
            }
            let Some(anchor) = anchor else { continue };
            if linked.extension().is_none_or(|ext| ext != "md") {
                continue;
            }
            let known = headings
                .entry(linked.clone())
                .or_insert_with(|| anchors(&std::fs::read_to_string(root.join(&linked)).unwrap()));
            if !known.iter().any(|known| known == anchor) {
                problems.push(format!(
                    "{}: link `{target}`: no heading in {} has the anchor `#{anchor}`",
                    file.display(),
                    linked.display()
                ));
            }
        }
    }
    problems
}

/// `path` with `.` and `..` resolved, or None if it leaves the directory it is relative to.
fn normalize(path: &Path) -> Option<PathBuf> {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !normal.pop() {
                    return None;
                }
            }
            Component::Normal(name) => normal.push(name),
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(normal)
}

/// The lines of `text` outside fenced code blocks, blank in their place (CommonMark: a fence
/// is three or more backticks or tildes, closed by a run of the same character at least as
/// long with nothing after it).
fn outside_fences(text: &str) -> Vec<&str> {
    let mut open: Option<(char, usize)> = None;
    let mut lines = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        let run = trimmed
            .chars()
            .next()
            .filter(|&c| c == '`' || c == '~')
            .map(|c| (c, trimmed.chars().take_while(|&d| d == c).count()))
            .filter(|&(_, n)| n >= 3);
        match (open, run) {
            (None, Some(fence)) => {
                open = Some(fence);
                lines.push("");
            }
            (Some((c, n)), Some((d, m)))
                if c == d && m >= n && trimmed[m * c.len_utf8()..].trim().is_empty() =>
            {
                open = None;
                lines.push("");
            }
            (Some(_), _) => lines.push(""),
            (None, None) => lines.push(line),
        }
    }
    lines
}

/// `block` without its code spans (a run of backticks up to the next run of the same
/// length; a run with no partner is literal text).
fn without_code_spans(block: &str) -> String {
    let mut out = String::new();
    let mut rest = block;
    while let Some(start) = rest.find('`') {
        out.push_str(&rest[..start]);
        let ticks = rest[start..].chars().take_while(|&c| c == '`').count();
        let after = &rest[start + ticks..];
        let mut search = 0;
        let mut close = None;
        while let Some(at) = after[search..].find('`') {
            let at = search + at;
            let run = after[at..].chars().take_while(|&c| c == '`').count();
            if run == ticks {
                close = Some(at);
                break;
            }
            search = at + run;
        }
        match close {
            Some(at) => rest = &after[at + ticks..],
            None => {
                out.push_str(&rest[start..start + ticks]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The targets of the inline links `[text](target)` and reference definitions
/// `[name]: target` of a Markdown text, outside code blocks and code spans.
fn links(text: &str) -> Vec<String> {
    let lines = outside_fences(text);
    let mut targets = Vec::new();
    // Code spans do not cross a blank line, so strip them paragraph by paragraph.
    for block in lines.split(|line| line.trim().is_empty()) {
        let block = without_code_spans(&block.join("\n"));
        for (at, _) in block.match_indices("](") {
            let rest = &block[at + 2..];
            let target = match rest.strip_prefix('<') {
                Some(inner) => inner.split('>').next().unwrap_or(""),
                None => rest
                    .split(|c: char| c == ')' || c.is_whitespace())
                    .next()
                    .unwrap_or(""),
            };
            targets.push(target.to_string());
        }
        for line in block.lines() {
            let line = line.trim_start();
            if let Some((label, target)) = line.strip_prefix('[').and_then(|l| l.split_once("]:")) {
                if !label.contains(']') {
                    if let Some(target) = target.split_whitespace().next() {
                        targets.push(target.to_string());
                    }
                }
            }
        }
    }
    targets
}

/// The anchors GitHub gives the ATX headings (`#` to `######`) of a Markdown text, in order.
fn anchors(text: &str) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut anchors = Vec::new();
    for line in outside_fences(text) {
        let line = line.trim_start();
        let level = line.chars().take_while(|&c| c == '#').count();
        if level == 0 || level > 6 {
            continue;
        }
        let rest = &line[level..];
        if !(rest.is_empty() || rest.starts_with(' ') || rest.starts_with('\t')) {
            continue;
        }
        // A closing run of `#` after a space is not part of the heading.
        let mut heading = rest.trim();
        let stripped = heading.trim_end_matches('#');
        if stripped.is_empty() || stripped.ends_with(' ') {
            heading = stripped.trim_end();
        }
        // A link in a heading gives its text, not its target.
        let mut shown = String::new();
        let mut rest = heading;
        while let Some(at) = rest.find("](") {
            shown.push_str(&rest[..at]);
            rest = rest[at..].split_once(')').map_or("", |(_, after)| after);
        }
        shown.push_str(rest);
        let slug: String = shown
            .to_lowercase()
            .chars()
            .filter(|&c| c.is_alphanumeric() || c == ' ' || c == '-' || c == '_')
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let count = seen.entry(slug.clone()).or_insert(0);
        anchors.push(if *count == 0 {
            slug
        } else {
            format!("{slug}-{count}")
        });
        *count += 1;
    }
    anchors
}
