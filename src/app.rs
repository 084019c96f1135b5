//! The running exporter's state: the configuration in force with the
//! connectors of its modules and its budget of upstream work, the
//! self-metrics, state shared across scrapes, the collections
//! in flight, and the last result of each static target. Reloading swaps
//! the configuration atomically; a bad file keeps the old one.
//!
//! Concurrent scrapes of one target share one collection: the first starts
//! it (as a task of its own, so it finishes even if that scraper hangs
//! up), the others wait for the same report. With a module's
//! `min_interval`, a report younger than that is served again instead of
//! asking the appliance.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use futures::FutureExt as _;
use futures::future::{BoxFuture, Shared as SharedFuture};
use tokio::time::Instant;
use tracing::{info, warn};

use crate::appliances::Shared;
use crate::config::{self, Config};
use crate::exposition::{Block, Desc, Samples};
use crate::scrape::{self, ScrapeTarget, TargetReport};
use crate::telemetry::SelfMetrics;
use crate::upstream::{Budget, Connector};

static CACHED_AGE: Desc = Desc::gauge(
    "appliance_exporter_cached_result_age_seconds",
    "Age of the appliance data served for the target; with the module's min_interval a result younger than it is served again instead of asking the appliance (0 when fetched for this scrape)",
);

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

/// A configuration with the connector of each module and the budget of
/// upstream work its limits set.
#[derive(Debug)]
pub struct Loaded {
    /// The configuration.
    pub config: Config,
    /// Connector (TLS prepared) per module name.
    connectors: BTreeMap<String, Arc<Connector>>,
    /// The budget every collection of this configuration shares. A reload
    /// brings a new one; collections still running finish under the old.
    pub budget: Budget,
}

impl Loaded {
    /// Prepares the connector of every module and the budget.
    pub fn new(config: Config) -> Result<Self, String> {
        let mut connectors = BTreeMap::new();
        for (name, module) in &config.modules {
            let connector = Connector::new(module, &config.limits)
                .map_err(|e| format!("{}: modules.{name}.tls: {e}", config.source.display()))?;
            connectors.insert(name.clone(), Arc::new(connector));
        }
        let budget = Budget::new(&config.limits);
        Ok(Self {
            config,
            connectors,
            budget,
        })
    }

    /// What a scrape of a target of `module` needs from the configuration.
    fn scrape_target(
        &self,
        label: String,
        url: url::Url,
        module: &Arc<crate::config::Module>,
        auth: Arc<crate::config::Auth>,
        adhoc: bool,
    ) -> Option<ScrapeTarget> {
        Some(ScrapeTarget {
            label,
            url,
            module: module.clone(),
            auth,
            adhoc,
            connector: self.connectors.get(&module.name)?.clone(),
            budget: self.budget.clone(),
            limits: self.config.limits.clone(),
        })
    }

    fn announce(&self, demo: bool) {
        for w in &self.config.warnings {
            warn!(reason = %w, "configuration warning");
        }
        for t in &self.config.targets {
            let loopback = t.url.host().is_some_and(|h| match h {
                url::Host::Ipv4(ip) => ip.is_loopback(),
                url::Host::Ipv6(ip) => ip.is_loopback(),
                url::Host::Domain(d) => d == "localhost",
            });
            if t.url.scheme() == "http" && !(demo && loopback) {
                warn!(target = %t.name, url = %t.url, "credentials are sent to this target over plain http, readable by anyone on the path; use https");
            }
        }
        for (name, module) in &self.config.modules {
            if module.tls.insecure_skip_verify {
                warn!(module = %name, "tls.insecure_skip_verify is set: appliance certificates are not verified");
            }
        }
    }
}

/// Why a probe request cannot be served: 400 for a request that names
/// nothing usable, 403 for one the module's probe policy refuses.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProbeError {
    /// `target` is missing.
    #[error("the target parameter is missing")]
    MissingTarget,
    /// No static target has that name (and no module was given).
    #[error("no static target is named \"{0}\" (pass module= to probe a URL)")]
    UnknownTarget(String),
    /// The module does not exist.
    #[error("unknown module \"{0}\"")]
    UnknownModule(String),
    /// The auth does not exist.
    #[error("unknown auth \"{0}\"")]
    UnknownAuth(String),
    /// The auth exists but cannot be used with the module's kind.
    #[error("auth \"{0}\" cannot be used with module \"{1}\": {2}")]
    AuthMismatch(String, String, String),
    /// The target URL is not usable.
    #[error("target: {0}")]
    BadUrl(String),
    /// The module has no probe policy, so it takes no ad-hoc targets.
    #[error(
        "module \"{0}\" takes no ad-hoc targets: set modules.{0}.probe.allowed_hosts to allow them"
    )]
    AdhocRefused(String),
    /// The URL's host is not in the module's `probe.allowed_hosts`.
    #[error("host \"{host}\" is not in modules.{module}.probe.allowed_hosts")]
    HostNotAllowed {
        /// The URL's host.
        host: String,
        /// The module.
        module: String,
    },
    /// `&auth=` names an auth the module's `probe.allowed_auths` does not list.
    #[error("auth \"{auth}\" is not in modules.{module}.probe.allowed_auths")]
    AuthNotAllowed {
        /// The auth asked for.
        auth: String,
        /// The module.
        module: String,
    },
}

impl ProbeError {
    /// Whether the probe policy refused the request (403) rather than the
    /// request being malformed (400).
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            ProbeError::AdhocRefused(_)
                | ProbeError::HostNotAllowed { .. }
                | ProbeError::AuthNotAllowed { .. }
        )
    }
}

/// The last scrape of a static target, for the landing page.
#[derive(Debug, Clone)]
pub struct LastScrape {
    /// When it finished.
    pub finished: SystemTime,
    /// How long it took.
    pub duration: Duration,
    /// Whether every collector succeeded and the appliance was up.
    pub success: bool,
    /// Failed collectors and why.
    pub failures: Vec<String>,
}

/// The exporter.
#[derive(Debug)]
pub struct App {
    /// Command-line settings.
    pub settings: Settings,
    loaded: RwLock<Arc<Loaded>>,
    /// Long-lived self-metrics.
    pub metrics: SelfMetrics,
    /// Collector state kept across scrapes.
    pub shared: Arc<Shared>,
    /// Collections in flight and recent results, shared by scrapes.
    collections: Arc<Collections>,
    last: Mutex<BTreeMap<String, LastScrape>>,
    reloading: tokio::sync::Mutex<()>,
}

impl App {
    /// An exporter serving `config`.
    pub fn new(settings: Settings, config: Config) -> Result<Self, String> {
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
            last: Mutex::new(BTreeMap::new()),
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

    /// Re-reads the configuration file; on error the old configuration
    /// stays in force and the error (file, line, field) is returned.
    pub async fn reload(&self) -> Result<(), String> {
        let _one_at_a_time = self.reloading.lock().await;
        let path = self.settings.config_file.clone();
        let result = tokio::task::spawn_blocking(move || {
            let config = Config::load(&path).map_err(|e| e.to_string())?;
            Loaded::new(config)
        })
        .await
        .unwrap_or_else(|e| Err(format!("reload task failed: {e}")));
        match result {
            Ok(loaded) => {
                loaded.announce(self.settings.demo);
                *self.loaded.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(loaded);
                // Results of the old configuration are not served again.
                self.collections.forget_recent();
                self.metrics.record_reload(true);
                info!(file = %self.settings.config_file.display(), "configuration reloaded");
                Ok(())
            }
            Err(reason) => {
                self.metrics.record_reload(false);
                warn!(reason = %reason, "configuration reload failed; keeping the previous configuration");
                Err(reason)
            }
        }
    }

    /// The static target `name`, ready to scrape.
    pub fn static_target(&self, loaded: &Loaded, name: &str) -> Option<ScrapeTarget> {
        let target = loaded.config.target(name)?;
        let module = loaded.config.modules.get(&target.module)?;
        let auth_name = target.auth.as_deref().unwrap_or(&module.auth);
        let auth = loaded.config.auths.get(auth_name)?.clone();
        loaded.scrape_target(target.name.clone(), target.url.clone(), module, auth, false)
    }

    /// An ad-hoc target from `/probe?target=URL&module=M[&auth=A]`, if the
    /// module's probe policy allows its host and auth. Nothing is sent
    /// anywhere before this has said yes.
    pub fn adhoc_target(
        &self,
        loaded: &Loaded,
        url: &str,
        module_name: &str,
        auth_name: Option<&str>,
    ) -> Result<ScrapeTarget, ProbeError> {
        let module = loaded
            .config
            .modules
            .get(module_name)
            .ok_or_else(|| ProbeError::UnknownModule(module_name.to_owned()))?;
        let policy = module
            .probe
            .as_ref()
            .ok_or_else(|| ProbeError::AdhocRefused(module_name.to_owned()))?;
        let parsed = config::check_url(url).map_err(ProbeError::BadUrl)?;
        if !policy.allows_host(&parsed) {
            return Err(ProbeError::HostNotAllowed {
                host: parsed.host_str().unwrap_or_default().to_owned(),
                module: module_name.to_owned(),
            });
        }
        // Refused whether or not such an auth exists, so the answer does
        // not tell which auth names do.
        let auth_name = auth_name.unwrap_or(&module.auth);
        if auth_name != module.auth && !policy.allows_auth(auth_name) {
            return Err(ProbeError::AuthNotAllowed {
                auth: auth_name.to_owned(),
                module: module_name.to_owned(),
            });
        }
        let auth = loaded
            .config
            .auths
            .get(auth_name)
            .ok_or_else(|| ProbeError::UnknownAuth(auth_name.to_owned()))?;
        // Checked when the configuration was loaded; kept as a guard.
        config::auth_fits(module.kind, &auth.credentials).map_err(|why| {
            ProbeError::AuthMismatch(auth_name.to_owned(), module_name.to_owned(), why)
        })?;
        loaded
            .scrape_target(url.to_owned(), parsed, module, auth.clone(), true)
            .ok_or_else(|| ProbeError::UnknownModule(module_name.to_owned()))
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
                let (deadline, collection) = self.join_or_start(key, target, own_deadline);
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
            self.remember(&target.label, &served.report);
        }
        served
    }

    /// The collection of `key` in flight, or a new one ending by
    /// `deadline`; with the deadline of the one returned.
    fn join_or_start(
        &self,
        key: CollectionKey,
        target: &ScrapeTarget,
        deadline: Instant,
    ) -> (Instant, Collection) {
        let mut in_flight = self
            .collections
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
            let shared = self.shared.clone();
            let metrics = (!target.adhoc).then(|| self.metrics.upstream.clone());
            let collections = self.collections.clone();
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

    fn remember(&self, label: &str, report: &TargetReport) {
        let failures = report
            .outcomes
            .iter()
            .filter_map(|o| o.error.as_ref().map(|e| format!("{}: {e}", o.name)))
            .collect();
        self.last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(
                label.to_owned(),
                LastScrape {
                    finished: report.finished,
                    duration: report.duration,
                    success: report.success(),
                    failures,
                },
            );
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
        self.last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

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
struct CollectionKey {
    label: String,
    url: String,
    module: String,
    auth: String,
}

impl CollectionKey {
    fn of(target: &ScrapeTarget) -> Self {
        Self {
            label: target.label.clone(),
            url: target.url.to_string(),
            module: target.module.name.clone(),
            auth: target.auth.name.clone(),
        }
    }
}

/// A collection in flight; every scrape waiting for it holds a clone.
type Collection = SharedFuture<BoxFuture<'static, Arc<TargetReport>>>;

/// Collections in flight, and recent reports kept for `min_interval`.
#[derive(Default)]
struct Collections {
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
    fn recent(&self, key: &CollectionKey) -> Option<(Arc<TargetReport>, Duration)> {
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

    fn forget_recent(&self) {
        self.recent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}
