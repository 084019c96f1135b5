//! Fault injection in front of any simulated appliance: per path prefix
//! (with the query, so one page of a listing can fail alone),
//! changed at run time, the faults an appliance or its network can produce
//! (error statuses, a maintenance page, malformed or truncated or endless
//! bodies, no answer at all, slowness, any answer a test composes). Every request is counted by path,
//! so tests can also tell how often the exporter asked.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::StreamExt as _;
use tokio::sync::watch;

/// What a faulty path answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// This HTTP status with a JSON error body (`{"message": ...}`).
    Status(u16),
    /// An HTML maintenance page with status 200.
    MaintenancePage,
    /// Status 200, `application/json`, and a body that is not JSON.
    MalformedJson,
    /// A `Content-Length` larger than what is sent, then the connection
    /// is closed.
    Truncated,
    /// A JSON array that never ends.
    Endless,
    /// The request is read and never answered (until the fault changes).
    Hang,
    /// The normal answer, after this delay.
    Slow(Duration),
    /// Status 200 and this JSON body: a hostile or broken appliance's
    /// answer of the right shape (60,000 rows, a claim of 10⁹ sessions).
    Json(Bytes),
}

/// The fault settings of one simulator; clones share them.
#[derive(Debug, Clone)]
pub struct Faults {
    state: Arc<FaultState>,
}

#[derive(Debug)]
struct FaultState {
    /// Path prefix and its fault; the longest matching prefix wins.
    rules: Mutex<Vec<(String, Fault)>>,
    /// Requests received, by path.
    requests: Mutex<BTreeMap<String, u64>>,
    /// Bumped on every change, releasing hung requests.
    changed: watch::Sender<u64>,
}

impl Default for Faults {
    fn default() -> Self {
        Self::new()
    }
}

const MAINTENANCE_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>Scheduled maintenance</title></head>\
<body><h1>This appliance is down for maintenance</h1><p>Please try again later.</p></body></html>\n";
/// What `MalformedJson` sends: JSON cut short, with a stray byte.
const MALFORMED_JSON: &str = "{\"state\": \"licensed\", \"expires\": 16323785\u{1}";
/// Bytes `Truncated` sends, and the length it announces.
const TRUNCATED_BODY: &str = "{\"state\": \"licensed\", \"company\": \"My Comp";
const TRUNCATED_ANNOUNCED: usize = 4096;

impl Faults {
    /// No faults.
    pub fn new() -> Self {
        Self {
            state: Arc::new(FaultState {
                rules: Mutex::new(Vec::new()),
                requests: Mutex::new(BTreeMap::new()),
                changed: watch::channel(0).0,
            }),
        }
    }

    /// Makes every path (with its query) starting with `prefix` answer
    /// with `fault`.
    pub fn set(&self, prefix: &str, fault: Fault) {
        {
            let mut rules = self.rules();
            rules.retain(|(p, _)| p != prefix);
            rules.push((prefix.to_owned(), fault));
        }
        self.bump();
    }

    /// Removes the fault of `prefix`.
    pub fn clear(&self, prefix: &str) {
        self.rules().retain(|(p, _)| p != prefix);
        self.bump();
    }

    /// Removes every fault.
    pub fn clear_all(&self) {
        self.rules().clear();
        self.bump();
    }

    /// Requests received so far whose path starts with `prefix`.
    pub fn requests(&self, prefix: &str) -> u64 {
        self.state
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(path, _)| path.starts_with(prefix))
            .map(|(_, n)| n)
            .sum()
    }

    /// `router` with the faults in front of it.
    pub fn wrap(&self, router: Router) -> Router {
        router.layer(middleware::from_fn_with_state(self.clone(), inject))
    }

    fn rules(&self) -> std::sync::MutexGuard<'_, Vec<(String, Fault)>> {
        self.state
            .rules
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn bump(&self) {
        self.state.changed.send_modify(|n| *n += 1);
    }

    fn fault_for(&self, path: &str) -> Option<Fault> {
        self.rules()
            .iter()
            .filter(|(prefix, _)| path.starts_with(prefix.as_str()))
            .max_by_key(|(prefix, _)| prefix.len())
            .map(|(_, fault)| fault.clone())
    }
}

async fn inject(State(faults): State<Faults>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    *faults
        .state
        .requests
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(path.clone())
        .or_default() += 1;
    // Matched against the query too, so that one page of a listing can
    // fail alone.
    let asked = request
        .uri()
        .path_and_query()
        .map_or_else(|| path.clone(), |p| p.as_str().to_owned());
    let Some(fault) = faults.fault_for(&asked) else {
        return next.run(request).await;
    };
    match fault {
        Fault::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let reason = status.canonical_reason().unwrap_or("Error");
            super::json_response(code, format!("{{\"message\": \"{reason}.\"}}"))
        }
        Fault::MaintenancePage => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            MAINTENANCE_PAGE,
        )
            .into_response(),
        Fault::MalformedJson => super::json_response(200, MALFORMED_JSON),
        Fault::Truncated => truncated(),
        Fault::Endless => endless(),
        Fault::Hang => {
            let mut changed = faults.state.changed.subscribe();
            // Released (with a 503) only when the faults change, so a test
            // can end cleanly.
            let _ = changed.changed().await;
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
        Fault::Slow(delay) => {
            tokio::time::sleep(delay).await;
            next.run(request).await
        }
        Fault::Json(body) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response(),
    }
}

fn truncated() -> Response {
    // The pause lets the head and the first bytes go out before the close.
    let stream = futures::stream::iter([Ok(Bytes::from_static(TRUNCATED_BODY.as_bytes()))]).chain(
        futures::stream::once(async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            Err(std::io::Error::other(
                "connection closed by the simulated fault",
            ))
        }),
    );
    let mut response = Response::new(Body::from_stream(stream));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    headers.insert(
        header::CONTENT_LENGTH,
        header::HeaderValue::from(TRUNCATED_ANNOUNCED),
    );
    response
}

fn endless() -> Response {
    let start = futures::stream::once(async { Ok::<_, Infallible>(Bytes::from_static(b"[")) });
    let rows = futures::stream::repeat(Bytes::from_static(
        b"{\"type\": \"server\", \"comment\": \"Server\", \"total\": 5, \"usage\": 1},\n",
    ))
    .map(Ok::<_, Infallible>);
    let mut response = Response::new(Body::from_stream(start.chain(rows)));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_prefix_wins_and_clearing_works() {
        let f = Faults::new();
        f.set("/v1", Fault::Status(500));
        f.set("/v1/licenses", Fault::Hang);
        assert_eq!(f.fault_for("/v1/licenses"), Some(Fault::Hang));
        assert_eq!(f.fault_for("/v1/risk/levels"), Some(Fault::Status(500)));
        assert_eq!(f.fault_for("/api"), None);
        f.clear("/v1/licenses");
        assert_eq!(f.fault_for("/v1/licenses"), Some(Fault::Status(500)));
        f.clear_all();
        assert_eq!(f.fault_for("/v1/licenses"), None);
    }
}
