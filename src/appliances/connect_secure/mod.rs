//! Ivanti Connect Secure / Policy Secure gateway or cluster: the
//! collectors listed in `options.rs` (one file each in this folder),
//! authenticated by an API key or by a key from realm_auth (`auth.rs`). Its
//! simulator is `crate::simulator::connect_secure`.

pub mod auth;
mod listing_sizes;
pub mod options;
mod session_page;

use std::collections::HashSet;

use crate::exposition::Samples;
use crate::json::Text;

pub use auth::Gateway;

options::collectors!(crate::collector::declare);

/// The family's `*_up` metric.
pub static UP: crate::exposition::Desc = crate::exposition::Desc::gauge(
    "ics_up",
    "1 if the Connect Secure gateway answered and accepted the credentials in this scrape",
);

/// State kept across scrapes for the family.
#[derive(Debug, Default)]
pub struct SharedState {
    /// API keys obtained through realm_auth, per gateway and credentials.
    pub keys: auth::KeyCache,
    /// Pages of each gateway's last session listing.
    pub listing_sizes: listing_sizes::ListingSizes,
}

/// The name of a list entry, or `None` with a warning when it is missing
/// or repeats an earlier entry's (whose series it would clash with).
fn unique_name<'a>(
    s: &mut Samples,
    endpoint: &'static str,
    field: String,
    name: &'a Text,
    seen: &mut HashSet<&'a str>,
) -> Option<&'a str> {
    match name.as_str().filter(|n| !n.is_empty()) {
        None => s.warn(endpoint, field, "missing or not text"),
        Some(n) if !seen.insert(n) => s.warn(endpoint, field, format!("duplicate name {n}")),
        Some(n) => return Some(n),
    }
    None
}

#[cfg(test)]
pub(crate) mod testing {
    //! Exact-exposition checks of the encode halves against
    //! `testdata/*.prom` (regenerate with UPDATE_TESTDATA=1, review by hand).

    use crate::exposition::{Format, Samples, render_samples};

    /// Renders `samples` for target `ics` and returns it with the warnings.
    pub fn exposition(samples: Samples) -> (String, Vec<String>) {
        let warnings = samples.warnings.iter().map(ToString::to_string).collect();
        let out = render_samples(Some("ics"), samples, Format::Text004).unwrap();
        (out, warnings)
    }

    /// Asserts that `samples` render exactly as `testdata/<expected>`, with
    /// no warnings.
    pub fn check(samples: Samples, expected: &str) {
        let (out, warnings) = exposition(samples);
        crate::collector::testdata::assert_matches(
            &out,
            &format!("appliances/connect_secure/testdata/{expected}"),
        );
        assert!(warnings.is_empty(), "{warnings:?}");
    }
}
