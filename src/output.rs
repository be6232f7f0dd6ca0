//! Records in load order become an HDF5 file that appears whole or not at all.
//!
//! The [`chunker`] cuts the ordered record stream into chunks, has them compressed on a
//! pool ([`crate::codec`]) and stores them through [`crate::h5`]; [`copy`] brings the rows
//! of an existing output (append, merge), as stored where the chunks line up; [`pending`]
//! is the hidden temporary file that is renamed into place only when the run succeeded.

pub mod chunker;
pub mod copy;
pub mod pending;
