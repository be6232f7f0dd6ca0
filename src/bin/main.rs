//! The `txt2h5` executable: a thin shell over the library.

fn main() -> std::process::ExitCode {
    txt2h5::main()
}
