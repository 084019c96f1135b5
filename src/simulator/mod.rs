//! In-process simulated appliances on loopback, following the vendors' API
//! documents (quirks included). The integration tests and `--demo` share
//! them.

pub mod connect_secure;
pub mod enterprise_recon;
pub mod faults;
pub mod sectona;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use axum::Router;
use axum::http::HeaderMap;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A simulator serving on a loopback port; stops when dropped.
#[derive(Debug)]
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Whether it serves HTTPS.
    tls: bool,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Running {
    /// Its base URL.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.abort();
    }
}

/// Serves `router` on `127.0.0.1:0`.
pub async fn start(router: Router) -> std::io::Result<Running> {
    start_at(std::net::Ipv4Addr::LOCALHOST.into(), router).await
}

/// Serves `router` on a free port of `ip` (a loopback address such as
/// 127.0.3.7, so that a fleet of simulated appliances has a host each).
pub async fn start_at(ip: std::net::IpAddr, router: Router) -> std::io::Result<Running> {
    let listener = tokio::net::TcpListener::bind((ip, 0)).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    Ok(Running {
        addr,
        tls: false,
        stop: Some(stop),
        task,
    })
}

/// Serves `router` over HTTPS on `127.0.0.1:0` with the given certificate
/// chain and key (PEM), e.g. one signed by a CA the exporter does not
/// trust.
pub async fn start_tls(router: Router, cert_pem: &str, key_pem: &str) -> std::io::Result<Running> {
    let config =
        crate::webconfig::tls::fixed_server_config(cert_pem.as_bytes(), key_pem.as_bytes())
            .map_err(std::io::Error::other)?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let transport = crate::server::listen::Transport {
        tls: Some(std::sync::Arc::new(move || Some(config.clone()))),
        http2: false,
    };
    let task = tokio::spawn(async move {
        let _ = crate::server::listen::serve_router(listener, router, transport, async {
            let _ = stopped.await;
        })
        .await;
    });
    Ok(Running {
        addr,
        tls: true,
        stop: Some(stop),
        task,
    })
}

/// The user and password of a basic `Authorization` header.
pub fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(axum::http::header::AUTHORIZATION)?;
    crate::webconfig::parse_basic(value.as_bytes())
}

/// A JSON response with the given status.
pub fn json_response(status: u16, body: impl Into<String>) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let status = axum::http::StatusCode::from_u16(status)
        .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.into(),
    )
        .into_response()
}

/// A JSON response, gzip-compressed when the request accepts gzip and the
/// status is a success (as the ER2 document describes: "Compressed content
/// will not be returned for ... unsuccessful API calls").
pub fn json_response_compressible(
    request: &HeaderMap,
    status: u16,
    body: impl Into<String>,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    use std::io::Write as _;
    let body = body.into();
    let accepts_gzip = request
        .get(axum::http::header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    if !(accepts_gzip && (200..300).contains(&status)) {
        return json_response(status, body);
    }
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let compressed = encoder
        .write_all(body.as_bytes())
        .and_then(|()| encoder.finish());
    match compressed {
        Ok(bytes) => (
            axum::http::StatusCode::OK,
            [
                (axum::http::header::CONTENT_TYPE, "application/json"),
                (axum::http::header::CONTENT_ENCODING, "gzip"),
            ],
            bytes,
        )
            .into_response(),
        Err(_) => json_response(status, body),
    }
}

/// The configuration lines one simulated appliance family contributes to
/// the demo, each already indented for its section.
#[derive(Debug, Default)]
pub struct DemoPart {
    /// Lines under `auths:`.
    pub auths: String,
    /// Lines under `modules:`.
    pub modules: String,
    /// Lines under `targets:`.
    pub targets: String,
}

/// Writes a demo secret file readable only by its owner.
pub fn write_secret(dir: &Path, name: &str, value: &str) -> Result<PathBuf, String> {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join(name);
    std::fs::write(&path, format!("{value}\n"))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| format!("cannot restrict {}: {e}", path.display()))?;
    Ok(path)
}

/// Starts `router` and keeps it running with the demo; returns its URL.
pub async fn serve_for_demo(router: Router, sims: &mut Vec<Running>) -> Result<String, String> {
    let running = start(router)
        .await
        .map_err(|e| format!("cannot start a simulator: {e}"))?;
    let url = running.url();
    sims.push(running);
    Ok(url)
}

/// Now, in seconds since the epoch.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
