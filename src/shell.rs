//! The command line as one line of text that a shell reads back as the same words: the
//! provenance attribute of every output, and the holder named in an output's lock.

use std::ffi::OsString;

/// This process's command line, shell-quoted where needed.
pub fn command_line() -> String {
    shell_words(std::env::args_os())
}

/// Words joined with POSIX shell quoting (shlex), so that a shell reads them back as the same
/// words. A word that is not UTF-8 is recorded lossily: the attribute is text, and
/// `/sources` keeps the exact file names.
fn shell_words(words: impl IntoIterator<Item = OsString>) -> String {
    let words: Vec<String> = words
        .into_iter()
        .map(|word| word.to_string_lossy().into_owned())
        .collect();
    // Words from the OS hold no NUL byte, the one thing shlex refuses to quote.
    shlex::try_join(words.iter().map(String::as_str)).unwrap_or_else(|_| words.join(" "))
}

#[cfg(test)]
mod tests {
    #[test]
    fn command_line_reads_back_as_the_same_words() {
        let words = [
            "txt2h5", "load", "a b.txt", "it's", "$HOME", "-o", "out.h5", "",
        ];
        let line = super::shell_words(words.iter().map(super::OsString::from));
        assert_eq!(shlex::split(&line).unwrap(), words);
        assert!(line.starts_with("txt2h5 load "), "{line}");
    }
}
