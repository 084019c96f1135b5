//! The exporter's own endpoint protection, from `--web.config.file` in the
//! exporter-toolkit format (the file `promtool check web-config` checks):
//! TLS (`tls_server_config`), basic authentication (`basic_auth_users`,
//! bcrypt) and extra response headers (`http_server_config.headers`).
//!
//! What promtool accepts is accepted here, with three exceptions that are
//! rejected with a message saying why: cipher suites and curves that rustls
//! does not implement (CBC and static-RSA suites, P-521), a `max_version`
//! below TLS 1.2 (this exporter never speaks TLS 1.0 or 1.1), and settings
//! that no client could ever satisfy (`min_version` above `max_version`, a
//! `client_ca_file` without a certificate).

mod basic_auth;
mod headers;
mod live;
mod raw;
mod stamp;
pub mod tls;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::http::{HeaderName, HeaderValue};

pub use basic_auth::{Users, Verdict, parse_basic};
pub use live::LiveWebConfig;

use crate::config::ConfigError;

/// A loaded, validated web configuration.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The file it was read from.
    pub source: PathBuf,
    /// TLS settings; `None` serves plain HTTP.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Users allowed in; `None` when `basic_auth_users` is empty.
    pub users: Option<Arc<Users>>,
    /// Headers added to every response.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Whether HTTP/2 is offered (over TLS, by ALPN).
    pub http2: bool,
    /// Accepted settings that deserve a warning at start-up.
    pub warnings: Vec<String>,
}

impl WebConfig {
    /// Reads and validates the file at `path`, loading the certificate
    /// files it names. Relative paths are relative to the file's folder. Serving follows
    /// later changes of the file ([`LiveWebConfig`]).
    pub fn load(path: &Path) -> Result<WebConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::file(path, format!("cannot read the web configuration: {e}"))
        })?;
        Self::parse(path, &text)
    }

    /// Validates `text` as if read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<WebConfig, ConfigError> {
        // An empty file (or one of comments only) protects nothing, as in
        // exporter-toolkit.
        let raw: raw::RawWebConfig = if is_blank(text) {
            raw::RawWebConfig::default()
        } else {
            crate::config::decode_yaml(path, text)?
        };
        let base_dir = path.parent().unwrap_or(Path::new("."));
        let mut warnings = Vec::new();
        let http = raw.http_server_config.unwrap_or_default();
        let http2 = http.http2.unwrap_or(true);
        let headers = headers::check(path, http.headers.unwrap_or_default())?;
        let tls = match &raw.tls_server_config {
            Some(t) => tls::check(path, base_dir, t, http2, &mut warnings)?,
            None => None,
        };
        let users = match raw.basic_auth_users {
            Some(u) if !u.value.is_empty() => {
                Some(Arc::new(Users::check(path, &u.referenced, u.value)?))
            }
            _ => None,
        };
        if users.is_some() && tls.is_none() {
            warnings.push(
                "basic_auth_users without tls_server_config: passwords cross the network in clear text"
                    .to_owned(),
            );
        }
        Ok(WebConfig {
            source: path.to_path_buf(),
            tls,
            users,
            headers,
            http2,
            warnings,
        })
    }

    /// A one-line summary for start-up and `--config.check`, never secrets.
    pub fn summary(&self) -> String {
        let users = self.users.as_ref().map_or(0, |u| u.len());
        format!(
            "web configuration {} is valid: TLS {}, basic auth users: {users}, extra headers: {}",
            self.source.display(),
            if self.tls.is_some() { "on" } else { "off" },
            self.headers.len()
        )
    }
}

fn is_blank(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .all(|l| l.is_empty() || l.starts_with('#') || l == "---")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_files_protect_nothing() {
        for text in ["", "\n", "# nothing\n---\n"] {
            let w = WebConfig::parse(Path::new("/w.yml"), text).unwrap();
            assert!(w.tls.is_none() && w.users.is_none() && w.headers.is_empty());
            assert!(w.http2);
        }
    }

    #[test]
    fn unknown_keys_name_line_and_field() {
        let err =
            WebConfig::parse(Path::new("/w.yml"), "rate_limit: {interval: 1s}\n").unwrap_err();
        assert_eq!(err.line, 1);
        assert!(err.to_string().starts_with("/w.yml:1:1:"), "{err}");
        assert!(err.to_string().contains("rate_limit"), "{err}");
        let err =
            WebConfig::parse(Path::new("/w.yml"), "tls_server_config:\n  cert: x\n").unwrap_err();
        assert_eq!(err.line, 2, "{err}");
        assert!(err.to_string().contains("cert"), "{err}");
    }

    #[test]
    fn users_without_tls_warn() {
        let text = "basic_auth_users:\n  alice: $2y$10$X0h1gDsPszWURQaxFh.zoubFi6DXncSjhoQNJgRrnGs7EsimhC7zG\n";
        let w = WebConfig::parse(Path::new("/w.yml"), text).unwrap();
        assert_eq!(w.users.as_ref().map(|u| u.len()), Some(1));
        assert_eq!(w.warnings.len(), 1, "{:?}", w.warnings);
        assert!(!w.summary().contains("$2y$"));
    }
}
