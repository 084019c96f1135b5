//! Sectona PAM: the `entitlements` collector, over HTTP basic
//! authentication, and the API's error codes.

pub mod codes;
pub mod entitlements;

use super::{CollectError, Context};
use crate::exposition::Samples;

/// The collectors of the family, in default order.
pub const COLLECTORS: &[&str] = &["entitlements"];

/// Runs the Sectona collector `name`.
pub async fn collect(name: &'static str, ctx: &Context<'_>) -> Result<Samples, CollectError> {
    match name {
        "entitlements" => entitlements::collect(ctx).await,
        other => Err(CollectError::Unsupported(format!(
            "unknown sectona collector {other}"
        ))),
    }
}
