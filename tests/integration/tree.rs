//! The source tree's shape: stages depend downwards, so no file imports another that
//! imports it back, and no top module (`src/a.rs` with `src/a/`) imports one that imports
//! it. `scripts/tree-report --check` measures it from the `use` lines and code paths.

use std::process::Command;

use crate::util::{python, repo, TestDir};

/// `scripts/tree-report --check ROOT`: exit status and stdout.
fn tree_report(root: &std::path::Path) -> (Option<i32>, String) {
    let output = Command::new(python())
        .arg(repo().join("scripts/tree-report"))
        .arg("--check")
        .arg(root)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn the_source_tree_has_no_import_cycle() {
    let (code, report) = tree_report(&repo());
    assert!(
        report.contains("\n0 import cycles:\n")
            && report.contains("\n0 import cycles between top modules:\n"),
        "{report}"
    );
    assert_eq!(code, Some(0), "{report}");
}

/// The check finds what it looks for: a circle of files through a `use` line, a code path
/// and a parent's re-export, and a circle of top modules, in a tree made for it; tests
/// (`#[cfg(test)]`) and a parent's `mod` lines are not imports.
#[test]
fn the_cycle_check_finds_a_circle_of_files_and_of_top_modules() {
    let dir = TestDir::new();
    dir.write("clean/src/lib.rs", b"pub mod a;\npub mod b;\n");
    dir.write(
        "clean/src/a.rs",
        b"pub mod inner;\npub use inner::Thing;\nuse crate::b::helper;\n\n#[cfg(test)]\nmod tests {\n    use crate::b::helper;\n}\n",
    );
    dir.write("clean/src/a/inner.rs", b"pub struct Thing;\n");
    dir.write(
        "clean/src/b.rs",
        b"pub fn helper() {}\n#[cfg(test)]\nmod tests {\n    use crate::a::Thing;\n}\n",
    );
    let (code, report) = tree_report(&dir.join("clean"));
    assert_eq!(code, Some(0), "{report}");

    dir.write("files/src/lib.rs", b"pub mod a;\n");
    dir.write(
        "files/src/a.rs",
        b"pub mod x;\npub mod y;\npub use y::Later;\n",
    );
    dir.write(
        "files/src/a/x.rs",
        b"use crate::a::Later;\npub struct First;\n",
    );
    dir.write(
        "files/src/a/y.rs",
        b"pub struct Later;\nfn f() { let _ = crate::a::x::First; }\n",
    );
    let (code, report) = tree_report(&dir.join("files"));
    assert_eq!(code, Some(1), "{report}");
    assert!(report.contains("cycle: src/a/x.rs, src/a/y.rs"), "{report}");

    dir.write("tops/src/lib.rs", b"pub mod a;\npub mod b;\n");
    dir.write(
        "tops/src/a.rs",
        b"pub mod deep;\nuse crate::b::B;\npub struct A;\n",
    );
    dir.write("tops/src/a/deep.rs", b"pub struct D;\n");
    dir.write("tops/src/b.rs", b"use crate::a::deep::D;\npub struct B;\n");
    let (code, report) = tree_report(&dir.join("tops"));
    assert_eq!(code, Some(1), "{report}");
    assert!(
        report.contains("1 import cycles between top modules:\n  cycle: a, b"),
        "{report}"
    );
}
