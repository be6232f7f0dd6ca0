//! Micro-benchmarks of the hot paths: the parser on Bismark-like text, the float parser,
//! and chunk compression with each codec. `cargo bench --bench hot_paths`; the end-to-end
//! comparison with the Python pipelines is `scripts/bench`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

use txt2h5::codec::Compression;
use txt2h5::codec::{shuffle, ChunkCompressor};
use txt2h5::parse::{parse_block, parse_block_with, parse_f32_via_f64, Kernel};
use txt2h5::schema::Schema;

/// Text like `gen_methyl.py` writes: tab-separated, pct with 15 significant digits.
fn bismark_text(rows: usize, separator: &str) -> Vec<u8> {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut text = String::new();
    let mut pos = 10_468u64;
    for _ in 0..rows {
        pos += 1 + next() % 180;
        let coverage = 1 + next() % 30;
        let c = next() % (coverage + 1);
        let pct = 100.0 * c as f64 / coverage as f64;
        let pct = format!("{:.14e}", pct).parse::<f64>().unwrap();
        let s = separator;
        text.push_str(&format!("chr7{s}{pos}{s}{pct}{s}{c}{s}{}\n", coverage - c));
    }
    text.into_bytes()
}

fn parser(c: &mut Criterion) {
    let schema = Schema::new(10).unwrap();
    let mut group = c.benchmark_group("parse_block");
    for (name, separator) in [("tabs", "\t"), ("mixed", " \t ")] {
        let text = bismark_text(50_000, separator);
        let mut out = vec![0u8; 50_000 * schema.record_size()];
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), &text, |b, text| {
            b.iter(|| parse_block(&schema, black_box(text), true, &mut out).unwrap())
        });
    }
    // Each scanning kernel the CPU runs, the scalar fallback among them.
    let text = bismark_text(50_000, "\t");
    let mut out = vec![0u8; 50_000 * schema.record_size()];
    for kernel in Kernel::every_scanning() {
        group.bench_with_input(
            BenchmarkId::new("tabs-kernel", kernel.name()),
            &text,
            |b, text| {
                b.iter(|| {
                    parse_block_with(kernel, &schema, black_box(text), true, &mut out).unwrap()
                })
            },
        );
    }
    group.finish();

    let fields: Vec<&[u8]> = [
        &b"57.1428571428571"[..],
        b"100",
        b"0",
        b"66.6666666666667",
        b"8.33333333333333",
    ]
    .to_vec();
    c.bench_function("parse_f32_via_f64", |b| {
        b.iter(|| {
            fields
                .iter()
                .map(|f| parse_f32_via_f64(black_box(f)).unwrap())
                .sum::<f32>()
        })
    });
}

fn compression(c: &mut Criterion) {
    let schema = Schema::new(10).unwrap();
    let rows = 65_536;
    let text = bismark_text(rows, "\t");
    let mut chunk = vec![0u8; rows * schema.record_size()];
    parse_block(&schema, &text, true, &mut chunk).unwrap();
    let mut group = c.benchmark_group("chunk");
    group.throughput(Throughput::Bytes(chunk.len() as u64));
    let mut out = Vec::new();
    group.bench_function("shuffle", |b| {
        b.iter(|| shuffle(black_box(&chunk), 26, &mut out))
    });
    for codec in [
        Compression::Gzip(1),
        Compression::Gzip(4),
        Compression::Zstd(1),
        Compression::Zstd(3),
        Compression::Lz4,
    ] {
        let mut compressor = ChunkCompressor::new(codec, schema.record_size()).unwrap();
        group.bench_with_input(
            BenchmarkId::new("shuffle+codec", codec),
            &chunk,
            |b, chunk| b.iter(|| compressor.compress(black_box(chunk), &mut out)),
        );
    }
    group.finish();
}

criterion_group!(benches, parser, compression);
criterion_main!(benches);
