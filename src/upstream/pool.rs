//! The connections of one collection. A reqwest client keeps a pool of
//! idle connections per host for as long as it lives; one client per module
//! kept across scrapes would hold an idle socket to every appliance of a
//! fleet between scrapes (1,000 gateways, 1,000 descriptors). So each
//! collection of a target gets a client of its own, built when the target
//! is admitted to the budget ([`super::limit`]) from the module's TLS
//! configuration prepared at load, and dropped, closing its sockets, when
//! the collection ends. Connections are still reused across the requests of
//! one collection (the pages of a session listing, the collectors of a
//! target), where the reuse matters.

use super::tls::{self, TlsError};
use crate::config::{Limits, Module};

/// What a collection needs to open its connections to one module's targets.
#[derive(Debug, Clone)]
pub struct Connector {
    /// The module's TLS configuration, built (and its CA file read) once.
    tls: rustls::ClientConfig,
    /// Idle connections a collection keeps per host: its request cap, so
    /// every connection it opened can be reused.
    max_idle: usize,
}

impl Connector {
    /// Prepares the connections of `module` under `limits`.
    pub fn new(module: &Module, limits: &Limits) -> Result<Self, TlsError> {
        Ok(Self {
            tls: tls::client_config(&module.tls)?,
            max_idle: limits.max_requests_per_target as usize,
        })
    }

    /// A client with an empty pool, for one collection.
    pub fn client(&self) -> Result<reqwest::Client, TlsError> {
        super::build_client(self.tls.clone(), self.max_idle)
    }
}
