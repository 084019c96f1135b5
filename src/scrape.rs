//! One scrape of one target: its collectors run concurrently against one
//! deadline; a collector still running at the deadline is abandoned and
//! reported failed, and what finished is returned. Failures are logged
//! with target, collector, endpoint and reason.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::time::Instant;
use tracing::{debug, warn};

use crate::collectors::{self, CollectError, Context, Shared};
use crate::config::{Auth, Module};
use crate::exposition::{Block, Desc, Samples};
use crate::upstream::{Upstream, UpstreamMetrics};

static COLLECTOR_SUCCESS: Desc = Desc::gauge(
    "appliance_exporter_collector_success",
    "1 if the collector's last run against the target succeeded",
);
static COLLECTOR_DURATION: Desc = Desc::gauge(
    "appliance_exporter_collector_duration_seconds",
    "How long the collector's last run against the target took",
);

/// Everything needed to scrape one target.
#[derive(Debug, Clone)]
pub struct ScrapeTarget {
    /// The `target` label: the static target's name, or the probe URL.
    pub label: String,
    /// Base URL of the appliance.
    pub url: url::Url,
    /// Module in force.
    pub module: Arc<Module>,
    /// Credentials in force.
    pub auth: Arc<Auth>,
    /// The module's HTTP client (connections are reused across scrapes).
    pub client: reqwest::Client,
}

/// The outcome of one collector.
#[derive(Debug, Clone)]
pub struct CollectorOutcome {
    /// Collector name.
    pub name: &'static str,
    /// Failure reason, `None` on success.
    pub error: Option<String>,
    /// Time taken.
    pub duration: Duration,
}

/// The result of scraping one target.
#[derive(Debug)]
pub struct TargetReport {
    /// The series, labelled with the target.
    pub block: Arc<Block>,
    /// Per-collector outcome.
    pub outcomes: Vec<CollectorOutcome>,
    /// Whether the appliance answered and accepted the credentials.
    pub up: bool,
    /// When the scrape finished.
    pub finished: SystemTime,
    /// How long it took.
    pub duration: Duration,
}

impl TargetReport {
    /// Whether every collector succeeded.
    pub fn success(&self) -> bool {
        self.up && self.outcomes.iter().all(|o| o.error.is_none())
    }
}

/// Scrapes `target` within `budget`.
pub async fn scrape_target(
    target: &ScrapeTarget,
    budget: Duration,
    shared: &Shared,
    metrics: Option<UpstreamMetrics>,
) -> TargetReport {
    let started = Instant::now();
    let deadline = started + budget;
    let upstream = Upstream::new(
        target.client.clone(),
        target.url.clone(),
        target.label.clone(),
        deadline,
        target.module.max_response_bytes,
        metrics,
    );
    let ctx = Context {
        target: &target.label,
        module: &target.module,
        auth: &target.auth,
        upstream: &upstream,
        shared,
    };
    let runs = target.module.collectors.iter().map(|&name| {
        let ctx = &ctx;
        async move {
            let t0 = Instant::now();
            let result = tokio::time::timeout_at(deadline, collectors::collect(name, ctx)).await;
            (name, result, t0.elapsed())
        }
    });
    let results = futures::future::join_all(runs).await;

    let mut samples = Samples::new();
    let mut outcomes = Vec::with_capacity(results.len());
    let mut credentials_refused = false;
    let mut per_collector = Samples::new();
    for (name, result, duration) in results {
        let (collected, error) = match result {
            Ok(Ok(collected)) => (collected, None),
            Ok(Err(mut err)) => {
                credentials_refused |= err.is_auth();
                log_failure(&target.label, name, &err);
                // A partly failed collector still emits what worked.
                (err.take_samples(), Some(err.to_string()))
            }
            Err(_elapsed) => {
                let reason = format!(
                    "did not finish within the scrape budget of {}",
                    humantime::format_duration(round_ms(budget))
                );
                warn!(target = %target.label, collector = name, reason = %reason, "collector failed");
                (Samples::new(), Some(reason))
            }
        };
        for w in &collected.warnings {
            warn!(target = %target.label, collector = name, endpoint = w.endpoint, field = %w.field, reason = %w.reason, "value dropped");
        }
        samples.append(collected);
        per_collector.push(&COLLECTOR_SUCCESS, &[("collector", name)], error.is_none());
        per_collector.push(
            &COLLECTOR_DURATION,
            &[("collector", name)],
            duration.as_secs_f64(),
        );
        outcomes.push(CollectorOutcome {
            name,
            error,
            duration,
        });
    }
    let up = upstream.answered() && !credentials_refused;
    let mut block = Samples::new();
    block.push_plain(target.module.kind.up_desc(), up);
    block.append(per_collector);
    block.append(samples);
    block.warnings.clear();
    debug!(target = %target.label, up, seconds = started.elapsed().as_secs_f64(), "scrape finished");
    TargetReport {
        block: Arc::new(Block {
            target: Some(target.label.clone()),
            samples: block,
        }),
        outcomes,
        up,
        finished: SystemTime::now(),
        duration: started.elapsed(),
    }
}

fn log_failure(target: &str, collector: &str, err: &CollectError) {
    let endpoint = err.endpoint().unwrap_or("-");
    warn!(target = %target, collector, endpoint, reason = %err, "collector failed");
}

fn round_ms(d: Duration) -> Duration {
    Duration::from_millis(d.as_millis().try_into().unwrap_or(u64::MAX))
}
