//! The exporter's own record of upstream requests: a counter by status
//! code and a latency histogram, both kept across scrapes.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Labels of the request counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The target label.
    pub target: String,
    /// The endpoint path (no query).
    pub endpoint: String,
    /// HTTP status, or `error` / `timeout`.
    pub code: String,
}

/// Labels of the duration histogram.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DurationLabels {
    /// The target label.
    pub target: String,
    /// The endpoint path (no query).
    pub endpoint: String,
}

type HistogramFamily = Family<DurationLabels, Histogram, fn() -> Histogram>;

/// Handles to the two upstream families; cheap to clone.
#[derive(Clone, Debug)]
pub struct UpstreamMetrics {
    requests: Family<RequestLabels, Counter>,
    duration: HistogramFamily,
}

fn new_histogram() -> Histogram {
    Histogram::new([
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    ])
}

impl UpstreamMetrics {
    /// Creates the families and registers them in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let requests = Family::<RequestLabels, Counter>::default();
        let duration: HistogramFamily = Family::new_with_constructor(new_histogram);
        registry.register(
            "appliance_exporter_upstream_requests",
            "Requests made to appliances, by target, endpoint and HTTP status (or error / timeout)",
            requests.clone(),
        );
        registry.register(
            "appliance_exporter_upstream_request_duration_seconds",
            "Latency of requests made to appliances, by target and endpoint",
            duration.clone(),
        );
        Self { requests, duration }
    }

    /// Records one finished (or failed) request.
    pub fn observe(&self, target: &str, endpoint: &str, code: &str, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                target: target.to_owned(),
                endpoint: endpoint.to_owned(),
                code: code.to_owned(),
            })
            .inc();
        self.duration
            .get_or_create(&DurationLabels {
                target: target.to_owned(),
                endpoint: endpoint.to_owned(),
            })
            .observe(seconds);
    }
}
