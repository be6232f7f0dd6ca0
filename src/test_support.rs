//! Helpers shared by unit tests.

use std::fs::File;
use std::io::Write;

/// A temporary file holding `bytes`, and that file opened for reading.
pub fn file_with(bytes: &[u8]) -> (tempfile::NamedTempFile, File) {
    let mut temp = tempfile::NamedTempFile::new().unwrap();
    temp.write_all(bytes).unwrap();
    let file = File::open(temp.path()).unwrap();
    (temp, file)
}
