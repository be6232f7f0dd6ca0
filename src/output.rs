//! Records in load order become an HDF5 file that appears whole or not at all.
//!
//! The [`chunker`] cuts the ordered record stream into chunks, [`compress`]es them on a
//! pool (with a [`codec`] per filter) and stores them through [`h5`]; [`copy`] brings the rows of an existing output
//! (append, merge), as stored where the chunks line up; [`pending`] is the hidden
//! temporary file that is renamed into place only when the run succeeded.

pub mod chunker;
pub mod codec;
pub mod compress;
pub mod copy;
pub mod h5;
pub mod pending;
