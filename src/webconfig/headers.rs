//! `http_server_config.headers`: the five security headers exporter-toolkit
//! lets an operator set, with the values it allows.

use std::collections::BTreeMap;
use std::path::Path;

use axum::http::{HeaderName, HeaderValue};
use serde_saphyr::Spanned;

use crate::config::ConfigError;

/// Header name and the values it may take (`None`: any value).
const ALLOWED: [(&str, Option<&[&str]>); 5] = [
    ("Content-Security-Policy", None),
    ("X-Frame-Options", Some(&["deny", "sameorigin"])),
    ("X-Content-Type-Options", Some(&["nosniff"])),
    ("X-XSS-Protection", None),
    ("Strict-Transport-Security", None),
];

/// Checks the configured headers (names are case-sensitive, as in
/// exporter-toolkit) and returns them ready to add to responses.
pub fn check(
    file: &Path,
    raw: BTreeMap<String, Spanned<String>>,
) -> Result<Vec<(HeaderName, HeaderValue)>, ConfigError> {
    let mut out = Vec::new();
    for (name, value) in raw {
        let field = format!("http_server_config.headers.{name}");
        let err = |message: String| ConfigError::at(file, &value.referenced, &field, message);
        let Some((_, allowed)) = ALLOWED.iter().find(|(n, _)| *n == name) else {
            let names: Vec<&str> = ALLOWED.iter().map(|(n, _)| *n).collect();
            return Err(err(format!(
                "HTTP header \"{name}\" can not be configured (allowed: {})",
                names.join(", ")
            )));
        };
        if let Some(allowed) = allowed
            && !allowed.contains(&value.value.as_str())
        {
            return Err(err(format!(
                "invalid value \"{}\"; expected one of: {}",
                value.value,
                allowed.join(", ")
            )));
        }
        // Empty means "unset" for the free-form headers.
        if value.value.is_empty() {
            continue;
        }
        let header_value = HeaderValue::from_str(&value.value)
            .map_err(|_| err("the value is not a valid HTTP header value".to_owned()))?;
        // Lower case, as HTTP/2 requires; every name here is in ALLOWED.
        let header_name = HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes())
            .map_err(|_| err("not a valid HTTP header name".to_owned()))?;
        out.push((header_name, header_value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::webconfig::WebConfig;
    use std::path::Path;

    fn parse(text: &str) -> Result<WebConfig, String> {
        WebConfig::parse(Path::new("/w.yml"), text).map_err(|e| e.to_string())
    }

    #[test]
    fn allowed_headers_and_values() {
        let w = parse(
            "http_server_config:\n  headers:\n    X-Frame-Options: deny\n    Content-Security-Policy: \"default-src 'self'\"\n    X-XSS-Protection: \"\"\n",
        )
        .unwrap();
        let names: Vec<&str> = w.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["content-security-policy", "x-frame-options"]);
    }

    #[test]
    fn refused_headers_and_values() {
        assert_eq!(
            parse("http_server_config:\n  headers:\n    X-Frame-Options: DENY\n").unwrap_err(),
            "/w.yml:3:22: http_server_config.headers.X-Frame-Options: invalid value \"DENY\"; expected one of: deny, sameorigin"
        );
        let err =
            parse("http_server_config:\n  headers:\n    x-frame-options: deny\n").unwrap_err();
        assert!(
            err.contains("HTTP header \"x-frame-options\" can not be configured"),
            "{err}"
        );
        let err = parse("http_server_config:\n  headers:\n    X-Content-Type-Options: \"\"\n")
            .unwrap_err();
        assert!(err.contains("expected one of: nosniff"), "{err}");
    }
}
