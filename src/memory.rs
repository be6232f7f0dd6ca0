//! How a run reserves memory, so that a limit on its address space (`ulimit -v`, a batch
//! system's `h_vmem`) is met or ends the run cleanly.
//!
//! Two things decide whether a load fits such a limit. What it *reserves*: glibc gives
//! every thread that allocates an arena of its own, each a 64 MiB reservation, so a load at
//! `-j 2` needed more than 300000 KiB of address space (`ulimit -v`) for 38 MiB resident;
//! with at most [`MALLOC_ARENAS`] arenas it runs under 80000 KiB (docs/internals.md, Memory). And how
//! it *fails*: Rust aborts the process when an allocation fails (exit 134, the temporary output left
//! behind), so every large buffer of the pipeline is reserved here, fallibly, and a refusal
//! becomes [`Error::OutOfMemory`]: exit 1, a hint, and the usual cleanup.

use crate::error::{Error, Result};

/// The most glibc malloc arenas: the main one (the writer's, HDF5's) and one that the
/// other threads share. They allocate per buffer, never per line, so sharing costs nothing
/// measurable.
pub const MALLOC_ARENAS: i32 = 2;

/// Caps glibc's malloc arenas at [`MALLOC_ARENAS`]. Called first in `main`: a thread
/// started before it (the signal thread) would keep an arena of its own.
pub fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        /// glibc's `M_ARENA_MAX` (malloc.h).
        const M_ARENA_MAX: std::ffi::c_int = -8;
        extern "C" {
            fn mallopt(param: std::ffi::c_int, value: std::ffi::c_int) -> std::ffi::c_int;
        }
        // SAFETY: mallopt takes two integers and only changes malloc's tuning; it is
        // thread-safe, and M_ARENA_MAX is a documented parameter (checked: glibc malloc.h
        // defines it as -8). A failure (returned 0) leaves the default, which only
        // reserves more.
        unsafe {
            mallopt(M_ARENA_MAX, MALLOC_ARENAS);
        }
    }
}

/// Gives the free pages inside malloc's heaps back to the system (glibc `malloc_trim`). A
/// run that frees many buffers of many sizes in turn (the matrix's stream buffers) leaves
/// free holes that glibc keeps resident; calling this now and then keeps the resident size
/// near what is in use. Elsewhere than glibc, nothing.
pub fn give_back_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> std::ffi::c_int;
        }
        // SAFETY: malloc_trim takes a byte count and only returns free memory to the
        // system (madvise on whole free pages); it is thread-safe (it locks each arena).
        unsafe {
            malloc_trim(0);
        }
    }
}

/// Makes room for `bytes` bytes in `buffer` (its length unchanged), or says which buffer
/// could not get it. `reserve_exact`, not the doubling of `resize`: a reused buffer grows
/// once to what it needs, which keeps the address space a load reserves small.
pub fn reserve(buffer: &mut Vec<u8>, bytes: usize, what: &'static str) -> Result<()> {
    let additional = bytes.saturating_sub(buffer.len());
    buffer
        .try_reserve_exact(additional)
        .map_err(|_| Error::OutOfMemory { what, bytes })
}

/// A buffer of `bytes` zero bytes, or the error that says which could not be had. The
/// zeroes come from `alloc_zeroed` (calloc: fresh pages are zero already), not from writing
/// them as `resize` does, so a large buffer costs no pass over its memory.
pub fn zeroed(bytes: usize, what: &'static str) -> Result<Vec<u8>> {
    if bytes == 0 {
        return Ok(Vec::new());
    }
    let error = || Error::OutOfMemory { what, bytes };
    let layout = std::alloc::Layout::array::<u8>(bytes).map_err(|_| error())?;
    // SAFETY: `layout` has a non-zero size (checked above), as alloc_zeroed requires.
    let pointer = unsafe { std::alloc::alloc_zeroed(layout) };
    if pointer.is_null() {
        return Err(error());
    }
    // SAFETY: `pointer` is non-null (checked), came from the global allocator with the
    // layout of `bytes` u8s, which is what a Vec<u8> of capacity `bytes` frees with, and
    // all `bytes` of it are initialized (zeroed), so length = capacity = `bytes` is sound.
    Ok(unsafe { Vec::from_raw_parts(pointer, bytes, bytes) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeroed_buffers_are_zero_or_an_error() {
        let buffer = zeroed(1 << 20, "chunk").unwrap();
        assert_eq!(buffer.len(), 1 << 20);
        assert!(buffer.iter().all(|&byte| byte == 0));
        assert!(zeroed(0, "chunk").unwrap().is_empty());
        let error = zeroed(usize::MAX / 2, "chunk").unwrap_err();
        assert!(
            matches!(error, Error::OutOfMemory { what: "chunk", .. }),
            "{error}"
        );
    }

    #[test]
    fn reserve_fails_cleanly_when_the_memory_cannot_be_had() {
        let mut buffer = vec![1u8; 10];
        reserve(&mut buffer, 100, "text").unwrap();
        assert!(buffer.capacity() >= 100);
        assert_eq!(buffer, [1; 10]);
        let error = reserve(&mut buffer, usize::MAX, "text").unwrap_err();
        assert!(
            matches!(error, Error::OutOfMemory { what: "text", .. }),
            "{error}"
        );
    }
}
