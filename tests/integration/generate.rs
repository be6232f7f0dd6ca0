//! Deterministic, realistic test inputs: Bismark-like rows in the many spellings numpy
//! accepts, written plain, gzip or BGZF.

use std::io::Write;

use flate2::write::{DeflateEncoder, GzEncoder};
use flate2::{Compression, Crc};

/// A small xorshift generator: deterministic without a dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const CHROMS: [&str; 6] = ["chr1", "chr2", "chr10", "chrX", "chrM", "chrUn_KI27"];
const SEPARATORS: [&str; 5] = ["\t", " ", "  ", " \t", "\t\t"];

/// `rows` data lines with comments, blank lines, CRLF and odd number spellings mixed in.
pub fn methylation_text(seed: u64, rows: usize) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::new();
    let mut pos = 10_000 + rng.below(1000);
    for row in 0..rows {
        if rng.below(50) == 0 {
            out.extend_from_slice(b"# a comment line\n");
        }
        if rng.below(80) == 0 {
            out.extend_from_slice(b"\n");
        }
        pos += 1 + rng.below(200);
        let coverage = 1 + rng.below(40);
        let c = rng.below(coverage + 1);
        let pct = 100.0 * c as f64 / coverage as f64;
        let pct = match rng.below(20) {
            0 => format!("{pct:e}"),
            1 => format!("{:.3}", pct),
            2 => "nan".to_string(),
            3 => format!("{}", pct as f32),
            _ => format!("{}", Perl15(pct)),
        };
        let sep = |rng: &mut Rng| SEPARATORS[rng.below(SEPARATORS.len() as u64) as usize];
        let chrom = CHROMS[(row * CHROMS.len() / rows.max(1)).min(CHROMS.len() - 1)];
        let lead = if rng.below(30) == 0 { "  " } else { "" };
        let pos_text = if rng.below(40) == 0 {
            format!("+{pos:010}")
        } else {
            pos.to_string()
        };
        let line = format!(
            "{lead}{chrom}{}{pos_text}{}{pct}{}{c}{}{}",
            sep(&mut rng),
            sep(&mut rng),
            sep(&mut rng),
            sep(&mut rng),
            coverage - c
        );
        out.extend_from_slice(line.as_bytes());
        if rng.below(60) == 0 {
            out.extend_from_slice(b" # trailing note");
        }
        out.extend_from_slice(if rng.below(10) == 0 { b"\r\n" } else { b"\n" });
    }
    out
}

/// Perl's default number format, as Bismark prints percentages: 15 significant digits.
struct Perl15(f64);

impl std::fmt::Display for Perl15 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = format!("{:.14e}", self.0);
        let value: f64 = text.parse().unwrap();
        write!(f, "{value}")
    }
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::new(6));
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// BGZF (bgzip's format): gzip members of at most `block` input bytes each, with the `BC`
/// extra field, then the standard empty end-of-file block.
pub fn bgzf(bytes: &[u8], block: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in bytes.chunks(block).chain(std::iter::once(&[][..])) {
        let mut deflate = DeflateEncoder::new(Vec::new(), Compression::new(6));
        deflate.write_all(chunk).unwrap();
        let compressed = deflate.finish().unwrap();
        let block_size = 18 + compressed.len() + 8;
        out.extend_from_slice(&[31, 139, 8, 4, 0, 0, 0, 0, 0, 255, 6, 0, b'B', b'C', 2, 0]);
        out.extend_from_slice(&((block_size - 1) as u16).to_le_bytes());
        out.extend_from_slice(&compressed);
        let mut crc = Crc::new();
        crc.update(chunk);
        out.extend_from_slice(&crc.sum().to_le_bytes());
        out.extend_from_slice(&(chunk.len() as u32).to_le_bytes());
    }
    out
}
