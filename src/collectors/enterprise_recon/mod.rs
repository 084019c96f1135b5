//! Ground Labs Enterprise Recon (ER2) master server: the `licenses`,
//! `risk` and `server` collectors, over HTTP basic authentication.

pub mod licenses;
pub mod risk;
pub mod server;

use super::{CollectError, Context, basic_auth, offload};
use crate::exposition::Samples;

/// The collectors of the family, in default order.
pub const COLLECTORS: &[&str] = &["licenses", "risk", "server"];

/// Runs the ER2 collector `name`.
pub async fn collect(name: &'static str, ctx: &Context<'_>) -> Result<Samples, CollectError> {
    let auth = basic_auth(ctx)?;
    match name {
        "licenses" => {
            let snapshot = licenses::fetch(ctx.upstream, &auth).await?;
            let options = ctx.module.licenses.clone();
            let rows = snapshot.rows();
            let encode = move || licenses::encode(&snapshot, &options);
            Ok(offload::encode(licenses::ENDPOINT, rows, encode).await?)
        }
        "risk" => {
            let snapshot = risk::fetch(ctx.upstream, &auth).await?;
            let rows = snapshot.rows();
            Ok(offload::encode(risk::PROFILES, rows, move || risk::encode(&snapshot)).await?)
        }
        "server" => {
            let snapshot = server::fetch(ctx.upstream, &auth).await?;
            Ok(server::encode(&snapshot))
        }
        other => Err(CollectError::Unsupported(format!(
            "unknown enterprise_recon collector {other}"
        ))),
    }
}
