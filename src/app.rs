//! The running exporter's state: the configuration in force with its HTTP
//! clients, the self-metrics, state shared across scrapes, and the last
//! result of each static target. Reloading swaps the configuration
//! atomically; a bad file keeps the old one.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use tracing::{info, warn};

use crate::collectors::Shared;
use crate::config::{self, Config};
use crate::scrape::{self, ScrapeTarget, TargetReport};
use crate::telemetry::SelfMetrics;

/// Settings from the command line that shape request handling.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The configuration file, re-read on reload.
    pub config_file: PathBuf,
    /// Subtracted from Prometheus' scrape timeout.
    pub timeout_offset: Duration,
    /// Path of the metrics endpoint.
    pub telemetry_path: String,
}

/// A configuration with the HTTP client of each module.
#[derive(Debug)]
pub struct Loaded {
    /// The configuration.
    pub config: Config,
    /// HTTP client per module name.
    clients: BTreeMap<String, reqwest::Client>,
}

impl Loaded {
    /// Builds the clients of every module.
    pub fn new(config: Config) -> Result<Self, String> {
        let mut clients = BTreeMap::new();
        for (name, module) in &config.modules {
            let client = crate::upstream::build_client(module)
                .map_err(|e| format!("{}: modules.{name}.tls: {e}", config.source.display()))?;
            clients.insert(name.clone(), client);
        }
        Ok(Self { config, clients })
    }

    fn announce(&self) {
        for w in &self.config.warnings {
            warn!(reason = %w, "configuration warning");
        }
        for (name, module) in &self.config.modules {
            if module.tls.insecure_skip_verify {
                warn!(module = %name, "tls.insecure_skip_verify is set: appliance certificates are not verified");
            }
        }
    }
}

/// Why a probe request cannot be served (answered with 400).
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
    pub shared: Shared,
    last: Mutex<BTreeMap<String, LastScrape>>,
    reloading: tokio::sync::Mutex<()>,
}

impl App {
    /// An exporter serving `config`.
    pub fn new(settings: Settings, config: Config) -> Result<Self, String> {
        let loaded = Loaded::new(config)?;
        loaded.announce();
        let metrics = SelfMetrics::new();
        metrics.record_reload(true);
        Ok(Self {
            settings,
            loaded: RwLock::new(Arc::new(loaded)),
            metrics,
            shared: Shared::default(),
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
                loaded.announce();
                *self.loaded.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(loaded);
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
        Some(ScrapeTarget {
            label: target.name.clone(),
            url: target.url.clone(),
            module: module.clone(),
            auth: loaded.config.auths.get(auth_name)?.clone(),
            client: loaded.clients.get(&target.module)?.clone(),
        })
    }

    /// An ad-hoc target from `/probe?target=URL&module=M[&auth=A]`.
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
        let auth_name = auth_name.unwrap_or(&module.auth);
        let auth = loaded
            .config
            .auths
            .get(auth_name)
            .ok_or_else(|| ProbeError::UnknownAuth(auth_name.to_owned()))?;
        config::auth_fits(module.kind, &auth.credentials).map_err(|why| {
            ProbeError::AuthMismatch(auth_name.to_owned(), module_name.to_owned(), why)
        })?;
        let parsed = config::check_url(url).map_err(ProbeError::BadUrl)?;
        let client = loaded
            .clients
            .get(module_name)
            .ok_or_else(|| ProbeError::UnknownModule(module_name.to_owned()))?;
        Ok(ScrapeTarget {
            label: url.to_owned(),
            url: parsed,
            module: module.clone(),
            auth: auth.clone(),
            client: client.clone(),
        })
    }

    /// Scrapes one target within the budget the scrape header allows.
    pub async fn scrape(
        &self,
        target: &ScrapeTarget,
        scrape_timeout: Option<&str>,
        remember: bool,
    ) -> TargetReport {
        let budget = crate::budget::budget(
            scrape_timeout,
            self.settings.timeout_offset,
            target.module.timeout,
        );
        let report = scrape::scrape_target(
            target,
            budget,
            &self.shared,
            Some(self.metrics.upstream.clone()),
        )
        .await;
        if remember {
            let failures = report
                .outcomes
                .iter()
                .filter_map(|o| o.error.as_ref().map(|e| format!("{}: {e}", o.name)))
                .collect();
            self.last
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(
                    target.label.clone(),
                    LastScrape {
                        finished: report.finished,
                        duration: report.duration,
                        success: report.success(),
                        failures,
                    },
                );
        }
        report
    }

    /// Scrapes every static target concurrently.
    pub async fn scrape_all(&self, scrape_timeout: Option<&str>) -> Vec<TargetReport> {
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
