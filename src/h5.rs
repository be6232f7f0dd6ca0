//! Everything that touches HDF5: txt2h5 files written and read back, in one module as
//! noodles keeps a format's reader and writer together.
//!
//! ```text
//! study write:  writer (/data chunk by chunk) ─► sources, index, attributes ─► close
//! study read:   open (every check) ─► study (Study, ExistingOutput) ─► rows (RowReader)
//! matrix:       matrix (MatrixWriter: M, Cov, beta, /rows, /samples; matrix_summary)
//! beneath all:  ffi (each raw C call and its checks), plugins (the zstd, lz4 and blosc
//!               filters registered, each a txt2h5 codec), error (why a file is refused)
//! ```
//!
//! HDF5 serializes every call behind one global lock, so nothing is gained by calling it
//! from several threads: the writer thread writes, and readers read stored chunks on one
//! thread and decode them on the pool ([`crate::codec`]).

mod attributes;
mod error;
mod ffi;
mod index;
mod matrix;
mod open;
mod plugins;
mod rows;
mod sources;
mod study;
mod writer;

pub use attributes::RunInfo;
pub use error::{Inconsistent, OpenError, PartError, PartFailure, VirtualMismatch};
pub use index::{read_index, IndexError, INDEX_VERSION};
pub use matrix::{
    matrix_summary, Label, Matrix, MatrixFacts, MatrixStorage, MatrixSummary, MatrixWriter,
    MATRIX_KIND,
};
pub use plugins::register_plugins;
pub use rows::{damaged_chunk_error, RowReader};
pub use sources::{escape_bytes, record_path, SkippedRow, SourceFacts, SourceRow};
pub use study::{ExistingOutput, Provenance, Segment, Storage, Study, VirtualPart};
pub use writer::{OutputWriter, WriterOptions};
