//! Reading rows back: which rows a selection needs ([`select`], through the position
//! index), which stored chunks hold them, and those chunks decompressed on all cores and
//! handed on in row order ([`chunks`]). [`region`] parses the regions people write, and
//! [`claims`] checks the rows read through the index against what the index claims.
//!
//! ```text
//! --region / --regions / --source ─► select (index: runs, anchors) ─► row ranges
//!   ─► chunks: read stored bytes (one thread, HDF5) ─► inflate + unshuffle
//!   ─► claims (rows read through the index checked against it) + work (pool)
//!   ─► in row order ─► the command's output
//! ```

pub mod chunks;
pub mod claims;
pub mod region;
pub mod select;
