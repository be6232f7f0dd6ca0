//! HDF5's Fletcher32 filter (filter 3): four bytes of checksum after a chunk's stored bytes,
//! the last filter of every chunked dataset txt2h5 writes, so that every reader (txt2h5,
//! h5py, R, any HDF5 program) finds a damaged chunk instead of decoding it to garbage. zstd,
//! lz4 and blosc frames carry no checksum of their own (deflate's zlib stream has Adler-32,
//! a raw chunk nothing), and a flipped byte inside one decodes to wrong records.
//!
//! The sum is HDF5's `H5_checksum_fletcher32` (H5checksum.c): 16-bit big-endian words,
//! both sums folded (not reduced modulo 65535) after every 360 words and twice at the end,
//! an odd last byte taken as the high byte of a word; the sums are 32-bit and wrap as C's
//! do. H5Zfletcher32.c stores it little-endian (`UINT32ENCODE`) and on reading also accepts
//! it with the bytes of each 16-bit half swapped: what HDF5 before 1.6.3 wrote on
//! little-endian machines. So does [`verified`].
//!
//! txt2h5 writes chunks itself and reads stored chunks itself (the row reader checks and
//! strips the checksum). Whoever makes a chunk's stored bytes appends the checksum to them, in
//! the buffer they are made in, so that the one thread that writes the file only stores them:
//! a compression job after compressing ([`super::ChunkCompressor`]), the chunker's raw chunk
//! buffer in its four spare bytes, merge's copy of a stored chunk. [`seal`] is the one
//! function that writes the four bytes. HDF5's own reads go through the filter txt2h5
//! registers for id 3.

use super::error::CodecError;

/// Bytes of the checksum after a chunk's bytes.
pub const CHECKSUM_BYTES: usize = 4;

/// Words summed before the sums are folded, as HDF5 does.
const WORDS_PER_FOLD: usize = 360;

fn fold(sum: u32) -> u32 {
    (sum & 0xffff) + (sum >> 16)
}

/// Words summed side by side in [`lane_sums`].
const LANES: usize = 8;

/// HDF5's Fletcher32 checksum of `data`, bit for bit (see the module doc).
///
/// Over one block of `n` words `w_0 .. w_{n-1}`, HDF5's loop (`sum1 += w_i; sum2 += sum1`)
/// adds `Σ w_i` to sum1 and `n * sum1 + Σ (n - i) w_i` to sum2, all in 32-bit wrapping
/// arithmetic like C's, so the block's two sums can be had any way that gives those values
/// ([`lane_sums`], eight lanes the compiler can vectorize, where the word-by-word loop
/// carries a dependency from word to word) and the folds kept exactly where HDF5 makes
/// them.
pub fn fletcher32(data: &[u8]) -> u32 {
    let (mut sum1, mut sum2) = (0u32, 0u32);
    let whole = data.len() & !1;
    for block in data[..whole].chunks(2 * WORDS_PER_FOLD) {
        let words = (block.len() / 2) as u32;
        let (plain, weighted) = if block.len() % (2 * LANES) == 0 {
            lane_sums(block)
        } else {
            word_sums(block)
        };
        sum2 = sum2
            .wrapping_add(words.wrapping_mul(sum1))
            .wrapping_add(weighted);
        sum1 = fold(sum1.wrapping_add(plain));
        sum2 = fold(sum2);
    }
    if let Some(&last) = data.get(whole) {
        sum1 = sum1.wrapping_add(u32::from(last) << 8);
        sum2 = sum2.wrapping_add(sum1);
        sum1 = fold(sum1);
        sum2 = fold(sum2);
    }
    (fold(sum2) << 16) | fold(sum1)
}

/// `(Σ w_i, Σ (n - i) w_i)` of the big-endian words of `block`, word by word: HDF5's loop
/// started from zero.
fn word_sums(block: &[u8]) -> (u32, u32) {
    let (mut plain, mut weighted) = (0u32, 0u32);
    for word in block.chunks_exact(2) {
        plain = plain.wrapping_add((u32::from(word[0]) << 8) | u32::from(word[1]));
        weighted = weighted.wrapping_add(plain);
    }
    (plain, weighted)
}

/// [`word_sums`] of a block of a multiple of [`LANES`] words, as `LANES` independent
/// chains: lane `j` sums the words `j, j + L, ...` (`a_j`) and its running sums (`b_j`);
/// with `m` words a lane, word `i = t L + j` has weight `n - i = L (m - t) - j`, so the
/// weighted sum is `L Σ b_j - Σ j a_j`.
fn lane_sums(block: &[u8]) -> (u32, u32) {
    let mut a = [0u32; LANES];
    let mut b = [0u32; LANES];
    for step in block.chunks_exact(2 * LANES) {
        for lane in 0..LANES {
            let word = (u32::from(step[2 * lane]) << 8) | u32::from(step[2 * lane + 1]);
            a[lane] = a[lane].wrapping_add(word);
            b[lane] = b[lane].wrapping_add(a[lane]);
        }
    }
    let (mut plain, mut weighted) = (0u32, 0u32);
    for lane in 0..LANES {
        plain = plain.wrapping_add(a[lane]);
        weighted = weighted
            .wrapping_add((LANES as u32).wrapping_mul(b[lane]))
            .wrapping_sub((lane as u32).wrapping_mul(a[lane]));
    }
    (plain, weighted)
}

/// Writes the checksum of `chunk`'s bytes before its last [`CHECKSUM_BYTES`] into those
/// last bytes, as the filter stores it: a chunk made in a buffer with room for its checksum
/// is sealed in place, without a copy.
///
/// # Panics
/// If `chunk` is shorter than [`CHECKSUM_BYTES`].
pub fn seal(chunk: &mut [u8]) {
    let split = chunk.len() - CHECKSUM_BYTES;
    let sum = fletcher32(&chunk[..split]);
    chunk[split..].copy_from_slice(&sum.to_le_bytes());
}

/// Appends the checksum of `stored` to it, as the filter does on writing. It grows `stored`
/// (an allocation that cannot fail safely) unless the caller reserved the room.
pub fn append_checksum(stored: &mut Vec<u8>) {
    stored.extend_from_slice(&[0; CHECKSUM_BYTES]);
    seal(stored);
}

/// The bytes of `stored` before its checksum, if the checksum is right (either byte order
/// HDF5 accepts); an error naming both sums if not.
pub fn verified(stored: &[u8]) -> Result<&[u8], CodecError> {
    let Some(split) = stored.len().checked_sub(CHECKSUM_BYTES) else {
        return Err(CodecError::NoChecksum(stored.len()));
    };
    let (bytes, sum) = stored.split_at(split);
    let stored_sum = u32::from_le_bytes(sum.try_into().expect("4 bytes"));
    let computed = fletcher32(bytes);
    let reversed = ((computed & 0x00ff_00ff) << 8) | ((computed & 0xff00_ff00) >> 8);
    if stored_sum == computed || stored_sum == reversed {
        Ok(bytes)
    } else {
        Err(CodecError::Checksum {
            stored: stored_sum,
            computed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// HDF5's loop as H5checksum.c writes it, word by word with explicit counters: the
    /// obviously-correct twin of [`fletcher32`].
    fn fletcher32_as_in_c(data: &[u8]) -> u32 {
        let mut len = data.len() / 2;
        let (mut sum1, mut sum2) = (0u32, 0u32);
        let mut at = 0;
        while len > 0 {
            let mut tlen = len.min(360);
            len -= tlen;
            while tlen > 0 {
                sum1 = sum1.wrapping_add((u32::from(data[at]) << 8) | u32::from(data[at + 1]));
                at += 2;
                sum2 = sum2.wrapping_add(sum1);
                tlen -= 1;
            }
            sum1 = (sum1 & 0xffff) + (sum1 >> 16);
            sum2 = (sum2 & 0xffff) + (sum2 >> 16);
        }
        if data.len() % 2 == 1 {
            sum1 = sum1.wrapping_add(u32::from(data[at]) << 8);
            sum2 = sum2.wrapping_add(sum1);
            sum1 = (sum1 & 0xffff) + (sum1 >> 16);
            sum2 = (sum2 & 0xffff) + (sum2 >> 16);
        }
        sum1 = (sum1 & 0xffff) + (sum1 >> 16);
        sum2 = (sum2 & 0xffff) + (sum2 >> 16);
        (sum2 << 16) | sum1
    }

    #[test]
    fn the_sum_is_hdf5s() {
        // By hand: the word 0x6162 is sum1 and sum2; then 0x6364 makes sum1 0xc4c6 and
        // sum2 0x6162 + 0xc4c6 = 0x12628, folded to 0x2629; an odd last byte 0x65 is the
        // word 0x6500: sum1 0x129c6 folds to 0x29c7, sum2 0x2629 + 0x129c6 to 0x4ff0.
        assert_eq!(fletcher32(b"ab"), 0x6162_6162);
        assert_eq!(fletcher32(b"abcd"), 0x2629_c4c6);
        assert_eq!(fletcher32(b"abcde"), 0x4ff0_29c7);
        // All 0xff: the sums wrap in 32 bits inside a 360-word block, as C's do.
        for len in [1, 2, 3, 15, 16, 17, 719, 720, 721, 722, 4096, 100_001] {
            for fill in [0u8, 0xff, 0x80] {
                let data = vec![fill; len];
                assert_eq!(fletcher32(&data), fletcher32_as_in_c(&data), "{len} {fill}");
            }
            let noise = crate::test_support::noise(len, 0x9e37_79b9_7f4a_7c15);
            assert_eq!(fletcher32(&noise), fletcher32_as_in_c(&noise), "{len}");
        }
    }

    #[test]
    fn appended_checksums_verify_and_flipped_bytes_do_not() {
        let mut stored = crate::test_support::noise(10_000, 0x2545_f491_4f6c_dd1d);
        let original = stored.clone();
        append_checksum(&mut stored);
        assert_eq!(stored.len(), original.len() + 4);
        assert_eq!(verified(&stored).unwrap(), &original[..]);
        for at in [0, 1, 5000, 9999, 10_000, 10_003] {
            let mut damaged = stored.clone();
            damaged[at] ^= 0x10;
            let error = verified(&damaged).unwrap_err();
            assert!(
                matches!(error, CodecError::Checksum { .. }),
                "{at}: {error}"
            );
        }
        let mut sealed = original.clone();
        sealed.extend_from_slice(b"room");
        seal(&mut sealed);
        assert_eq!(sealed, stored);
        assert!(matches!(
            verified(&[1, 2, 3]),
            Err(CodecError::NoChecksum(3))
        ));
    }

    /// HDF5 before 1.6.3 stored the sum with the bytes of each half swapped on
    /// little-endian machines; HDF5 still reads such chunks, and so does txt2h5.
    #[test]
    fn the_old_byte_order_verifies() {
        let data = b"methylation chunk".to_vec();
        let sum = fletcher32(&data).to_le_bytes();
        let mut old = data.clone();
        old.extend_from_slice(&[sum[1], sum[0], sum[3], sum[2]]);
        assert_eq!(verified(&old).unwrap(), &data[..]);
        let mut wrong = data.clone();
        wrong.extend_from_slice(&[sum[2], sum[3], sum[0], sum[1]]);
        assert!(verified(&wrong).is_err());
    }
}
