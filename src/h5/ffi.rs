//! Every call into the HDF5 C library that hdf5-metno does not wrap, each with the checks
//! that make it sound. The rest of [`crate::h5`] is safe code over these helpers.
//!
//! Each helper takes the library's global lock (`hdf5::sync::sync`), as hdf5-metno's own
//! calls do, and turns a negative return code into the library's error stack ([`check`]).
//! Coordinates are passed as one `hsize_t`: the row calls are methods of [`RowDataset`],
//! whose rank is checked once, when it is made; a virtual mapping's spaces are checked
//! here before their bounds are asked for.

use std::ffi::{c_char, c_uint, c_void, CStr, CString};

use hdf5::{Dataset, Datatype, File};
use hdf5_sys::h5::{H5allocate_memory, H5free_memory};
use hdf5_sys::h5d::{
    H5Dget_chunk_info_by_coord, H5Dget_num_chunks, H5Dget_space, H5Dread, H5Dread_chunk,
    H5Dset_extent, H5Dwrite, H5Dwrite_chunk,
};
use hdf5_sys::h5i::hid_t;
use hdf5_sys::h5l::{H5L_info2_t, H5L_type_t, H5Lget_info2};
use hdf5_sys::h5p::{
    H5Pget_virtual_count, H5Pget_virtual_dsetname, H5Pget_virtual_filename,
    H5Pget_virtual_srcspace, H5Pget_virtual_vspace, H5P_DEFAULT,
};
use hdf5_sys::h5s::{
    H5S_sel_type, H5S_seloper_t, H5Sclose, H5Screate_simple, H5Sget_select_bounds,
    H5Sget_select_npoints, H5Sget_select_type, H5Sget_simple_extent_ndims, H5Sselect_hyperslab,
    H5S_ALL,
};
use hdf5_sys::h5z::{H5Z_class2_t, H5Z_filter_t, H5Zregister, H5Z_CLASS_T_VERS};

/// Turns a negative HDF5 return code into the library's current error stack.
pub fn check<T: Copy + PartialOrd + Default>(code: T) -> hdf5::Result<T> {
    if code < T::default() {
        Err(hdf5::Error::query().unwrap_or_else(|error| error))
    } else {
        Ok(code)
    }
}

/// The type of the link `path` (which exists) of `file`.
pub fn link_type(file: &File, path: &str) -> hdf5::Result<H5L_type_t> {
    let name = CString::new(path).map_err(|_| "a name holds a NUL byte")?;
    let mut info = std::mem::MaybeUninit::<H5L_info2_t>::uninit();
    hdf5::sync::sync(|| {
        // SAFETY: the file id is valid while `file` lives, `name` is a NUL-terminated
        // string and `info` is a writable H5L_info2_t, which HDF5 fills on success.
        check(unsafe { H5Lget_info2(file.id(), name.as_ptr(), info.as_mut_ptr(), H5P_DEFAULT) })
    })?;
    // SAFETY: H5Lget_info2 succeeded (checked above), so it filled `info`.
    Ok(unsafe { info.assume_init() }.type_)
}

/// A dataset checked, once, to have one dimension: the calls below pass HDF5 one
/// coordinate (one `hsize_t`) for it, which is sound for rank 1 only.
pub struct RowDataset(Dataset);

impl RowDataset {
    /// `data`, if it has one dimension; otherwise its rank.
    pub fn new(data: Dataset) -> Result<Self, usize> {
        match data.ndim() {
            1 => Ok(Self(data)),
            rank => Err(rank),
        }
    }

    pub fn dataset(&self) -> &Dataset {
        &self.0
    }

    pub fn into_dataset(self) -> Dataset {
        self.0
    }

    /// Reads rows `start..start + count` as packed records of `record_type` into `out`,
    /// which holds exactly `count` of them.
    pub fn read_rows(
        &self,
        record_type: &Datatype,
        start: u64,
        count: u64,
        out: &mut [u8],
    ) -> hdf5::Result<()> {
        assert_eq!(out.len() as u64, count * record_type.size() as u64);
        let data = &self.0;
        hdf5::sync::sync(|| {
            // SAFETY: ids are valid while their owners live or are created and closed
            // here; the dataset has rank 1 (checked in `new`), so the file selection takes
            // one start and one count, and the memory space of rank 1 holds `count`
            // elements of the packed record type, as `out` holds `count * record_size`
            // bytes (asserted above).
            unsafe {
                let file_space = check(H5Dget_space(data.id()))?;
                let memory_space = H5Screate_simple(1, &count, std::ptr::null());
                let mut status = H5Sselect_hyperslab(
                    file_space,
                    H5S_seloper_t::H5S_SELECT_SET,
                    &start,
                    std::ptr::null(),
                    &count,
                    std::ptr::null(),
                );
                if status >= 0 && memory_space >= 0 {
                    status = H5Dread(
                        data.id(),
                        record_type.id(),
                        memory_space,
                        file_space,
                        H5P_DEFAULT,
                        out.as_mut_ptr().cast(),
                    );
                }
                if memory_space >= 0 {
                    H5Sclose(memory_space);
                }
                H5Sclose(file_space);
                check(if memory_space < 0 { -1 } else { status })?;
                Ok(())
            }
        })
    }

    /// The filter mask and stored size of the chunk at row `offset`.
    pub fn chunk_info(&self, offset: u64) -> hdf5::Result<(u32, u64)> {
        hdf5::sync::sync(|| {
            let (mut mask, mut address, mut size) = (0u32, 0u64, 0u64);
            // SAFETY: the dataset id is valid; it has rank 1 (checked in `new`), so
            // `offset` is its one coordinate; HDF5 writes one value through each other
            // pointer.
            check(unsafe {
                H5Dget_chunk_info_by_coord(self.0.id(), &offset, &mut mask, &mut address, &mut size)
            })?;
            Ok((mask, size))
        })
    }

    /// How many chunks of the dataset are stored in the file (written, not fill values).
    pub fn stored_chunks(&self) -> hdf5::Result<u64> {
        hdf5::sync::sync(|| {
            let mut count: u64 = 0;
            // SAFETY: the dataset id is valid while `self` lives; H5S_ALL stands for its
            // whole dataspace; HDF5 writes one hsize_t through the pointer.
            check(unsafe { H5Dget_num_chunks(self.0.id(), H5S_ALL, &mut count) })?;
            Ok(count)
        })
    }

    /// Reads the stored bytes of the chunk at row `offset` into `out` (sized by the caller
    /// from [`RowDataset::chunk_info`]); shortens `out` to what HDF5 wrote and returns the
    /// chunk's filter mask.
    pub fn read_chunk(&self, offset: u64, out: &mut Vec<u8>) -> hdf5::Result<u32> {
        hdf5::sync::sync(|| {
            let mut mask = 0u32;
            let mut buffer_size = out.len();
            // SAFETY: the dataset id is valid; it has rank 1 (checked in `new`), so
            // `offset` is its one coordinate; `buffer_size` is the buffer's length, and
            // H5Dread_chunk writes at most that many bytes.
            check(unsafe {
                H5Dread_chunk(
                    self.0.id(),
                    H5P_DEFAULT,
                    &offset,
                    &mut mask,
                    out.as_mut_ptr().cast(),
                    &mut buffer_size,
                )
            })?;
            out.truncate(buffer_size);
            Ok(mask)
        })
    }

    /// Grows or shrinks the dataset to `rows` rows.
    pub fn set_extent(&self, rows: u64) -> hdf5::Result<()> {
        // SAFETY: the dataset id is valid while `self` lives; the dims pointer refers to
        // one hsize_t, matching the dataset's rank of 1 (checked in `new`).
        hdf5::sync::sync(|| check(unsafe { H5Dset_extent(self.0.id(), &rows) }))?;
        Ok(())
    }

    /// Stores `stored` as the chunk at row `offset`, declaring every filter of the dataset
    /// applied (filter mask 0): the caller has applied them.
    pub fn write_chunk(&self, offset: u64, stored: &[u8]) -> hdf5::Result<()> {
        hdf5::sync::sync(|| {
            // SAFETY: the dataset id is valid while `self` lives; `offset` points to one
            // hsize_t (rank 1, checked in `new`); HDF5 reads exactly `stored.len()` bytes
            // from the pointer.
            check(unsafe {
                H5Dwrite_chunk(
                    self.0.id(),
                    H5P_DEFAULT,
                    0,
                    &offset,
                    stored.len(),
                    stored.as_ptr().cast(),
                )
            })
        })?;
        Ok(())
    }
}

/// A dataset of any rank whose chunks are written whole, with one coordinate per
/// dimension: the matrix datasets (rank 2) and their row labels (rank 1).
pub struct GridDataset {
    data: Dataset,
    rank: usize,
}

impl GridDataset {
    pub fn new(data: Dataset) -> Self {
        let rank = data.ndim();
        Self { data, rank }
    }

    pub fn dataset(&self) -> &Dataset {
        &self.data
    }

    /// Grows or shrinks the dataset to `dims`, one per dimension.
    pub fn set_extent(&self, dims: &[u64]) -> hdf5::Result<()> {
        assert_eq!(dims.len(), self.rank, "one extent per dimension");
        // SAFETY: the dataset id is valid while `self` lives; `dims` holds one hsize_t per
        // dimension of the dataset (asserted above).
        hdf5::sync::sync(|| check(unsafe { H5Dset_extent(self.data.id(), dims.as_ptr()) }))?;
        Ok(())
    }

    /// Stores `stored` as the chunk whose first element is at `offset` (one coordinate per
    /// dimension), declaring every filter of the dataset applied (filter mask 0).
    pub fn write_chunk(&self, offset: &[u64], stored: &[u8]) -> hdf5::Result<()> {
        assert_eq!(offset.len(), self.rank, "one coordinate per dimension");
        hdf5::sync::sync(|| {
            // SAFETY: the dataset id is valid while `self` lives; `offset` holds one hsize_t
            // per dimension (asserted above); HDF5 reads exactly `stored.len()` bytes.
            check(unsafe {
                H5Dwrite_chunk(
                    self.data.id(),
                    H5P_DEFAULT,
                    0,
                    offset.as_ptr(),
                    stored.len(),
                    stored.as_ptr().cast(),
                )
            })
        })?;
        Ok(())
    }
}

/// Writes all of `dataset` from packed bytes of `datatype`, one record per element.
pub fn write_all(dataset: &Dataset, datatype: &Datatype, bytes: &[u8]) -> hdf5::Result<()> {
    assert_eq!(bytes.len(), dataset.size() * datatype.size());
    if bytes.is_empty() {
        return Ok(());
    }
    hdf5::sync::sync(|| {
        // SAFETY: both ids are valid while their owners live; with H5S_ALL HDF5 reads one
        // element of `datatype` per element of the dataset from the pointer, and `bytes`
        // holds that many (asserted above).
        check(unsafe {
            H5Dwrite(
                dataset.id(),
                datatype.id(),
                H5S_ALL,
                H5S_ALL,
                H5P_DEFAULT,
                bytes.as_ptr().cast(),
            )
        })
    })?;
    Ok(())
}

/// Why [`read_all`] did not read a dataset.
#[derive(Debug, thiserror::Error)]
pub enum ReadAllError {
    /// The element count and record size the file states make more bytes than the file
    /// holds (or than memory can address): a crafted or damaged extent, refused before it
    /// sizes a buffer.
    #[error(
        "{name} claims {elements} elements of {record_size} bytes ({}), more than the {file_bytes} \
         bytes of its file",
        bytes.map_or("more than 2^64 bytes".to_string(), |bytes| format!("{bytes} bytes"))
    )]
    TooLarge {
        name: String,
        elements: u64,
        record_size: usize,
        /// `None` if the product overflows.
        bytes: Option<u64>,
        file_bytes: u64,
    },
    #[error(transparent)]
    Hdf5(#[from] hdf5::Error),
}

impl From<ReadAllError> for hdf5::Error {
    fn from(error: ReadAllError) -> Self {
        match error {
            ReadAllError::Hdf5(error) => error,
            error @ ReadAllError::TooLarge { .. } => hdf5::Error::from(error.to_string()),
        }
    }
}

/// The bytes `elements` records of `record_size` take, if the file (of `file_bytes`) can
/// hold them: every dataset txt2h5 reads whole is stored uncompressed, so its records are
/// bytes of the file. The count and the size both come from the file; their product is
/// checked, as a wrapped product would size a short buffer that HDF5 then overruns.
fn packed_bytes(elements: u64, record_size: usize, file_bytes: u64) -> Option<usize> {
    elements
        .checked_mul(record_size as u64)
        .filter(|&bytes| bytes <= file_bytes)
        .and_then(|bytes| usize::try_from(bytes).ok())
}

/// The bytes all elements of `dataset` take as records of `record_size`, refused
/// ([`ReadAllError::TooLarge`]) if its file cannot hold them ([`packed_bytes`]).
pub fn checked_extent(dataset: &Dataset, record_size: usize) -> Result<usize, ReadAllError> {
    let elements = dataset.size() as u64;
    let file_bytes = dataset.file()?.size();
    packed_bytes(elements, record_size, file_bytes).ok_or_else(|| ReadAllError::TooLarge {
        name: dataset.name(),
        elements,
        record_size,
        bytes: elements.checked_mul(record_size as u64),
        file_bytes,
    })
}

/// Reads all of `dataset` as packed bytes of `datatype`, one record per element. The
/// buffer is sized only once the element count times the record size is known to fit in
/// the file ([`packed_bytes`]).
pub fn read_all(dataset: &Dataset, datatype: &Datatype) -> Result<Vec<u8>, ReadAllError> {
    let elements = dataset.size() as u64;
    let bytes = checked_extent(dataset, datatype.size())?;
    let mut out = vec![0u8; bytes];
    if elements == 0 {
        return Ok(out);
    }
    hdf5::sync::sync(|| {
        // SAFETY: both ids are valid while their owners live; with H5S_ALL HDF5 writes
        // one element of `datatype` per element of the dataset, `elements` of them, and
        // `out` holds `elements * datatype.size()` bytes: the product was computed without
        // overflow and bounded by the file's size in `packed_bytes` before `out` was made.
        check(unsafe {
            H5Dread(
                dataset.id(),
                datatype.id(),
                H5S_ALL,
                H5S_ALL,
                H5P_DEFAULT,
                out.as_mut_ptr().cast(),
            )
        })
    })?;
    Ok(out)
}

/// A dataspace's selection, as far as a virtual mapping needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selected {
    /// Elements `start..=end` of a one-dimensional space, `count` of them (`count` 0: an
    /// empty selection, with no bounds).
    Rows { start: u64, end: u64, count: u64 },
    /// All of a space whose extent the file does not store: how HDF5 reads back a source
    /// selection of the whole source dataset (as `merge --virtual` writes them).
    Whole,
    /// A space of another rank, whose bounds would not fit one coordinate.
    Rank(i32),
}

/// One mapping of a virtual dataset, as HDF5 stores it.
pub struct RawMapping {
    pub file: String,
    pub dataset: String,
    /// The selection in the virtual dataset.
    pub virtual_space: Selected,
    /// The selection in the source dataset.
    pub source_space: Selected,
}

/// The mappings of the virtual dataset whose creation property list is `dcpl`, read with
/// the C API: hdf5-metno's `virtual_map` returns none for a dataset read back from a file
/// (it cannot describe the selections).
pub fn virtual_mappings(dcpl: &hdf5::plist::DatasetCreate) -> hdf5::Result<Vec<RawMapping>> {
    let id = dcpl.id();
    hdf5::sync::sync(|| {
        let mut count = 0usize;
        // SAFETY: `id` is a valid dataset creation property list; one size_t is written.
        check(unsafe { H5Pget_virtual_count(id, &mut count) })?;
        (0..count)
            .map(|index| {
                // SAFETY: `index` is below the mapping count; each call returns a new
                // dataspace id, which `selected` checks and closes.
                let virtual_space = selected(unsafe { H5Pget_virtual_vspace(id, index) })?;
                let source_space = selected(unsafe { H5Pget_virtual_srcspace(id, index) })?;
                Ok(RawMapping {
                    file: mapping_text(H5Pget_virtual_filename, id, index)?,
                    dataset: mapping_text(H5Pget_virtual_dsetname, id, index)?,
                    virtual_space,
                    source_space,
                })
            })
            .collect()
    })
}

/// The selection of a dataspace id returned by HDF5; the space is closed.
fn selected(space: hid_t) -> hdf5::Result<Selected> {
    let space = check(space)?;
    let selection = selection_of(space);
    // SAFETY: `space` is a valid dataspace id (checked above) that this function owns; it
    // is closed once, here.
    unsafe { H5Sclose(space) };
    selection
}

fn selection_of(space: hid_t) -> hdf5::Result<Selected> {
    // SAFETY: `space` is a valid dataspace id.
    let rank = check(unsafe { H5Sget_simple_extent_ndims(space) })?;
    // SAFETY: as above.
    let all = unsafe { H5Sget_select_type(space) } == H5S_sel_type::H5S_SEL_ALL;
    if all && rank == 0 {
        return Ok(Selected::Whole);
    }
    if rank != 1 {
        return Ok(Selected::Rank(rank));
    }
    // SAFETY: as above.
    let count = check(unsafe { H5Sget_select_npoints(space) })? as u64;
    if count == 0 {
        return Ok(Selected::Rows {
            start: 0,
            end: 0,
            count,
        });
    }
    let (mut start, mut end) = (0u64, 0u64);
    // SAFETY: the space has rank 1 (checked just above), so HDF5 writes one hsize_t
    // through each pointer.
    check(unsafe { H5Sget_select_bounds(space, &mut start, &mut end) })?;
    Ok(Selected::Rows { start, end, count })
}

/// A string property of mapping `index`, asked for its length first.
fn mapping_text(
    get: unsafe extern "C" fn(hid_t, usize, *mut c_char, usize) -> isize,
    id: hid_t,
    index: usize,
) -> hdf5::Result<String> {
    // SAFETY: with a null buffer HDF5 only returns the length; then the buffer holds that
    // many bytes and the NUL HDF5 writes after them.
    let length = check(unsafe { get(id, index, std::ptr::null_mut(), 0) })? as usize;
    let mut buffer = vec![0u8; length + 1];
    check(unsafe { get(id, index, buffer.as_mut_ptr().cast(), buffer.len()) })?;
    buffer.truncate(length);
    Ok(String::from_utf8_lossy(&buffer).into_owned())
}

/// The signature of an HDF5 filter function (`H5Z_func_t`).
pub type FilterFn = unsafe extern "C" fn(
    c_uint,
    usize,
    *const c_uint,
    usize,
    *mut usize,
    *mut *mut c_void,
) -> usize;

/// Registers `filter` as HDF5 filter `id`, with both directions present.
pub fn register_filter(
    id: H5Z_filter_t,
    name: &'static CStr,
    filter: FilterFn,
) -> hdf5::Result<()> {
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
    // SAFETY: HDF5 copies the class into its table; the name is a 'static C string and
    // the function pointer lives for the whole process.
    hdf5::sync::sync(|| {
        check(unsafe { H5Zregister(std::ptr::from_ref(&class).cast::<c_void>()) })
    })?;
    Ok(())
}

/// Replaces a filter's buffer with `output`: a copy in HDF5's allocator (which frees what
/// a filter hands back), the old buffer freed. Returns false, leaving the buffer alone,
/// if HDF5 cannot allocate.
///
/// # Safety
/// As HDF5 calls a filter: `*buf` is a buffer allocated by HDF5's allocator and
/// `buf_size` is writable.
pub unsafe fn replace_filter_buffer(
    buf: *mut *mut c_void,
    buf_size: *mut usize,
    output: &[u8],
) -> bool {
    // SAFETY: see the function's contract; the copy fits the new allocation.
    unsafe {
        let replacement = H5allocate_memory(output.len().max(1), 0);
        if replacement.is_null() {
            return false;
        }
        std::ptr::copy_nonoverlapping(output.as_ptr(), replacement.cast::<u8>(), output.len());
        H5free_memory(*buf);
        *buf = replacement;
        *buf_size = output.len().max(1);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::packed_bytes;

    #[test]
    fn packed_bytes_are_checked_and_bounded_by_the_file() {
        assert_eq!(packed_bytes(10, 41, 410), Some(410));
        assert_eq!(packed_bytes(10, 41, 409), None);
        assert_eq!(packed_bytes(0, 64, 0), Some(0));
        // 2^58 records of 64 bytes: the product wraps to 0 unchecked.
        assert_eq!((1u64 << 58).wrapping_mul(64), 0);
        assert_eq!(packed_bytes(1 << 58, 64, u64::MAX), None);
        assert_eq!(
            packed_bytes(u64::MAX, 1, u64::MAX),
            usize::try_from(u64::MAX).ok()
        );
    }
}
