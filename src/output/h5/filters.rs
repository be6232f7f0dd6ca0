//! The filter pipelines txt2h5 writes, how to tell them in an existing file, and the zstd
//! and lz4 filters registered with the HDF5 library linked into txt2h5.
//!
//! Every pipeline is the byte shuffle followed by one compressor:
//! - `gzip:LEVEL`: deflate (filter 1), built into every HDF5 library;
//! - `zstd:LEVEL`: the Zstandard plugin (filter 32015, client value: the level);
//! - `lz4`: the LZ4 plugin (filter 32004, client value: block size 0, the plugin default).
//!
//! The two plugins are registered filters, not HDF5's own: a reader needs them installed
//! (h5py: `import hdf5plugin`; R: rhdf5filters; C: `HDF5_PLUGIN_PATH`). txt2h5 registers
//! its own implementation of both (see [`crate::output::codec`]) so that its reads through
//! HDF5 (append, merge, re-chunking) decode them; it writes chunks itself, compressed on
//! its pool.
//!
//! A filter function sees the stored bytes and its client values, not the dataset, so it
//! cannot know how large a chunk is; but a damaged header must not size an allocation (a
//! claim of 2^60 bytes aborted the process). The reader that calls HDF5 therefore states
//! the chunk size of the dataset it reads ([`with_decode_limit`]): HDF5 runs the filters
//! on the calling thread, inside that call. Client values stay as the plugins define them,
//! so files hdf5plugin wrote read as before. Without a stated limit, the bound is the
//! largest chunk HDF5 allows (4 GiB).

use std::cell::{Cell, RefCell};
use std::ffi::{c_uint, c_void};
use std::sync::Once;

use hdf5::filters::Filter;
use hdf5_sys::h5::{H5allocate_memory, H5free_memory};
use hdf5_sys::h5z::{H5Z_class2_t, H5Z_filter_t, H5Zregister, H5Z_CLASS_T_VERS, H5Z_FLAG_REVERSE};

use crate::defaults;
use crate::output::codec::{claimed_size, CodecError, Decoder, Encoder};

/// HDF5's registered filter ids of the two plugins.
pub const ZSTD_FILTER: H5Z_filter_t = 32015;
pub const LZ4_FILTER: H5Z_filter_t = 32004;

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
}

impl Compression {
    /// What a reader needs besides HDF5 itself, for the registered filters.
    pub fn plugin_note(self) -> Option<&'static str> {
        match self {
            Compression::None | Compression::Gzip(_) => None,
            Compression::Zstd(_) => Some(
                "the HDF5 zstd filter (32015): h5py after `import hdf5plugin`, R with \
                 rhdf5filters, C with HDF5_PLUGIN_PATH",
            ),
            Compression::Lz4 => Some(
                "the HDF5 lz4 filter (32004): h5py after `import hdf5plugin`, R with \
                 rhdf5filters, C with HDF5_PLUGIN_PATH",
            ),
        }
    }

    /// The dataset creation filters, in pipeline order.
    pub fn filters(self) -> Vec<Filter> {
        match self {
            Compression::None => Vec::new(),
            Compression::Gzip(level) => vec![Filter::Shuffle, Filter::Deflate(level)],
            Compression::Zstd(level) => vec![
                Filter::Shuffle,
                Filter::User(ZSTD_FILTER, vec![c_uint::from(level)]),
            ],
            Compression::Lz4 => vec![Filter::Shuffle, Filter::User(LZ4_FILTER, vec![0])],
        }
    }

    /// The compression of a dataset whose pipeline is `filters`, if txt2h5 writes it.
    pub fn of_filters(filters: &[Filter]) -> Option<Self> {
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
            _ => return None,
        })
    }
}

impl std::fmt::Display for Compression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Compression::None => f.write_str("none"),
            Compression::Gzip(level) => write!(f, "gzip:{level}"),
            Compression::Zstd(level) => write!(f, "zstd:{level}"),
            Compression::Lz4 => f.write_str("lz4"),
        }
    }
}

/// Registers the zstd and lz4 filters with the HDF5 library, once per process. Called
/// before any file is created or opened.
pub fn register_plugins() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for (id, name, filter) in [
            (
                ZSTD_FILTER,
                c"Zstandard (txt2h5's built-in codec of HDF5 filter 32015)",
                zstd_filter as FilterFn,
            ),
            (
                LZ4_FILTER,
                c"LZ4 (txt2h5's built-in codec of HDF5 filter 32004)",
                lz4_filter as FilterFn,
            ),
        ] {
            let class = H5Z_class2_t {
                version: H5Z_CLASS_T_VERS as _,
                id,
                encoder_present: 1,
                decoder_present: 1,
                name: name.as_ptr(),
                can_apply: None,
                set_local: None,
                filter: Some(filter),
            };
            // SAFETY: HDF5 copies the class into its table; the name is a 'static C string
            // and the function pointers live for the whole process.
            let status = hdf5::sync::sync(|| unsafe {
                H5Zregister(std::ptr::from_ref(&class).cast::<c_void>())
            });
            // Registering can only fail on an internal HDF5 error; a missing filter then
            // shows up as HDF5's own error when a file needs it.
            debug_assert!(status >= 0, "H5Zregister({id}) failed");
        }
    });
}

/// The largest chunk HDF5 stores: chunk sizes are 32-bit in its file format.
pub const MAX_CHUNK_BYTES: usize = u32::MAX as usize;

thread_local! {
    /// Bytes a chunk of the dataset being read holds, while [`with_decode_limit`] runs.
    static DECODE_LIMIT: Cell<Option<usize>> = const { Cell::new(None) };
    /// Why the last decode in this thread's filter failed, for the reader to report.
    static FILTER_ERROR: RefCell<Option<CodecError>> = const { RefCell::new(None) };
}

/// Runs `read` (an HDF5 read on this thread) with the filters' decoded sizes bounded by
/// `chunk_bytes`, and returns its result and, if a filter refused a chunk, why.
pub fn with_decode_limit<T>(
    chunk_bytes: usize,
    read: impl FnOnce() -> T,
) -> (T, Option<CodecError>) {
    FILTER_ERROR.with(|error| error.borrow_mut().take());
    let outer = DECODE_LIMIT.with(|limit| limit.replace(Some(chunk_bytes)));
    let result = read();
    DECODE_LIMIT.with(|limit| limit.set(outer));
    (result, FILTER_ERROR.with(|error| error.borrow_mut().take()))
}

type FilterFn = unsafe extern "C" fn(
    c_uint,
    usize,
    *const c_uint,
    usize,
    *mut usize,
    *mut *mut c_void,
) -> usize;

unsafe extern "C" fn zstd_filter(
    flags: c_uint,
    cd_nelmts: usize,
    cd_values: *const c_uint,
    nbytes: usize,
    buf_size: *mut usize,
    buf: *mut *mut c_void,
) -> usize {
    // SAFETY: HDF5 passes `cd_nelmts` client values.
    let level = (cd_nelmts > 0 && !cd_values.is_null())
        .then(|| unsafe { *cd_values })
        .map_or(defaults::ZSTD_LEVEL, |level| level.clamp(1, 22) as u8);
    // SAFETY: forwarded as HDF5 passed them.
    unsafe { run_filter(Compression::Zstd(level), flags, nbytes, buf_size, buf) }
}

unsafe extern "C" fn lz4_filter(
    flags: c_uint,
    _cd_nelmts: usize,
    _cd_values: *const c_uint,
    nbytes: usize,
    buf_size: *mut usize,
    buf: *mut *mut c_void,
) -> usize {
    // SAFETY: forwarded as HDF5 passed them.
    unsafe { run_filter(Compression::Lz4, flags, nbytes, buf_size, buf) }
}

/// The body of both filter functions: decodes (`H5Z_FLAG_REVERSE`) or encodes the
/// `nbytes` bytes at `*buf`, and replaces the buffer with the result. Returns the result's
/// size, or 0, HDF5's sign of failure.
///
/// # Safety
/// As HDF5 calls a filter: `*buf` points to `nbytes` readable bytes, allocated by HDF5's
/// allocator, and `buf_size` is writable.
unsafe fn run_filter(
    compression: Compression,
    flags: c_uint,
    nbytes: usize,
    buf_size: *mut usize,
    buf: *mut *mut c_void,
) -> usize {
    // SAFETY: see the function's contract.
    let input = unsafe { std::slice::from_raw_parts((*buf).cast::<u8>(), nbytes) };
    // No panic may unwind into HDF5's C frames.
    let output = std::panic::catch_unwind(|| {
        if flags & H5Z_FLAG_REVERSE != 0 {
            let limit = DECODE_LIMIT.with(Cell::get).unwrap_or(MAX_CHUNK_BYTES);
            let decoded = claimed_size(compression, input, limit).and_then(|size| {
                let mut decoded = Vec::new();
                Decoder::default()
                    .decode(compression, input, &mut decoded, size)
                    .map(|()| decoded)
            });
            match decoded {
                Ok(decoded) => Some(decoded),
                Err(error) => {
                    FILTER_ERROR.with(|slot| *slot.borrow_mut() = Some(error));
                    None
                }
            }
        } else {
            let (mut scratch, mut encoded) = (Vec::new(), Vec::new());
            Encoder::new(compression)?.encode(input, &mut scratch, &mut encoded);
            Some(encoded)
        }
    });
    let Ok(Some(output)) = output else {
        return 0;
    };
    // SAFETY: HDF5 frees the buffer we hand back with its own allocator, so it is
    // allocated with it; the copy fits the allocation; the old buffer is HDF5's to free.
    unsafe {
        let replacement = H5allocate_memory(output.len().max(1), 0);
        if replacement.is_null() {
            return 0;
        }
        std::ptr::copy_nonoverlapping(output.as_ptr(), replacement.cast::<u8>(), output.len());
        H5free_memory(*buf);
        *buf = replacement;
        *buf_size = output.len().max(1);
    }
    output.len()
}
