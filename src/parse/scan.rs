//! Structural scanning: the bytes of the text classified 64 at a time into bit masks, so
//! that the fast path finds a line's fields with a few bit operations instead of a loop
//! over its bytes.
//!
//! Three masks per 64-byte block, bit `i` for byte `i`:
//!
//! - `sep`: bytes up to `0x20` (space, tab, the line ends, every control byte). Fields are
//!   the runs of bytes between them.
//! - `bad`: bytes a line of the structural fast path may not hold before its last field
//!   ends: control bytes other than tab (the line ends among them), `#`, and bytes from
//!   `0x7f`. So in a line with no bad byte, fields are printable ASCII without `#` and the
//!   runs between them are tabs and spaces. A line with one goes to the byte-at-a-time
//!   fast path and the general parser, which know every rule.
//! - `dot`: the decimal points, so that a decimal's digits can be read around its point.
//!
//! The classification is done by a [`Kernel`]: SSE2 (part of every x86-64 CPU), AVX2 when
//! the CPU has it (detected at run time), or portable scalar code, which is the definition
//! the others are tested against. Where no SIMD kernel exists (other architectures), the
//! parser skips structural scanning and takes the byte-at-a-time fast path alone, which is
//! faster there ([`Scanning::Lines`]). The differential and fuzz tests run the whole parser
//! every way the machine can scan.

use super::swar::{self, Digits, Folded};

/// The masks of 64 consecutive bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Masks {
    pub sep: u64,
    pub bad: u64,
    pub dot: u64,
}

/// Whether a byte separates fields (the `sep` mask).
const fn is_sep(byte: u8) -> bool {
    byte <= b' '
}

/// Whether a byte may not appear in a line of the structural fast path (the `bad` mask).
const fn is_bad(byte: u8) -> bool {
    (byte < b' ' && byte != b'\t') || byte == b'#' || byte >= 0x7f
}

/// The byte that stands for "past the end of the text": a separator, so that a field
/// that ends with the text ends there, and not bad.
pub const PAST_END: u8 = b' ';
const _: () = assert!(is_sep(PAST_END) && !is_bad(PAST_END));

/// What a kernel does: classify blocks of text, and fold the words of digits of a line's
/// numbers ([`swar`]).
pub trait Simd: Copy {
    fn classify(self, block: &[u8; 64]) -> Masks;
    /// `None` if a kept byte of a word is not an ASCII digit.
    fn fold_digits(self, digits: &Digits) -> Option<Folded>;
}

/// How the block parser finds the fields of native lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scanning {
    /// The structural fast path with this kernel, then the per-line one.
    Structural(Kernel),
    /// The per-line (byte-at-a-time) fast path alone.
    Lines,
}

impl Scanning {
    pub fn name(self) -> &'static str {
        match self {
            Scanning::Structural(kernel) => kernel.name(),
            Scanning::Lines => "lines",
        }
    }
}

/// The process's way of scanning, once chosen (see [`Kernel::scanning`]).
static CHOSEN: std::sync::OnceLock<Scanning> = std::sync::OnceLock::new();

/// Which code classifies the bytes. Every kernel gives the same masks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    Scalar,
    #[cfg(target_arch = "x86_64")]
    Sse2,
    /// AVX2, with the value that proves the CPU has it.
    #[cfg(target_arch = "x86_64")]
    Avx2(Avx2),
}

impl Kernel {
    /// How native lines are scanned in this process: the choice [`Kernel::install`] made,
    /// else [`Kernel::choose`] with nothing forced. The parser's hot loop is a free function
    /// reached from every file's parser, so the choice is the process's, made once.
    pub fn scanning() -> Scanning {
        *CHOSEN.get_or_init(|| Kernel::choose(None))
    }

    /// How native lines are scanned on this machine: the fastest kernel, except where that
    /// would be the scalar one (no SIMD kernel for this CPU), whose byte-at-a-time
    /// classification is slower than the per-line fast path alone. `forced` names a slower
    /// kernel (`scalar` or `sse2`; settings read it from `TXT2H5_KERNEL`), for the CLI fuzzer
    /// (`scripts/fuzz`) and for comparisons; a kernel the CPU cannot run, or an unknown
    /// name, is never chosen.
    pub fn choose(forced: Option<&str>) -> Scanning {
        let available = Kernel::available();
        let forced = forced.and_then(|name| {
            available
                .iter()
                .copied()
                .find(|kernel| kernel.name() == name)
        });
        match forced.unwrap_or(*available.last().expect("the scalar kernel")) {
            Kernel::Scalar if forced.is_none() => Scanning::Lines,
            kernel => Scanning::Structural(kernel),
        }
    }

    /// Makes `scanning` the process's choice, before any line is parsed; `false` if the
    /// choice was made already (the first stays: a process parses one way throughout).
    pub fn install(scanning: Scanning) -> bool {
        CHOSEN.set(scanning).is_ok()
    }

    /// Every way of scanning this machine runs (each kernel and the per-line path alone),
    /// for the tests and the benchmarks.
    pub fn every_scanning() -> Vec<Scanning> {
        let mut every: Vec<Scanning> = Kernel::available()
            .into_iter()
            .map(Scanning::Structural)
            .collect();
        every.push(Scanning::Lines);
        every
    }

    /// Every kernel this CPU runs, slowest first.
    pub fn available() -> Vec<Kernel> {
        #[allow(unused_mut)]
        let mut kernels = vec![Kernel::Scalar];
        #[cfg(target_arch = "x86_64")]
        {
            kernels.push(Kernel::Sse2);
            if let Some(avx2) = x86::Avx2::new() {
                kernels.push(Kernel::Avx2(avx2));
            }
        }
        kernels
    }

    pub fn name(self) -> &'static str {
        match self {
            Kernel::Scalar => "scalar",
            #[cfg(target_arch = "x86_64")]
            Kernel::Sse2 => "sse2",
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2(_) => "avx2",
        }
    }
}

/// The portable kernel: one byte at a time, by the definitions above.
#[derive(Clone, Copy, Debug)]
pub struct Scalar;

impl Simd for Scalar {
    #[inline]
    fn classify(self, block: &[u8; 64]) -> Masks {
        let mut masks = Masks::default();
        for (i, &byte) in block.iter().enumerate() {
            masks.sep |= u64::from(is_sep(byte)) << i;
            masks.bad |= u64::from(is_bad(byte)) << i;
            masks.dot |= u64::from(byte == b'.') << i;
        }
        masks
    }

    #[inline(always)]
    fn fold_digits(self, digits: &Digits) -> Option<Folded> {
        swar::fold_digits(digits)
    }
}

#[cfg(target_arch = "x86_64")]
pub use x86::{Avx2, Sse2};

#[cfg(target_arch = "x86_64")]
mod x86 {
    //! Both kernels compute, 16 or 32 bytes per instruction:
    //! `sep = (min(x, 0x20) == x)` (unsigned `x <= 0x20`), and
    //! `bad = !(printable & !hash | tab)` where `printable` (`0x20..=0x7e`) is one signed
    //! comparison: adding `0x60` maps that range, and only it, to `-128..=-34`.
    //!
    //! The intrinsics are safe functions from Rust 1.87 on; the `unsafe` blocks around them
    //! are for the oldest compiler the crate supports (1.85), hence `allow(unused_unsafe)`.

    use super::{Digits, Folded, Masks, Simd};
    use std::arch::x86_64::*;

    /// A word as a vector.
    #[inline(always)]
    #[allow(unused_unsafe)]
    fn vector(word: u128) -> __m128i {
        // SAFETY: SSE2 is part of the x86-64 baseline.
        unsafe { _mm_set_epi64x((word >> 64) as i64, word as i64) }
    }

    /// [`Simd::fold_digits`] with SSE2, for both kernels: the three words side by side, in
    /// the steps of the scalar fold (pairs, quadruples, eights), each a vector operation.
    /// `pairs` is the first step: 16-bit lanes of 10 * the first byte (the more significant
    /// digit) + the second.
    #[inline(always)]
    #[allow(unused_unsafe)]
    fn fold_digits(digits: &Digits, pairs: impl Fn(__m128i) -> __m128i) -> Option<Folded> {
        // SAFETY: SSE2 is part of the x86-64 baseline.
        unsafe {
            // Digit values; bytes not kept read as 0. Bytes are subtracted one by one, so
            // nothing crosses from the bytes outside a field.
            let values = |word: __m128i, keep: u128| {
                _mm_and_si128(_mm_sub_epi8(word, _mm_set1_epi8(b'0' as i8)), vector(keep))
            };
            let from_last = vector(digits.pct_from_last);
            let pct = _mm_or_si128(
                _mm_and_si128(from_last, vector(digits.pct_last)),
                _mm_andnot_si128(from_last, vector(digits.pct_before)),
            );
            let a = values(vector(digits.pos), digits.pos_keep);
            let b = values(pct, digits.pct_keep);
            let c = values(vector(digits.counts), digits.counts_keep);
            // A byte above 9 (unsigned, so also one below '0') survives the saturating
            // subtraction of 9.
            let nine = _mm_set1_epi8(9);
            let over = _mm_or_si128(
                _mm_or_si128(_mm_subs_epu8(a, nine), _mm_subs_epu8(b, nine)),
                _mm_subs_epu8(c, nine),
            );
            if _mm_movemask_epi8(_mm_cmpeq_epi8(over, _mm_setzero_si128())) != 0xFFFF {
                return None;
            }
            // 32-bit lanes: 100 * the first pair + the second.
            let hundred = _mm_set1_epi32(100 | (1 << 16));
            let quads = |x: __m128i| _mm_madd_epi16(pairs(x), hundred);
            // Narrowed to 16 bits (at most 9999), then 10^4 * the first + the second: the
            // eights, as 32-bit lanes.
            let ten_thousand = _mm_set1_epi32(10_000 | (1 << 16));
            let ab = _mm_madd_epi16(_mm_packs_epi32(quads(a), quads(b)), ten_thousand);
            let cc = _mm_madd_epi16(_mm_packs_epi32(quads(c), quads(c)), ten_thousand);
            Some([
                _mm_cvtsi128_si64(ab) as u64,
                _mm_cvtsi128_si64(_mm_unpackhi_epi64(ab, ab)) as u64,
                _mm_cvtsi128_si64(cc) as u64,
            ])
        }
    }

    /// The pairs step with SSE2 alone: mask, multiply, shift, add.
    #[inline(always)]
    #[allow(unused_unsafe)]
    fn pairs_sse2(x: __m128i) -> __m128i {
        // SAFETY: SSE2 is part of the x86-64 baseline.
        unsafe {
            _mm_add_epi16(
                _mm_mullo_epi16(_mm_and_si128(x, _mm_set1_epi16(0xFF)), _mm_set1_epi16(10)),
                _mm_srli_epi16(x, 8),
            )
        }
    }

    /// SSE2, which every x86-64 CPU has.
    #[derive(Clone, Copy, Debug)]
    pub struct Sse2;

    impl Simd for Sse2 {
        #[inline(always)]
        #[allow(unused_unsafe)]
        fn classify(self, block: &[u8; 64]) -> Masks {
            let mut masks = Masks::default();
            for k in 0..4 {
                // SAFETY: the 16 bytes at 16k lie within the 64-byte block; an unaligned
                // load has no alignment requirement; SSE2 is part of the x86-64 baseline.
                let (sep, ok, dot) = unsafe {
                    let x = _mm_loadu_si128(block.as_ptr().add(16 * k).cast());
                    let sep = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x20)), x);
                    let printable =
                        _mm_cmpgt_epi8(_mm_set1_epi8(-33), _mm_add_epi8(x, _mm_set1_epi8(0x60)));
                    let hash = _mm_cmpeq_epi8(x, _mm_set1_epi8(b'#' as i8));
                    let tab = _mm_cmpeq_epi8(x, _mm_set1_epi8(b'\t' as i8));
                    let ok = _mm_or_si128(_mm_andnot_si128(hash, printable), tab);
                    let dot = _mm_cmpeq_epi8(x, _mm_set1_epi8(b'.' as i8));
                    (
                        _mm_movemask_epi8(sep),
                        _mm_movemask_epi8(ok),
                        _mm_movemask_epi8(dot),
                    )
                };
                masks.sep |= u64::from(sep as u16) << (16 * k);
                masks.bad |= u64::from(!(ok as u16)) << (16 * k);
                masks.dot |= u64::from(dot as u16) << (16 * k);
            }
            masks
        }

        #[inline(always)]
        fn fold_digits(self, digits: &Digits) -> Option<Folded> {
            fold_digits(digits, pairs_sse2)
        }
    }

    /// AVX2. The value proves the CPU has it: [`Avx2::new`] is the only way to make one.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Avx2(());

    impl Avx2 {
        /// AVX2, and the BMI1 and BMI2 bit instructions that the fast path's mask walking
        /// uses once the parser is compiled for AVX2 (every AVX2 CPU has them).
        pub fn new() -> Option<Self> {
            (is_x86_feature_detected!("avx2")
                && is_x86_feature_detected!("bmi1")
                && is_x86_feature_detected!("bmi2"))
            .then_some(Avx2(()))
        }
    }

    impl Simd for Avx2 {
        /// Only inlined into code compiled with AVX2 (the parser's `avx2` entry point) do
        /// the intrinsics become single instructions.
        #[inline(always)]
        #[allow(unused_unsafe)]
        fn classify(self, block: &[u8; 64]) -> Masks {
            let mut masks = Masks::default();
            for k in 0..2 {
                // SAFETY: the 32 bytes at 32k lie within the 64-byte block; an unaligned
                // load has no alignment requirement; `self` exists only if the CPU has AVX2.
                let (sep, ok, dot) = unsafe {
                    let x = _mm256_loadu_si256(block.as_ptr().add(32 * k).cast());
                    let sep = _mm256_cmpeq_epi8(_mm256_min_epu8(x, _mm256_set1_epi8(0x20)), x);
                    let printable = _mm256_cmpgt_epi8(
                        _mm256_set1_epi8(-33),
                        _mm256_add_epi8(x, _mm256_set1_epi8(0x60)),
                    );
                    let hash = _mm256_cmpeq_epi8(x, _mm256_set1_epi8(b'#' as i8));
                    let tab = _mm256_cmpeq_epi8(x, _mm256_set1_epi8(b'\t' as i8));
                    let ok = _mm256_or_si256(_mm256_andnot_si256(hash, printable), tab);
                    let dot = _mm256_cmpeq_epi8(x, _mm256_set1_epi8(b'.' as i8));
                    (
                        _mm256_movemask_epi8(sep),
                        _mm256_movemask_epi8(ok),
                        _mm256_movemask_epi8(dot),
                    )
                };
                masks.sep |= u64::from(sep as u32) << (32 * k);
                masks.bad |= u64::from(!(ok as u32)) << (32 * k);
                masks.dot |= u64::from(dot as u32) << (32 * k);
            }
            masks
        }

        /// The pairs step in one instruction: SSSE3's multiply-add of unsigned bytes (every
        /// AVX2 CPU has SSSE3).
        #[inline(always)]
        #[allow(unused_unsafe)]
        fn fold_digits(self, digits: &Digits) -> Option<Folded> {
            // SAFETY: `self` exists only if the CPU has AVX2, hence SSSE3.
            let pairs = |x| unsafe { _mm_maddubs_epi16(x, _mm_set1_epi16(10 | (1 << 8))) };
            fold_digits(digits, pairs)
        }
    }
}

/// Bytes of a line's window before the line: a number is read from the 17 bytes that end
/// where it ends.
pub const BEFORE: usize = 32;

/// Bytes of a line's window: [`BEFORE`], then the line's first 64 bytes (fields that end
/// within them), then room for loads of up to 16 bytes from a field's start.
pub const WINDOW: usize = BEFORE + 96;

/// Blocks classified at a time (4 KiB of text).
const BLOCKS: usize = 64;

/// The bits of one class for the blocks of a [`Scanner`], as a stream: bit `i` of byte `j`
/// for the byte `8 * j + i` from the scanner's base. So the bits from any byte on are one
/// unaligned load away (and a shift by less than 8).
type Bits = [u8; 8 * (BLOCKS + 1)];

/// The masks of a text, classified a few KiB ahead of the line being parsed, and the
/// window of bytes at a line's start.
pub struct Scanner<'t, K> {
    kernel: K,
    text: &'t [u8],
    /// The first byte the masks describe.
    base: usize,
    /// The masks of the 64-byte blocks from `base`, one block more than a window needs so
    /// that a window starting in the last counted block can read the block after it.
    sep: Bits,
    bad: Bits,
    dot: Bits,
    /// A window at either end of the text, padded with [`PAST_END`].
    edge: [u8; WINDOW],
}

/// The 64 bits from byte `at` of a stream.
#[inline(always)]
fn bits_at(bits: &Bits, at: usize) -> u64 {
    u64::from_le_bytes(bits[at..at + 8].try_into().expect("8 bytes"))
}

impl<'t, K: Simd> Scanner<'t, K> {
    pub fn new(kernel: K, text: &'t [u8]) -> Self {
        let mut scanner = Self {
            kernel,
            text,
            base: 0,
            sep: [0; 8 * (BLOCKS + 1)],
            bad: [0; 8 * (BLOCKS + 1)],
            dot: [0; 8 * (BLOCKS + 1)],
            edge: [PAST_END; WINDOW],
        };
        scanner.classify_from(0);
        scanner
    }

    #[inline(always)]
    fn store(&mut self, k: usize, masks: Masks) {
        self.sep[8 * k..8 * k + 8].copy_from_slice(&masks.sep.to_le_bytes());
        self.bad[8 * k..8 * k + 8].copy_from_slice(&masks.bad.to_le_bytes());
        self.dot[8 * k..8 * k + 8].copy_from_slice(&masks.dot.to_le_bytes());
    }

    /// Inlined, so that it is compiled with the kernel's instructions (AVX2) enabled.
    #[inline(always)]
    fn classify_from(&mut self, at: usize) {
        self.base = at;
        let kernel = self.kernel;
        let text = self.text;
        if let Some(bytes) = text.get(at..at + 64 * (BLOCKS + 1)) {
            // All within the text: no edge to look out for.
            for (k, block) in bytes.chunks_exact(64).enumerate() {
                self.store(k, kernel.classify(block.try_into().expect("64 bytes")));
            }
            return;
        }
        let mut block = [PAST_END; 64];
        for k in 0..=BLOCKS {
            let bytes = &text[(at + 64 * k).min(text.len())..];
            let masks = match bytes.get(..64) {
                Some(bytes) => kernel.classify(bytes.try_into().expect("64 bytes")),
                // Past the end: all separators.
                None if bytes.is_empty() => Masks {
                    sep: !0,
                    bad: 0,
                    dot: 0,
                },
                None => {
                    block[..bytes.len()].copy_from_slice(bytes);
                    block[bytes.len()..].fill(PAST_END);
                    kernel.classify(&block)
                }
            };
            self.store(k, masks);
        }
    }

    /// The masks of the 64 bytes from `at` (bytes past the end of the text read as
    /// [`PAST_END`]). Lines are visited in order: `at` never goes back.
    #[inline(always)]
    pub fn masks(&mut self, at: usize) -> Masks {
        if at - self.base >= 64 * BLOCKS {
            self.classify_from(at);
        }
        let offset = at - self.base;
        let (byte, bit) = (offset / 64 * 8, offset % 64);
        // `high << (64 - bit)`, which is 0 when `bit` is 0.
        let join = |bits: &Bits| {
            (bits_at(bits, byte) >> bit) | ((bits_at(bits, byte + 8) << 1) << (63 - bit))
        };
        Masks {
            sep: join(&self.sep),
            bad: join(&self.bad),
            dot: join(&self.dot),
        }
    }

    /// The end of the positions where [`Scanner::direct`] may be used: from [`BEFORE`]
    /// (there are bytes before the line) up to where the masks run out, or where the window
    /// would run past the end of the text. 0 when the masks need a refill first.
    #[inline(always)]
    pub fn direct_end(&self) -> usize {
        (self.base + 64 * BLOCKS).min((self.text.len() + BEFORE + 1).saturating_sub(WINDOW))
    }

    /// [`Scanner::masks`] and [`Scanner::window`] at a position in `BEFORE..direct_end()`,
    /// with no refill and no copy. The masks are those of the first 57 bytes at least: the
    /// first `64 - (at - base) % 8` bits are exact, the bits above them are 0 (no
    /// separator, nothing bad, no point), so no field ends there.
    #[inline(always)]
    pub fn direct(&self, at: usize) -> (Masks, &'t [u8; WINDOW]) {
        debug_assert!((BEFORE..self.direct_end()).contains(&at));
        let offset = at - self.base;
        let (byte, shift) = ((offset / 8) % (8 * BLOCKS), offset % 8);
        let masks = Masks {
            sep: bits_at(&self.sep, byte) >> shift,
            bad: bits_at(&self.bad, byte) >> shift,
            dot: bits_at(&self.dot, byte) >> shift,
        };
        let text: &'t [u8] = self.text;
        let window = text[at - BEFORE..at - BEFORE + WINDOW]
            .try_into()
            .expect("WINDOW bytes");
        (masks, window)
    }

    /// The [`WINDOW`] bytes from `at - BEFORE`, bytes outside the text read as [`PAST_END`].
    #[inline(always)]
    pub fn window(&mut self, at: usize) -> &[u8; WINDOW] {
        match at
            .checked_sub(BEFORE)
            .and_then(|start| self.text.get(start..start + WINDOW))
        {
            Some(bytes) => bytes.try_into().expect("WINDOW bytes"),
            None => self.fill_edge(at),
        }
    }

    #[cold]
    #[inline(never)]
    fn fill_edge(&mut self, at: usize) -> &[u8; WINDOW] {
        self.edge.fill(PAST_END);
        let start = at.saturating_sub(BEFORE);
        let end = (at + WINDOW - BEFORE).min(self.text.len());
        let offset = start + BEFORE - at;
        self.edge[offset..offset + (end - start)].copy_from_slice(&self.text[start..end]);
        &self.edge
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn classify(kernel: Kernel, block: &[u8; 64]) -> Masks {
        match kernel {
            Kernel::Scalar => Scalar.classify(block),
            #[cfg(target_arch = "x86_64")]
            Kernel::Sse2 => Sse2.classify(block),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2(avx2) => avx2.classify(block),
        }
    }

    fn fold_digits(kernel: Kernel, digits: &Digits) -> Option<Folded> {
        match kernel {
            Kernel::Scalar => Scalar.fold_digits(digits),
            #[cfg(target_arch = "x86_64")]
            Kernel::Sse2 => Sse2.fold_digits(digits),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2(avx2) => avx2.fold_digits(digits),
        }
    }

    /// Words of digits with other bytes here and there, kept or not.
    fn digit_word() -> impl Strategy<Value = u128> {
        proptest::collection::vec(prop_oneof![8 => b'0'..=b'9', 1 => any::<u8>()], 16)
            .prop_map(|bytes| u128::from_le_bytes(bytes.try_into().unwrap()))
    }

    #[test]
    fn the_classes() {
        for byte in 0..=255u8 {
            let expected_sep = matches!(byte, 0..=0x20);
            let expected_bad = !(byte == b'\t' || (b' '..=b'~').contains(&byte)) || byte == b'#';
            assert_eq!(is_sep(byte), expected_sep, "{byte}");
            assert_eq!(is_bad(byte), expected_bad, "{byte}");
            // Every byte numpy takes for whitespace separates fields here, and a field byte
            // (printable, not `#`) is never bad.
            assert!(!crate::format::classes::is_field_separator(byte) || is_sep(byte));
            assert!(!crate::format::classes::CHR[byte as usize] || !is_bad(byte));
        }
    }

    /// Each byte value at each place of a block, among bytes of every class.
    #[test]
    fn every_kernel_agrees_with_the_scalar_one_on_every_byte() {
        for kernel in Kernel::available() {
            for byte in 0..=255u8 {
                for at in 0..64 {
                    let mut block: [u8; 64] = std::array::from_fn(|i| b"a\t1.#\n\x7f\xe9"[i % 8]);
                    block[at] = byte;
                    assert_eq!(
                        classify(kernel, &block),
                        Scalar.classify(&block),
                        "{kernel:?} {byte} {at}"
                    );
                }
            }
        }
    }

    proptest! {
        #[test]
        fn every_kernel_agrees_with_the_scalar_one(block in proptest::collection::vec(any::<u8>(), 64)) {
            let block: [u8; 64] = block.try_into().unwrap();
            for kernel in Kernel::available() {
                prop_assert_eq!(classify(kernel, &block), Scalar.classify(&block));
            }
        }

        #[test]
        fn every_kernel_folds_digits_as_the_scalar_one(
            words in proptest::array::uniform4(digit_word()),
            keep in proptest::array::uniform4(0usize..=16),
        ) {
            let digits = Digits {
                pos: words[0],
                pos_keep: swar::TOP[keep[0]],
                pct_last: words[1],
                pct_before: words[2],
                pct_from_last: swar::TOP[keep[2]],
                pct_keep: swar::TOP[keep[1]],
                counts: words[3],
                counts_keep: swar::TOP[keep[3]],
            };
            for kernel in Kernel::available() {
                prop_assert_eq!(fold_digits(kernel, &digits), swar::fold_digits(&digits), "{:?}", kernel);
            }
        }

        /// A window's masks are those of its bytes, at every offset and near the end.
        #[test]
        fn windows_describe_their_bytes(
            text in proptest::collection::vec(prop_oneof![Just(b' '), Just(b'\t'), Just(b'#'), Just(b'\n'), any::<u8>()], 0..9000),
            steps in proptest::collection::vec(0usize..200, 1..60),
        ) {
            let mut scanner = Scanner::new(Scalar, &text);
            let mut at = 0;
            for step in steps {
                if at > text.len() {
                    break;
                }
                if (BEFORE..scanner.direct_end()).contains(&at) {
                    let (masks, window) = scanner.direct(at);
                    let exact = u64::MAX >> ((at - scanner.base) % 8);
                    let full = scanner.masks(at);
                    prop_assert_eq!(masks.sep, full.sep & exact);
                    prop_assert_eq!(masks.bad, full.bad & exact);
                    prop_assert_eq!(masks.dot, full.dot & exact);
                    prop_assert_eq!(window, scanner.window(at));
                }
                let masks = scanner.masks(at);
                let window = *scanner.window(at);
                let mut block = [0; 64];
                block.copy_from_slice(&window[BEFORE..BEFORE + 64]);
                prop_assert_eq!(masks, Scalar.classify(&block), "at {}", at);
                for (i, &byte) in window.iter().enumerate() {
                    let expected = (at + i).checked_sub(BEFORE).and_then(|k| text.get(k));
                    prop_assert_eq!(byte, expected.copied().unwrap_or(PAST_END));
                }
                at += step;
            }
        }
    }
}
