//! `txt2h5 completions` and `txt2h5 man`: the bash script completes what the program
//! accepts (driven through bash's own completion machinery), and the man pages are roff
//! that `man` renders.

use std::process::Command;

use crate::util::{expect_code, run, TestDir};

/// What bash's completion of `line` (the cursor at its end) offers, after sourcing the
/// script txt2h5 prints: the words of `COMPREPLY`, as `complete -F` would show them.
fn bash_completes(dir: &TestDir, line: &str) -> Vec<String> {
    let script = format!(
        r#"source ./txt2h5.bash
complete -p txt2h5 > /dev/null || exit 9
COMP_LINE="{line}"
COMP_POINT=${{#COMP_LINE}}
read -ra COMP_WORDS <<< "$COMP_LINE"
[[ "$COMP_LINE" == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
_txt2h5 txt2h5 "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}"
"#
    );
    let output = Command::new("bash")
        .current_dir(dir.path())
        .args(["--norc", "--noprofile", "-c", &script])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "bash: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completes_commands_formats_and_codecs() {
    let dir = TestDir::new();
    let output = run(dir.path(), &["completions", "bash"]);
    expect_code(&output, 0);
    dir.write("txt2h5.bash", &output.stdout);
    let words = bash_completes(&dir, "txt2h5 ma");
    assert_eq!(words, ["matrix", "man"], "{words:?}");
    let words = bash_completes(&dir, "txt2h5 ");
    for command in [
        "load",
        "merge",
        "inspect",
        "export",
        "matrix",
        "completions",
        "man",
    ] {
        assert!(
            words.iter().any(|word| word == command),
            "{command}: {words:?}"
        );
    }
    let formats = bash_completes(&dir, "txt2h5 load --format ");
    for format in [
        "auto",
        "native",
        "bismark-cov",
        "bismark-report",
        "bedmethyl",
        "allc",
    ] {
        assert!(
            formats.iter().any(|word| word == format),
            "{format}: {formats:?}"
        );
    }
    let codecs = bash_completes(&dir, "txt2h5 matrix --compression z");
    assert!(
        codecs.iter().all(|word| word.starts_with('z')),
        "{codecs:?}"
    );
    assert!(codecs.iter().any(|word| word == "zstd:1"), "{codecs:?}");
    let flags = bash_completes(&dir, "txt2h5 matrix --str");
    assert_eq!(flags, ["--strand-collapse"]);
    // Each shell clap_complete supports gets a script.
    for shell in ["zsh", "fish"] {
        let output = run(dir.path(), &["completions", shell]);
        expect_code(&output, 0);
        assert!(
            String::from_utf8_lossy(&output.stdout).contains("strand-collapse"),
            "{shell}"
        );
    }
}

/// The pages are roff with the options of each command, and `man -l` (where man is
/// installed) renders them.
#[test]
fn man_pages_are_written_for_every_command() {
    let dir = TestDir::new();
    let output = run(dir.path(), &["man", "--dir", "man"]);
    expect_code(&output, 0);
    for command in ["", "-load", "-merge", "-inspect", "-export", "-matrix"] {
        let page = dir.path().join(format!("man/txt2h5{command}.1"));
        let roff = std::fs::read_to_string(&page).unwrap();
        assert!(roff.starts_with(".ie \\n(.g .ds Aq"), "{}", page.display());
        assert!(roff.contains(".TH txt2h5"), "{}", page.display());
    }
    let load = std::fs::read_to_string(dir.path().join("man/txt2h5-load.1")).unwrap();
    assert!(load.contains("\\-\\-format") && load.contains("\\-\\-wide\\-pos"));
    let rendered = Command::new("man")
        .current_dir(dir.path())
        .env("MANWIDTH", "100")
        .args(["-l", "man/txt2h5-matrix.1"])
        .output();
    match rendered {
        Ok(output) if output.status.success() => {
            let text = String::from_utf8_lossy(&output.stdout);
            assert!(text.contains("--strand-collapse"), "{text}");
        }
        // No man (or no groff behind it) on this system: the roff checks above stand.
        _ => {}
    }
}

/// `scripts/install PREFIX` puts a txt2h5 that runs from anywhere, with a clean
/// environment, in PREFIX/bin, its man pages and the completions for three shells beside
/// it; the binary needs no shared library but the C runtime's.
#[test]
fn install_puts_a_working_txt2h5_under_the_prefix() {
    let dir = TestDir::new();
    let prefix = dir.path().join("prefix");
    let output = Command::new(crate::util::repo().join("scripts/install"))
        .arg(&prefix)
        .env("TXT2H5_INSTALL_BINARY", crate::util::binary())
        .output()
        .unwrap();
    expect_code(&output, 0);
    let installed = prefix.join("bin/txt2h5");
    let version = Command::new(&installed)
        .arg("--version")
        .current_dir("/")
        .env_clear()
        .output()
        .unwrap();
    expect_code(&version, 0);
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("txt2h5 "));
    for file in [
        "share/man/man1/txt2h5.1",
        "share/man/man1/txt2h5-matrix.1",
        "share/bash-completion/completions/txt2h5",
        "share/zsh/site-functions/_txt2h5",
        "share/fish/vendor_completions.d/txt2h5.fish",
    ] {
        let path = prefix.join(file);
        assert!(
            std::fs::metadata(&path).is_ok_and(|meta| meta.len() > 100),
            "{}",
            path.display()
        );
    }
    // ldd is part of every glibc system (Debian's libc-bin).
    if let Ok(ldd) = Command::new("ldd").arg(&installed).output() {
        let libraries = String::from_utf8_lossy(&ldd.stdout);
        for line in libraries.lines() {
            let name = line.split_whitespace().next().unwrap_or("");
            let runtime = [
                "linux-vdso",
                "libc.so",
                "libm.so",
                "libgcc_s.so",
                "ld-linux",
            ]
            .iter()
            .any(|known| name.contains(known));
            assert!(runtime, "the binary needs {name}:\n{libraries}");
        }
    }
}
