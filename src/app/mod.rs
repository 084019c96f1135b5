//! The running exporter: the configuration in force, the self-metrics and
//! state shared across scrapes, and the scrape of one static or ad-hoc
//! target, or of every static target, within the budget a scrape allows.
//!
//! Each other job has a module of its own: making a configuration ready to
//! serve (`loaded`), reloading it (`reload`), resolving targets
//! (`targets`), sharing collections between scrapes (`collections`),
//! and remembering the last scrape of each target for the landing page
//! (`last_scrape`).

mod collections;
mod last_scrape;
mod loaded;
mod reload;
mod targets;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use tokio::time::Instant;

use crate::appliances::Shared;
use crate::config::Config;
use crate::scrape::{self, ScrapeTarget};
use crate::telemetry::SelfMetrics;

use collections::{CollectionKey, Collections};
use last_scrape::LastScrapes;

pub use collections::Served;
pub use last_scrape::LastScrape;
pub use loaded::{LoadError, Loaded};
pub use targets::ProbeError;

/// Settings from the command line that shape request handling.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The configuration file, re-read on reload.
    pub config_file: PathBuf,
    /// Subtracted from Prometheus' scrape timeout.
    pub timeout_offset: Duration,
    /// Path of the metrics endpoint.
    pub telemetry_path: String,
    /// Whether `POST /-/reload` may reload (`--web.enable-lifecycle`).
    pub enable_lifecycle: bool,
    /// Whether the configuration is the demo's, whose loopback appliances
    /// speak plain HTTP by design (no plain-HTTP warning for those).
    pub demo: bool,
}

/// The exporter.
#[derive(Debug)]
pub struct App {
    /// Command-line settings.
    pub settings: Settings,
    /// The configuration in force, swapped whole by a reload.
    loaded: RwLock<Arc<Loaded>>,
    /// Long-lived self-metrics.
    pub metrics: SelfMetrics,
    /// Collector state kept across scrapes.
    pub shared: Arc<Shared>,
    /// Collections in flight and recent results, shared by scrapes.
    collections: Arc<Collections>,
    /// The last scrape of each static target, for the landing page.
    last: LastScrapes,
    /// Held by the reload in progress, so reloads run one at a time.
    reloading: tokio::sync::Mutex<()>,
}

impl App {
    /// An exporter serving `config`.
    pub fn new(settings: Settings, config: Config) -> Result<Self, LoadError> {
        let loaded = Loaded::new(config)?;
        loaded.announce(settings.demo);
        let metrics = SelfMetrics::new();
        metrics.record_reload(true);
        Ok(Self {
            settings,
            loaded: RwLock::new(Arc::new(loaded)),
            metrics,
            shared: Arc::new(Shared::default()),
            collections: Arc::new(Collections::default()),
            last: LastScrapes::default(),
            reloading: tokio::sync::Mutex::new(()),
        })
    }

    /// The configuration in force.
    pub fn loaded(&self) -> Arc<Loaded> {
        self.loaded
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Scrapes one target within the budget the scrape header allows,
    /// joining a collection of the same target already in flight, or
    /// serving a recent result under the module's `min_interval`.
    pub async fn scrape(
        &self,
        target: &ScrapeTarget,
        scrape_timeout: Option<&str>,
        remember: bool,
    ) -> Served {
        let budget = crate::budget::budget(
            scrape_timeout,
            self.settings.timeout_offset,
            target.module.timeout,
        );
        let key = CollectionKey::of(target);
        let (report, age) = match self.collections.recent(&key) {
            Some(recent) => recent,
            None => {
                let own_deadline = crate::budget::deadline(Instant::now(), budget);
                let metrics = (!target.adhoc).then(|| self.metrics.upstream.clone());
                let (deadline, collection) = self.collections.join_or_start(
                    key,
                    target,
                    own_deadline,
                    &self.shared,
                    metrics,
                );
                // The collection ends by its own deadline. A scraper with a
                // shorter budget leaves in time; the collection goes on for
                // the others.
                let report = if own_deadline >= deadline {
                    collection.await
                } else {
                    tokio::time::timeout_at(own_deadline, collection)
                        .await
                        .unwrap_or_else(|_| Arc::new(scrape::out_of_time(target, budget)))
                };
                (report, Duration::ZERO)
            }
        };
        let served = Served {
            report,
            age,
            min_interval: target.module.min_interval,
        };
        if remember {
            self.last.remember(&target.label, &served.report);
        }
        served
    }

    /// Scrapes every static target concurrently.
    pub async fn scrape_all(&self, scrape_timeout: Option<&str>) -> Vec<Served> {
        let loaded = self.loaded();
        let targets: Vec<ScrapeTarget> = loaded
            .config
            .targets
            .iter()
            .filter_map(|t| self.static_target(&loaded, &t.name))
            .collect();
        futures::future::join_all(targets.iter().map(|t| self.scrape(t, scrape_timeout, true)))
            .await
    }

    /// The last scrape of each static target.
    pub fn last_scrapes(&self) -> BTreeMap<String, LastScrape> {
        self.last.all()
    }
}
