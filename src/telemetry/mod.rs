//! The exporter's long-lived self-metrics: build information, upstream
//! request records, configuration reload state and process metrics.

mod process;

use std::sync::atomic::AtomicU64;
use std::time::SystemTime;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::upstream::UpstreamMetrics;

/// The version of this build.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The source revision of this build (`unknown` outside a git checkout).
pub const REVISION: &str = env!("APPLIANCE_EXPORTER_REVISION");

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: String,
    revision: String,
}

/// The registry of long-lived metrics and handles into it.
#[derive(Debug)]
pub struct SelfMetrics {
    /// Everything below, for rendering on `/metrics`.
    pub registry: Registry,
    /// Upstream request counter and histogram.
    pub upstream: UpstreamMetrics,
    reload_ok: Gauge,
    reload_time: Gauge<f64, AtomicU64>,
}

impl Default for SelfMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl SelfMetrics {
    /// Creates and registers every self-metric.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let build = Family::<BuildLabels, Gauge>::default();
        build
            .get_or_create(&BuildLabels {
                version: VERSION.to_owned(),
                revision: REVISION.to_owned(),
            })
            .set(1);
        registry.register(
            "appliance_exporter_build_info",
            "Version and source revision of the running exporter; always 1",
            build,
        );
        let upstream = UpstreamMetrics::register(&mut registry);
        let reload_ok = Gauge::default();
        let reload_time = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "appliance_exporter_config_last_reload_successful",
            "1 if the last configuration load or reload succeeded",
            reload_ok.clone(),
        );
        registry.register(
            "appliance_exporter_config_last_reload_success_timestamp_seconds",
            "When the configuration was last loaded successfully, in seconds since the epoch",
            reload_time.clone(),
        );
        registry.register_collector(Box::new(process::ProcessCollector));
        Self {
            registry,
            upstream,
            reload_ok,
            reload_time,
        }
    }

    /// Records the outcome of a configuration (re)load.
    pub fn record_reload(&self, success: bool) {
        self.reload_ok.set(i64::from(success));
        if success {
            let now = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0);
            self.reload_time.set(now);
        }
    }
}
