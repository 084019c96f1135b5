//! Which redirects an appliance may send the exporter along: only within
//! the target's own origin (scheme, host and port), at most [`MAX_HOPS`] in
//! a row. Credentials and request bodies therefore never leave the origin
//! the operator configured; a redirect elsewhere fails the request with an
//! error naming both origins.

use std::fmt;

/// Redirects followed in a row before the request fails.
pub const MAX_HOPS: usize = 3;

/// Why a redirect was not followed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectRefused {
    /// The redirect leads to another scheme, host or port.
    #[error(
        "redirect from {from} to {to} leaves the target's origin; not followed (credentials stay with {from})"
    )]
    OtherOrigin {
        /// The target's origin.
        from: Origin,
        /// Where the redirect pointed.
        to: Origin,
    },
    /// Too many redirects within the origin.
    #[error("more than {MAX_HOPS} redirects within {0}; not followed")]
    TooMany(Origin),
}

/// Scheme, host and port of a URL, as printed in errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin(String);

impl Origin {
    /// The origin of `url`, with its port even when it is the default.
    pub fn of(url: &url::Url) -> Self {
        let host = url.host_str().unwrap_or_default();
        match url.port_or_known_default() {
            Some(port) => Self(format!("{}://{host}:{port}", url.scheme())),
            None => Self(format!("{}://{host}", url.scheme())),
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether to follow a redirect to `to`, after the requests in `previous`
/// (the first of which went to the target itself).
pub fn check(previous: &[url::Url], to: &url::Url) -> Result<(), RedirectRefused> {
    let Some(first) = previous.first() else {
        return Ok(());
    };
    let (from, next) = (Origin::of(first), Origin::of(to));
    if from != next {
        return Err(RedirectRefused::OtherOrigin { from, to: next });
    }
    if previous.len() > MAX_HOPS {
        return Err(RedirectRefused::TooMany(from));
    }
    Ok(())
}

/// The redirect policy of every upstream client.
pub fn policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| match check(attempt.previous(), attempt.url()) {
        Ok(()) => attempt.follow(),
        Err(refused) => attempt.error(refused),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(list: &[&str]) -> Vec<url::Url> {
        list.iter().map(|u| url::Url::parse(u).unwrap()).collect()
    }

    #[test]
    fn same_origin_is_followed_up_to_the_limit() {
        let to = url::Url::parse("https://er2.example.com/v1/licenses/").unwrap();
        assert_eq!(
            check(&urls(&["https://er2.example.com:443/v1/licenses"]), &to),
            Ok(())
        );
        let chain = ["https://er2.example.com/a"; MAX_HOPS];
        assert_eq!(check(&urls(&chain), &to), Ok(()));
        let chain = ["https://er2.example.com/a"; MAX_HOPS + 1];
        assert_eq!(
            check(&urls(&chain), &to).unwrap_err().to_string(),
            "more than 3 redirects within https://er2.example.com:443; not followed"
        );
    }

    #[test]
    fn another_scheme_host_or_port_is_refused() {
        let from = urls(&["https://er2.example.com:8339/v1/licenses"]);
        for to in [
            "http://er2.example.com:8339/v1/licenses",
            "https://evil.example.com:8339/v1/licenses",
            "https://er2.example.com:8340/v1/licenses",
            "https://er2.example.com/v1/licenses",
        ] {
            let err = check(&from, &url::Url::parse(to).unwrap()).unwrap_err();
            assert!(matches!(err, RedirectRefused::OtherOrigin { .. }), "{to}");
        }
        let err = check(&from, &url::Url::parse("http://10.0.0.1/x").unwrap()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "redirect from https://er2.example.com:8339 to http://10.0.0.1:80 leaves the target's origin; not followed (credentials stay with https://er2.example.com:8339)"
        );
    }
}
