//! The clients kept between scrapes. When a collection of a target ends,
//! its client (with its idle connections and its record of certificates)
//! may be kept for the target's next collection, which then sends its
//! requests on the open connections: no connect, no TLS handshake, and
//! hyper's read buffers already grown.
//!
//! The store is bounded for the whole configuration in force: at most
//! `limits.max_idle_connections` idle sockets (one client's pool at least),
//! a client counting as the `max_requests_per_target` connections its pool
//! may hold ([`crate::config::Limits::max_kept_clients`]). When it is full, the
//! client of the collection that ends is dropped and its sockets closed, so
//! a fleet of any size holds no more descriptors than the limits say.
//!
//! Kept clients serve a set of targets collected a few at a time: when
//! more targets are being collected at once than the store holds clients
//! (a fleet's scrape), the store is emptied and nothing is kept for the
//! idle timeout that follows (so not the last targets of that scrape
//! either, whose clients would sit through the next one). Its clients
//! could not all be reused, and their idle connections' read buffers (some
//! 0.7 MiB a client in a fleet) would only add to the peak memory of the
//! scrape: 8 clients kept through a scrape of 200 gateways took it from 46
//! to 52 MiB.
//!
//! A client is kept for one target of one connector: the key is the
//! module's [`Connector`] (a reload builds new ones, and the store of the
//! old configuration goes with it) and the target's base URL. A collection
//! takes the client out of the store, so two collections never share one;
//! a client kept longer than the idle timeout has no connection left and
//! is dropped when found.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use super::IDLE_TIMEOUT;
use super::pool::{Connection, Connector};
use crate::config::Limits;

/// The clients kept for the targets' next collections; clones share them.
#[derive(Debug, Clone)]
pub struct Retained {
    store: Arc<Mutex<Store>>,
}

#[derive(Debug)]
struct Store {
    /// The most clients kept at once.
    capacity: usize,
    /// Kept clients by connector (its address, held alive by the entry)
    /// and base URL.
    kept: HashMap<(usize, String), Kept>,
    /// When more targets than `capacity` were last seen being collected
    /// at once.
    fleet_seen: Option<Instant>,
}

#[derive(Debug)]
struct Kept {
    /// Holds the connector alive, so its address names no other.
    _connector: Arc<Connector>,
    /// The client and its record of certificates.
    connection: Connection,
    /// When its collection ended.
    since: Instant,
}

impl Store {
    /// Notes that `targets` are being collected at once at `now`; whether a
    /// fleet (more targets than the store holds clients) is being
    /// collected, or was within the idle timeout.
    fn in_fleet(&mut self, targets: usize, now: Instant) -> bool {
        if targets > self.capacity {
            self.fleet_seen = Some(now);
        }
        self.fleet_seen
            .is_some_and(|seen| now.saturating_duration_since(seen) < IDLE_TIMEOUT)
    }
}

fn key(connector: &Arc<Connector>, base: &url::Url) -> (usize, String) {
    (Arc::as_ptr(connector) as usize, base.as_str().to_owned())
}

impl Retained {
    /// An empty store bounded by `limits`.
    pub fn new(limits: &Limits) -> Self {
        Self {
            store: Arc::new(Mutex::new(Store {
                capacity: limits.max_kept_clients(),
                kept: HashMap::new(),
                fleet_seen: None,
            })),
        }
    }

    /// The client kept for `base` under `connector`, removed from the
    /// store; `None` when there is none or it outlived its connections.
    /// With more than the store's clients among the `targets` being
    /// collected, the store is emptied instead.
    pub fn take(
        &self,
        connector: &Arc<Connector>,
        base: &url::Url,
        targets: usize,
    ) -> Option<Connection> {
        self.take_at(connector, base, targets, Instant::now())
    }

    /// Keeps `connection` for the next collection of `base` under
    /// `connector`, unless the store is full or a fleet was seen (more
    /// than its clients among the `targets` being collected, now or within
    /// the idle timeout): it is then dropped and its sockets closed.
    pub fn keep(
        &self,
        connector: &Arc<Connector>,
        base: &url::Url,
        connection: Connection,
        targets: usize,
    ) {
        self.keep_at(connector, base, connection, targets, Instant::now());
    }

    /// Clients kept now.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lock().kept.len()
    }

    /// Whether no client is kept.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Store> {
        // A panic elsewhere while holding the lock leaves a usable map.
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn take_at(
        &self,
        connector: &Arc<Connector>,
        base: &url::Url,
        targets: usize,
        now: Instant,
    ) -> Option<Connection> {
        let mut store = self.lock();
        if store.in_fleet(targets, now) {
            let dropped = std::mem::take(&mut store.kept);
            // Dropped after the lock is released: dropping closes sockets.
            drop(store);
            drop(dropped);
            return None;
        }
        let kept = store.kept.remove(&key(connector, base));
        // A stale one is dropped after the lock is released.
        drop(store);
        let kept = kept?;
        let fresh = now.saturating_duration_since(kept.since) < IDLE_TIMEOUT;
        fresh.then_some(kept.connection)
    }

    fn keep_at(
        &self,
        connector: &Arc<Connector>,
        base: &url::Url,
        connection: Connection,
        targets: usize,
        now: Instant,
    ) {
        let mut store = self.lock();
        let fleet = store.in_fleet(targets, now);
        let mut dropped: Vec<Kept> = store
            .kept
            .extract_if(|_, k| now.saturating_duration_since(k.since) >= IDLE_TIMEOUT)
            .map(|(_, k)| k)
            .collect();
        let refused = if !fleet && store.kept.len() < store.capacity {
            let kept = Kept {
                _connector: connector.clone(),
                connection,
                since: now,
            };
            dropped.extend(store.kept.insert(key(connector, base), kept));
            None
        } else {
            Some(connection)
        };
        // Dropped after the lock is released: dropping closes sockets.
        drop(store);
        drop((dropped, refused));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(idle: u32, per_target: u32) -> Limits {
        Limits {
            max_idle_connections: idle,
            max_requests_per_target: per_target,
            ..Limits::default()
        }
    }

    fn url(i: usize) -> url::Url {
        url::Url::parse(&format!("https://vpn-{i}.example")).unwrap()
    }

    #[test]
    fn a_kept_client_is_taken_once_by_its_own_target() {
        let connector = Arc::new(Connector::accepting_any(2));
        let retained = Retained::new(&limits(4, 2));
        let connection = connector.client().unwrap();
        let record = connection.certificates.clone();
        retained.keep(&connector, &url(1), connection, 1);
        assert!(retained.take(&connector, &url(2), 1).is_none());
        let taken = retained.take(&connector, &url(1), 1).unwrap();
        assert!(taken.certificates.is(&record));
        assert!(retained.take(&connector, &url(1), 1).is_none());
        assert!(retained.is_empty());
    }

    #[test]
    fn at_most_the_idle_connections_over_the_requests_per_target_are_kept() {
        let connector = Arc::new(Connector::accepting_any(4));
        // 10 idle connections at 4 per client: 2 clients.
        let retained = Retained::new(&limits(10, 4));
        for i in 0..6 {
            retained.keep(&connector, &url(i), connector.client().unwrap(), 1);
            assert!(retained.len() <= 2, "after {i}: {}", retained.len());
        }
        assert_eq!(retained.len(), 2);
        assert!(retained.take(&connector, &url(0), 1).is_some());
        assert!(retained.take(&connector, &url(1), 1).is_some());
        assert!(retained.take(&connector, &url(2), 1).is_none());
        // A place taken is a place free for the next that ends.
        retained.keep(&connector, &url(5), connector.client().unwrap(), 1);
        assert!(retained.take(&connector, &url(5), 1).is_some());
    }

    #[test]
    fn with_no_idle_connections_nothing_is_kept() {
        let connector = Arc::new(Connector::accepting_any(8));
        let retained = Retained::new(&limits(0, 8));
        retained.keep(&connector, &url(0), connector.client().unwrap(), 1);
        assert!(retained.is_empty());
        assert!(retained.take(&connector, &url(0), 1).is_none());
        // Fewer idle connections than one client's pool still keep one.
        let one = Retained::new(&limits(3, 8));
        one.keep(&connector, &url(0), connector.client().unwrap(), 1);
        one.keep(&connector, &url(1), connector.client().unwrap(), 1);
        assert_eq!(one.len(), 1);
    }

    #[test]
    fn another_connector_of_the_same_target_does_not_take_the_client() {
        let old = Arc::new(Connector::accepting_any(2));
        let reloaded = Arc::new(Connector::accepting_any(2));
        let retained = Retained::new(&limits(64, 2));
        retained.keep(&old, &url(0), old.client().unwrap(), 1);
        assert!(retained.take(&reloaded, &url(0), 1).is_none());
        assert!(retained.take(&old, &url(0), 1).is_some());
    }

    #[test]
    fn a_fleet_empties_the_store_and_keeps_nothing_for_the_idle_timeout() {
        let connector = Arc::new(Connector::accepting_any(2));
        // 4 idle connections at 2 per client: 2 clients.
        let retained = Retained::new(&limits(4, 2));
        let start = Instant::now();
        let client = || connector.client().unwrap();
        retained.keep_at(&connector, &url(0), client(), 2, start);
        retained.keep_at(&connector, &url(1), client(), 1, start);
        assert_eq!(retained.len(), 2);
        // Three targets being collected: more than the store holds.
        assert!(retained.take_at(&connector, &url(1), 3, start).is_none());
        assert!(retained.is_empty());
        // Nothing is kept, even as the fleet's last targets end.
        retained.keep_at(&connector, &url(1), client(), 3, start);
        retained.keep_at(&connector, &url(2), client(), 1, start);
        let soon = start + IDLE_TIMEOUT / 2;
        retained.keep_at(&connector, &url(2), client(), 1, soon);
        assert!(retained.is_empty());
        // An idle timeout after the fleet was last seen, a few targets at
        // once keep their clients again.
        let later = start + IDLE_TIMEOUT;
        retained.keep_at(&connector, &url(1), client(), 2, later);
        assert!(retained.take_at(&connector, &url(1), 2, later).is_some());
    }

    #[test]
    fn a_client_kept_past_the_idle_timeout_is_dropped() {
        let connector = Arc::new(Connector::accepting_any(2));
        let retained = Retained::new(&limits(2, 2));
        let start = Instant::now();
        let first = connector.client().unwrap();
        retained.keep_at(&connector, &url(0), first, 1, start);
        let later = start + IDLE_TIMEOUT;
        assert!(retained.take_at(&connector, &url(0), 1, later).is_none());
        // A stale client does not hold the only place either.
        retained.keep_at(&connector, &url(1), connector.client().unwrap(), 1, start);
        let second = connector.client().unwrap();
        let record = second.certificates.clone();
        retained.keep_at(&connector, &url(2), second, 1, later);
        assert_eq!(retained.len(), 1);
        let taken = retained.take_at(&connector, &url(2), 1, later).unwrap();
        assert!(taken.certificates.is(&record));
    }
}
