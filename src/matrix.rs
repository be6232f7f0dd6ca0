//! The matrix pipeline, beside the load's: a study's stored chunks in, site x sample count
//! matrices out.
//!
//! ```text
//! study (/index) ─► plan: streams (runs of samples' sources), windows, chunk pieces
//!   ─► engine: read chunks (one thread) ─► decode + extract (pool) ─► stream buffers
//!      ─► complete windows merged into blocks (pool) ─► assembler: row blocks of R rows
//!      ─► compressed (pool) ─► stored in order (one thread)
//! ```
//!
//! `command::matrix` turns the settings into a [`plan::Plan`] and a
//! [`engine::MatrixRequest`], runs
//! it inside a pending output and reports.

pub mod assemble;
pub mod block;
pub mod engine;
pub mod plan;
