//! Why a file cannot be read as a txt2h5 output, each cause its own variant so that the
//! command maps it to its exit code.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::index::IndexMismatch;
use super::sources::SourcesMismatch;

/// Why a file cannot be read as a txt2h5 output. Each cause has its own exit code: a file
/// that cannot be read is an I/O failure, a file that is not ours or not consistent a
/// usage error.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The file cannot be opened or read (permissions, a symlink loop, a disk error).
    #[error("{0}")]
    Io(#[source] std::io::Error),
    /// Readable, but not an HDF5 file written by txt2h5.
    #[error("not a txt2h5 output: {0}")]
    NotOurs(String),
    /// A txt2h5 output whose metadata disagrees with itself or its rows.
    #[error("not a consistent txt2h5 output: {0}")]
    Inconsistent(Box<Inconsistent>),
    /// A part of a `merge --virtual` dataset that cannot be read.
    #[error("not a txt2h5 output: {0}")]
    Part(Box<PartFailure>),
    /// An HDF5 file the library fails to read (corrupt or truncated).
    #[error("HDF5 error: {0}")]
    Hdf5(#[from] hdf5::Error),
}

// Boxed: the common case, `Ok`, should not carry the size of the rarest error.
impl From<Inconsistent> for OpenError {
    fn from(inconsistent: Inconsistent) -> Self {
        OpenError::Inconsistent(Box::new(inconsistent))
    }
}

/// A part of a `merge --virtual` dataset that cannot be read, and where it maps.
#[derive(Debug, thiserror::Error)]
#[error(
    "a part of the virtual dataset {}, rows {first_row}..{end_row}: {why}",
    study.display()
)]
pub struct PartFailure {
    pub study: PathBuf,
    pub first_row: u64,
    pub end_row: u64,
    pub why: PartError,
}

/// What is wrong with a txt2h5 output's metadata.
#[derive(Debug, thiserror::Error)]
pub enum Inconsistent {
    /// A dataset's extent that its file cannot hold (crafted or damaged), refused before it
    /// sizes a buffer.
    #[error("{0}")]
    Extent(String),
    #[error("it has no {0}")]
    Missing(String),
    #[error("{member} is {kind}; txt2h5 reads only objects stored in the file itself")]
    Link { member: String, kind: &'static str },
    #[error("{0} is not a dataset")]
    NotDataset(String),
    #[error("{0} is not a group")]
    NotGroup(String),
    #[error("{member} has {rank} dimensions, not 1")]
    Rank { member: String, rank: usize },
    #[error("{member} has chunks of {chunk_rows} rows, which HDF5 does not store")]
    ChunkSize { member: String, chunk_rows: usize },
    #[error(
        "{member} claims {rows} rows in {expected} chunks of {chunk_rows} rows, but only \
         {stored} are stored: chunk {missing} (rows {first_row}..{end_row}) was never written, \
         and its rows would read as fill values\n  hint: the dataset was grown without writing \
         its rows; load the original files again"
    )]
    Unwritten {
        member: String,
        rows: u64,
        chunk_rows: usize,
        expected: u64,
        stored: u64,
        missing: u64,
        first_row: u64,
        end_row: u64,
    },
    #[error(
        "{member} has chunks of {chunk_rows} rows ({chunk_bytes} bytes) for {rows} rows; \
         txt2h5 reads a chunk of more than {max_bytes} bytes only where its rows fill one, as \
         each read decodes a whole chunk\n  hint: load the original files again with a \
         --chunk-rows their rows fill, or rewrite /data in smaller chunks (h5repack -l \
         /data:CHUNK=65536 IN.h5 OUT.h5)"
    )]
    SparseChunk {
        member: String,
        chunk_rows: usize,
        chunk_bytes: u64,
        rows: u64,
        max_bytes: u64,
    },
    #[error(transparent)]
    Sources(#[from] SourcesMismatch),
    #[error(transparent)]
    Index(#[from] IndexMismatch),
    #[error(transparent)]
    Virtual(#[from] VirtualMismatch),
}

/// What is wrong with the mappings of a `merge --virtual` dataset.
#[derive(Debug, thiserror::Error)]
pub enum VirtualMismatch {
    #[error(
        "its virtual dataset's mapping {mapping} selects from a {space} of {rank} dimensions; \
         txt2h5 maps one-dimensional parts"
    )]
    Rank {
        mapping: usize,
        space: &'static str,
        rank: i32,
    },
    #[error(
        "its virtual dataset's mapping {mapping} does not map one range of rows to one range \
         of rows of the same length"
    )]
    NotARange { mapping: usize },
    #[error("its virtual dataset does not map whole parts, one after another")]
    NotWholeParts,
    #[error("its virtual dataset maps {mapped} rows of {rows}")]
    Rows { mapped: u64, rows: u64 },
}

/// Why a part of a `merge --virtual` dataset cannot be read with the virtual dataset's
/// schema. Shared (`Arc`) where it holds an open error, so that a study can be cloned.
#[derive(Clone, Debug, thiserror::Error)]
pub enum PartError {
    #[error("missing")]
    Missing,
    #[error("cannot open it: {0}")]
    Open(hdf5::Error),
    #[error("it has no dataset {0:?}")]
    NoDataset(String),
    #[error("it has {found} rows, the mapping {mapped}")]
    TooFewRows { found: u64, mapped: u64 },
    #[error("its records are ({found}), the virtual dataset's ({expected})")]
    OtherSchema { found: String, expected: String },
    #[error("{0}")]
    Unreadable(Arc<OpenError>),
}

impl OpenError {
    /// The run's error for `path`, which was opened to `purpose` ("merge", "append to").
    pub fn into_error(self, path: &Path, purpose: &str) -> crate::error::Error {
        use crate::error::Error;
        match self {
            OpenError::Io(source) => Error::io(path, source),
            OpenError::Hdf5(source) => Error::hdf5(path, source),
            error @ (OpenError::NotOurs(_)
            | OpenError::Inconsistent(_)
            | OpenError::Part { .. }) => {
                Error::usage(format!("{}: cannot {purpose} it: {error}", path.display()))
            }
        }
    }
}
