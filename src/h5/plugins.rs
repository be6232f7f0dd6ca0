//! The zstd, lz4 and blosc filters registered with the HDF5 library linked into txt2h5
//! (the pipelines themselves: [`crate::codec::Compression`]).
//!
//! The three plugins are registered filters, not HDF5's own: a reader needs them installed
//! (h5py: `import hdf5plugin`; R: rhdf5filters, which has blosc only; C:
//! `HDF5_PLUGIN_PATH`). txt2h5 registers its own implementation of each (see
//! [`crate::codec`]) so that its reads through HDF5 (append, merge, re-chunking) decode
//! them; it writes chunks itself, compressed on its pool.
//!
//! A filter function sees the stored bytes and its client values, not the dataset, so it
//! cannot know how large a chunk is; but a damaged header must not size an allocation (a
//! claim of 2^60 bytes aborted the process). The reader that calls HDF5 therefore states
//! the chunk size of the dataset it reads ([`with_decode_limit`]): HDF5 runs the filters
//! on the calling thread, inside that call. Client values stay as the plugins define them,
//! so files hdf5plugin wrote read as before. Without a stated limit, the bound is the
//! largest chunk HDF5 allows (4 GiB).
//!
//! Fletcher32 (filter 3) is built into HDF5, which checks it on every read through HDF5
//! (HDF5 refuses to register another function for a predefined filter). txt2h5's own sum
//! ([`crate::codec::checksum`]) serves the chunks it writes and reads itself.

use std::cell::{Cell, RefCell};
use std::ffi::{c_uint, c_void};
use std::sync::Once;

use hdf5::filters::Filter;
use hdf5::Dataset;
use hdf5_sys::h5z::H5Z_FLAG_REVERSE;

use super::ffi::{register_filter, replace_filter_buffer, FilterFn};

use crate::codec::{
    claimed_size, has_checksum, BloscCodec, CodecError, Compression, Decoder, Encoder,
    BLOSC_FILTER, LZ4_FILTER, ZSTD_FILTER,
};
use crate::defaults;

/// Registers the zstd, lz4 and blosc filters with the HDF5 library, once per process. Called
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
            (
                BLOSC_FILTER,
                c"Blosc (txt2h5's built-in codec of HDF5 filter 32001)",
                blosc_filter as FilterFn,
            ),
        ] {
            // Registering can only fail on an internal HDF5 error; a missing filter then
            // shows up as HDF5's own error when a file needs it.
            let registered = register_filter(id, name, filter);
            debug_assert!(registered.is_ok(), "H5Zregister({id}) failed");
        }
    });
}

/// The largest chunk HDF5 stores: chunk sizes are 32-bit in its file format.
pub(super) const HDF5_MAX_CHUNK_BYTES: usize = u32::MAX as usize;

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

/// Whether the chunks of `data` end with the Fletcher32 checksum (its pipeline's last
/// filter; files written before txt2h5 added it have none).
pub fn stores_checksum(data: &Dataset) -> hdf5::Result<bool> {
    let filters: Vec<Filter> = data.dcpl()?.get_filters()?;
    Ok(has_checksum(&filters))
}

unsafe extern "C" fn zstd_filter(
    flags: c_uint,
    cd_nelmts: usize,
    cd_values: *const c_uint,
    nbytes: usize,
    buf_size: *mut usize,
    buf: *mut *mut c_void,
) -> usize {
    // SAFETY: as HDF5 passed them.
    let values = unsafe { client_values(cd_nelmts, cd_values) };
    let level = values
        .first()
        .map_or(defaults::ZSTD_LEVEL, |level| (*level).clamp(1, 22) as u8);
    // SAFETY: forwarded as HDF5 passed them.
    unsafe { run_filter(Compression::Zstd(level), 1, flags, nbytes, buf_size, buf) }
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
    unsafe { run_filter(Compression::Lz4, 1, flags, nbytes, buf_size, buf) }
}

/// Decodes any frame of a codec txt2h5 reads (the frame says which); encodes with the
/// client values' type size, level and codec (hdf5-blosc's: see
/// [`Compression::filters`]), zstd where they name another codec.
unsafe extern "C" fn blosc_filter(
    flags: c_uint,
    cd_nelmts: usize,
    cd_values: *const c_uint,
    nbytes: usize,
    buf_size: *mut usize,
    buf: *mut *mut c_void,
) -> usize {
    // SAFETY: as HDF5 passed them.
    let values = unsafe { client_values(cd_nelmts, cd_values) };
    let typesize = values.get(2).map_or(1, |size| *size as usize);
    let compression = Compression::of_blosc_values(values)
        .unwrap_or(Compression::Blosc(BloscCodec::Zstd, defaults::BLOSC_LEVEL));
    // SAFETY: forwarded as HDF5 passed them.
    unsafe { run_filter(compression, typesize, flags, nbytes, buf_size, buf) }
}

/// The `cd_nelmts` client values HDF5 passed a filter.
///
/// # Safety
/// `cd_values` is null or points to `cd_nelmts` values, as HDF5 calls a filter.
unsafe fn client_values<'a>(cd_nelmts: usize, cd_values: *const c_uint) -> &'a [c_uint] {
    if cd_values.is_null() || cd_nelmts == 0 {
        &[]
    } else {
        // SAFETY: see the function's contract.
        unsafe { std::slice::from_raw_parts(cd_values, cd_nelmts) }
    }
}

/// The body of the filter functions: decodes (`H5Z_FLAG_REVERSE`) or encodes the
/// `nbytes` bytes at `*buf`, and replaces the buffer with the result. Returns the result's
/// size, or 0, HDF5's sign of failure.
///
/// # Safety
/// As HDF5 calls a filter: `*buf` points to `nbytes` readable bytes, allocated by HDF5's
/// allocator, and `buf_size` is writable.
unsafe fn run_filter(
    compression: Compression,
    element_size: usize,
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
            let limit = DECODE_LIMIT.with(Cell::get).unwrap_or(HDF5_MAX_CHUNK_BYTES);
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
            Encoder::new(compression, element_size)?.encode(input, &mut scratch, &mut encoded);
            Some(encoded)
        }
    });
    let Ok(Some(output)) = output else {
        return 0;
    };
    // SAFETY: see the function's contract.
    if !unsafe { replace_filter_buffer(buf, buf_size, &output) } {
        return 0;
    }
    output.len()
}
