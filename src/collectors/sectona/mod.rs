//! Sectona PAM: the `entitlements` collector.

use super::{CollectError, Context};
use crate::exposition::Samples;

/// The collectors of the family, in default order.
pub const COLLECTORS: &[&str] = &["entitlements"];

/// Runs the Sectona collector `name`.
pub async fn collect(name: &'static str, _ctx: &Context<'_>) -> Result<Samples, CollectError> {
    Err(CollectError::Unsupported(format!(
        "sectona collector {name} is not implemented yet"
    )))
}
