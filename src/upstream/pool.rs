//! The connections of a target's collections. A reqwest client keeps a
//! pool of idle connections per host for as long as it lives; one client
//! per module kept across scrapes would hold an idle socket to every
//! appliance of a fleet between scrapes (1,000 gateways, 1,000
//! descriptors). So each target gets a client of its own, built when the
//! target is admitted to the budget ([`super::limit`]) from the module's
//! TLS configuration prepared at load. When the collection ends the client
//! is kept for the target's next collection while the process-wide bound
//! on idle connections allows ([`super::retain`]), and dropped, closing its
//! sockets, otherwise. Connections are reused across the requests of one
//! collection (the pages of a session listing, the collectors of a target)
//! and, for a kept client, across the target's scrapes: no connect, no TLS
//! handshake, and hyper's read buffers already grown.
//!
//! A target's client also records the certificate the appliance presents
//! ([`super::presented`]), through a verifier of its own. So it resumes no
//! TLS session of another target's client (rustls resumes only under the
//! same verifier), and it forgets its own sessions when a collection
//! begins ([`super::sessions`]), which is what the record needs: a resumed
//! handshake shows no certificate. A kept client reports the certificate
//! of the connections it reuses; one renewed on the appliance is seen when
//! a connection is next opened, at the latest when the idle ones time out
//! ([`super::IDLE_TIMEOUT`]). Its session cache is its own as well, so no
//! client stores sessions that no other could use.

use std::sync::Arc;

use rustls::client::Resumption;

use super::presented::Recorder;
use super::sessions::CollectionSessions;
use super::tls::{self, TlsError};
use super::verify::ApplianceVerifier;
use crate::config::{Limits, Module};

/// What a collection needs to open its connections to one module's targets.
#[derive(Debug, Clone)]
pub struct Connector {
    /// The module's TLS configuration, built (and its CA file read) once.
    tls: rustls::ClientConfig,
    /// The module's certificate verifier; each client's copy records what
    /// it is shown.
    verifier: ApplianceVerifier,
    /// Idle connections a collection keeps per host: its request cap, so
    /// every connection it opened can be reused.
    max_idle: usize,
}

/// A target's client and the record of the certificates it was shown.
#[derive(Debug)]
pub struct Connection {
    /// The HTTP client, for one collection at a time.
    pub client: reqwest::Client,
    /// The certificates its handshakes presented.
    pub certificates: Recorder,
    /// The TLS sessions it may resume.
    sessions: CollectionSessions,
}

impl Connection {
    /// A collection begins with this client: it resumes no TLS session of
    /// an earlier one, and its handshakes replace the certificates
    /// recorded.
    pub fn begin_collection(&self) {
        self.sessions.forget();
        self.certificates.begin_collection();
    }
}

impl Connector {
    /// Prepares the connections of `module` under `limits`.
    pub fn new(module: &Module, limits: &Limits) -> Result<Self, TlsError> {
        let verifier = tls::verifier(&module.tls)?;
        Ok(Self {
            tls: tls::config_with(Arc::new(verifier.clone()))?,
            verifier,
            max_idle: limits.max_requests_per_target as usize,
        })
    }

    /// A client with an empty pool, no session to resume and an empty
    /// record of certificates, for one target.
    pub fn client(&self) -> Result<Connection, TlsError> {
        let certificates = Recorder::new();
        let mut tls = self.tls.clone();
        tls.dangerous()
            .set_certificate_verifier(Arc::new(self.verifier.recording(certificates.clone())));
        // Sessions are resumed by this target's client only, within one
        // collection.
        let sessions = CollectionSessions::default();
        tls.resumption = Resumption::store(Arc::new(sessions.clone()));
        Ok(Connection {
            client: super::build_client(tls, self.max_idle)?,
            certificates,
            sessions,
        })
    }

    /// A connector that accepts any certificate, keeping `max_idle`
    /// connections per client.
    #[cfg(test)]
    pub(crate) fn accepting_any(max_idle: usize) -> Self {
        let verifier = ApplianceVerifier::accept_any();
        Self {
            tls: tls::config_with(Arc::new(verifier.clone())).unwrap(),
            verifier,
            max_idle,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Collections of an https appliance one after the other, each with
    /// two requests, through the connector of a module that skips
    /// verification: each records the certificate once.
    #[tokio::test]
    async fn every_collection_records_the_certificate_once() {
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params.not_after = rcgen::date_time_ymd(2031, 1, 1);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let router = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
        let appliance = crate::simulator::start_tls(router, &cert.pem(), &key.serialize_pem())
            .await
            .unwrap();
        let connector = Connector::accepting_any(2);
        for collection in 0..3 {
            let Connection {
                client,
                certificates,
                ..
            } = connector.client().unwrap();
            for _ in 0..2 {
                let reply = client.get(appliance.url()).send().await.unwrap();
                assert_eq!(reply.text().await.unwrap(), "ok");
            }
            let seen = certificates.certificates();
            assert_eq!(seen.len(), 1, "collection {collection}: {seen:?}");
            assert_eq!(seen[0].not_after, 1_924_992_000);
        }
    }
}
