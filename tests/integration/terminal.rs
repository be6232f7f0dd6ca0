//! A pseudo-terminal and signals driven from the test itself, so the suite needs no
//! `script` (util-linux) or `kill` (procps), which minimal systems and slim containers lack.

use std::fs::File;
use std::io::Read;
use std::process::{Child, Command, Output, Stdio};

use rustix::pty::{grantpt, openpt, ptsname, unlockpt, OpenptFlags};
use rustix::termios::{tcsetwinsize, Winsize};

/// Runs `command` with its stderr on a fresh pseudo-terminal (stdout piped) and returns its
/// output, with everything it wrote to the terminal in `stderr`. The terminal says it is
/// an `xterm`, as a terminal emulator does, unless `command` sets `TERM` itself: a run
/// with `env -i` (CI, a minimal root) has no `TERM`, and progress bars need one.
pub fn output_on_terminal(mut command: Command) -> Output {
    if !command.get_envs().any(|(name, _)| name == "TERM") {
        command.env("TERM", "xterm");
    }
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).unwrap();
    grantpt(&master).unwrap();
    unlockpt(&master).unwrap();
    // A real terminal has a size; progress bars ask for it.
    let size = Winsize {
        ws_row: 24,
        ws_col: 100,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    tcsetwinsize(&master, size).unwrap();
    let slave_path = ptsname(&master, Vec::new()).unwrap();
    let slave = File::options()
        .read(true)
        .write(true)
        .open(slave_path.to_str().unwrap())
        .unwrap();
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(slave))
        .spawn()
        .unwrap();
    // The slave now lives only in the child: when it exits, reads of the master end.
    drop(command);
    let mut master = File::from(master);
    let reader = std::thread::spawn(move || {
        let mut screen = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match master.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => screen.extend_from_slice(&buf[..n]),
                // Linux reports EIO once every slave descriptor is closed.
                Err(error)
                    if error.raw_os_error() == Some(rustix::io::Errno::IO.raw_os_error()) =>
                {
                    break
                }
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                Err(error) => panic!("reading the pseudo-terminal: {error}"),
            }
        }
        screen
    });
    let mut output = child.wait_with_output().unwrap();
    output.stderr = reader.join().unwrap();
    output
}

/// Sends `signal` to `child`, as `kill -SIG PID` would.
pub fn send_signal(child: &Child, signal: rustix::process::Signal) {
    rustix::process::kill_process(rustix::process::Pid::from_child(child), signal).unwrap();
}
