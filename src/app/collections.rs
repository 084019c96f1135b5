//! The collections shared by scrapes: concurrent scrapes of one target
//! share one collection, and with a module's `min_interval` a report
//! younger than that is served again instead of asking the appliance.
//!
//! The first scrape starts the collection as a task of its own, so it
//! finishes even if that scraper hangs up; the others wait for the same
//! report, each only as long as its own budget allows.
//!
//! This stays apart from the other caches of the exporter (the web
//! configuration's bcrypt outcomes, the Connect Secure API keys): it joins
//! work in flight by deadline, keeps each report for its module's own
//! interval, tells the age of what it serves, and is emptied on reload.
//! A general cache (`moka`) would cover the interval but not the joining by
//! deadline nor the age, and would add a dependency tree to the build for
//! the two maps below.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use futures::FutureExt as _;
use futures::future::{BoxFuture, Shared as SharedFuture};
use tokio::time::Instant;

use crate::appliances::Shared;
use crate::exposition::{Block, Desc, Samples};
use crate::scrape::{self, ScrapeTarget, TargetReport};
use crate::upstream::UpstreamMetrics;

static CACHED_AGE: Desc = Desc::gauge(
    "appliance_exporter_cached_result_age_seconds",
    "Age of the appliance data served for the target; with the module's min_interval a result younger than it is served again instead of asking the appliance (0 when fetched for this scrape)",
);

/// A target's report as served to one scrape.
#[derive(Debug, Clone)]
pub struct Served {
    /// The report, shared by every scrape that waited for it.
    pub report: Arc<TargetReport>,
    /// How old its data is (zero unless served again under `min_interval`).
    pub age: Duration,
    /// The module's `min_interval`, when it has one.
    pub min_interval: Option<Duration>,
}

impl Served {
    /// The blocks to render: the report's, and the age of its data for
    /// modules with a `min_interval`.
    pub fn blocks(&self) -> Vec<Arc<Block>> {
        let mut blocks = vec![self.report.block.clone()];
        if self.min_interval.is_some() {
            let mut samples = Samples::new();
            samples.push_plain(&CACHED_AGE, self.age.as_secs_f64());
            blocks.push(Arc::new(Block {
                target: self.report.block.target.clone(),
                samples,
            }));
        }
        blocks
    }
}

/// What makes two scrapes ask the same thing of the same appliance.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct CollectionKey {
    label: String,
    url: String,
    module: String,
    auth: String,
}

impl CollectionKey {
    /// The key of a scrape of `target`.
    pub(super) fn of(target: &ScrapeTarget) -> Self {
        Self {
            label: target.label.clone(),
            url: target.url.to_string(),
            module: target.module.name.clone(),
            auth: target.auth.name.clone(),
        }
    }
}

/// A collection in flight; every scrape waiting for it holds a clone.
pub(super) type Collection = SharedFuture<BoxFuture<'static, Arc<TargetReport>>>;

/// Collections in flight, and recent reports kept for `min_interval`.
#[derive(Default)]
pub(super) struct Collections {
    /// Each with the deadline it ends by.
    in_flight: Mutex<HashMap<CollectionKey, (Instant, Collection)>>,
    /// Report and until when it may be served again.
    recent: Mutex<HashMap<CollectionKey, (Arc<TargetReport>, Instant)>>,
}

impl std::fmt::Debug for Collections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collections")
            .field("in_flight", &self.in_flight.lock().map_or(0, |m| m.len()))
            .field("recent", &self.recent.lock().map_or(0, |m| m.len()))
            .finish()
    }
}

impl Collections {
    /// A report still young enough to serve again, and its age.
    pub(super) fn recent(&self, key: &CollectionKey) -> Option<(Arc<TargetReport>, Duration)> {
        let recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        let (report, until) = recent.get(key)?;
        if Instant::now() >= *until {
            return None;
        }
        let age = SystemTime::now()
            .duration_since(report.finished)
            .unwrap_or_default();
        Some((report.clone(), age))
    }

    /// The collection of `key` in flight, or a new one of `target` ending
    /// by `deadline`; with the deadline of the one returned.
    pub(super) fn join_or_start(
        self: &Arc<Self>,
        key: CollectionKey,
        target: &ScrapeTarget,
        deadline: Instant,
        shared: &Arc<Shared>,
        metrics: Option<UpstreamMetrics>,
    ) -> (Instant, Collection) {
        let mut in_flight = self
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // A finished collection still listed (its task died) is replaced.
        if let Some((ends, c)) = in_flight.get(&key)
            && c.peek().is_none()
        {
            return (*ends, c.clone());
        }
        let budget = deadline.saturating_duration_since(Instant::now());
        let task = {
            let (target, key) = (target.clone(), key.clone());
            let shared = shared.clone();
            let collections = self.clone();
            tokio::spawn(async move {
                let report =
                    Arc::new(scrape::scrape_target(&target, budget, &shared, metrics).await);
                collections.finished(&key, &report, target.module.min_interval);
                report
            })
        };
        let fallback = target.clone();
        let collection = async move {
            task.await
                .unwrap_or_else(|_| Arc::new(scrape::out_of_time(&fallback, budget)))
        }
        .boxed()
        .shared();
        in_flight.insert(key, (deadline, collection.clone()));
        (deadline, collection)
    }

    /// Called by a collection when it ends: no longer in flight, and kept
    /// for `min_interval`. Expired reports are dropped here, so the map
    /// holds only targets scraped within their interval.
    fn finished(
        &self,
        key: &CollectionKey,
        report: &Arc<TargetReport>,
        min_interval: Option<Duration>,
    ) {
        if let Some(interval) = min_interval {
            let now = Instant::now();
            let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
            recent.retain(|_, (_, until)| *until > now);
            recent.insert(
                key.clone(),
                (report.clone(), crate::budget::later(now, interval)),
            );
        }
        self.in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
    }

    /// Drops every kept report, so none of an old configuration is served
    /// again.
    pub(super) fn forget_recent(&self) {
        self.recent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}
