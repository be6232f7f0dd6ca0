//! The compression a dataset's chunks carry: the user's choice (`--compression`) and the
//! HDF5 filter pipeline that stands for it.
//!
//! Every pipeline shuffles the bytes of the records, then compresses:
//! - `gzip:LEVEL`: HDF5's shuffle filter, then deflate (filter 1), built into every HDF5
//!   library;
//! - `zstd:LEVEL`: the shuffle filter, then the Zstandard plugin (filter 32015, client
//!   value: the level);
//! - `lz4`: the shuffle filter, then the LZ4 plugin (filter 32004, client value: block
//!   size 0, the plugin default);
//! - `blosc:CODEC[:LEVEL]`: the Blosc plugin alone (filter 32001), which shuffles inside
//!   its frames (client values: see [`Compression::filters`]).
//!
//! and every pipeline, `none` too, ends with HDF5's Fletcher32 checksum (filter 3, see
//! [`super::checksum`]). Files written before the checksum have the same pipelines without
//! it: they are read, appended to and merged as before (the `Compression` is the same), and
//! whether a dataset's chunks carry the checksum is [`has_checksum`] of its pipeline.

use std::ffi::c_uint;

use hdf5::filters::Filter;
use hdf5_sys::h5z::H5Z_filter_t;

use super::blosc::{self, BloscCodec};
use crate::defaults;

/// HDF5's registered filter ids of the three plugins.
pub const ZSTD_FILTER: H5Z_filter_t = 32015;
pub const LZ4_FILTER: H5Z_filter_t = 32004;
pub const BLOSC_FILTER: H5Z_filter_t = 32001;

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
    /// Blosc frames of this codec at this blosc level (1..=9; lz4 always at
    /// [`blosc::LZ4_LEVEL`]), which shuffle the bytes themselves.
    Blosc(BloscCodec, u8),
}

impl Compression {
    /// What a reader needs besides HDF5 itself, for the registered filters.
    pub fn plugin_note(self) -> Option<&'static str> {
        match self {
            Compression::None | Compression::Gzip(_) => None,
            Compression::Zstd(_) => Some(
                "the HDF5 zstd filter (32015): h5py after `import hdf5plugin`, C with \
                 HDF5_PLUGIN_PATH; not R (rhdf5filters 1.10 lacks it): use blosc:zstd",
            ),
            Compression::Lz4 => Some(
                "the HDF5 lz4 filter (32004): h5py after `import hdf5plugin`, C with \
                 HDF5_PLUGIN_PATH; not R (rhdf5filters 1.10 lacks it): use blosc:lz4",
            ),
            Compression::Blosc(..) => Some(
                "the HDF5 blosc filter (32001): h5py after `import hdf5plugin`, R with \
                 rhdf5filters installed, C with HDF5_PLUGIN_PATH",
            ),
        }
    }

    /// Whether the pipeline has HDF5's shuffle filter: stored chunks then decode to byte
    /// planes, which the reader unshuffles. Blosc frames decode to the records.
    pub fn byte_shuffled(self) -> bool {
        matches!(
            self,
            Compression::Gzip(_) | Compression::Zstd(_) | Compression::Lz4
        )
    }

    /// The dataset creation filters, in pipeline order, of a dataset of `element_size`-byte
    /// elements in chunks of `chunk_bytes` bytes: [`Self::codec_filters`], then the
    /// Fletcher32 checksum, last so that it covers the bytes as stored.
    pub fn filters(self, element_size: usize, chunk_bytes: usize) -> Vec<Filter> {
        let mut filters = self.codec_filters(element_size, chunk_bytes);
        filters.push(Filter::Fletcher32);
        filters
    }

    /// The shuffle and compression filters alone, as files written before the checksum
    /// have them.
    ///
    /// Blosc's client values are hdf5-blosc's: filter revision 2, blosc format 2, type
    /// size, chunk bytes, level, shuffle (1: bytes) and codec. The plugin's own `set_local`
    /// would fill the first four; txt2h5 writes its chunks itself, so it states them.
    pub fn codec_filters(self, element_size: usize, chunk_bytes: usize) -> Vec<Filter> {
        match self {
            Compression::None => Vec::new(),
            Compression::Gzip(level) => vec![Filter::Shuffle, Filter::Deflate(level)],
            Compression::Zstd(level) => vec![
                Filter::Shuffle,
                Filter::User(ZSTD_FILTER, vec![c_uint::from(level)]),
            ],
            Compression::Lz4 => vec![Filter::Shuffle, Filter::User(LZ4_FILTER, vec![0])],
            Compression::Blosc(codec, level) => {
                let typesize = blosc::typesize(element_size) as c_uint;
                let chunk_bytes = c_uint::try_from(chunk_bytes).unwrap_or(c_uint::MAX);
                vec![Filter::User(
                    BLOSC_FILTER,
                    vec![
                        2,
                        2,
                        typesize,
                        chunk_bytes,
                        c_uint::from(level),
                        1,
                        codec.compcode(),
                    ],
                )]
            }
        }
    }

    /// The compression of a dataset whose pipeline is `filters`, if txt2h5 writes it: with
    /// the checksum last, or without it (files written before it).
    pub fn of_filters(filters: &[Filter]) -> Option<Self> {
        let filters = match filters {
            [codec @ .., Filter::Fletcher32] => codec,
            codec => codec,
        };
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
            // The codec and level are what new chunks get (append); each frame records
            // how it was made, which is what reading follows.
            [Filter::User(BLOSC_FILTER, values)] => Self::of_blosc_values(values)?,
            _ => return None,
        })
    }

    /// The blosc compression that the blosc filter's client values (hdf5-blosc's, see
    /// [`Self::filters`]) name, if it is a codec txt2h5 writes.
    pub fn of_blosc_values(values: &[c_uint]) -> Option<Self> {
        let codec = BloscCodec::of_compcode(*values.get(6)?)?;
        let level = match codec {
            BloscCodec::Lz4 => blosc::LZ4_LEVEL,
            BloscCodec::Zstd => values
                .get(4)
                .map_or(defaults::BLOSC_LEVEL, |level| (*level).clamp(1, 9) as u8),
        };
        Some(Compression::Blosc(codec, level))
    }
}

/// Whether chunks stored with the pipeline `filters` end with the Fletcher32 checksum
/// (see [`super::checksum`]).
pub fn has_checksum(filters: &[Filter]) -> bool {
    matches!(filters.last(), Some(Filter::Fletcher32))
}

impl std::fmt::Display for Compression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Compression::None => f.write_str("none"),
            Compression::Gzip(level) => write!(f, "gzip:{level}"),
            Compression::Zstd(level) => write!(f, "zstd:{level}"),
            Compression::Lz4 => f.write_str("lz4"),
            Compression::Blosc(BloscCodec::Lz4, _) => f.write_str("blosc:lz4"),
            Compression::Blosc(codec, level) => write!(f, "blosc:{}:{level}", codec.name()),
        }
    }
}
