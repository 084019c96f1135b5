//! Ivanti Connect Secure / Policy Secure gateway or cluster: the
//! `healthcheck`, `cluster`, `active_users`, `leases`, `system` and
//! `named_users` collectors.

use super::{CollectError, Context};
use crate::exposition::Samples;

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
pub struct SharedState {}

/// Runs the ICS collector `name`.
pub async fn collect(name: &'static str, _ctx: &Context<'_>) -> Result<Samples, CollectError> {
    Err(CollectError::Unsupported(format!(
        "connect_secure collector {name} is not implemented yet"
    )))
}
