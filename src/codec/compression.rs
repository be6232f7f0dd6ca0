//! The compression a dataset's chunks carry: the user's choice (`--compression`) and the
//! HDF5 filter pipeline that stands for it.
//!
//! Every pipeline is the byte shuffle followed by one compressor:
//! - `gzip:LEVEL`: deflate (filter 1), built into every HDF5 library;
//! - `zstd:LEVEL`: the Zstandard plugin (filter 32015, client value: the level);
//! - `lz4`: the LZ4 plugin (filter 32004, client value: block size 0, the plugin default).

use std::ffi::c_uint;

use hdf5::filters::Filter;
use hdf5_sys::h5z::H5Z_filter_t;

use crate::defaults;

/// HDF5's registered filter ids of the two plugins.
pub const ZSTD_FILTER: H5Z_filter_t = 32015;
pub const LZ4_FILTER: H5Z_filter_t = 32004;

/// Filters applied to the stored chunks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    /// Deflate at this level (1..=9), after the byte shuffle filter.
    Gzip(u8),
    /// Zstandard at this level (1..=22), after the byte shuffle filter.
    Zstd(u8),
    /// LZ4, after the byte shuffle filter.
    Lz4,
}

impl Compression {
    /// What a reader needs besides HDF5 itself, for the registered filters.
    pub fn plugin_note(self) -> Option<&'static str> {
        match self {
            Compression::None | Compression::Gzip(_) => None,
            Compression::Zstd(_) => Some(
                "the HDF5 zstd filter (32015): h5py after `import hdf5plugin`, R with \
                 rhdf5filters, C with HDF5_PLUGIN_PATH",
            ),
            Compression::Lz4 => Some(
                "the HDF5 lz4 filter (32004): h5py after `import hdf5plugin`, R with \
                 rhdf5filters, C with HDF5_PLUGIN_PATH",
            ),
        }
    }

    /// The dataset creation filters, in pipeline order.
    pub fn filters(self) -> Vec<Filter> {
        match self {
            Compression::None => Vec::new(),
            Compression::Gzip(level) => vec![Filter::Shuffle, Filter::Deflate(level)],
            Compression::Zstd(level) => vec![
                Filter::Shuffle,
                Filter::User(ZSTD_FILTER, vec![c_uint::from(level)]),
            ],
            Compression::Lz4 => vec![Filter::Shuffle, Filter::User(LZ4_FILTER, vec![0])],
        }
    }

    /// The compression of a dataset whose pipeline is `filters`, if txt2h5 writes it.
    pub fn of_filters(filters: &[Filter]) -> Option<Self> {
        Some(match filters {
            [] => Compression::None,
            [Filter::Shuffle, Filter::Deflate(level)] => Compression::Gzip(*level),
            [Filter::Shuffle, Filter::User(ZSTD_FILTER, values)] => {
                // Other writers may omit the level; it does not matter for reading.
                let level = values
                    .first()
                    .copied()
                    .unwrap_or(c_uint::from(defaults::ZSTD_LEVEL));
                Compression::Zstd(u8::try_from(level).ok()?)
            }
            [Filter::Shuffle, Filter::User(LZ4_FILTER, _)] => Compression::Lz4,
            _ => return None,
        })
    }
}

impl std::fmt::Display for Compression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Compression::None => f.write_str("none"),
            Compression::Gzip(level) => write!(f, "gzip:{level}"),
            Compression::Zstd(level) => write!(f, "zstd:{level}"),
            Compression::Lz4 => f.write_str("lz4"),
        }
    }
}
