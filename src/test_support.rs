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

/// A deterministic xorshift64 stream: `next(below)` is a value in `0..below`. Tests that
/// need varied data without a random-number dependency draw from it.
pub fn xorshift(seed: u64) -> impl FnMut(u64) -> u64 {
    let mut state = seed;
    move |below| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % below
    }
}

/// `len` bytes that do not compress, from [`xorshift`].
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut next = xorshift(seed);
    (0..len).map(|_| next(256) as u8).collect()
}
