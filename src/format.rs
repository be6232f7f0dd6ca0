//! The input formats: which column of an input holds what (the presets, `--columns`,
//! `--format auto`) and which rows are kept.
//!
//! Every input is read through a [`ColumnFormat`]: a role for each column it uses (`chr`, a
//! 1-based `pos` or a 0-based `start`, `pct`, `beta`, `c`, `t`, `cov`, `strand`, `context`,
//! a mod code), the field counts a data line may have, and an optional header on line 1.
//! The presets ([`Preset`]) are column formats written down from each tool's own source
//! (`docs/input-formats.md` quotes the lines); `--columns SPEC` builds one from a spec
//! ([`ColumnFormat::from_spec`]); `auto` picks a preset per file from its first lines
//! ([`crate::parse::detect`]). The row filters are in [`filter`]; the rules that turn a
//! line's values into a record are the parser's ([`crate::parse::columns`]), and the byte
//! classes every format's lines share (whitespace, `#` comments) are in [`classes`].
//!
//! This module only describes formats: it imports nothing from the parser, which depends on
//! it (stages depend downwards; `auto`, which judges lines as the parser does, is
//! [`crate::parse::detect`]).

pub mod classes;
pub mod filter;
mod preset;
mod spec;

pub use preset::Preset;

use crate::format::classes::is_field_separator;

/// The name of the seed's five-column format (`--format native`).
pub const NATIVE: &str = "native";

/// What one column of a format holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Chr,
    /// A 1-based position.
    Pos,
    /// A 0-based start: `pos = start + 1`.
    Start,
    /// Methylation percent, 0 to 100.
    Pct,
    /// Methylation fraction, 0 to 1.
    Beta,
    /// Methylated count.
    C,
    /// Unmethylated count.
    T,
    /// Coverage, `c + t`.
    Cov,
    /// `+`, `-` or `.` (`F`/`R` in methylKit text files).
    Strand,
    /// `CG`, `CHG`, `CHH` or a sequence such as `CGA`.
    Context,
    /// modkit's modification code (`m`, `h`, `C`, ...; `m,CG,0` with several motifs).
    ModCode,
    /// A column the format does not read.
    Ignore,
}

/// The field counts a data line may have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldCounts {
    /// One of these counts.
    OneOf(&'static [usize]),
    /// At least this many (`--columns`: columns after the last one used are not read).
    AtLeast(usize),
}

impl FieldCounts {
    pub fn allows(&self, count: usize) -> bool {
        match self {
            FieldCounts::OneOf(counts) => counts.contains(&count),
            FieldCounts::AtLeast(least) => count >= *least,
        }
    }

    /// "6", "7 or 9", "at least 5".
    pub fn describe(&self) -> String {
        match self {
            FieldCounts::OneOf(counts) => counts
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(" or "),
            FieldCounts::AtLeast(least) => format!("at least {least}"),
        }
    }
}

/// What may come before the data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Header {
    None,
    /// Line 1 is skipped when its fields are exactly these names.
    Names(&'static [&'static str]),
    /// Line 1 is skipped when its first field is `track` (a UCSC track line).
    Track,
    /// `--skip-lines N`: the first N lines are skipped, whatever they hold.
    Lines(u64),
}

impl Header {
    /// Whether `line` (line 1 of a file, without its newline) is this header.
    pub fn matches(&self, line: &[u8]) -> bool {
        let mut fields = line
            .split(|&byte| is_field_separator(byte))
            .filter(|field| !field.is_empty());
        match self {
            Header::None | Header::Lines(_) => false,
            Header::Track => fields.next() == Some(b"track"),
            Header::Names(names) => {
                let mut count = 0;
                for (field, name) in fields.by_ref().zip(names.iter()) {
                    if field != name.as_bytes() {
                        return false;
                    }
                    count += 1;
                }
                count == names.len() && fields.next().is_none()
            }
        }
    }
}

/// How strands are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrandLetters {
    /// `+`, `-`, `.`.
    Signs,
    /// methylKit text: `F`, `R`.
    ForwardReverse,
}

/// The columns of one input format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnFormat {
    /// The name recorded in `/sources` and reports: a preset's name, or `columns:SPEC`.
    pub name: String,
    /// The role of each column, from column 1; columns past the end are not read.
    pub roles: Vec<Role>,
    /// The name of each column in the tool's documentation, for messages.
    pub names: Vec<&'static str>,
    pub field_counts: FieldCounts,
    pub header: Header,
    pub strand_letters: StrandLetters,
}

impl ColumnFormat {
    /// The 0-based column holding `role`, if any.
    pub fn column(&self, role: Role) -> Option<usize> {
        self.roles.iter().position(|&r| r == role)
    }

    pub fn has(&self, role: Role) -> bool {
        self.column(role).is_some()
    }

    /// Whether this is the seed's five-column format.
    pub fn is_native(&self) -> bool {
        self.name == NATIVE
    }

    /// `chr start end pct meth unmeth`: the column names, for hints.
    pub fn column_names(&self) -> String {
        self.names.join(" ")
    }

    /// `bismark-cov (6 columns: chr start end ...)`, for hints.
    pub fn describe(&self) -> String {
        format!(
            "{} ({} columns: {})",
            self.name,
            self.field_counts.describe(),
            self.column_names()
        )
    }
}

/// `--format`: one preset for every input, or `auto` (a preset per file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormatChoice {
    Auto,
    Preset(Preset),
    Columns(ColumnFormat),
}
