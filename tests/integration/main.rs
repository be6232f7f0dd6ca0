//! Integration tests: run the real `txt2h5` binary in a fresh temporary directory per test
//! and read what it wrote with h5py/numpy, the reference client (`tests/support/h5check.py`).

mod append;
mod codecs;
mod docs;
mod errors;
mod formats;
mod fuzz;
mod generate;
mod hostile_files;
mod load;
mod manual;
mod matrix;
mod merge;
mod output_safety;
mod pipeline_faults;
mod r_client;
mod readback;
mod regressions;
mod terminal;
mod tree;
mod util;
