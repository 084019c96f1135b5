//! Ivanti Connect Secure / Policy Secure gateway or cluster: the
//! `healthcheck`, `cluster`, `active_users`, `leases`, `system` and
//! `named_users` collectors, authenticated by an API key or by a key from
//! realm_auth (`auth.rs`).

pub mod active_users;
pub mod auth;
pub mod cluster;
pub mod healthcheck;
pub mod leases;
pub mod named_users;
mod session_page;
pub mod system;

use std::collections::HashSet;

use super::json::Text;
use super::{CollectError, Context, offload};
use crate::exposition::Samples;

pub use auth::Gateway;

/// The collectors of the family, in default order.
pub const COLLECTORS: &[&str] = &[
    "healthcheck",
    "cluster",
    "active_users",
    "leases",
    "system",
    "named_users",
];

/// State kept across scrapes for the family.
#[derive(Debug, Default)]
pub struct SharedState {
    /// API keys obtained through realm_auth, per gateway and credentials.
    pub keys: auth::KeyCache,
}

/// Runs the ICS collector `name`.
pub async fn collect(name: &'static str, ctx: &Context<'_>) -> Result<Samples, CollectError> {
    let gateway = Gateway::new(ctx)?;
    match name {
        "healthcheck" => Ok(healthcheck::encode(&healthcheck::fetch(&gateway).await?)),
        "cluster" => {
            let snapshot = cluster::fetch(&gateway).await?;
            let rows = snapshot.rows();
            let encode = move || cluster::encode(&snapshot);
            Ok(offload::encode(cluster::ENDPOINT, rows, encode).await?)
        }
        "active_users" => {
            let snapshot =
                active_users::fetch(&gateway, &ctx.module.active_users, ctx.limits.max_pages)
                    .await?;
            Ok(active_users::encode(
                &snapshot,
                ctx.module.active_users.top_values as usize,
            ))
        }
        "leases" => {
            let snapshot = leases::fetch(&gateway).await?;
            let (rows, options) = (snapshot.rows(), ctx.module.leases.clone());
            let encode = move || leases::encode(&snapshot, &options);
            Ok(offload::encode(leases::ENDPOINT, rows, encode).await?)
        }
        "system" => Ok(system::encode(&system::fetch(&gateway).await?)),
        "named_users" => Ok(named_users::encode(&named_users::fetch(&gateway).await?)),
        other => Err(CollectError::Unsupported(format!(
            "unknown connect_secure collector {other}"
        ))),
    }
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
        crate::collectors::testdata::assert_matches(
            &out,
            &format!("collectors/connect_secure/testdata/{expected}"),
        );
        assert!(warnings.is_empty(), "{warnings:?}");
    }
}
