//! The format of every input: the `--format` preset, the `--columns` format, or `auto`'s
//! pick per file, checked against the filters asked for.

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::format::{ColumnFormat, FormatChoice, Preset, Role};
use crate::input::discover::Input;
use crate::input::encoding::Encoding;
use crate::input::head::read_head;
use crate::parse::detect::{detect, Detected};
use crate::pipeline::refusal::Refusal;
use crate::settings::LoadSettings;

/// The format recorded for a file `auto` found no data line in.
pub const EMPTY: &str = "empty";

/// One input's format, or why it cannot be read (`auto` could not pick a format, its start
/// does not inflate, or an earlier step refused it).
pub struct Resolved {
    pub format: ColumnFormat,
    pub refusal: Option<Refusal>,
    /// Whether `auto` picked the format.
    pub auto: bool,
}

impl Resolved {
    /// The format data errors name: all but files read as `native` because the command
    /// said so (their messages predate presets).
    pub fn read_as(&self) -> Option<String> {
        if self.format.is_native() && !self.auto {
            None
        } else if self.auto {
            Some(format!(
                "{}, picked by --format auto",
                self.format.describe()
            ))
        } else {
            Some(self.format.describe())
        }
    }
}

/// Resolves each input's format (in parallel: `auto` and methylKit read each file's start).
/// A file `auto` cannot place, or whose start cannot be read, is not an error yet: its units
/// fail when they run, so the run reports the first error in load order. `refusals` are the
/// inputs already refused (their encoding could not be told): their start is not read.
pub fn resolve(
    settings: &LoadSettings,
    inputs: &[Input],
    encodings: &[Encoding],
    refusals: Vec<Option<Refusal>>,
) -> Result<Vec<Resolved>> {
    let resolved: Vec<Resolved> = inputs
        .par_iter()
        .zip(encodings)
        .zip(refusals)
        .map(|((input, &encoding), refusal)| match refusal {
            Some(refusal) => Ok(Resolved {
                format: Preset::Native.format(b""),
                refusal: Some(refusal),
                auto: matches!(settings.format, FormatChoice::Auto),
            }),
            None => format_of(&settings.format, input, encoding),
        })
        .collect::<Result<_>>()?;
    for (input, resolved) in inputs.iter().zip(&resolved) {
        if resolved.refusal.is_none() {
            check_filters(settings, input, &resolved.format)?;
        }
    }
    Ok(resolved)
}

fn format_of(choice: &FormatChoice, input: &Input, encoding: Encoding) -> Result<Resolved> {
    let first_line = |head: &[u8]| -> Vec<u8> {
        let line = head.split(|&byte| byte == b'\n').next().unwrap_or(b"");
        line.strip_suffix(b"\r").unwrap_or(line).to_vec()
    };
    let chosen = |format| Resolved {
        format,
        refusal: None,
        auto: false,
    };
    // A start that cannot be read fails at the file's turn.
    let refused = |error, auto| {
        Refusal::defer(error).map(|refusal| Resolved {
            format: Preset::Native.format(b""),
            refusal: Some(refusal),
            auto,
        })
    };
    match choice {
        FormatChoice::Columns(format) => Ok(chosen(format.clone())),
        FormatChoice::Preset(Preset::MethylKit) => {
            // Its text format has a header; its flat-file format does not.
            let (head, _) = match read_head(&input.path, encoding) {
                Ok(head) => head,
                Err(error) => return refused(error, false),
            };
            Ok(chosen(Preset::MethylKit.format(&first_line(&head))))
        }
        FormatChoice::Preset(preset) => Ok(chosen(preset.format(b""))),
        FormatChoice::Auto => {
            let (head, complete) = match read_head(&input.path, encoding) {
                Ok(head) => head,
                Err(error) => return refused(error, true),
            };
            let (format, undecided) = match detect(&head, complete) {
                Ok(Detected::Preset(preset)) => (preset.format(&first_line(&head)), None),
                Ok(Detected::Empty) => {
                    let mut format = Preset::Native.format(b"");
                    format.name = EMPTY.to_string();
                    (format, None)
                }
                Err(undecided) => (Preset::Native.format(b""), Some(undecided)),
            };
            Ok(Resolved {
                format,
                refusal: undecided.map(Refusal::Undecided),
                auto: true,
            })
        }
    }
}

/// A filter asked for explicitly must apply: `--context CHH` on a file without a context
/// column would load every row as if it were CHH.
fn check_filters(settings: &LoadSettings, input: &Input, format: &ColumnFormat) -> Result<()> {
    if format.name == EMPTY {
        return Ok(());
    }
    let explicit = settings.explicit_filters;
    let refuse = |flag: &str, column: &str| {
        Error::usage(format!(
            "{}: {flag} cannot apply: it is read as {}, which has no {column} column; load \
             such files in a run without {flag} (or with {flag} all)",
            input.path.display(),
            format.name
        ))
    };
    if explicit.context && !format.has(Role::Context) {
        return Err(refuse("--context", "context"));
    }
    if explicit.mod_code && !format.has(Role::ModCode) {
        return Err(refuse("--mod-code", "modification code"));
    }
    Ok(())
}
