//! The HTTP surface (SPEC §4): routes, protected as the web configuration
//! says, served on already-bound listeners so tests can bind port 0.

mod guard;
mod handlers;
pub mod landing;
pub mod listen;
pub mod negotiate;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use tokio::net::TcpListener;

use crate::app::App;
use crate::webconfig::{LiveWebConfig, WebConfig};

/// The router of every endpoint.
pub fn router(app: Arc<App>) -> Router {
    let telemetry = app.settings.telemetry_path.clone();
    Router::new()
        .route("/", get(handlers::landing))
        .route(&telemetry, get(handlers::metrics))
        .route("/probe", get(handlers::probe))
        .route("/-/healthy", get(handlers::healthy))
        .route("/-/ready", get(handlers::ready))
        .route("/-/reload", post(handlers::reload))
        .with_state(app)
}

/// Why a listen address cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    /// `:port` with a port that is not a number from 0 to 65535.
    #[error("invalid listen address \"{0}\": bad port")]
    BadPort(String),
    /// Neither `:port` nor `host:port`.
    #[error("invalid listen address \"{text}\": {source}")]
    Invalid {
        /// The address as given.
        text: String,
        /// Why it does not parse.
        source: std::net::AddrParseError,
    },
    /// The address names no socket address (parsing gives at least one, so
    /// this is a guard).
    #[error("invalid listen address \"{0}\": no address")]
    NoAddress(String),
    /// The address parses but cannot be bound (the last one tried).
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The socket address tried last.
        address: SocketAddr,
        /// Why binding it failed.
        source: std::io::Error,
    },
}

/// Parses a Prometheus-style listen address: `:29339` means every
/// interface.
pub fn parse_listen_address(text: &str) -> Result<Vec<SocketAddr>, ListenError> {
    if let Some(port) = text.strip_prefix(':') {
        let port: u16 = port
            .parse()
            .map_err(|_| ListenError::BadPort(text.to_owned()))?;
        return Ok(vec![
            SocketAddr::from(([0u16; 8], port)),
            SocketAddr::from(([0u8; 4], port)),
        ]);
    }
    text.parse::<SocketAddr>()
        .map(|a| vec![a])
        .map_err(|source| ListenError::Invalid {
            text: text.to_owned(),
            source,
        })
}

/// Binds a listen address; for `:port` the IPv6 wildcard (which also
/// accepts IPv4 on Linux) is tried first, then IPv4.
pub async fn bind(text: &str) -> Result<TcpListener, ListenError> {
    let mut last = None;
    for address in parse_listen_address(text)? {
        match TcpListener::bind(address).await {
            Ok(l) => return Ok(l),
            Err(source) => last = Some(ListenError::Bind { address, source }),
        }
    }
    Err(last.unwrap_or_else(|| ListenError::NoAddress(text.to_owned())))
}

/// Serves every endpoint on `listener`, unprotected, until `shutdown`
/// completes.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, app, None, shutdown).await
}

/// Serves every endpoint on `listener` behind the web configuration's TLS,
/// basic authentication and headers (none without one) until `shutdown`
/// completes. Changes of the web configuration file apply to the requests
/// and connections after them.
pub async fn serve_with(
    listener: TcpListener,
    app: Arc<App>,
    web: Option<Arc<WebConfig>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut routes = router(app);
    let mut transport = listen::Transport::default();
    if let Some(web) = web {
        let (tls_on, http2) = (web.tls.is_some(), web.http2);
        let live = Arc::new(LiveWebConfig::new(web));
        routes = guard::protect(routes, live.clone());
        let tls: Option<listen::TlsSource> =
            tls_on.then(|| Arc::new(move || live.current().tls.clone()) as listen::TlsSource);
        transport = listen::Transport { tls, http2 };
    }
    listen::serve_router(listener, routes, transport, shutdown).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses() {
        assert_eq!(parse_listen_address(":29339").unwrap().len(), 2);
        assert_eq!(
            parse_listen_address("127.0.0.1:0").unwrap(),
            vec!["127.0.0.1:0".parse::<SocketAddr>().unwrap()]
        );
        assert_eq!(
            parse_listen_address("localhost").unwrap_err().to_string(),
            "invalid listen address \"localhost\": invalid socket address syntax"
        );
        assert_eq!(
            parse_listen_address(":http").unwrap_err().to_string(),
            "invalid listen address \":http\": bad port"
        );
    }

    #[tokio::test]
    async fn an_address_in_use_names_the_socket() {
        let taken = bind("127.0.0.1:0").await.unwrap();
        let address = taken.local_addr().unwrap();
        let err = bind(&address.to_string()).await.unwrap_err();
        assert!(matches!(err, ListenError::Bind { address: a, .. } if a == address));
        assert!(
            err.to_string()
                .starts_with(&format!("cannot listen on {address}: ")),
            "{err}"
        );
    }
}
