//! Row filters (`--context`, `--mod-code`) and the reasons a row is left out.
//!
//! A row left out is never dropped in silence: each reason has a counter, summed per file
//! and reported in the summary, `--json` and the `skipped` column of `/sources`.

/// Why a row was left out, in the order the checks run: the first that applies counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// Not one of the `--mod-code` codes.
    ModCode = 0,
    /// Not the `--context` asked for.
    Context = 1,
    /// `pct` would be derived from `c + t = 0`.
    ZeroCoverage = 2,
}

/// Rows left out, by reason (indexed by [`SkipReason`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Skipped(pub [u64; 3]);

impl Skipped {
    pub fn add(&mut self, other: Skipped) {
        for (total, count) in self.0.iter_mut().zip(other.0) {
            *total += count;
        }
    }

    pub fn count(&mut self, reason: SkipReason) {
        self.0[reason as usize] += 1;
    }

    pub fn zero_coverage(&self) -> u64 {
        self.0[SkipReason::ZeroCoverage as usize]
    }

    pub fn context(&self) -> u64 {
        self.0[SkipReason::Context as usize]
    }

    pub fn mod_code(&self) -> u64 {
        self.0[SkipReason::ModCode as usize]
    }
}

/// A cytosine's sequence context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    Cg,
    Chg,
    Chh,
    /// Not classifiable (an `N` where it matters, a sequence not starting with C).
    Unknown,
}

impl Context {
    /// Classifies a context column: `CG`, `CHG` and `CHH` as written, else the sequence from
    /// the C (any case): `CG*` is CG, `C[ACT]G` CHG, `C[ACT][ACT]` CHH (H = A, C or T, so a
    /// sequence with an `N` in those places is unknown).
    pub fn classify(text: &[u8]) -> Context {
        let upper = |k: usize| text.get(k).map(u8::to_ascii_uppercase);
        let h = |k: usize| matches!(upper(k), Some(b'A' | b'C' | b'T'));
        match text.len() {
            2 if upper(0) == Some(b'C') && upper(1) == Some(b'G') => Context::Cg,
            3 if text.eq_ignore_ascii_case(b"CHG") => Context::Chg,
            3 if text.eq_ignore_ascii_case(b"CHH") => Context::Chh,
            _ if text.len() < 3 || upper(0) != Some(b'C') => Context::Unknown,
            _ if upper(1) == Some(b'G') => Context::Cg,
            _ if h(1) && upper(2) == Some(b'G') => Context::Chg,
            _ if h(1) && h(2) => Context::Chh,
            _ => Context::Unknown,
        }
    }

    /// The `context` field's bytes.
    pub fn label(self) -> &'static [u8] {
        match self {
            Context::Cg => b"CG",
            Context::Chg => b"CHG",
            Context::Chh => b"CHH",
            Context::Unknown => b"",
        }
    }
}

/// `--context`: which contexts are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContextFilter {
    Cg,
    Chg,
    Chh,
    /// CHG and CHH.
    Ch,
    All,
}

impl ContextFilter {
    pub fn parse(text: &str) -> Option<ContextFilter> {
        Some(match text {
            "CG" | "CpG" | "cg" => ContextFilter::Cg,
            "CHG" | "chg" => ContextFilter::Chg,
            "CHH" | "chh" => ContextFilter::Chh,
            "CH" | "ch" => ContextFilter::Ch,
            "all" => ContextFilter::All,
            _ => return None,
        })
    }

    pub fn keeps(self, context: Context) -> bool {
        match self {
            ContextFilter::All => true,
            ContextFilter::Cg => context == Context::Cg,
            ContextFilter::Chg => context == Context::Chg,
            ContextFilter::Chh => context == Context::Chh,
            ContextFilter::Ch => matches!(context, Context::Chg | Context::Chh),
        }
    }
}

/// The run's row filters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filters {
    pub context: ContextFilter,
    /// Mod codes kept; `None` keeps all.
    pub mod_codes: Option<Vec<Vec<u8>>>,
}

impl Default for Filters {
    fn default() -> Self {
        Self {
            context: ContextFilter::Cg,
            mod_codes: Some(vec![b"m".to_vec(), b"C".to_vec()]),
        }
    }
}

impl Filters {
    /// Whether a row with this modkit `name` column is kept: its code is the text before
    /// the first comma (`m,CG,0` when modkit ran with several motifs).
    pub fn keeps_mod_code(&self, name: &[u8]) -> bool {
        let code = name.split(|&byte| byte == b',').next().unwrap_or(name);
        self.mod_codes
            .as_ref()
            .is_none_or(|codes| codes.iter().any(|kept| kept == code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_are_classified_from_the_c() {
        for (text, context) in [
            ("CG", Context::Cg),
            ("CHG", Context::Chg),
            ("CHH", Context::Chh),
            ("CGA", Context::Cg),
            ("CGN", Context::Cg),
            ("cgt", Context::Cg),
            ("CAG", Context::Chg),
            ("CTG", Context::Chg),
            ("CCA", Context::Chh),
            ("CTT", Context::Chh),
            ("CAN", Context::Unknown),
            ("CNG", Context::Unknown),
            ("GCG", Context::Unknown),
            ("C", Context::Unknown),
            ("", Context::Unknown),
            ("CA", Context::Unknown),
        ] {
            assert_eq!(Context::classify(text.as_bytes()), context, "{text}");
        }
    }

    #[test]
    fn filters_keep_what_they_name() {
        assert!(ContextFilter::Ch.keeps(Context::Chg) && ContextFilter::Ch.keeps(Context::Chh));
        assert!(!ContextFilter::Ch.keeps(Context::Cg));
        assert!(ContextFilter::All.keeps(Context::Unknown));
        assert!(!ContextFilter::Cg.keeps(Context::Unknown));
        let filters = Filters::default();
        assert!(filters.keeps_mod_code(b"m") && filters.keeps_mod_code(b"m,CG,0"));
        assert!(filters.keeps_mod_code(b"C") && !filters.keeps_mod_code(b"h"));
        assert!(!filters.keeps_mod_code(b"17596"));
    }
}
