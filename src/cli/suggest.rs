//! Values offered to shell completion for options whose text txt2h5 checks itself.

use std::ffi::OsStr;

use clap::builder::{PossibleValue, StringValueParser, TypedValueParser};

/// A value parser that takes any text, as a `String` (the settings check it and give
/// txt2h5's own hints), and offers `values` to the shell completion scripts.
#[derive(Clone, Copy)]
pub struct Suggest(pub fn() -> Vec<&'static str>);

impl TypedValueParser for Suggest {
    type Value = String;

    fn parse_ref(
        &self,
        command: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<String, clap::Error> {
        StringValueParser::new().parse_ref(command, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new((self.0)().into_iter().map(PossibleValue::new)))
    }
}

/// `--format`: auto and every preset.
pub fn formats() -> Vec<&'static str> {
    let mut names = vec!["auto"];
    names.extend(crate::format::Preset::ALL.map(crate::format::Preset::name));
    names
}

/// `--compression`: each codec bare, and the levels most asked for.
pub fn compressions() -> Vec<&'static str> {
    vec![
        "none",
        "gzip",
        "gzip:1",
        "gzip:4",
        "gzip:6",
        "gzip:9",
        "zstd",
        "zstd:1",
        "zstd:3",
        "zstd:9",
        "lz4",
        "blosc",
        "blosc:zstd",
        "blosc:zstd:1",
        "blosc:zstd:5",
        "blosc:lz4",
    ]
}
