//! `ConfigError`: one line that names the file, the position, the key and the fix.

use std::fmt;
use std::path::{Path, PathBuf};

/// Why config.toml was refused. `Display` is one line: `file:line:col: [section] key: problem; fix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The config file the error is about.
    pub file: PathBuf,
    /// 1-based line and column in the file, when known.
    pub position: Option<(usize, usize)>,
    /// The setting, written the way the file spells it: `[checkout] query_interval`.
    pub key: String,
    /// What is wrong.
    pub problem: String,
    /// What to do about it.
    pub fix: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some((line, col)) = self.position {
            write!(f, ":{line}:{col}")?;
        }
        if !self.key.is_empty() {
            write!(f, ": {}", self.key)?;
        }
        write!(f, ": {}; {}", one_line(&self.problem), one_line(&self.fix))
    }
}

impl std::error::Error for ConfigError {}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The file being loaded and its text: turns problems into located `ConfigError`s.
pub(crate) struct Ctx<'a> {
    pub file: &'a Path,
    pub text: &'a str,
}

impl Ctx<'_> {
    /// An error about `[section] key`, located at the key's line when the file has it.
    pub fn err(
        &self,
        section: &str,
        key: &str,
        problem: impl Into<String>,
        fix: &str,
    ) -> ConfigError {
        ConfigError {
            file: self.file.to_path_buf(),
            position: locate(self.text, section, key),
            key: format!("[{section}] {key}").trim_end().to_string(),
            problem: problem.into(),
            fix: fix.to_string(),
        }
    }

    /// An error about the file as a whole (unreadable, not found).
    pub fn whole(&self, problem: impl Into<String>, fix: &str) -> ConfigError {
        ConfigError {
            file: self.file.to_path_buf(),
            position: None,
            key: String::new(),
            problem: problem.into(),
            fix: fix.to_string(),
        }
    }

    /// Map a toml/serde error to a located error with a fix, keeping its line and column.
    /// `syntax` is true for errors of the TOML parser itself, false for schema (serde) errors.
    pub fn toml_error(&self, e: &toml::de::Error, syntax: bool) -> ConfigError {
        let msg = one_line(e.message());
        let at = e.span().map(|s| s.start).unwrap_or(0).min(self.text.len());
        let position = e.span().map(|_| line_col(self.text, at));
        let (line_start, line) = line_at(self.text, at);
        let header = header_name(line);
        let section = header
            .clone()
            .or_else(|| section_before(self.text, line_start))
            .unwrap_or_default();
        let unknown = backticked(&msg, "unknown field `");
        let key_on_line = line.split_once('=').map(|(k, _)| k.trim().to_string());
        let key = match (&header, &unknown, &key_on_line) {
            (Some(h), _, _) => format!("[{h}]"),
            (None, Some(u), _) => place(&section, u),
            (None, None, Some(k)) if !k.is_empty() => place(&section, k),
            _ => place(&section, ""),
        };
        let (problem, fix) = if syntax {
            (
                format!("TOML syntax: {msg}"),
                "fix the line; strings need double quotes and each setting is written \
                 `key = value`"
                    .to_string(),
            )
        } else {
            explain(&msg, &section, unknown.as_deref(), header.is_some())
        };
        ConfigError {
            file: self.file.to_path_buf(),
            position,
            key,
            problem,
            fix,
        }
    }
}

fn place(section: &str, key: &str) -> String {
    match (section.is_empty(), key.is_empty()) {
        (true, true) => "(top level)".into(),
        (true, false) => key.to_string(),
        (false, true) => format!("[{section}]"),
        (false, false) => format!("[{section}] {key}"),
    }
}

/// The problem and the fix for a toml/serde message.
fn explain(msg: &str, section: &str, unknown: Option<&str>, on_header: bool) -> (String, String) {
    let expected = msg
        .split_once(", expected ")
        .map(|(_, rest)| rest.to_string());
    match unknown {
        Some("api_key") => (
            "the API key must not be written in config.toml".into(),
            "move it into a file with mode 600 (chmod 600 FILE) and set [merchant] api_key_file \
             to its path, or set the PAYCODE_API_KEY environment variable"
                .into(),
        ),
        Some("p12_password") => (
            "the .p12 password must not be written in config.toml".into(),
            "set the PAYCODE_P12_PASSWORD environment variable instead (default: the mch_id)"
                .into(),
        ),
        Some(u) if on_header => (
            format!("unknown section [{u}]"),
            format!(
                "remove it or correct the spelling; sections are {}",
                expected.unwrap_or_default()
            ),
        ),
        Some(u) if section.is_empty() => (
            format!("unknown top-level key `{u}`"),
            "every setting belongs under a section header such as [merchant]".into(),
        ),
        Some(u) => (
            format!("unknown key `{u}` in [{section}]"),
            format!(
                "remove it or correct the spelling; [{section}] accepts {}",
                expected.unwrap_or_else(|| "no keys".into())
            ),
        ),
        None if msg.starts_with("invalid type") => (
            msg.to_string(),
            "write the value as the comment in the shipped config.toml shows; durations and \
             amounts are quoted strings such as \"5s\" and \"12.34\""
                .into(),
        ),
        None if msg.starts_with("unknown variant") => (
            msg.to_string(),
            "use one of the listed values, with the exact spelling".into(),
        ),
        None => (
            msg.to_string(),
            "correct the value (the shipped config.toml documents every key)".into(),
        ),
    }
}

/// The text between `prefix` and the next backtick.
fn backticked(msg: &str, prefix: &str) -> Option<String> {
    let rest = msg.strip_prefix(prefix)?;
    rest.split_once('`').map(|(name, _)| name.to_string())
}

/// 1-based line and column (in characters) of byte offset `at`.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = text.get(..at).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, col)
}

/// The start offset and text of the line holding byte offset `at`.
fn line_at(text: &str, at: usize) -> (usize, &str) {
    let start = text
        .get(..at)
        .and_then(|b| b.rfind('\n'))
        .map_or(0, |i| i + 1);
    let rest = text.get(start..).unwrap_or("");
    (start, rest.split('\n').next().unwrap_or(""))
}

/// `merchant` for a `[merchant]` or `[[merchant]]` header line.
fn header_name(line: &str) -> Option<String> {
    let t = line.split('#').next().unwrap_or("").trim();
    let inner = t.strip_prefix('[')?.strip_suffix(']')?;
    let inner = inner.trim_start_matches('[').trim_end_matches(']');
    Some(inner.trim().to_string())
}

/// The section whose header comes last before byte offset `end`.
fn section_before(text: &str, end: usize) -> Option<String> {
    text.get(..end)?.lines().rev().find_map(header_name)
}

/// Line and column of `key = …` inside `[section]`; else of the `[section]` header (where a
/// missing key belongs); else `None`.
pub(crate) fn locate(text: &str, section: &str, key: &str) -> Option<(usize, usize)> {
    let mut current = String::new();
    let mut header = None;
    for (i, line) in text.lines().enumerate() {
        if let Some(h) = header_name(line) {
            if h == section && header.is_none() {
                header = Some((i + 1, 1));
            }
            current = h;
            continue;
        }
        if current != section {
            continue;
        }
        let trimmed = line.trim_start();
        let assigns = trimmed
            .strip_prefix(key)
            .is_some_and(|after| after.trim_start().starts_with('='));
        if assigns {
            let col = line.chars().count() - trimmed.chars().count() + 1;
            return Some((i + 1, col));
        }
    }
    header
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_keys_inside_their_section_only() {
        let text = "[a]\nx = 1\n[b]\n  x = 2\n";
        assert_eq!(locate(text, "a", "x"), Some((2, 1)));
        assert_eq!(locate(text, "b", "x"), Some((4, 3)));
        assert_eq!(locate(text, "c", "x"), None);
        assert_eq!(locate(text, "b", "y"), Some((3, 1)));
    }

    #[test]
    fn line_and_column_are_one_based() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
    }

    #[test]
    fn display_is_one_line_with_everything() {
        let e = ConfigError {
            file: "c.toml".into(),
            position: Some((3, 1)),
            key: "[checkout] query_interval".into(),
            problem: "zero\nis bad".into(),
            fix: "set it".into(),
        };
        assert_eq!(
            e.to_string(),
            "c.toml:3:1: [checkout] query_interval: zero is bad; set it"
        );
    }
}
