//! The presets: each caller's file format, as its own source writes it.
//!
//! Every constructor cites the section of `docs/input-formats.md` that quotes the tool's
//! writer; the column names are the tool's own, so a message names the column the user
//! sees in the tool's documentation.

use super::{ColumnFormat, FieldCounts, Header, Role, StrandLetters};
use Role::{Chr, Context, Cov, Ignore, ModCode, Pct, Pos, Start, Strand, C, T};

/// A named input format (`--format NAME`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Preset {
    Native,
    BismarkCov,
    BismarkReport,
    MethylKit,
    Bedmethyl,
    Allc,
    MethylDackel,
    Bsmap,
}

/// methylKit's text header (`src/methCall.cpp`), docs §3a.
const METHYLKIT_HEADER: &[&str] = &[
    "chrBase", "chr", "base", "strand", "coverage", "freqC", "freqT",
];

/// BSMAP 2.87+ `methratio.py` header, docs §7.
const BSMAP_HEADER: &[&str] = &[
    "chr",
    "pos",
    "strand",
    "context",
    "ratio",
    "eff_CT_count",
    "C_count",
    "CT_count",
    "rev_G_count",
    "rev_GA_count",
    "CI_lower",
    "CI_upper",
];

/// The header of old methylpy ALLC files, docs §4.
const ALLC_HEADER: &[&str] = &[
    "chr",
    "pos",
    "strand",
    "mc_class",
    "mc_count",
    "total",
    "methylated",
];

impl Preset {
    pub const ALL: [Preset; 8] = [
        Preset::Native,
        Preset::BismarkCov,
        Preset::BismarkReport,
        Preset::MethylKit,
        Preset::Bedmethyl,
        Preset::Allc,
        Preset::MethylDackel,
        Preset::Bsmap,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Preset::Native => super::NATIVE,
            Preset::BismarkCov => "bismark-cov",
            Preset::BismarkReport => "bismark-report",
            Preset::MethylKit => "methylkit",
            Preset::Bedmethyl => "bedmethyl",
            Preset::Allc => "allc",
            Preset::MethylDackel => "methyldackel",
            Preset::Bsmap => "bsmap",
        }
    }

    pub fn from_name(name: &str) -> Option<Preset> {
        Preset::ALL.into_iter().find(|preset| preset.name() == name)
    }

    /// The header line 1 may hold.
    pub fn header(self) -> Header {
        match self {
            Preset::MethylKit => Header::Names(METHYLKIT_HEADER),
            Preset::Bsmap => Header::Names(BSMAP_HEADER),
            Preset::Allc => Header::Names(ALLC_HEADER),
            Preset::MethylDackel => Header::Track,
            _ => Header::None,
        }
    }

    /// The columns of a file of this preset whose line 1 is `first_line` (methylKit has a
    /// text format, with its header, and a headerless flat-file format).
    pub fn format(self, first_line: &[u8]) -> ColumnFormat {
        let format = |roles: &[Role], names: &[&'static str], counts, letters| ColumnFormat {
            name: self.name().to_string(),
            roles: roles.to_vec(),
            names: names.to_vec(),
            field_counts: counts,
            header: self.header(),
            strand_letters: letters,
        };
        let signs = StrandLetters::Signs;
        match self {
            Preset::Native => format(
                &[Chr, Pos, Pct, C, T],
                &["chr", "pos", "pct", "c", "t"],
                FieldCounts::OneOf(&[5]),
                signs,
            ),
            // §1: `chr start end pct meth unmeth`, 1-based, start = end.
            Preset::BismarkCov => format(
                &[Chr, Pos, Ignore, Pct, C, T],
                &[
                    "chr",
                    "start",
                    "end",
                    "percent",
                    "count_methylated",
                    "count_unmethylated",
                ],
                FieldCounts::OneOf(&[6]),
                signs,
            ),
            // §2: coverage2cytosine; 9 columns with --ff (tetra- and pentanucleotide).
            Preset::BismarkReport => format(
                &[Chr, Pos, Strand, C, T, Context],
                &[
                    "chr",
                    "pos",
                    "strand",
                    "count_methylated",
                    "count_unmethylated",
                    "context",
                    "trinucleotide",
                    "tetranucleotide",
                    "pentanucleotide",
                ],
                FieldCounts::OneOf(&[7, 9]),
                signs,
            ),
            // §3a, text with its header: c and t from coverage and freqC.
            Preset::MethylKit if Header::Names(METHYLKIT_HEADER).matches(first_line) => format(
                &[Ignore, Chr, Pos, Strand, Cov, Pct],
                METHYLKIT_HEADER,
                FieldCounts::OneOf(&[7]),
                StrandLetters::ForwardReverse,
            ),
            // §3b, the flat (tabix) database file.
            Preset::MethylKit => format(
                &[Chr, Pos, Ignore, Strand, Ignore, C, T],
                &[
                    "chr", "start", "end", "strand", "coverage", "numCs", "numTs",
                ],
                FieldCounts::OneOf(&[7]),
                signs,
            ),
            // §5: modkit pileup; the old format's spaces split the same 18 fields.
            Preset::Bedmethyl => format(
                &[
                    Chr, Start, Ignore, ModCode, Ignore, Strand, Ignore, Ignore, Ignore, Ignore,
                    Pct, C, T,
                ],
                &[
                    "chrom",
                    "start",
                    "end",
                    "mod_code",
                    "score",
                    "strand",
                    "thick_start",
                    "thick_end",
                    "color",
                    "Nvalid_cov",
                    "percent_modified",
                    "Nmod",
                    "Ncanonical",
                    "Nother_mod",
                    "Ndelete",
                    "Nfail",
                    "Ndiff",
                    "Nnocall",
                ],
                FieldCounts::OneOf(&[18]),
                signs,
            ),
            // §4: methylpy / ALLCools; 9 columns with SNP information.
            Preset::Allc => format(
                &[Chr, Pos, Strand, Context, C, Cov],
                &[
                    "chr",
                    "pos",
                    "strand",
                    "context",
                    "mc",
                    "cov",
                    "methylated",
                    "snp_match",
                    "snp_mismatch",
                ],
                FieldCounts::OneOf(&[7, 9]),
                signs,
            ),
            // §6: extract's bedGraph, 0-based start, truncated integer percent.
            Preset::MethylDackel => format(
                &[Chr, Start, Ignore, Pct, C, T],
                &["chrom", "start", "end", "percent", "nmethyl", "nunmethyl"],
                FieldCounts::OneOf(&[6]),
                signs,
            ),
            // §7: methratio.py 2.87+; ratio and eff_CT_count are rounded or corrected.
            Preset::Bsmap => format(
                &[Chr, Pos, Strand, Context, Ignore, Ignore, C, Cov],
                BSMAP_HEADER,
                FieldCounts::OneOf(&[12]),
                signs,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_determines_all_five_fields() {
        for preset in Preset::ALL {
            for first_line in [
                &b""[..],
                b"chrBase\tchr\tbase\tstrand\tcoverage\tfreqC\tfreqT",
            ] {
                let format = preset.format(first_line);
                assert!(format.has(Chr), "{preset:?}");
                assert!(format.has(Pos) ^ format.has(Start), "{preset:?}");
                assert!(
                    format.has(C) || format.has(Cov) && format.has(Pct),
                    "{preset:?}"
                );
                assert!(format.has(T) || format.has(Cov), "{preset:?}");
                let used = format.roles.len();
                let FieldCounts::OneOf(counts) = format.field_counts else {
                    panic!("presets have exact counts")
                };
                assert!(counts.iter().all(|&count| count >= used), "{preset:?}");
                assert!(counts.iter().all(|&count| count <= format.names.len()));
                assert_eq!(Preset::from_name(preset.name()), Some(preset));
            }
        }
    }

    #[test]
    fn methylkit_text_is_told_by_its_header() {
        let text = Preset::MethylKit.format(b"chrBase\tchr\tbase\tstrand\tcoverage\tfreqC\tfreqT");
        assert_eq!(text.strand_letters, StrandLetters::ForwardReverse);
        assert_eq!(text.column(Pct), Some(5));
        let flat = Preset::MethylKit.format(b"chr21\t9764513\t9764513\t-\t12\t3\t9");
        assert_eq!(flat.column(C), Some(5));
        assert!(!flat.has(Pct));
    }
}
