//! Secrets: a value that never prints, and the loading of it from a file
//! (including systemd's `$CREDENTIALS_DIRECTORY`), an environment variable,
//! or inline text.
//!
//! [`Secret`] is hand-written rather than `secrecy`'s `SecretString`, which
//! would not serve as well here. What `secrecy` adds is zeroing the value
//! when it is dropped, but the value also lives where that cannot reach:
//! the configuration text it was decoded from, the `Authorization` header
//! reqwest builds from it on every request, and the Connect Secure key
//! sent as a basic-auth user name, so the promise would be mostly empty.
//! What this type needs and `secrecy` lacks: cheap clones (an `Arc`; one
//! is made per collector and scrape, where `SecretString` would copy the
//! bytes each time) and `Debug` printing exactly `<secret>`, as the logs
//! and tests expect. Both keep `Display` away and make reading the value
//! one named call (`expose` here, `expose_secret` there).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A secret value. `Debug` prints `<secret>`; there is no `Display`, so it
/// cannot reach a log line or an error message by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<str>);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<Arc<str>>) -> Self {
        Secret(value.into())
    }

    /// The value, for the one place that must send it upstream.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<secret>")
    }
}

/// Where a secret comes from, as written in the configuration.
#[derive(Debug, Clone)]
pub enum SecretSource {
    /// `*_file`: a path, possibly starting with `$CREDENTIALS_DIRECTORY/`.
    File(String),
    /// `*_env`: the name of an environment variable.
    Env(String),
    /// Inline in the configuration file (warned about at load).
    Inline(Secret),
}

/// Why a secret could not be loaded; never contains the secret itself.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    /// `$CREDENTIALS_DIRECTORY` is referenced but not set.
    #[error(
        "{0} refers to $CREDENTIALS_DIRECTORY, which is not set (it is set by systemd for units with LoadCredential=)"
    )]
    NoCredentialsDirectory(String),
    /// The file could not be read.
    #[error("cannot read secret file {path}: {reason}")]
    Unreadable {
        /// The resolved path.
        path: String,
        /// The I/O error.
        reason: String,
    },
    /// The environment variable is not set or not UTF-8.
    #[error("environment variable {0} is not set")]
    MissingEnv(String),
    /// The secret is empty.
    #[error("the secret from {0} is empty")]
    Empty(String),
}

const CREDENTIALS_PREFIX: &str = "$CREDENTIALS_DIRECTORY/";

/// Resolves a secret file path: `$CREDENTIALS_DIRECTORY/` is expanded and a
/// relative path is taken relative to the configuration file's folder.
pub fn resolve_path(path: &str, base_dir: &Path) -> Result<PathBuf, SecretError> {
    if let Some(rest) = path.strip_prefix(CREDENTIALS_PREFIX) {
        let dir = std::env::var_os("CREDENTIALS_DIRECTORY")
            .ok_or_else(|| SecretError::NoCredentialsDirectory(path.to_owned()))?;
        return Ok(PathBuf::from(dir).join(rest));
    }
    let p = PathBuf::from(path);
    Ok(if p.is_absolute() { p } else { base_dir.join(p) })
}

impl SecretSource {
    /// Loads the secret. A trailing newline of a file is not part of it.
    pub fn load(&self, base_dir: &Path) -> Result<Secret, SecretError> {
        let (value, origin) = match self {
            SecretSource::Inline(s) => {
                return non_empty(s.expose().to_owned(), "the configuration");
            }
            SecretSource::File(path) => {
                let resolved = resolve_path(path, base_dir)?;
                let text =
                    std::fs::read_to_string(&resolved).map_err(|e| SecretError::Unreadable {
                        path: resolved.display().to_string(),
                        reason: e.kind().to_string(),
                    })?;
                (text, resolved.display().to_string())
            }
            SecretSource::Env(var) => {
                let text = std::env::var(var).map_err(|_| SecretError::MissingEnv(var.clone()))?;
                (text, format!("${var}"))
            }
        };
        let trimmed = value.strip_suffix('\n').unwrap_or(&value);
        let trimmed = trimmed.strip_suffix('\r').unwrap_or(trimmed);
        non_empty(trimmed.to_owned(), &origin)
    }
}

fn non_empty(value: String, origin: &str) -> Result<Secret, SecretError> {
    if value.is_empty() {
        Err(SecretError::Empty(origin.to_owned()))
    } else {
        Ok(Secret::new(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "<secret>");
        assert_eq!(format!("{:?}", SecretSource::Inline(s)), "Inline(<secret>)");
    }

    #[test]
    fn file_loses_its_trailing_newline() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pw"), "s3cret\r\n").unwrap();
        let s = SecretSource::File("pw".into()).load(dir.path()).unwrap();
        assert_eq!(s.expose(), "s3cret");
    }

    #[test]
    fn unreadable_file_error_names_the_path() {
        let err = SecretSource::File("/nonexistent/pw".into())
            .load(Path::new("/"))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot read secret file /nonexistent/pw: entity not found"
        );
    }

    #[test]
    fn empty_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pw"), "\n").unwrap();
        let err = SecretSource::File("pw".into())
            .load(dir.path())
            .unwrap_err();
        assert!(matches!(err, SecretError::Empty(_)));
    }
}
