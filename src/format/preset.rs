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
        let columns = match self {
            Preset::Native => &NATIVE_COLUMNS,
            Preset::BismarkCov => &BISMARK_COV_COLUMNS,
            Preset::BismarkReport => &BISMARK_REPORT_COLUMNS,
            Preset::MethylKit if Header::Names(METHYLKIT_HEADER).matches(first_line) => {
                &METHYLKIT_TEXT_COLUMNS
            }
            Preset::MethylKit => &METHYLKIT_FLAT_COLUMNS,
            Preset::Bedmethyl => &BEDMETHYL_COLUMNS,
            Preset::Allc => &ALLC_COLUMNS,
            Preset::MethylDackel => &METHYLDACKEL_COLUMNS,
            Preset::Bsmap => &BSMAP_COLUMNS,
        };
        ColumnFormat {
            name: self.name().to_string(),
            roles: columns.roles.to_vec(),
            names: columns.names.to_vec(),
            field_counts: columns.field_counts.clone(),
            header: self.header(),
            strand_letters: columns.strand_letters,
        }
    }
}

/// One preset's columns: what each holds and the tool's name for it, the field counts a
/// line may have, and how the strand is written.
struct PresetColumns {
    roles: &'static [Role],
    names: &'static [&'static str],
    field_counts: FieldCounts,
    strand_letters: StrandLetters,
}

const NATIVE_COLUMNS: PresetColumns = PresetColumns {
    roles: &[Chr, Pos, Pct, C, T],
    names: &["chr", "pos", "pct", "c", "t"],
    field_counts: FieldCounts::OneOf(&[5]),
    strand_letters: StrandLetters::Signs,
};

/// §1: `chr start end pct meth unmeth`, 1-based, start = end.
const BISMARK_COV_COLUMNS: PresetColumns = PresetColumns {
    roles: &[Chr, Pos, Ignore, Pct, C, T],
    names: &[
        "chr",
        "start",
        "end",
        "percent",
        "count_methylated",
        "count_unmethylated",
    ],
    field_counts: FieldCounts::OneOf(&[6]),
    strand_letters: StrandLetters::Signs,
};

/// §2: coverage2cytosine; 9 columns with --ff (tetra- and pentanucleotide).
const BISMARK_REPORT_COLUMNS: PresetColumns = PresetColumns {
    roles: &[Chr, Pos, Strand, C, T, Context],
    names: &[
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
    field_counts: FieldCounts::OneOf(&[7, 9]),
    strand_letters: StrandLetters::Signs,
};

/// §3a, text with its header: c and t from coverage and freqC.
const METHYLKIT_TEXT_COLUMNS: PresetColumns = PresetColumns {
    roles: &[Ignore, Chr, Pos, Strand, Cov, Pct],
    names: METHYLKIT_HEADER,
    field_counts: FieldCounts::OneOf(&[7]),
    strand_letters: StrandLetters::ForwardReverse,
};

/// §3b, the flat (tabix) database file.
const METHYLKIT_FLAT_COLUMNS: PresetColumns = PresetColumns {
    roles: &[Chr, Pos, Ignore, Strand, Ignore, C, T],
    names: &[
        "chr", "start", "end", "strand", "coverage", "numCs", "numTs",
    ],
    field_counts: FieldCounts::OneOf(&[7]),
    strand_letters: StrandLetters::Signs,
};

/// §5: modkit pileup; the old format's spaces split the same 18 fields.
const BEDMETHYL_COLUMNS: PresetColumns = PresetColumns {
    roles: &[
        Chr, Start, Ignore, ModCode, Ignore, Strand, Ignore, Ignore, Ignore, Ignore, Pct, C, T,
    ],
    names: &[
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
    field_counts: FieldCounts::OneOf(&[18]),
    strand_letters: StrandLetters::Signs,
};

/// §4: methylpy / ALLCools; 9 columns with SNP information.
const ALLC_COLUMNS: PresetColumns = PresetColumns {
    roles: &[Chr, Pos, Strand, Context, C, Cov],
    names: &[
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
    field_counts: FieldCounts::OneOf(&[7, 9]),
    strand_letters: StrandLetters::Signs,
};

/// §6: extract's bedGraph, 0-based start, truncated integer percent.
const METHYLDACKEL_COLUMNS: PresetColumns = PresetColumns {
    roles: &[Chr, Start, Ignore, Pct, C, T],
    names: &["chrom", "start", "end", "percent", "nmethyl", "nunmethyl"],
    field_counts: FieldCounts::OneOf(&[6]),
    strand_letters: StrandLetters::Signs,
};

/// §7: methratio.py 2.87+; ratio and eff_CT_count are rounded or corrected.
const BSMAP_COLUMNS: PresetColumns = PresetColumns {
    roles: &[Chr, Pos, Strand, Context, Ignore, Ignore, C, Cov],
    names: BSMAP_HEADER,
    field_counts: FieldCounts::OneOf(&[12]),
    strand_letters: StrandLetters::Signs,
};

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
