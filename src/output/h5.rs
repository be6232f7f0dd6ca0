//! Everything that touches HDF5: the output file, its datasets and attributes.
//!
//! Only the writer thread calls into this module; HDF5 serializes every call behind one
//! global lock anyway, so there is nothing to gain from calling it from several threads.

mod attributes;
mod filters;
mod index;
mod reader;
mod sources;
mod study;
mod writer;

pub use attributes::RunInfo;
pub use filters::{register_plugins, Compression};
pub use index::{read_index, IndexError, INDEX_VERSION};
pub use reader::{ExistingOutput, OpenError, RowReader};
pub use sources::{escape_bytes, record_path, LegacySourceRow, SkippedRow, SourceFacts, SourceRow};
pub use study::{Provenance, Segment, Storage, Study, VirtualPart};
pub use writer::{OutputWriter, WriterOptions};
