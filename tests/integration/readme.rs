//! The README's examples run as written.

use crate::generate::{methylation_text, Rng};
use crate::util::{expect_code, run, support_script, TestDir};

/// The h5py snippet that reads one region through `/index` gives the rows a mask over all
/// of `/data` gives, in the same order: on sorted files, a file whose chromosomes
/// interleave, regions at chunk edges and regions with no rows.
#[test]
fn the_readme_region_snippet_reads_what_a_mask_reads() {
    let dir = TestDir::new();
    dir.write("in/a.txt", &methylation_text(1, 3_000));
    dir.write("in/b.txt", &methylation_text(2, 2_000));
    let mut interleaved = Vec::new();
    for block in 0..40u32 {
        let chr = if block % 2 == 0 { "chr1" } else { "chr2" };
        for row in 0..25u32 {
            let pos = 10_000 + block * 1_000 + row * 7;
            interleaved.extend_from_slice(format!("{chr}\t{pos}\t50\t1\t1\n").as_bytes());
        }
    }
    dir.write("in/c.txt", &interleaved);
    expect_code(
        &run(
            dir.path(),
            &["load", "in", "-o", "out.h5", "--chunk-rows", "64"],
        ),
        0,
    );
    let mut rng = Rng::new(9);
    let mut regions: Vec<String> = vec![
        "chr1:1-100000000".into(),
        "chr2:10000-10000".into(),
        "chrZ:1-10".into(),
        "chr1:1-9999".into(),
    ];
    for _ in 0..40 {
        let chr = ["chr1", "chr2", "chr10", "chrX"][rng.below(4) as usize];
        let start = 10_000 + rng.below(200_000);
        let end = start + rng.below(20_000);
        regions.push(format!("{chr}:{start}-{end}"));
    }
    let mut args = vec!["out.h5"];
    args.extend(regions.iter().map(String::as_str));
    let report = support_script(dir.path(), "readme_region.py", &args);
    assert!(report.starts_with("ok 44 regions"), "{report}");
    let rows: u64 = report.split_whitespace().nth(3).unwrap().parse().unwrap();
    assert!(rows > 1_000, "the regions hold rows: {report}");
}
