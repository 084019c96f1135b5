//! A simulated Enterprise Recon master server: `/v1/licenses` in each of
//! the document's three licensing models, the PRO-only risk endpoints and
//! `/v1/server` (its `loads` in each shape the document allows), behind
//! basic authentication, serving the document's samples verbatim (the risk
//! profile sample keeps its trailing commas).

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;

use super::{
    DemoPart, Running, basic_credentials, json_response, json_response_compressible,
    serve_for_demo, unix_now, write_secret,
};

/// The document's sample of the legacy target licensing model.
pub const LICENSES_LEGACY: &str = include_str!("fixtures/enterprise_recon/licenses_legacy.json");
/// The document's sample of the sitewide licensing model.
pub const LICENSES_SITEWIDE: &str =
    include_str!("fixtures/enterprise_recon/licenses_sitewide.json");
/// The document's sample of the non-sitewide licensing model.
pub const LICENSES_NON_SITEWIDE: &str =
    include_str!("fixtures/enterprise_recon/licenses_non_sitewide.json");
/// The document's risk levels sample.
pub const RISK_LEVELS: &str = include_str!("fixtures/enterprise_recon/risk_levels.json");
/// The document's risk profiles sample (with its trailing commas).
pub const RISK_PROFILES: &str = include_str!("fixtures/enterprise_recon/risk_profiles.json");
/// The document's data type rules sample.
pub const DATATYPE_RULES: &str = include_str!("fixtures/enterprise_recon/datatype_rules.json");
/// The 403 body of an edition without risk scoring.
pub const PRO_EDITION_REQUIRED: &str =
    include_str!("fixtures/enterprise_recon/pro_edition_required.json");
/// The 403 body for a user without risk permissions.
pub const ACCESS_DENIED: &str = include_str!("fixtures/enterprise_recon/access_denied.json");

/// The document's illustrative `/v1/server` answer (`loads` as a list of
/// one sample, with the inferred `memory` field).
pub const SERVER_DOCUMENT_SAMPLE: &str = include_str!("fixtures/enterprise_recon/server.json");

/// The shape of `loads` in the `/v1/server` answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerLoads {
    /// One object, as the document types it.
    Object,
    /// A list of samples, as the document's example (oldest first).
    List,
    /// An object of lists, one list per field.
    Columns,
    /// A number where the samples should be (a shape nobody documents).
    Malformed,
    /// The object answer cut off half-way: not JSON at all.
    Truncated,
}

/// The licensing model to serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LicenseModel {
    /// No `state`; `targets` and count pools.
    Legacy,
    /// A `global` data allowance pool and a pending scan warning.
    Sitewide,
    /// Per-type pools and data allowances.
    NonSitewide,
}

/// How the simulated master server behaves.
#[derive(Debug, Clone)]
pub struct Er2Config {
    /// Which licences sample to serve.
    pub model: LicenseModel,
    /// Whether the risk endpoints answer (PRO edition) or 403.
    pub risk_available: bool,
    /// The API user.
    pub username: String,
    /// Its password.
    pub password: String,
    /// Replaces `expires` in the sample (seconds since the epoch), e.g. to
    /// show a licence that is still valid.
    pub expires: Option<i64>,
    /// Risk endpoints that answer 403 "Access denied." (an API user without
    /// the Global Admin or Risk Admin permission), e.g. `/v1/datatypes/rules`.
    pub access_denied: Vec<&'static str>,
    /// The shape of `loads` in `/v1/server`.
    pub server_loads: ServerLoads,
    /// How far the server's clock is ahead of the real one, in seconds.
    pub clock_offset: i64,
}

impl Er2Config {
    /// The given model, PRO risk scoring for the non-sitewide (PRO) sample.
    pub fn new(model: LicenseModel, username: &str, password: &str) -> Self {
        Self {
            model,
            risk_available: model == LicenseModel::NonSitewide,
            username: username.to_owned(),
            password: password.to_owned(),
            expires: None,
            access_denied: Vec::new(),
            server_loads: ServerLoads::Object,
            clock_offset: 0,
        }
    }
}

#[derive(Debug)]
struct Sim {
    config: Er2Config,
    licenses: String,
}

/// The simulator's routes.
pub fn router(config: Er2Config) -> Router {
    let sample = match config.model {
        LicenseModel::Legacy => LICENSES_LEGACY,
        LicenseModel::Sitewide => LICENSES_SITEWIDE,
        LicenseModel::NonSitewide => LICENSES_NON_SITEWIDE,
    };
    let licenses = match config.expires {
        Some(expires) => with_expires(sample, expires),
        None => sample.to_owned(),
    };
    let sim = Arc::new(Sim { config, licenses });
    Router::new()
        .route("/v1/licenses", get(licenses_handler))
        .route("/v1/risk/levels", get(risk_levels))
        .route("/v1/risk/profiles", get(risk_profiles))
        .route("/v1/datatypes/rules", get(datatype_rules))
        .route("/v1/server", get(server_handler))
        .with_state(sim)
}

/// The sample with its `expires` value replaced (kept a string when the
/// sample sends a string).
fn with_expires(sample: &str, expires: i64) -> String {
    let mut out = String::with_capacity(sample.len());
    for line in sample.lines() {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("\"expires\":") {
            let indent = &line[..line.len() - trimmed.len()];
            let quoted = rest.trim_start().starts_with('"');
            if quoted {
                out.push_str(&format!("{indent}\"expires\": \"{expires}\",\n"));
            } else {
                out.push_str(&format!("{indent}\"expires\": {expires},\n"));
            }
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The 401 answer, or `None` when the credentials are right.
fn refused(sim: &Sim, headers: &HeaderMap) -> Option<Response> {
    match basic_credentials(headers) {
        Some((u, p)) if u == sim.config.username && p == sim.config.password => None,
        _ => Some(json_response(401, r#"{"message": "Unauthorized."}"#)),
    }
}

async fn licenses_handler(State(sim): State<Arc<Sim>>, headers: HeaderMap) -> Response {
    if let Some(denied) = refused(&sim, &headers) {
        return denied;
    }
    json_response_compressible(&headers, 200, sim.licenses.clone())
}

fn risk(sim: &Sim, headers: &HeaderMap, endpoint: &str, body: &'static str) -> Response {
    if let Some(denied) = refused(sim, headers) {
        return denied;
    }
    if !sim.config.risk_available {
        return json_response(403, PRO_EDITION_REQUIRED);
    }
    if sim.config.access_denied.contains(&endpoint) {
        return json_response(403, ACCESS_DENIED);
    }
    json_response_compressible(headers, 200, body)
}

async fn risk_levels(State(sim): State<Arc<Sim>>, headers: HeaderMap) -> Response {
    risk(&sim, &headers, "/v1/risk/levels", RISK_LEVELS)
}

async fn risk_profiles(State(sim): State<Arc<Sim>>, headers: HeaderMap) -> Response {
    risk(&sim, &headers, "/v1/risk/profiles", RISK_PROFILES)
}

async fn datatype_rules(State(sim): State<Arc<Sim>>, headers: HeaderMap) -> Response {
    risk(&sim, &headers, "/v1/datatypes/rules", DATATYPE_RULES)
}

async fn server_handler(State(sim): State<Arc<Sim>>, headers: HeaderMap) -> Response {
    if let Some(denied) = refused(&sim, &headers) {
        return denied;
    }
    let body = server_body(
        sim.config.server_loads,
        unix_now().saturating_add(sim.config.clock_offset),
    );
    json_response_compressible(&headers, 200, body)
}

/// A `/v1/server` answer at server time `now`, with the samples of the
/// last three whole minutes, whose newest says CPU 12.5 %, stolen 0.5 %,
/// disk 63.2 % and memory 71.4 %.
pub fn server_body(loads: ServerLoads, now: i64) -> String {
    if loads == ServerLoads::Truncated {
        let whole = server_body(ServerLoads::Object, now);
        return whole[..whole.len() / 2].to_owned();
    }
    let minute = now - now.rem_euclid(60);
    let samples = [
        (minute - 120, "40.0", "3.0", "63.1", "70.0"),
        (minute - 60, "20.0", "1.0", "63.1", "70.9"),
        (minute, "12.5", "0.5", "63.2", "71.4"),
    ];
    let object = |(t, cpu, stolen, disk, memory): (i64, &str, &str, &str, &str)| {
        format!(
            r#"{{"timestamp": {t}, "cpu": {cpu}, "stolen_cpu": {stolen}, "disk": {disk}, "memory": {memory}}}"#
        )
    };
    let loads = match loads {
        ServerLoads::Object => object(samples[2]),
        ServerLoads::List => format!("[\n    {}\n  ]", samples.map(object).join(",\n    ")),
        ServerLoads::Columns => {
            let column = |f: fn(&(i64, &str, &str, &str, &str)) -> String| {
                samples.iter().map(f).collect::<Vec<_>>().join(", ")
            };
            format!(
                r#"{{"timestamp": [{}], "cpu": [{}], "stolen_cpu": [{}], "disk": [{}], "memory": [{}]}}"#,
                column(|s| s.0.to_string()),
                column(|s| s.1.to_owned()),
                column(|s| s.2.to_owned()),
                column(|s| s.3.to_owned()),
                column(|s| s.4.to_owned()),
            )
        }
        ServerLoads::Malformed | ServerLoads::Truncated => "42".to_owned(),
    };
    format!(
        "{{\n  \"host_name\": \"er-master\",\n  \"timestamp\": {now},\n  \"version\": \"2.10.0\",\n  \
         \"public_key\": \"MIIBIjANBgkqh...\",\n  \"loads\": {loads}\n}}\n"
    )
}

/// The demo's ER2 masters: a PRO non-sitewide licence valid for 120 days,
/// and an exceeded sitewide licence with scan data pending.
pub async fn demo(dir: &std::path::Path, sims: &mut Vec<Running>) -> Result<DemoPart, String> {
    let (user, password) = ("apiuser", "demo-er2-password");
    let secret = write_secret(dir, "er2.password", password)?;
    let mut prod = Er2Config::new(LicenseModel::NonSitewide, user, password);
    // The document's sample expired in 2021; the demo licence runs 120 days.
    prod.expires = Some(unix_now() + 120 * 86_400);
    prod.server_loads = ServerLoads::List;
    let prod_url = serve_for_demo(router(prod), sims).await?;
    let sitewide = Er2Config::new(LicenseModel::Sitewide, user, password);
    let sitewide_url = serve_for_demo(router(sitewide), sims).await?;
    Ok(DemoPart {
        auths: format!(
            "  er2_api:\n    username: {user}\n    password_file: {}\n",
            secret.display()
        ),
        modules: "  er2:\n    kind: enterprise_recon\n    auth: er2_api\n    timeout: 10s\n    \
                  probe: {allowed_hosts: [127.0.0.1]}\n    \
                  collectors: [licenses, risk, server]\n    licenses: {per_location: true}\n"
            .to_owned(),
        targets: format!(
            "  - {{name: er2-prod, url: \"{prod_url}\", module: er2}}\n  \
             - {{name: er2-sitewide, url: \"{sitewide_url}\", module: er2}}\n"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_is_replaced_keeping_its_json_type() {
        assert!(with_expires(LICENSES_NON_SITEWIDE, 42).contains("\"expires\": \"42\","));
        assert!(with_expires(LICENSES_LEGACY, 42).contains("\"expires\": 42,"));
    }
}
