//! `--columns SPEC`: a column format for any other file, e.g. `chr=1,start=2,cov=4,beta=5`.
//!
//! Names: `chr`, `pos` (1-based) or `start` (0-based), `pct` (0-100), `beta` (0-1), `c`,
//! `t`, `cov` (= c + t), `strand`, `context`. `c` is taken, or `round(cov * pct / 100)`,
//! or `round(cov * beta)`; `t` is taken, or `cov - c`; `pct` is taken if the spec names a
//! pct column, else derived from `c` and `t`. A spec that leaves a field undetermined is a
//! usage error that names it.

use super::{ColumnFormat, FieldCounts, Header, Role, StrandLetters};

/// The highest column a spec may name: far more than any caller writes, and small enough
/// that the parser keeps a line's fields in a fixed array.
pub const MAX_COLUMN: usize = 64;

const NAMES: [(&str, Role); 10] = [
    ("chr", Role::Chr),
    ("pos", Role::Pos),
    ("start", Role::Start),
    ("pct", Role::Pct),
    ("beta", Role::Beta),
    ("c", Role::C),
    ("t", Role::T),
    ("cov", Role::Cov),
    ("strand", Role::Strand),
    ("context", Role::Context),
];

impl ColumnFormat {
    /// Builds a column format from `--columns SPEC` and `--skip-lines N`.
    pub fn from_spec(spec: &str, skip_lines: u64) -> Result<ColumnFormat, String> {
        parse(spec, skip_lines)
    }
}

fn parse(spec: &str, skip_lines: u64) -> Result<ColumnFormat, String> {
    let mut roles = Vec::new();
    let mut names: Vec<&'static str> = Vec::new();
    for item in spec.split(',') {
        let (name, column) = item
            .split_once('=')
            .ok_or_else(|| format!("{item:?} is not NAME=COLUMN (e.g. chr=1)"))?;
        let (name, role) = NAMES
            .iter()
            .find(|(known, _)| *known == name.trim())
            .copied()
            .ok_or_else(|| {
                format!(
                    "unknown name {:?}; names are {}",
                    name.trim(),
                    NAMES.map(|(known, _)| known).join(", ")
                )
            })?;
        let column: usize = column
            .trim()
            .parse()
            .ok()
            .filter(|column| (1..=MAX_COLUMN).contains(column))
            .ok_or_else(|| {
                format!("{name}={column}: columns are numbered from 1 to {MAX_COLUMN}")
            })?;
        if roles.contains(&role) {
            return Err(format!("{name} is given twice"));
        }
        if roles.len() < column {
            roles.resize(column, Role::Ignore);
            names.resize(column, "-");
        }
        if roles[column - 1] != Role::Ignore {
            return Err(format!(
                "column {column} is given twice ({} and {name})",
                names[column - 1]
            ));
        }
        roles[column - 1] = role;
        names[column - 1] = name;
    }
    let has = |role| roles.contains(&role);
    let missing = if !has(Role::Chr) {
        Some("chr (chr=N)")
    } else if !has(Role::Pos) && !has(Role::Start) {
        Some("pos: give pos=N (1-based) or start=N (0-based)")
    } else if !has(Role::C) && !(has(Role::Cov) && (has(Role::Pct) || has(Role::Beta))) {
        Some("c: give c=N, or cov=N with pct=N or beta=N")
    } else if !has(Role::T) && !has(Role::Cov) {
        Some("t: give t=N or cov=N")
    } else {
        None
    };
    if let Some(missing) = missing {
        return Err(format!("{spec:?} does not determine {missing}"));
    }
    if has(Role::Pos) && has(Role::Start) {
        return Err("give pos (1-based) or start (0-based), not both".to_string());
    }
    Ok(ColumnFormat {
        name: format!("columns:{spec}"),
        field_counts: FieldCounts::AtLeast(roles.len()),
        roles,
        names,
        header: if skip_lines > 0 {
            Header::Lines(skip_lines)
        } else {
            Header::None
        },
        strand_letters: StrandLetters::Signs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bedgraph_with_beta_and_coverage() {
        let format = parse("chr=1,start=2,beta=4,cov=5", 1).unwrap();
        assert_eq!(
            format.roles,
            [Role::Chr, Role::Start, Role::Ignore, Role::Beta, Role::Cov]
        );
        assert_eq!(format.field_counts, FieldCounts::AtLeast(5));
        assert_eq!(format.header, Header::Lines(1));
        assert!(!format.has(Role::Pct));
        assert_eq!(format.name, "columns:chr=1,start=2,beta=4,cov=5");
    }

    #[test]
    fn a_spec_that_leaves_a_field_open_names_it() {
        for (spec, missing) in [
            ("pos=2,c=3,t=4", "chr"),
            ("chr=1,c=3,t=4", "pos"),
            ("chr=1,pos=2,t=4", "c:"),
            ("chr=1,pos=2,cov=4", "c:"),
            ("chr=1,pos=2,c=4", "t:"),
        ] {
            let error = parse(spec, 0).unwrap_err();
            assert!(
                error.contains(&format!("determine {missing}")),
                "{spec}: {error}"
            );
        }
        for bad in [
            "chr=1,chr=2,pos=3,c=4,t=5",
            "chr=1,pos=1,c=4,t=5",
            "chr=0,pos=2,c=3,t=4",
            "chr=1,pos=2,c=3,t=65",
            "chr=1,pos=2,c=3,x=4",
            "chr=1,pos=2,c=3,t",
            "chr=1,pos=2,start=3,c=4,t=5",
        ] {
            assert!(parse(bad, 0).is_err(), "{bad}");
        }
    }
}
