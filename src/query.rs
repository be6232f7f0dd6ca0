//! Reading rows back: which rows a selection needs ([`select`], through the position
//! index), which stored chunks hold them, and those chunks decompressed on all cores and
//! handed on in row order ([`chunks`]). [`region`] parses the regions people write.
//!
//! ```text
//! --region / --regions / --source ─► select (index: runs, anchors) ─► row ranges
//!   ─► chunks: read stored bytes (one thread, HDF5) ─► inflate + unshuffle + work (pool)
//!   ─► in row order ─► the command's output
//! ```

pub mod chunks;
pub mod claims;
pub mod region;
pub mod select;
