//! The HTTP handlers: metrics, probe, landing page, health, readiness and
//! reload.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::negotiate::format_for;
use crate::app::{App, ProbeError};
use crate::budget::SCRAPE_TIMEOUT_HEADER;
use crate::exposition::{self, Block, Format};

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn exposition_response(
    blocks: Vec<Arc<Block>>,
    with_self: Option<&App>,
    format: Format,
) -> Response {
    match exposition::render(blocks, with_self.map(|a| &a.metrics.registry), format) {
        Ok(body) => ([(header::CONTENT_TYPE, format.content_type())], body).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// `GET /metrics`: self-metrics and every static target.
pub async fn metrics(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let format = format_for(header_str(&headers, header::ACCEPT.as_str()));
    let reports = app
        .scrape_all(header_str(&headers, SCRAPE_TIMEOUT_HEADER))
        .await;
    let blocks = reports.iter().flat_map(|served| served.blocks()).collect();
    exposition_response(blocks, Some(&app), format)
}

/// `GET /probe?target=NAME` or `?target=URL&module=M[&auth=A]`.
pub async fn probe(
    State(app): State<Arc<App>>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let format = format_for(header_str(&headers, header::ACCEPT.as_str()));
    let loaded = app.loaded();
    let resolved = match (params.get("target"), params.get("module")) {
        (None, _) => Err(ProbeError::MissingTarget),
        (Some(t), _) if t.is_empty() => Err(ProbeError::MissingTarget),
        (Some(name), None) => app
            .static_target(&loaded, name)
            .ok_or_else(|| ProbeError::UnknownTarget(name.clone())),
        (Some(url), Some(module)) => {
            app.adhoc_target(&loaded, url, module, params.get("auth").map(String::as_str))
        }
    };
    let target = match resolved {
        Ok(t) => t,
        Err(e) => {
            let status = if e.is_refusal() {
                tracing::info!(reason = %e, "ad-hoc probe refused");
                StatusCode::FORBIDDEN
            } else {
                StatusCode::BAD_REQUEST
            };
            return (status, format!("{e}\n")).into_response();
        }
    };
    let remember = !params.contains_key("module");
    let served = app
        .scrape(
            &target,
            header_str(&headers, SCRAPE_TIMEOUT_HEADER),
            remember,
        )
        .await;
    exposition_response(served.blocks(), None, format)
}

/// `GET /`.
pub async fn landing(State(app): State<Arc<App>>) -> Html<String> {
    Html(super::landing::render(&app))
}

/// `GET /-/healthy`.
pub async fn healthy() -> &'static str {
    "Healthy.\n"
}

/// `GET /-/ready`: a configuration is always loaded once serving starts.
pub async fn ready() -> &'static str {
    "Ready.\n"
}

/// `POST /-/reload`, with `--web.enable-lifecycle` only (as in Prometheus).
pub async fn reload(State(app): State<Arc<App>>) -> Response {
    if !app.settings.enable_lifecycle {
        return (
            StatusCode::FORBIDDEN,
            "lifecycle endpoints are disabled: start with --web.enable-lifecycle to reload over HTTP, or send SIGHUP\n",
        )
            .into_response();
    }
    match app.reload().await {
        Ok(()) => (StatusCode::OK, "configuration reloaded\n").into_response(),
        Err(reason) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("failed to reload config: {reason}\n"),
        )
            .into_response(),
    }
}
