//! The subcommands, each one function from validated settings to a report.
//!
//! A command strings the stages together (inputs, pipeline, output) and owns the decisions
//! that span them: what an append skips, how merged parts are ordered. The [`report`] is
//! what a command hands back to `main` to print.

pub mod export;
pub mod inspect;
pub mod load;
pub mod manual;
pub mod matrix;
pub mod merge;
pub mod report;
