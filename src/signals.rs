//! SIGINT, SIGTERM and SIGHUP become a flag the pipeline polls, so a signal unwinds through
//! the normal error path: workers stop, the temporary output is deleted, and the process
//! exits with 128 + the signal number.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

#[derive(Clone)]
pub struct Interrupt {
    signal: Arc<AtomicUsize>,
}

impl Interrupt {
    /// Installs the handlers.
    pub fn install() -> std::io::Result<Self> {
        let signal = Arc::new(AtomicUsize::new(0));
        for number in [SIGINT, SIGTERM, SIGHUP] {
            signal_hook::flag::register_usize(number, Arc::clone(&signal), number as usize)?;
        }
        Ok(Self { signal })
    }

    /// A flag no signal sets, for library callers and tests.
    pub fn never() -> Self {
        Self {
            signal: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// The signal received, if any.
    pub fn received(&self) -> Option<i32> {
        match self.signal.load(Ordering::Relaxed) {
            0 => None,
            number => Some(number as i32),
        }
    }
}
