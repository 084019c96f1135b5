//! Ivanti Connect Secure / Policy Secure gateway or cluster: the
//! `healthcheck`, `cluster`, `active_users`, `leases`, `system` and
//! `named_users` collectors, authenticated by an API key or by a key from
//! realm_auth (`auth.rs`). Its simulator is `crate::simulator::connect_secure`.

pub mod active_users;
pub mod auth;
pub mod cluster;
pub mod healthcheck;
pub mod leases;
pub mod named_users;
pub mod options;
mod session_page;
pub mod system;

use std::collections::HashSet;

use crate::collector::{Collector, collector};
use crate::exposition::Samples;
use crate::json::Text;

pub use auth::Gateway;

pub use options::COLLECTORS;

/// The family's collectors, in default order.
pub const ALL: &[Collector<options::Options, SharedState>] = &[
    collector!(healthcheck),
    collector!(cluster),
    collector!(active_users),
    collector!(leases),
    collector!(system),
    collector!(named_users),
];

/// State kept across scrapes for the family.
#[derive(Debug, Default)]
pub struct SharedState {
    /// API keys obtained through realm_auth, per gateway and credentials.
    pub keys: auth::KeyCache,
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
