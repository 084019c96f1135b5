//! The TLS sessions a target's client may resume: those of the collection
//! in progress only. A resumed handshake presents no certificate, so a
//! session kept from an earlier scrape could hide one renewed on the
//! appliance from the record ([`super::presented`]) for as long as the
//! appliance honours it. Forgotten when a collection begins, sessions still
//! save the full handshakes of the connections a collection opens side by
//! side after its first, as they did when each collection had its own
//! client.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use rustls::NamedGroup;
use rustls::client::{
    ClientSessionMemoryCache, ClientSessionStore, Tls12ClientSessionValue, Tls13ClientSessionValue,
};
use rustls::pki_types::ServerName;

/// Sessions a collection talks to one host with: one per server name.
const SESSIONS: usize = 1;

/// A session cache emptied by [`CollectionSessions::forget`]; clones share
/// it.
#[derive(Clone)]
pub struct CollectionSessions {
    cache: Arc<Mutex<Arc<ClientSessionMemoryCache>>>,
}

impl fmt::Debug for CollectionSessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CollectionSessions")
    }
}

impl Default for CollectionSessions {
    fn default() -> Self {
        Self {
            cache: Arc::new(Mutex::new(Self::empty())),
        }
    }
}

impl CollectionSessions {
    fn empty() -> Arc<ClientSessionMemoryCache> {
        Arc::new(ClientSessionMemoryCache::new(SESSIONS))
    }

    /// Forgets every session: a collection begins.
    pub fn forget(&self) {
        *self.lock() = Self::empty();
    }

    /// The cache in use now.
    fn current(&self) -> Arc<ClientSessionMemoryCache> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Arc<ClientSessionMemoryCache>> {
        // A panic elsewhere while holding the lock leaves a usable cache.
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl ClientSessionStore for CollectionSessions {
    fn set_kx_hint(&self, server_name: ServerName<'static>, group: NamedGroup) {
        self.current().set_kx_hint(server_name, group);
    }

    fn kx_hint(&self, server_name: &ServerName<'_>) -> Option<NamedGroup> {
        self.current().kx_hint(server_name)
    }

    fn set_tls12_session(&self, server_name: ServerName<'static>, value: Tls12ClientSessionValue) {
        self.current().set_tls12_session(server_name, value);
    }

    fn tls12_session(&self, server_name: &ServerName<'_>) -> Option<Tls12ClientSessionValue> {
        self.current().tls12_session(server_name)
    }

    fn remove_tls12_session(&self, server_name: &ServerName<'static>) {
        self.current().remove_tls12_session(server_name);
    }

    fn insert_tls13_ticket(
        &self,
        server_name: ServerName<'static>,
        value: Tls13ClientSessionValue,
    ) {
        self.current().insert_tls13_ticket(server_name, value);
    }

    fn take_tls13_ticket(
        &self,
        server_name: &ServerName<'static>,
    ) -> Option<Tls13ClientSessionValue> {
        self.current().take_tls13_ticket(server_name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_collection_stored_is_forgotten_when_the_next_begins() {
        let sessions = CollectionSessions::default();
        let name = ServerName::try_from("vpn.example").unwrap();
        let shared = sessions.clone();
        shared.set_kx_hint(name.clone(), NamedGroup::X25519);
        assert_eq!(sessions.kx_hint(&name), Some(NamedGroup::X25519));
        sessions.forget();
        assert_eq!(shared.kx_hint(&name), None);
        shared.set_kx_hint(name.clone(), NamedGroup::secp256r1);
        assert_eq!(sessions.kx_hint(&name), Some(NamedGroup::secp256r1));
    }
}
