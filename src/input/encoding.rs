//! What kind of bytes an input holds, told by its content, never its name.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// How an input is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// Uncompressed text: read in parallel, newline-aligned pieces.
    Plain,
    /// gzip, single- or multi-member; `bgzf` when the first member carries the BGZF `BC`
    /// extra field (bgzip output).
    Gzip { bgzf: bool },
}

impl Encoding {
    pub fn name(&self) -> &'static str {
        match self {
            Encoding::Plain => "text",
            Encoding::Gzip { bgzf: false } => "gzip",
            Encoding::Gzip { bgzf: true } => "bgzf",
        }
    }

    /// Looks at the first bytes of `path`.
    pub fn detect(path: &Path) -> Result<Encoding> {
        let mut head = [0u8; 18];
        let mut file = std::fs::File::open(path).map_err(|error| Error::io(path, error))?;
        let mut filled = 0;
        while filled < head.len() {
            match file.read(&mut head[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                Err(error) => return Err(Error::io(path, error)),
            }
        }
        Self::from_magic(&head[..filled]).map_err(|name| Error::BadInput {
            path: path.to_path_buf(),
            message: format!(
                "{name}-compressed input is not supported; decompress it first \
                 or recompress it with gzip or bgzip"
            ),
        })
    }

    /// Classifies a file by its leading bytes; `Err` names an unsupported compression.
    pub fn from_magic(head: &[u8]) -> std::result::Result<Encoding, &'static str> {
        const GZIP: &[u8] = &[0x1f, 0x8b];
        if head.starts_with(GZIP) {
            // RFC 1952 header: FLG bit 2 is FEXTRA; BGZF puts SI1='B', SI2='C' first.
            let bgzf =
                head.len() >= 14 && head[3] & 0x04 != 0 && head[12] == b'B' && head[13] == b'C';
            return Ok(Encoding::Gzip { bgzf });
        }
        for (magic, name) in [
            (&[0x28, 0xb5, 0x2f, 0xfd][..], "zstd"),
            (b"BZh", "bzip2"),
            (&[0xfd, b'7', b'z', b'X', b'Z', 0x00], "xz"),
            (b"PK\x03\x04", "zip"),
        ] {
            if head.starts_with(magic) {
                return Err(name);
            }
        }
        Ok(Encoding::Plain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_numbers() {
        assert_eq!(Encoding::from_magic(b"chr1\t1"), Ok(Encoding::Plain));
        assert_eq!(Encoding::from_magic(b""), Ok(Encoding::Plain));
        assert_eq!(
            Encoding::from_magic(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]),
            Ok(Encoding::Gzip { bgzf: false })
        );
        let bgzf = [
            0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 0xff, 6, 0, b'B', b'C', 2, 0,
        ];
        assert_eq!(
            Encoding::from_magic(&bgzf),
            Ok(Encoding::Gzip { bgzf: true })
        );
        assert_eq!(
            Encoding::from_magic(&[0x28, 0xb5, 0x2f, 0xfd, 0]),
            Err("zstd")
        );
        assert_eq!(Encoding::from_magic(b"BZh91AY"), Err("bzip2"));
    }
}
