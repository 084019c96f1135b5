//! The one HTTP client layer every collector uses: TLS per module, basic
//! auth, gzip, keep-alive, a per-request timeout inside the scrape budget,
//! a cap on the response body, and a record of every request.

mod body;
mod error;
pub mod limit;
mod metrics;
pub mod pool;
pub mod presented;
pub mod redirect;
pub mod retain;
mod sessions;
pub mod tls;
pub mod verify;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use body::Body;
use bytes::Bytes;
use reqwest::{Method, StatusCode};
use tokio::time::Instant;

pub use error::UpstreamError;
pub use limit::{Budget, TargetPlace};
pub use metrics::UpstreamMetrics;
pub use pool::{Connection, Connector};
pub use retain::Retained;

use crate::config::Secret;

/// How long a client keeps an idle connection; a client kept between
/// scrapes longer than this has none left ([`retain`]).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// Builds an HTTP client on a module's TLS configuration, keeping at most
/// `max_idle_per_host` idle connections (see [`pool`] for its lifetime).
pub fn build_client(
    tls: rustls::ClientConfig,
    max_idle_per_host: usize,
) -> Result<reqwest::Client, tls::TlsError> {
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .user_agent(concat!("appliance_exporter/", env!("CARGO_PKG_VERSION")))
        .gzip(true)
        .pool_idle_timeout(IDLE_TIMEOUT)
        .pool_max_idle_per_host(max_idle_per_host)
        .tcp_nodelay(true)
        .redirect(redirect::policy())
        .build()
        .map_err(|e| tls::TlsError::CaFile {
            path: "(client)".into(),
            reason: e.to_string(),
        })
}

/// Credentials for one request. `Debug` shows neither field: the user
/// is the key itself for an ICS API key.
#[derive(Clone)]
pub struct BasicAuth {
    /// User name (or ICS API key).
    pub username: String,
    /// Password (empty for an ICS API key).
    pub password: Secret,
}

impl std::fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicAuth")
            .field("username", &format_args!("<secret>"))
            .field("password", &self.password)
            .finish()
    }
}

/// One request to make. `Debug` hides the body (a realm_auth body holds
/// the admin password) along with the credentials.
pub struct Request<'a> {
    /// GET, POST, ...
    pub method: Method,
    /// The endpoint path used in logs and metric labels (no query values).
    pub endpoint: &'static str,
    /// Path and query appended to the target URL.
    pub path_and_query: &'a str,
    /// Basic auth, if any.
    pub auth: Option<&'a BasicAuth>,
    /// A JSON body, for POST.
    pub json: Option<Vec<u8>>,
}

impl std::fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("endpoint", &self.endpoint)
            .field("path_and_query", &self.path_and_query)
            .field("auth", &self.auth)
            .field(
                "json",
                &self.json.as_ref().map(|_| format_args!("<secret>")),
            )
            .finish()
    }
}

impl<'a> Request<'a> {
    /// A GET of `path_and_query`, logged as `endpoint`.
    pub fn get(
        endpoint: &'static str,
        path_and_query: &'a str,
        auth: Option<&'a BasicAuth>,
    ) -> Self {
        Self {
            method: Method::GET,
            endpoint,
            path_and_query,
            auth,
            json: None,
        }
    }

    /// A POST of a JSON body.
    pub fn post_json(
        endpoint: &'static str,
        path_and_query: &'a str,
        auth: Option<&'a BasicAuth>,
        json: Vec<u8>,
    ) -> Self {
        Self {
            method: Method::POST,
            endpoint,
            path_and_query,
            auth,
            json: Some(json),
        }
    }
}

/// An HTTP answer, with its body read in full (within the cap).
#[derive(Debug, Clone)]
pub struct Reply {
    /// The endpoint that answered.
    pub endpoint: &'static str,
    /// HTTP status.
    pub status: StatusCode,
    /// The body.
    pub body: Bytes,
}

impl Reply {
    /// The reply as an error unless its status is 2xx; the message of a JSON
    /// error body goes into the error.
    pub fn require_success(self) -> Result<Reply, UpstreamError> {
        if self.status.is_success() {
            Ok(self)
        } else {
            Err(self.into_status_error())
        }
    }

    /// This reply as a status error.
    pub fn into_status_error(self) -> UpstreamError {
        UpstreamError::Status {
            endpoint: self.endpoint,
            status: self.status.as_u16(),
            message: crate::json::error_message(&self.body),
        }
    }
}

/// The upstream side of one scrape of one target.
#[derive(Debug)]
pub struct Upstream {
    client: reqwest::Client,
    base: url::Url,
    target: String,
    deadline: Instant,
    max_body: u64,
    metrics: Option<UpstreamMetrics>,
    answered: AtomicBool,
    /// The target's place in the process' budget; every request waits for
    /// a request place under it.
    place: TargetPlace,
}

impl Upstream {
    /// Prepares requests to `base` for the target labelled `target`, all to
    /// finish by `deadline`.
    pub fn new(
        client: reqwest::Client,
        base: url::Url,
        target: String,
        deadline: Instant,
        max_body: u64,
        metrics: Option<UpstreamMetrics>,
        place: TargetPlace,
    ) -> Self {
        Self {
            client,
            base,
            target,
            deadline,
            max_body,
            metrics,
            answered: AtomicBool::new(false),
            place,
        }
    }

    /// Whether the appliance sent any HTTP answer in this scrape.
    pub fn answered(&self) -> bool {
        self.answered.load(Ordering::Relaxed)
    }

    /// The scrape's deadline.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether other targets are being collected at the same time: this
    /// one's session pages then go to the thread beside the worker when it
    /// has room, where they can use another CPU, rather than hold up the
    /// others' on the worker, and its bodies are copied to their own size.
    pub fn among_others(&self) -> bool {
        self.place.among_others()
    }

    /// The target label.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The appliance's base URL.
    pub fn base(&self) -> &url::Url {
        &self.base
    }

    fn url(&self, path_and_query: &str) -> String {
        let base = self.base.as_str().trim_end_matches('/');
        format!("{base}{path_and_query}")
    }

    /// Sends `req` and reads the whole body (up to the cap), whatever the
    /// status, once the budget gives it a place. Fails on transport errors,
    /// timeouts (waiting for a place counts) and oversized bodies.
    pub async fn send(&self, req: Request<'_>) -> Result<Reply, UpstreamError> {
        let queued = Instant::now();
        let endpoint = req.endpoint;
        let placed = async {
            let _place = self.place.request().await;
            let started = Instant::now();
            (started, self.exchange(req).await)
        };
        let (started, result) = tokio::time::timeout_at(self.deadline, placed)
            .await
            .unwrap_or((queued, Err(UpstreamError::Timeout { endpoint })));
        if let Some(m) = &self.metrics {
            let code = match &result {
                Ok(reply) => reply.status.as_str().to_owned(),
                Err(UpstreamError::Timeout { .. }) => "timeout".to_owned(),
                Err(_) => "error".to_owned(),
            };
            m.observe(
                &self.target,
                endpoint,
                &code,
                started.elapsed().as_secs_f64(),
            );
        }
        result
    }

    async fn exchange(&self, req: Request<'_>) -> Result<Reply, UpstreamError> {
        let endpoint = req.endpoint;
        let remaining = self.deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(UpstreamError::Timeout { endpoint });
        }
        let mut builder = self
            .client
            .request(req.method, self.url(req.path_and_query))
            .timeout(remaining)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(auth) = req.auth {
            builder = builder.basic_auth(&auth.username, Some(auth.password.expose()));
        }
        if let Some(json) = req.json {
            builder = builder
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(json);
        }
        let mut response = builder
            .send()
            .await
            .map_err(|e| transport_error(endpoint, &e))?;
        self.answered.store(true, Ordering::Relaxed);
        let status = response.status();
        if let Some(len) = response.content_length()
            && len > self.max_body
        {
            return Err(UpstreamError::TooLarge {
                endpoint,
                limit: self.max_body,
            });
        }
        let mut body = Body::new(response.content_length(), self.max_body, endpoint);
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => body.push(chunk)?,
                Ok(None) => break,
                Err(e) if e.is_timeout() => return Err(UpstreamError::Timeout { endpoint }),
                Err(e) => {
                    return Err(UpstreamError::Body {
                        endpoint,
                        reason: error_chain(&e),
                    });
                }
            }
        }
        Ok(Reply {
            endpoint,
            status,
            body: body.finish(self.among_others()),
        })
    }
}

fn transport_error(endpoint: &'static str, e: &reqwest::Error) -> UpstreamError {
    if e.is_timeout() {
        UpstreamError::Timeout { endpoint }
    } else {
        UpstreamError::Transport {
            endpoint,
            reason: error_chain(e),
        }
    }
}

/// An error's text; a refused appliance certificate (inside the I/O
/// errors of the TLS layer) in the verifier's words.
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut inner: &(dyn std::error::Error + 'static) = e;
    while let Some(io) = inner.downcast_ref::<std::io::Error>() {
        match io.get_ref() {
            Some(wrapped) => inner = wrapped,
            None => break,
        }
    }
    inner
        .downcast_ref::<rustls::Error>()
        .and_then(verify::in_words)
        .unwrap_or_else(|| e.to_string())
}

/// The causes of an error, innermost last, without reqwest's own wrapper
/// text (which repeats the URL).
fn error_chain(e: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = describe(s);
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    if parts.is_empty() {
        if e.is_connect() {
            return "connection failed".into();
        }
        return "request failed".into();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_keys_passwords_and_bodies() {
        let auth = BasicAuth {
            username: "ics-api-key-0f3c".to_owned(),
            password: Secret::new("er2-password-77"),
        };
        let request = Request::post_json(
            "/api/v1/realm_auth",
            "/api/v1/realm_auth",
            Some(&auth),
            br#"{"password":"admin-password-42"}"#.to_vec(),
        );
        let shown = format!("{auth:?} {request:?}");
        for secret in ["ics-api-key-0f3c", "er2-password-77", "admin-password-42"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("/api/v1/realm_auth"), "{shown}");
        assert_eq!(
            format!("{auth:?}"),
            "BasicAuth { username: <secret>, password: <secret> }"
        );
    }
}
