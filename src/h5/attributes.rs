//! Attributes that make the output self-describing: who wrote it, how, and what it holds.

use hdf5::types::VarLenUnicode;
use hdf5::{Dataset, File, Location};

/// Facts about the run, stored as attributes of the root group.
#[derive(Clone, Debug)]
pub struct RunInfo {
    pub command_line: String,
    pub created: String,
    pub schema: String,
    pub dataset: String,
    pub compression: String,
    /// `K/N` when this file is one shard of a larger load.
    pub shard: Option<String>,
    /// Identity of the whole sorted input list (before sharding), to tell parts of one
    /// load from parts of another.
    pub input_set: String,
}

impl RunInfo {
    pub(super) fn write(&self, file: &File, data: &Dataset) -> hdf5::Result<()> {
        write_string_attr(file, "tool", "txt2h5")?;
        write_string_attr(file, "tool_version", env!("CARGO_PKG_VERSION"))?;
        write_string_attr(file, "command_line", &self.command_line)?;
        write_string_attr(file, "created", &self.created)?;
        write_string_attr(file, "dataset", &self.dataset)?;
        write_string_attr(file, "schema", &self.schema)?;
        write_string_attr(file, "input_set", &self.input_set)?;
        if let Some(shard) = &self.shard {
            write_string_attr(file, "shard", shard)?;
        }
        write_string_attr(data, "schema", &self.schema)?;
        write_string_attr(data, "compression", &self.compression)
    }
}

/// Writes a scalar variable-length UTF-8 string attribute (h5py reads it as `str`).
pub(super) fn write_string_attr(location: &Location, name: &str, value: &str) -> hdf5::Result<()> {
    let value: VarLenUnicode = value
        .replace('\0', "\u{fffd}")
        .parse()
        .expect("no NUL bytes left");
    location
        .new_attr::<VarLenUnicode>()
        .shape(())
        .create(name)?
        .write_scalar(&value)
}
