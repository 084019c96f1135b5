//! One scrape of one target: it waits for its place in the process'
//! budget, then its collectors run concurrently against one deadline; a
//! collector still running at the deadline is abandoned and reported
//! failed, and what finished is returned. Failures are logged with target,
//! collector, endpoint and reason; a collector's series and warning lines
//! are capped by the limits (a cut is said in one log line, not as a
//! series, so the exposition of a healthy fleet does not grow with it).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::time::Instant;
use tracing::{debug, warn};

use crate::appliances::{self, Shared};
use crate::collector::{CollectError, Context};
use crate::config::{Auth, Limits, Module};
use crate::exposition::{Block, Desc, Samples};
use crate::upstream::presented;
use crate::upstream::{Budget, Connector, Retained, Upstream, UpstreamError, UpstreamMetrics};

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
    /// How the target's client opens its connections.
    pub connector: Arc<Connector>,
    /// The clients kept between scrapes, where the target's next
    /// collection finds its own.
    pub retained: Retained,
    /// The process' budget of upstream work.
    pub budget: Budget,
    /// The limits in force.
    pub limits: Arc<Limits>,
    /// Whether it is an ad-hoc `/probe?target=URL` target, whose requests
    /// stay out of the long-lived upstream series (their URLs are unbounded).
    pub adhoc: bool,
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
    let deadline = crate::budget::deadline(started, budget);
    let Ok(place) = tokio::time::timeout_at(deadline, target.budget.admit()).await else {
        warn!(target = %target.label, "no place in the upstream budget (limits.max_targets_in_flight) within the scrape budget");
        return out_of_time(target, budget);
    };
    // The other targets of the scrape take their places before this one
    // sends: the share of the requests it keeps to ([`crate::upstream::limit`])
    // is then that of every target being collected, not of the few admitted
    // first, which would open connections up to their cap (each with its
    // read buffers) for a listing that asks for several pages at once.
    tokio::task::yield_now().await;
    // The client kept from the target's last collection, with its open
    // connections, or a new one.
    let targets = target.budget.targets_in_flight();
    let kept = target
        .retained
        .take(&target.connector, &target.url, targets);
    let connection = match kept.map_or_else(|| target.connector.client(), Ok) {
        Ok(connection) => connection,
        Err(e) => return cannot_connect(target, budget, &e.to_string()),
    };
    connection.begin_collection();
    let upstream = Upstream::new(
        connection.client.clone(),
        target.url.clone(),
        target.label.clone(),
        deadline,
        target.module.max_response_bytes,
        metrics,
        place,
    );
    let ctx = Context {
        target: &target.label,
        module: &target.module,
        auth: &target.auth,
        upstream: &upstream,
        options: &(),
        state: &(),
        limits: &target.limits,
    };
    let runs = target.module.collectors.iter().map(|&name| {
        let ctx = &ctx;
        async move {
            let t0 = Instant::now();
            let result =
                tokio::time::timeout_at(deadline, appliances::collect(name, ctx, shared)).await;
            (name, result, t0.elapsed())
        }
    });
    let results = futures::future::join_all(runs).await;
    let runs = results
        .into_iter()
        .map(|(name, result, duration)| (name, result.ok(), duration))
        .collect();
    let answered = upstream.answered();
    let presented = presented::encode(&connection.certificates.reported(answered));
    // The target's place goes back to the budget before its client is kept.
    drop(upstream);
    let targets = target.budget.targets_in_flight();
    target
        .retained
        .keep(&target.connector, &target.url, connection, targets);
    let report = assemble(target, budget, runs, presented, answered, true);
    debug!(target = %target.label, up = report.up, seconds = started.elapsed().as_secs_f64(), "scrape finished");
    TargetReport {
        duration: started.elapsed(),
        ..report
    }
}

/// The report of a scrape that could not wait for the collection of its
/// target already in flight (its own budget was shorter): every collector
/// is reported failed for lack of time. Nothing is logged: the collection
/// itself logs what went wrong.
pub fn out_of_time(target: &ScrapeTarget, budget: Duration) -> TargetReport {
    let runs = target
        .module
        .collectors
        .iter()
        .map(|&name| (name, None, budget))
        .collect();
    assemble(target, budget, runs, Samples::new(), false, false)
}

/// The report of a collection whose HTTP client could not be built.
fn cannot_connect(target: &ScrapeTarget, budget: Duration, reason: &str) -> TargetReport {
    let runs = target
        .module
        .collectors
        .iter()
        .map(|&name| {
            let err = CollectError::Upstream(UpstreamError::Transport {
                endpoint: "(client)",
                reason: reason.to_owned(),
            });
            (name, Some(Err(err)), Duration::ZERO)
        })
        .collect();
    assemble(target, budget, runs, Samples::new(), false, true)
}

/// How each collector ended (`None`: still running at the deadline).
type Runs = Vec<(
    &'static str,
    Option<Result<Samples, CollectError>>,
    Duration,
)>;

/// Turns the collectors' outcomes and the certificates the appliance
/// presented into the target's report, logging each failure when `log` is
/// set.
fn assemble(
    target: &ScrapeTarget,
    budget: Duration,
    runs: Runs,
    presented: Samples,
    answered: bool,
    log: bool,
) -> TargetReport {
    let mut samples = Samples::new();
    let mut outcomes = Vec::with_capacity(runs.len());
    let mut credentials_refused = false;
    let mut per_collector = Samples::new();
    let mut longest = Duration::ZERO;
    for (name, result, duration) in runs {
        longest = longest.max(duration);
        let (mut collected, error) = match result {
            Some(Ok(collected)) => (collected, None),
            Some(Err(mut err)) => {
                credentials_refused |= err.is_auth();
                if log {
                    log_failure(&target.label, name, &err);
                }
                // A partly failed collector still emits what worked.
                (err.take_samples(), Some(err.to_string()))
            }
            None => {
                let reason = format!(
                    "did not finish within the scrape budget of {}",
                    humantime::format_duration(round_ms(budget))
                );
                if log {
                    warn!(target = %target.label, collector = name, reason = %reason, "collector failed");
                }
                (Samples::new(), Some(reason))
            }
        };
        if log {
            log_warnings(&target.label, name, &collected, &target.limits);
        }
        let dropped = cap_series(&mut collected, &target.limits);
        if dropped > 0 && log {
            warn!(target = %target.label, collector = name, dropped, limit = target.limits.max_series_per_collector, "series beyond limits.max_series_per_collector dropped");
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
    let up = answered && !credentials_refused;
    let mut block = Samples::new();
    block.push_plain(appliances::up_desc(target.module.kind), up);
    block.append(per_collector);
    block.append(presented);
    block.append(samples);
    block.warnings.clear();
    TargetReport {
        block: Arc::new(Block {
            target: Some(target.label.clone()),
            samples: block,
        }),
        outcomes,
        up,
        finished: SystemTime::now(),
        duration: longest,
    }
}

/// Logs the values a collector dropped: at most
/// `max_warnings_per_collector` lines, then one line with the count of the
/// rest.
fn log_warnings(target: &str, collector: &str, collected: &Samples, limits: &Limits) {
    let shown = limits.max_warnings_per_collector as usize;
    for w in collected.warnings.iter().take(shown) {
        warn!(target = %target, collector, endpoint = w.endpoint, field = %w.field, reason = %w.reason, "value dropped");
    }
    let more = collected.warnings.len().saturating_sub(shown);
    if more > 0 {
        warn!(target = %target, collector, more, limit = shown, "more values dropped than limits.max_warnings_per_collector lets log");
    }
}

/// Keeps the first `max_series_per_collector` series; how many were dropped.
fn cap_series(collected: &mut Samples, limits: &Limits) -> usize {
    let keep = limits.max_series_per_collector as usize;
    let dropped = collected.series.len().saturating_sub(keep);
    collected.series.truncate(keep);
    dropped
}

fn log_failure(target: &str, collector: &str, err: &CollectError) {
    let endpoint = err.endpoint().unwrap_or("-");
    warn!(target = %target, collector, endpoint, reason = %err, "collector failed");
}

fn round_ms(d: Duration) -> Duration {
    Duration::from_millis(d.as_millis().try_into().unwrap_or(u64::MAX))
}
