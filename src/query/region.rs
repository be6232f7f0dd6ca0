//! Regions as people write them: `chr:start-end` on the command line (1-based, inclusive,
//! like samtools and tabix) and BED files (0-based, half-open).

use std::collections::HashMap;
use std::path::Path;

use crate::error::{Error, Result};

/// Positions `start..=end` on `chr`, 1-based.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Region {
    pub chr: Vec<u8>,
    pub start: i64,
    pub end: i64,
}

const SYNTAX: &str = "expected CHR, CHR:POS, CHR:START-END or CHR:START- (1-based, inclusive; \
                      commas allowed in numbers)";

/// Parses a `--region` value: `chr`, `chr:pos`, `chr:start-end` or `chr:start-`. Text
/// that is a `known` chromosome name is that whole chromosome (names such as
/// `HLA-A*01:01:01:01` hold colons), and so is a name with a colon whose tail does not
/// start with a digit.
pub fn parse_region(text: &str, known: impl Fn(&[u8]) -> bool) -> Result<Region> {
    let bad = |why: &str| Error::usage(format!("--region {text:?}: {why}; {SYNTAX}"));
    // A whole chromosome holds every stored pos, also 0 or below (native files keep the
    // input's positions as they are).
    let whole = |chr: &str| Region {
        chr: chr.as_bytes().to_vec(),
        start: i64::MIN,
        end: i64::MAX,
    };
    if known(text.as_bytes()) {
        return Ok(whole(text));
    }
    let Some((chr, range)) = text.rsplit_once(':') else {
        if text.is_empty() {
            return Err(bad("no chromosome"));
        }
        return Ok(whole(text));
    };
    if !range.starts_with(|c: char| c.is_ascii_digit()) {
        if range.is_empty() || range.starts_with('-') {
            return Err(bad("no start position"));
        }
        return Ok(whole(text));
    }
    if chr.is_empty() {
        return Err(bad("no chromosome"));
    }
    let number = |what: &str, digits: &str| -> Result<i64> {
        let plain: String = digits.chars().filter(|&c| c != ',').collect();
        if plain.is_empty() || !plain.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(&format!("the {what} {digits:?} is not a number")));
        }
        plain
            .parse::<i64>()
            .map_err(|_| bad(&format!("the {what} {digits:?} is too large")))
    };
    let (start, end) = match range.split_once('-') {
        None => {
            let pos = number("position", range)?;
            (pos, pos)
        }
        Some((start, "")) => (number("start", start)?, i64::MAX),
        Some((start, end)) => (number("start", start)?, number("end", end)?),
    };
    if start < 1 {
        return Err(bad("positions are 1-based: the start must be at least 1"));
    }
    if end < start {
        return Err(bad(&format!("the end {end} is before the start {start}")));
    }
    Ok(Region {
        chr: chr.as_bytes().to_vec(),
        start,
        end,
    })
}

/// The regions of a BED file (CHROM START END, 0-based half-open, more columns ignored),
/// as 1-based inclusive regions, one per line in order. `track`, `browser` and `#` lines
/// are skipped; a bad line is an error naming the file, line, column and text.
///
/// A line whose start equals its end is an empty region, kept as `start + 1..=start` (as
/// GenomicRanges reads it: width 0): a matrix has one row per BED line, so that its rows
/// line up with the file, and an empty region's row holds no counts. [`Regions`], which
/// selects rows, holds no position for it.
pub fn read_bed(path: &Path) -> Result<Vec<Region>> {
    let text = std::fs::read(path).map_err(|error| Error::io(path, error))?;
    let mut regions = Vec::new();
    for (index, line) in text.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let bad = |column: usize, name: &str, field: &[u8], why: &str| Error::BadInput {
            path: path.to_path_buf(),
            message: format!(
                "line {}, column {column} ({name}): {:?} {why}\n  hint: BED lines are CHROM START \
                 END (0-based start, end excluded), tab-separated; --region takes 1-based \
                 CHR:START-END",
                index + 1,
                String::from_utf8_lossy(field)
            ),
        };
        let mut fields = line
            .split(|&b| b == b'\t' || b == b' ')
            .filter(|field| !field.is_empty());
        let Some(chr) = fields.next() else {
            continue;
        };
        if chr.starts_with(b"#") || chr == b"track" || chr == b"browser" {
            continue;
        }
        let mut coordinate = |column: usize, name: &str| -> Result<i64> {
            let field = fields
                .next()
                .ok_or_else(|| bad(column, name, b"", "is missing"))?;
            std::str::from_utf8(field)
                .ok()
                .filter(|text| text.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|text| text.parse::<i64>().ok())
                .ok_or_else(|| bad(column, name, field, "is not a non-negative integer"))
        };
        let start = coordinate(2, "start")?;
        let end = coordinate(3, "end")?;
        if end < start {
            return Err(bad(
                3,
                "end",
                end.to_string().as_bytes(),
                &format!("is before the start {start}"),
            ));
        }
        regions.push(Region {
            chr: chr.to_vec(),
            start: start + 1,
            end,
        });
    }
    Ok(regions)
}

/// Regions by chromosome, merged: sorted, disjoint, not adjacent.
#[derive(Clone, Debug, Default)]
pub struct Regions {
    by_chr: HashMap<Vec<u8>, Vec<(i64, i64)>>,
}

impl Regions {
    /// The positions of `regions`; an empty region (end before start: a BED line whose
    /// start equals its end) adds none.
    pub fn new(regions: impl IntoIterator<Item = Region>) -> Self {
        let mut by_chr: HashMap<Vec<u8>, Vec<(i64, i64)>> = HashMap::new();
        for region in regions
            .into_iter()
            .filter(|region| region.start <= region.end)
        {
            by_chr
                .entry(region.chr)
                .or_default()
                .push((region.start, region.end));
        }
        for intervals in by_chr.values_mut() {
            intervals.sort_unstable();
            let mut merged: Vec<(i64, i64)> = Vec::with_capacity(intervals.len());
            for &(start, end) in intervals.iter() {
                match merged.last_mut() {
                    Some(last) if start <= last.1.saturating_add(1) => last.1 = last.1.max(end),
                    _ => merged.push((start, end)),
                }
            }
            *intervals = merged;
        }
        Self { by_chr }
    }

    /// The merged intervals on `chr`.
    pub fn on(&self, chr: &[u8]) -> &[(i64, i64)] {
        self.by_chr.get(chr).map_or(&[], Vec::as_slice)
    }

    /// The chromosomes named, sorted.
    pub fn chromosomes(&self) -> Vec<&[u8]> {
        let mut names: Vec<&[u8]> = self.by_chr.keys().map(Vec::as_slice).collect();
        names.sort_unstable();
        names
    }

    /// Whether `pos` lies in one of `intervals` (as [`Regions::on`] gives them).
    pub fn within(intervals: &[(i64, i64)], pos: i64) -> bool {
        let after = intervals.partition_point(|&(start, _)| start <= pos);
        after > 0 && pos <= intervals[after - 1].1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(chr: &str, start: i64, end: i64) -> Region {
        Region {
            chr: chr.as_bytes().to_vec(),
            start,
            end,
        }
    }

    #[test]
    fn regions_as_samtools_writes_them() {
        let known = |chr: &[u8]| chr == b"HLA-A*01:01:01:01";
        let parse = |text| parse_region(text, known).unwrap();
        assert_eq!(
            parse("chr7:27,100,000-27,250,000"),
            region("chr7", 27_100_000, 27_250_000)
        );
        assert_eq!(parse("chr7:5"), region("chr7", 5, 5));
        assert_eq!(parse("chr7:5-"), region("chr7", 5, i64::MAX));
        assert_eq!(parse("chr7"), region("chr7", i64::MIN, i64::MAX));
        assert_eq!(parse("HLA-A*01:01"), region("HLA-A*01", 1, 1));
        assert_eq!(
            parse("HLA-A*01:01:01:01"),
            region("HLA-A*01:01:01:01", i64::MIN, i64::MAX)
        );
        assert_eq!(parse("chr1:abc"), region("chr1:abc", i64::MIN, i64::MAX));
        for bad in [
            "",
            ":5-10",
            "chr1:",
            "chr1:5-x",
            "chr1:10-5",
            "chr1:0-5",
            "chr1:-5",
            "chr1:1-99999999999999999999",
        ] {
            let error = parse_region(bad, known).unwrap_err().to_string();
            assert!(error.contains(&format!("{bad:?}")), "{error}");
        }
    }

    #[test]
    fn merged_regions_answer_membership() {
        let regions = Regions::new([
            region("chr1", 10, 20),
            region("chr1", 21, 25),
            region("chr1", 5, 12),
            region("chr1", 40, 40),
            region("chr2", 1, 1),
        ]);
        assert_eq!(regions.on(b"chr1"), &[(5, 25), (40, 40)]);
        for pos in 0..50 {
            let inside = (5..=25).contains(&pos) || pos == 40;
            assert_eq!(Regions::within(regions.on(b"chr1"), pos), inside, "{pos}");
        }
        assert!(!Regions::within(regions.on(b"chr3"), 1));
        assert_eq!(regions.chromosomes(), [b"chr1".as_slice(), b"chr2"]);
    }

    #[test]
    fn bed_lines_become_one_based_regions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.bed");
        std::fs::write(
            &path,
            "track name=x\n# note\nchr1\t0\t10\tname\r\n\nchr2 5 6\nchr3\t7\t7\n",
        )
        .unwrap();
        // The empty region (start == end) is kept, as width 0, and selects no position.
        let regions = read_bed(&path).unwrap();
        assert_eq!(
            regions,
            [
                region("chr1", 1, 10),
                region("chr2", 6, 6),
                region("chr3", 8, 7)
            ]
        );
        let selected = Regions::new(regions);
        assert!(selected.on(b"chr3").is_empty());
        assert_eq!(selected.chromosomes(), [b"chr1".as_slice(), b"chr2"]);
        std::fs::write(&path, "chr1\t0\t10\nchr1\tx\t5\n").unwrap();
        let error = read_bed(&path).unwrap_err().to_string();
        assert!(error.contains("line 2, column 2 (start): \"x\""), "{error}");
        std::fs::write(&path, "chr1\t10\t5\n").unwrap();
        assert!(read_bed(&path)
            .unwrap_err()
            .to_string()
            .contains("before the start"));
        std::fs::write(&path, "chr1\t10\n").unwrap();
        assert!(read_bed(&path)
            .unwrap_err()
            .to_string()
            .contains("column 3 (end): \"\" is missing"));
    }
}
