//! HDF5's shuffle filter (filter 2): records of `element_size` bytes become byte planes
//! (byte 0 of every record, then byte 1, ...), which compress far better than the records;
//! and its inverse, for some rows or some bytes of each record. The leaf that the chunk
//! codecs ([`super::chunk`]) and blosc's frames ([`super::blosc`]), which shuffle inside
//! each block, both use.

/// HDF5's shuffle filter: transposes `raw` from records of `element_size` bytes to byte
/// planes. `raw.len()` must be a multiple of `element_size` (a full chunk always is).
pub fn shuffle(raw: &[u8], element_size: usize, out: &mut Vec<u8>) {
    // Every byte is written: keep what is there rather than zero-fill a chunk again.
    out.resize(raw.len(), 0);
    shuffle_into(raw, element_size, out);
}

/// [`shuffle`] into `out`, a slice of exactly `raw.len()` bytes.
pub fn shuffle_into(raw: &[u8], element_size: usize, out: &mut [u8]) {
    assert_eq!(raw.len() % element_size, 0);
    assert_eq!(raw.len(), out.len());
    // The record sizes of the default schema and its usual variants get a copy of the loop
    // with the size known, which the compiler turns into fixed-stride loads.
    match element_size {
        26 => shuffle_sized::<26>(raw, out),
        27 => shuffle_sized::<27>(raw, out),
        29 => shuffle_sized::<29>(raw, out),
        30 => shuffle_sized::<30>(raw, out),
        _ => shuffle_any(raw, element_size, out),
    }
}

/// Records per block: small enough that a block's reads stay in L1 while each byte plane
/// is written sequentially.
const BLOCK: usize = 64;

fn shuffle_sized<const SIZE: usize>(raw: &[u8], out: &mut [u8]) {
    shuffle_blocks(raw, SIZE, out)
}

fn shuffle_any(raw: &[u8], element_size: usize, out: &mut [u8]) {
    shuffle_blocks(raw, element_size, out)
}

/// The shuffle loop, inlined into each caller so that a constant size stays constant.
#[inline(always)]
fn shuffle_blocks(raw: &[u8], element_size: usize, out: &mut [u8]) {
    let elements = raw.len() / element_size;
    for block_start in (0..elements).step_by(BLOCK) {
        let block_end = (block_start + BLOCK).min(elements);
        let records = &raw[block_start * element_size..block_end * element_size];
        for byte in 0..element_size {
            let plane = &mut out[byte * elements + block_start..byte * elements + block_end];
            for (slot, record) in plane.iter_mut().zip(records.chunks_exact(element_size)) {
                *slot = record[byte];
            }
        }
    }
}

/// The inverse of [`shuffle`] for records `rows` of the `planes.len() / element_size`
/// records the planes hold: `out` receives exactly those records.
pub fn unshuffle_rows(
    planes: &[u8],
    element_size: usize,
    rows: std::ops::Range<usize>,
    out: &mut [u8],
) {
    unshuffle_bytes(
        planes,
        element_size,
        rows,
        std::slice::from_ref(&(0..element_size)),
        out,
    );
}

/// [`unshuffle_rows`] for the bytes `bytes` (ranges of byte offsets in a record) alone:
/// those bytes of each record in `out` are set, the others left as they were. For a reader
/// of a few fields, which then skips the planes of the rest.
pub fn unshuffle_bytes(
    planes: &[u8],
    element_size: usize,
    rows: std::ops::Range<usize>,
    bytes: &[std::ops::Range<usize>],
    out: &mut [u8],
) {
    assert_eq!(planes.len() % element_size, 0);
    assert!(bytes.iter().all(|range| range.end <= element_size));
    let elements = planes.len() / element_size;
    assert!(rows.end <= elements);
    assert_eq!(out.len(), rows.len() * element_size);
    for block_start in rows.clone().step_by(BLOCK) {
        let block_end = (block_start + BLOCK).min(rows.end);
        let first = block_start - rows.start;
        let records = &mut out[first * element_size..(block_end - rows.start) * element_size];
        for byte in bytes.iter().cloned().flatten() {
            let plane = &planes[byte * elements + block_start..byte * elements + block_end];
            for (value, record) in plane.iter().zip(records.chunks_exact_mut(element_size)) {
                record[byte] = *value;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unshuffling_some_bytes_sets_those_and_leaves_the_rest() {
        let raw: Vec<u8> = (0..26 * 100).map(|i| (i * 7 % 251) as u8).collect();
        let mut planes = Vec::new();
        shuffle(&raw, 26, &mut planes);
        let mut out = vec![0xee; 26 * 40];
        unshuffle_bytes(&planes, 26, 30..70, &[10..14, 18..26], &mut out);
        for (row, record) in out.chunks_exact(26).enumerate() {
            let original = &raw[(30 + row) * 26..][..26];
            for byte in 0..26 {
                let filled = (10..14).contains(&byte) || (18..26).contains(&byte);
                let want = if filled { original[byte] } else { 0xee };
                assert_eq!(record[byte], want, "row {row} byte {byte}");
            }
        }
    }

    #[test]
    fn shuffle_makes_byte_planes() {
        let raw = [1, 2, 3, 11, 12, 13, 21, 22, 23, 31, 32, 33];
        let mut out = Vec::new();
        shuffle(&raw, 3, &mut out);
        assert_eq!(out, [1, 11, 21, 31, 2, 12, 22, 32, 3, 13, 23, 33]);
    }

    /// The copies of the loop for known record sizes give what the general loop gives.
    #[test]
    fn sized_shuffles_equal_the_general_one() {
        for size in [26, 27, 29, 30, 31] {
            let raw: Vec<u8> = (0..size * 1000).map(|i| (i * 7 + i / 13) as u8).collect();
            let mut sized = Vec::new();
            shuffle(&raw, size, &mut sized);
            let mut general = vec![0; raw.len()];
            shuffle_any(&raw, size, &mut general);
            assert_eq!(sized, general, "{size}");
            let mut back = vec![0; raw.len()];
            unshuffle_rows(&sized, size, 0..1000, &mut back);
            assert_eq!(back, raw, "{size}");
        }
    }
}
