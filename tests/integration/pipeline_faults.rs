//! Faults of the load pipeline's environment: memory and open-file limits, inputs that
//! change or end early, signals at any moment. Each fails cleanly: the documented exit
//! code, a message that says what to do, and no output or temporary file left behind.

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{Resource, Rlimit, Signal};

use crate::generate::{bgzf, methylation_text};
use crate::terminal::send_signal;
use crate::util::{expect_code, h5check, stderr, txt2h5, TestDir, BAD_DATA};

/// The address-space limit of the regression: `ulimit -v 300000`, as SGE's `h_vmem` and
/// some clusters set it.
const CLUSTER_LIMIT_KIB: u64 = 300_000;

/// `txt2h5 ARGS...` in `dir` with `resource` limited to `limit` in the child only.
fn limited(dir: &TestDir, resource: Resource, limit: u64, args: &[&str]) -> Command {
    let mut command = txt2h5();
    command.current_dir(dir.path()).args(args);
    let limit = Rlimit {
        current: Some(limit),
        maximum: Some(limit),
    };
    // SAFETY: the closure runs in the child between fork and exec, where only
    // async-signal-safe work is allowed: it makes one setrlimit system call and allocates
    // nothing (`Rlimit` is copied in, the error conversion builds no heap value).
    unsafe {
        command.pre_exec(move || {
            rustix::process::setrlimit(resource, limit).map_err(std::io::Error::from)
        });
    }
    command
}

/// The directory holds exactly `names` (no output, no temporary file).
fn assert_only(dir: &TestDir, names: &[&str]) {
    assert_eq!(dir.entries(), names, "files left behind");
}

/// Regression: under `ulimit -v 300000` a default load at `-j 2` aborted ("memory
/// allocation of 1703936 bytes failed", exit 134) because glibc gave each thread a 64 MiB
/// malloc arena: 352 MB of address space for 38 MiB resident. It now fits, and its output
/// is what numpy reads from the input.
#[test]
fn a_default_load_fits_in_a_cluster_memory_limit() {
    let dir = TestDir::new();
    dir.write("in.txt", &methylation_text(7, 200_000));
    let output = limited(
        &dir,
        Resource::As,
        CLUSTER_LIMIT_KIB * 1024,
        &["load", "in.txt", "-o", "out.h5", "-j", "2"],
    )
    .output()
    .unwrap();
    expect_code(&output, 0);
    assert_eq!(
        h5check(dir.path(), &["loadtxt", "out.h5", "10", "in.txt"]).trim(),
        "equal rows=200000"
    );
}

/// Regression: a buffer that did not fit the address space aborted the process (exit 134,
/// a backtrace, the temporary file left) or named a non-path ("record buffer (anonymous
/// mmap): Cannot allocate memory"). Now: exit 1, how much for what, a hint, no file left.
#[test]
fn running_out_of_memory_is_exit_1_with_a_hint_and_nothing_left_behind() {
    let dir = TestDir::new();
    dir.write("in.txt", &methylation_text(8, 1_000));
    // More records of 26 bytes than the limit allows, for each of the pipeline's two big
    // buffers in turn: 20 million (496 MiB) for a record buffer, and 10 million (248 MiB,
    // under the 256 MiB bound of a chunk) for a chunk under a lower limit.
    for (knob, rows, limit_kib, size, what) in [
        (
            "--buffer-rows",
            "20000000",
            CLUSTER_LIMIT_KIB,
            "495.9 MiB",
            "MiB for a record buffer",
        ),
        (
            "--chunk-rows",
            "10000000",
            CLUSTER_LIMIT_KIB * 2 / 3,
            "248.0 MiB",
            "MiB for a chunk of the output",
        ),
    ] {
        let output = limited(
            &dir,
            Resource::As,
            limit_kib * 1024,
            &["load", "in.txt", "-o", "out.h5", knob, rows],
        )
        .output()
        .unwrap();
        expect_code(&output, 1);
        let message = stderr(&output);
        assert!(
            message.contains(&format!("error: cannot allocate {size}"))
                && message.contains(what)
                && message.contains("hint: use fewer threads (-j) or a higher memory limit"),
            "{knob}: {message}"
        );
        assert!(!message.contains("panicked"), "{message}");
        assert_only(&dir, &["in.txt"]);
    }
}

/// With fewer file descriptors than a load needs, the open that fails is an error naming
/// the file (exit 1), and nothing is left behind; the same load with room succeeds.
#[test]
fn an_open_file_limit_is_a_clear_error_without_partial_output() {
    let dir = TestDir::new();
    let mut args = vec!["load".to_string()];
    for file in 0..40 {
        let name = format!("in_{file:02}.txt");
        dir.write(&name, &methylation_text(file, 50));
        args.push(name);
    }
    args.extend(["-o", "out.h5", "-j", "2"].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let inputs = dir.entries();
    let mut failures = 0;
    for limit in [4, 6, 8, 10, 12, 16, 64] {
        let output = limited(&dir, Resource::Nofile, limit, &args)
            .output()
            .unwrap();
        let message = stderr(&output);
        match output.status.code() {
            Some(0) => {
                let loaded = std::fs::remove_file(dir.join("out.h5"));
                assert!(loaded.is_ok(), "limit {limit}: exit 0 without an output");
            }
            Some(1) => {
                failures += 1;
                assert!(
                    message.contains("Too many open files") || message.contains("HDF5 error"),
                    "limit {limit}: {message}"
                );
                assert!(!message.contains("panicked"), "limit {limit}: {message}");
            }
            code => panic!("limit {limit}: exit {code:?}\n{message}"),
        }
        assert_eq!(dir.entries(), inputs, "limit {limit}: files left behind");
    }
    assert!(failures > 0, "no limit was low enough to fail");
}

/// Starts a slow load of `input` (one thread, deflate level 9) and waits until it writes
/// chunks: by then it has recorded every input's size and, at `-j 1`, finished hashing
/// (the checksum unit runs before any piece). Returns the stopped child.
fn stopped_mid_load(dir: &TestDir, input: &str) -> std::process::Child {
    let mut child = txt2h5()
        .current_dir(dir.path())
        .args(["load", input, "-o", "out.h5", "-j", "1"])
        .args(["--compression", "gzip:9", "--piece-bytes", "65536"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let partial = dir
            .entries()
            .into_iter()
            .find(|name| name.ends_with(".txt2h5-partial"));
        let size = partial
            .and_then(|name| std::fs::metadata(dir.join(&name)).ok())
            .map_or(0, |metadata| metadata.len());
        if size > 256 * 1024 {
            break;
        }
        assert!(Instant::now() < deadline, "the load wrote no chunks");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the load finished before the test could act"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    send_signal(&child, Signal::STOP);
    child
}

/// Regression: an input that grew while it was loaded (a caller still writing it) was
/// read up to its starting size with exit 0, its later rows lost. The size and mtime are
/// now checked again once the file's last byte is read: exit 3, nothing written. Plain and
/// BGZF inputs; the growth happens while the load is stopped, so timing does not matter.
#[test]
fn an_input_that_grows_during_the_load_is_an_error() {
    let text = methylation_text(11, 600_000);
    for (name, bytes, more) in [
        ("big.txt", text.clone(), b"chr9 1 50.0 1 1\n".to_vec()),
        (
            "big.txt.gz",
            bgzf(&text, 65_280),
            bgzf(b"chr9 1 50.0 1 1\n", 65_280),
        ),
    ] {
        let dir = TestDir::new();
        dir.write(name, &bytes);
        let child = stopped_mid_load(&dir, name);
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(dir.join(name))
            .unwrap();
        std::io::Write::write_all(&mut file, &more).unwrap();
        drop(file);
        send_signal(&child, Signal::CONT);
        let output = child.wait_with_output().unwrap();
        expect_code(&output, BAD_DATA);
        let message = stderr(&output);
        assert!(
            message.contains(&format!("{name}: the file changed"))
                && message.contains("while it was being loaded"),
            "{name}: {message}"
        );
        assert_only(&dir, &[name]);
    }
}

/// Regression: a BGZF file without its end-of-file block loaded with exit 0; cut at a
/// block boundary it lost its later rows without a word. Now both are exit 3 naming the
/// file and the missing block, and a whole file still loads.
#[test]
fn a_bgzf_file_without_its_end_of_file_block_is_refused() {
    let dir = TestDir::new();
    let text = methylation_text(12, 5_000);
    // Blocks that end at a line end, as a cut that parses cleanly: the first half of the
    // lines, then the rest, as one BGZF file.
    let middle = text[..text.len() / 2]
        .iter()
        .rposition(|&byte| byte == b'\n')
        .unwrap()
        + 1;
    let first = bgzf(&text[..middle], 10_000);
    let mut whole = first[..first.len() - 28].to_vec();
    whole.extend_from_slice(&bgzf(&text[middle..], 10_000));
    let cut = first.len() - 28;
    let eof_block = whole.len() - 28;
    dir.write("cut.txt.gz", &whole[..cut]);
    dir.write("no_eof.txt.gz", &whole[..eof_block]);
    dir.write("whole.txt.gz", &whole);
    for name in ["cut.txt.gz", "no_eof.txt.gz"] {
        let output = Command::new(crate::util::binary())
            .current_dir(dir.path())
            .args(["load", name, "-o", "out.h5"])
            .output()
            .unwrap();
        expect_code(&output, BAD_DATA);
        let message = stderr(&output);
        assert!(
            message.contains(&format!("{name}: the BGZF end-of-file block is missing"))
                && message.contains("probably truncated")
                && message.contains("hint:"),
            "{name}: {message}"
        );
        assert!(!dir.join("out.h5").exists());
    }
    let output = Command::new(crate::util::binary())
        .current_dir(dir.path())
        .args(["load", "whole.txt.gz", "-o", "out.h5"])
        .output()
        .unwrap();
    expect_code(&output, 0);
    assert_only(
        &dir,
        &["cut.txt.gz", "no_eof.txt.gz", "out.h5", "whole.txt.gz"],
    );
}

/// SIGTERM at moments spread over a whole load (before the handlers are installed, while
/// planning, parsing, writing, finishing): the run either ends by the signal, leaving
/// nothing, or had already finished with a complete output. Never a partial file.
#[test]
fn a_signal_at_any_moment_leaves_nothing_or_a_complete_output() {
    let dir = TestDir::new();
    dir.write("in.txt", &methylation_text(13, 100_000));
    for delay_ms in [0, 1, 3, 10, 30, 60, 100, 200, 400, 800] {
        let child = txt2h5()
            .current_dir(dir.path())
            .args(["load", "in.txt", "-o", "out.h5", "--force", "-j", "2"])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ =
            rustix::process::kill_process(rustix::process::Pid::from_child(&child), Signal::TERM);
        let output = child.wait_with_output().unwrap();
        match output.status.code() {
            // Finished before the signal: the output is whole.
            Some(0) => {
                assert_eq!(
                    h5check(dir.path(), &["loadtxt", "out.h5", "10", "in.txt"]).trim(),
                    "equal rows=100000"
                );
                std::fs::remove_file(dir.join("out.h5")).unwrap();
            }
            Some(143) => assert!(stderr(&output).contains("interrupted by signal 15")),
            // Killed before the handlers were installed: nothing was created yet.
            None => {}
            code => panic!("after {delay_ms} ms: exit {code:?}\n{}", stderr(&output)),
        }
        assert_only(&dir, &["in.txt"]);
    }
}

/// Regression: the error for `--skip-lines` reaching past a file's first piece held a run
/// of 18 spaces from a lost line continuation.
#[test]
fn the_skip_lines_error_reads_as_one_sentence() {
    let dir = TestDir::new();
    dir.write("in.txt", &methylation_text(14, 200));
    let output = crate::util::run(
        dir.path(),
        &[
            "load",
            "in.txt",
            "-o",
            "out.h5",
            "--columns",
            "chr=1,pos=2,pct=3,c=4,t=5",
            "--skip-lines",
            "150",
            "--piece-bytes",
            "256",
        ],
    );
    expect_code(&output, 2);
    let message = stderr(&output);
    assert!(
        message.contains("--skip-lines reaches past the first piece of the file (")
            && message.contains("lines were still to skip); skip fewer lines"),
        "{message}"
    );
    assert!(!message.contains("   "), "a run of spaces: {message:?}");
    assert_only(&dir, &["in.txt"]);
}
