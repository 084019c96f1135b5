//! Ground Labs Enterprise Recon (ER2) master server: the `licenses` and
//! `risk` collectors, over HTTP basic authentication.

pub mod licenses;
pub mod risk;

use super::{CollectError, Context};
use crate::config::Credentials;
use crate::exposition::Samples;
use crate::upstream::BasicAuth;

/// The collectors of the family, in default order.
pub const COLLECTORS: &[&str] = &["licenses", "risk"];

/// Runs the ER2 collector `name`.
pub async fn collect(name: &'static str, ctx: &Context<'_>) -> Result<Samples, CollectError> {
    let auth = basic_auth(ctx)?;
    match name {
        "licenses" => {
            let snapshot = licenses::fetch(ctx.upstream, &auth).await?;
            Ok(licenses::encode(&snapshot, &ctx.module.licenses))
        }
        "risk" => {
            let snapshot = risk::fetch(ctx.upstream, &auth).await?;
            Ok(risk::encode(&snapshot))
        }
        other => Err(CollectError::Unsupported(format!(
            "unknown enterprise_recon collector {other}"
        ))),
    }
}

/// The basic-auth credentials of the context (validated at load to be basic).
pub fn basic_auth(ctx: &Context<'_>) -> Result<BasicAuth, CollectError> {
    match &ctx.auth.credentials {
        Credentials::Basic { username, password } => Ok(BasicAuth {
            username: username.clone(),
            password: password.clone(),
        }),
        _ => Err(CollectError::Unsupported(format!(
            "auth {} has no username and password",
            ctx.auth.name
        ))),
    }
}
