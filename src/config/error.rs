//! Configuration errors: every one names the file, the line and the field.

use std::fmt;
use std::path::PathBuf;

use serde_saphyr::Location;

/// A configuration that cannot be used, and exactly where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The configuration file.
    pub file: PathBuf,
    /// 1-based line, 0 when the problem is not tied to a line.
    pub line: u64,
    /// 1-based column, 0 when unknown.
    pub column: u64,
    /// Dotted path of the field (`modules.er2.timeout`), empty for the file.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl ConfigError {
    /// An error at `at` in field `field`.
    pub fn at(
        file: &std::path::Path,
        at: &Location,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            file: file.to_path_buf(),
            line: at.line(),
            column: at.column(),
            field: field.into(),
            message: message.into(),
        }
    }

    /// An error about the file as a whole (unreadable, not UTF-8).
    pub fn file(file: &std::path::Path, message: impl Into<String>) -> Self {
        Self {
            file: file.to_path_buf(),
            line: 0,
            column: 0,
            field: String::new(),
            message: message.into(),
        }
    }

    /// Builds the error for a failed decode from the serde path and the
    /// deserializer's error.
    pub fn from_decode(
        file: &std::path::Path,
        path: Option<String>,
        err: &serde_saphyr::Error,
    ) -> Self {
        let (line, column) = err
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((0, 0));
        let message = decode_message(err);
        let mut field = path.unwrap_or_default().replace(".value", "");
        if field == "." || field == "?" {
            field.clear();
        }
        // serde reports a missing field at its parent; name the field itself.
        if let Some(missing) = message
            .strip_prefix("missing field `")
            .and_then(|m| m.strip_suffix('`'))
        {
            field = if field.is_empty() {
                missing.to_owned()
            } else {
                format!("{field}.{missing}")
            };
        }
        if let Some(stripped) = field.strip_suffix(".?") {
            field = stripped.to_owned();
        }
        let mut message = message;
        if let Some(rest) = message.strip_prefix("duplicate mapping key: ") {
            let key = rest
                .split(", set DuplicateKeyPolicy")
                .next()
                .unwrap_or(rest)
                .to_owned();
            field = if field.is_empty() {
                key.clone()
            } else {
                format!("{field}.{key}")
            };
            message = format!("duplicate key \"{key}\"");
        }
        Self {
            file: file.to_path_buf(),
            line,
            column,
            field,
            message,
        }
    }
}

/// The first line of the deserializer's message, without its location
/// prefix (the location is printed once, by `ConfigError`).
fn decode_message(err: &serde_saphyr::Error) -> String {
    let text = err.to_string();
    let first = text.lines().next().unwrap_or_default();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    if let Some(rest) = first.strip_prefix("line ")
        && let Some((_, after)) = rest.split_once(": ")
    {
        return after.to_owned();
    }
    first.to_owned()
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
            if self.column > 0 {
                write!(f, ":{}", self.column)?;
            }
        }
        if !self.field.is_empty() {
            write!(f, ": {}", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}
