//! Content checksums of input files, recorded in `/sources`.
//!
//! XXH3-128 over the file's bytes as stored (compressed bytes for gzip inputs), the value
//! Python's `xxhash.xxh3_128_hexdigest` gives (the interop tests compare them). It is not
//! cryptographic: it tells a changed file from an unchanged one, which is what resuming
//! and auditing a load need, at memory speed.

use std::fs::File;
use std::io::Read;

use xxhash_rust::xxh3::Xxh3;

use crate::error::{Error, Result};
use crate::input::discover::{check_size_read, Input};

/// The checksum of a file read in pieces (plain or BGZF), hashed on its own, beside the
/// parsing of its pieces; `scratch` is the worker's text buffer, lent for reading.
pub fn checksum_file(input: &Input, scratch: &mut [u8]) -> Result<u128> {
    let file = File::open(&input.path).map_err(|error| Error::io(&input.path, error))?;
    let mut reader = HashingReader::new(file);
    let bytes = reader
        .finish(scratch)
        .map_err(|error| Error::io(&input.path, error))?;
    check_size_read(input, bytes)?;
    Ok(reader.digest())
}

/// A reader that hashes and counts every byte read through it.
pub struct HashingReader<R> {
    inner: R,
    hasher: Xxh3,
    bytes: u64,
    /// Set when the inner reader failed, so callers can tell I/O errors from bad data.
    pub io_failed: bool,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: Xxh3::new(),
            bytes: 0,
            io_failed: false,
        }
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The checksum of everything read so far.
    pub fn digest(&self) -> u128 {
        self.hasher.digest128()
    }

    /// Reads the rest of the inner reader into the hash, returning the total bytes seen.
    pub fn finish(&mut self, scratch: &mut [u8]) -> std::io::Result<u64> {
        while self.read(scratch)? > 0 {}
        Ok(self.bytes)
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self
            .inner
            .read(buf)
            .inspect_err(|_| self.io_failed = true)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_one_shot_xxh3_128() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut reader = HashingReader::new(&data[..]);
        let mut scratch = [0u8; 4096];
        assert_eq!(reader.finish(&mut scratch).unwrap(), data.len() as u64);
        assert_eq!(reader.digest(), xxhash_rust::xxh3::xxh3_128(&data));
    }
}
