//! The first bytes of an input's text (inflated, for compressed files): what `--format
//! auto` and the methylKit preset look at before the load reads the file in pieces.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};
use crate::input::encoding::Encoding;

pub use crate::defaults::HEAD_BYTES;

/// Reads the first [`HEAD_BYTES`] of text; the flag says whether that is the whole file.
pub fn read_head(path: &Path, encoding: Encoding) -> Result<(Vec<u8>, bool)> {
    let file = std::fs::File::open(path).map_err(|error| Error::io(path, error))?;
    let mut reader: Box<dyn Read> = match encoding {
        Encoding::Plain => Box::new(file),
        Encoding::Gzip { .. } => Box::new(flate2::read::MultiGzDecoder::new(
            std::io::BufReader::new(file),
        )),
    };
    let mut head = Vec::with_capacity(HEAD_BYTES);
    if let Err(error) = reader
        .by_ref()
        .take(HEAD_BYTES as u64 + 1)
        .read_to_end(&mut head)
    {
        let corrupt = || Error::BadInput {
            path: path.to_path_buf(),
            message: format!("gzip data is corrupt or truncated: {error}"),
        };
        return match encoding {
            Encoding::Plain => Err(Error::io(path, error)),
            // Damage past the first line is the load's to report, with its position (a
            // BGZF block's offset, a line number): decide from the lines before it.
            Encoding::Gzip { .. } if head.contains(&b'\n') => Ok((head, false)),
            Encoding::Gzip { .. } => Err(corrupt()),
        };
    }
    let complete = head.len() <= HEAD_BYTES;
    head.truncate(HEAD_BYTES);
    Ok((head, complete))
}
