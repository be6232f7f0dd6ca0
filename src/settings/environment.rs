//! The environment variables txt2h5 heeds, read here, once, while the flags become
//! settings: nothing deeper in the code looks at the process's environment, so what a run
//! does is what its settings say.
//!
//! - `SLURM_ARRAY_TASK_*`: `--shard slurm` ([`crate::input::shard`]).
//! - `TXT2H5_KERNEL=scalar|sse2`: a slower scanning kernel for the native parser, for the
//!   CLI fuzzer and comparisons ([`crate::parse::Kernel::choose`]).
//! - `TXT2H5_MATRIX_BUDGET=CELLS,ENTRIES`: tiny matrix windows, so that the tests' small
//!   files take every path a large study takes ([`MatrixBudget`]).
//!
//! Each reader takes a lookup function (the environment in a run, a map in the tests).

use std::ffi::OsString;

use crate::error::{Error, Result};
use crate::matrix::plan::{HELD_ENTRIES, WINDOW_CELLS};
use crate::parse::Kernel;

/// The variable that forces a scanning kernel.
pub const KERNEL: &str = "TXT2H5_KERNEL";

/// The variable that sets the matrix's window and buffer sizes.
pub const MATRIX_BUDGET: &str = "TXT2H5_MATRIX_BUDGET";

/// The process's value of `name`, if set (and Unicode).
pub fn variable(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The process's value of `name`, if set, in any bytes.
pub fn variable_os(name: &str) -> Option<OsString> {
    std::env::var_os(name)
}

/// Installs the native parser's scanning kernel, forced by [`KERNEL`] or the fastest
/// (see [`Kernel::choose`]). The parser's choice is the process's, so it is made once,
/// before any file is parsed; a second load in one process (the tests) keeps the first.
pub fn install_kernel(lookup: impl Fn(&str) -> Option<String>) {
    Kernel::install(Kernel::choose(lookup(KERNEL).as_deref()));
}

/// How much a matrix window and the rows held in flight may hold: the plan's defaults
/// ([`WINDOW_CELLS`], [`HELD_ENTRIES`]), or [`MATRIX_BUDGET`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatrixBudget {
    /// Rows summed over a window's streams.
    pub window_cells: u64,
    /// Rows held decoded at a time.
    pub held_entries: u64,
}

impl Default for MatrixBudget {
    fn default() -> Self {
        Self {
            window_cells: WINDOW_CELLS,
            held_entries: HELD_ENTRIES,
        }
    }
}

impl MatrixBudget {
    /// The defaults, or `CELLS,ENTRIES` (two positive integers) from [`MATRIX_BUDGET`];
    /// anything else there is a usage error.
    pub fn from_environment(lookup: impl Fn(&str) -> Option<OsString>) -> Result<Self> {
        let Some(text) = lookup(MATRIX_BUDGET) else {
            return Ok(Self::default());
        };
        let text = text.to_string_lossy();
        let parsed = text
            .split_once(',')
            .and_then(|(cells, entries)| Some((cells.parse().ok()?, entries.parse().ok()?)))
            .filter(|&(cells, entries): &(u64, u64)| cells > 0 && entries > 0);
        parsed
            .map(|(window_cells, held_entries)| Self {
                window_cells,
                held_entries,
            })
            .ok_or_else(|| {
                Error::usage(format!(
                    "{MATRIX_BUDGET} is {text:?}, not CELLS,ENTRIES (two positive integers)"
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Scanning;

    fn only(value: &str) -> impl Fn(&str) -> Option<OsString> + '_ {
        move |name| (name == MATRIX_BUDGET).then(|| value.into())
    }

    #[test]
    fn matrix_budget_defaults_and_overrides() {
        assert_eq!(
            MatrixBudget::from_environment(|_| None).unwrap(),
            MatrixBudget::default()
        );
        assert_eq!(
            MatrixBudget::from_environment(only("256,512")).unwrap(),
            MatrixBudget {
                window_cells: 256,
                held_entries: 512
            }
        );
        for bad in ["", "256", "0,5", "5,0", "a,b", "1,2,3", "-1,4"] {
            let error = MatrixBudget::from_environment(only(bad)).unwrap_err();
            assert!(
                error.to_string().contains(MATRIX_BUDGET),
                "{bad:?}: {error}"
            );
        }
    }

    /// A forced kernel is taken when this CPU runs it; an unknown name leaves the default.
    #[test]
    fn a_forced_kernel_is_chosen_only_when_the_cpu_runs_it() {
        let fastest = Kernel::choose(None);
        assert_eq!(Kernel::choose(Some("no such kernel")), fastest);
        assert_eq!(
            Kernel::choose(Some("scalar")),
            Scanning::Structural(Kernel::Scalar)
        );
        for kernel in Kernel::available() {
            assert_eq!(
                Kernel::choose(Some(kernel.name())),
                Scanning::Structural(kernel)
            );
        }
    }
}
