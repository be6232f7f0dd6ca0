//! The layout of every input: the `--format` preset, the `--columns` layout, or `auto`'s
//! pick per file, checked against the filters asked for.

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::input::discover::Input;
use crate::input::encoding::Encoding;
use crate::layout::detect::{detect, read_head, Detected};
use crate::layout::{FormatChoice, Layout, Preset, Role};
use crate::settings::LoadSettings;

/// The format recorded for a file `auto` found no data line in.
pub const EMPTY: &str = "empty";

/// Resolves each input's layout (in parallel: `auto` and methylKit read each file's start).
pub fn resolve(
    settings: &LoadSettings,
    inputs: &[Input],
    encodings: &[Encoding],
) -> Result<Vec<Layout>> {
    let layouts: Vec<Layout> = inputs
        .par_iter()
        .zip(encodings)
        .map(|(input, &encoding)| layout_of(&settings.format, input, encoding))
        .collect::<Result<_>>()?;
    for (input, layout) in inputs.iter().zip(&layouts) {
        check_filters(settings, input, layout)?;
    }
    Ok(layouts)
}

fn layout_of(choice: &FormatChoice, input: &Input, encoding: Encoding) -> Result<Layout> {
    let first_line = |head: &[u8]| -> Vec<u8> {
        let line = head.split(|&byte| byte == b'\n').next().unwrap_or(b"");
        line.strip_suffix(b"\r").unwrap_or(line).to_vec()
    };
    match choice {
        FormatChoice::Columns(layout) => Ok(layout.clone()),
        FormatChoice::Preset(Preset::MethylKit) => {
            // Its text layout has a header; its flat-file layout does not.
            let (head, _) = read_head(&input.path, encoding)?;
            Ok(Preset::MethylKit.layout(&first_line(&head)))
        }
        FormatChoice::Preset(preset) => Ok(preset.layout(b"")),
        FormatChoice::Auto => {
            let (head, complete) = read_head(&input.path, encoding)?;
            match detect(&head, complete) {
                Ok(Detected::Preset(preset)) => Ok(preset.layout(&first_line(&head))),
                Ok(Detected::Empty) => {
                    let mut layout = Preset::Native.layout(b"");
                    layout.format = EMPTY.to_string();
                    Ok(layout)
                }
                Err(undecided) => Err(undecided.into_error(&input.path)),
            }
        }
    }
}

/// A filter asked for explicitly must apply: `--context CHH` on a file without a context
/// column would load every row as if it were CHH.
fn check_filters(settings: &LoadSettings, input: &Input, layout: &Layout) -> Result<()> {
    if layout.format == EMPTY {
        return Ok(());
    }
    let explicit = settings.explicit_filters;
    let refuse = |flag: &str, column: &str| {
        Error::usage(format!(
            "{}: {flag} cannot apply: it is read as {}, which has no {column} column; load \
             such files in a run without {flag} (or with {flag} all)",
            input.path.display(),
            layout.format
        ))
    };
    if explicit.context && !layout.has(Role::Context) {
        return Err(refuse("--context", "context"));
    }
    if explicit.mod_code && !layout.has(Role::ModCode) {
        return Err(refuse("--mod-code", "modification code"));
    }
    Ok(())
}
