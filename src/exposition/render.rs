//! Rendering of sample buffers (and optionally a registry of long-lived
//! metrics) into one exposition, through `prometheus-client`'s encoder.
//!
//! Series of the same family from different targets must stand together
//! under one HELP/TYPE header, so the buffers are grouped by family first.

use std::sync::Arc;

use indexmap::IndexMap;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

use super::{MetricKind, Samples, Value};
use crate::exposition::openmetrics_to_text004;

/// The two exposition formats the exporter negotiates between.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `application/openmetrics-text; version=1.0.0`
    OpenMetrics,
    /// `text/plain; version=0.0.4`
    Text004,
}

impl Format {
    /// The `Content-Type` header value of this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
            Format::Text004 => "text/plain; version=0.0.4; charset=utf-8",
        }
    }
}

/// Encoding failed (only a `fmt::Error` from the writer can cause it).
#[derive(Debug, thiserror::Error)]
#[error("encoding the exposition failed")]
pub struct RenderError;

/// One target's samples, labelled with `target` when rendered.
#[derive(Debug, Default)]
pub struct Block {
    /// Value of the `target` label, or `None` for exporter-wide series.
    pub target: Option<String>,
    /// The series to render.
    pub samples: Samples,
}

/// A `prometheus-client` collector over a set of blocks.
#[derive(Debug)]
struct BlocksCollector {
    blocks: Vec<Arc<Block>>,
}

impl Collector for BlocksCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        // Family name -> (block index, series index) in first-seen order.
        let mut families: IndexMap<&'static str, Vec<(usize, usize)>> = IndexMap::new();
        for (b, block) in self.blocks.iter().enumerate() {
            for (s, series) in block.samples.series.iter().enumerate() {
                families.entry(series.desc.name).or_default().push((b, s));
            }
        }
        let mut labels: Vec<(&str, &str)> = Vec::with_capacity(8);
        for members in families.values() {
            let Some(&(b0, s0)) = members.first() else {
                continue;
            };
            let desc = self.blocks[b0].samples.series[s0].desc;
            let metric_type = match desc.kind {
                MetricKind::Gauge => MetricType::Gauge,
                MetricKind::Counter => MetricType::Counter,
            };
            let mut family = encoder.encode_descriptor(desc.name, desc.help, None, metric_type)?;
            for &(b, s) in members {
                let block = &self.blocks[b];
                let series = &block.samples.series[s];
                labels.clear();
                if let Some(target) = &block.target {
                    labels.push(("target", target));
                }
                labels.extend(series.labels.iter().map(|(k, v)| (*k, v.as_str())));
                let sample = family.encode_family(&labels)?;
                match (desc.kind, series.value) {
                    (MetricKind::Gauge, Value::Int(v)) => ConstGauge::new(v).encode(sample)?,
                    (MetricKind::Gauge, Value::Float(v)) => ConstGauge::new(v).encode(sample)?,
                    (MetricKind::Counter, Value::Int(v)) => {
                        ConstCounter::new(u64::try_from(v).unwrap_or(0)).encode(sample)?
                    }
                    (MetricKind::Counter, Value::Float(v)) => {
                        ConstCounter::new(v.max(0.0)).encode(sample)?
                    }
                }
            }
        }
        Ok(())
    }
}

/// Renders `blocks` (then `extra`, the long-lived metrics) in `format`.
pub fn render(
    blocks: Vec<Arc<Block>>,
    extra: Option<&Registry>,
    format: Format,
) -> Result<String, RenderError> {
    let capacity = blocks
        .iter()
        .map(|b| b.samples.series.len() * 96)
        .sum::<usize>()
        + 4096;
    let mut registry = Registry::default();
    registry.register_collector(Box::new(BlocksCollector { blocks }));
    let mut out = String::with_capacity(capacity);
    prometheus_client::encoding::text::encode_registry(&mut out, &registry)
        .map_err(|_| RenderError)?;
    if let Some(extra) = extra {
        prometheus_client::encoding::text::encode_registry(&mut out, extra)
            .map_err(|_| RenderError)?;
    }
    match format {
        Format::OpenMetrics => {
            prometheus_client::encoding::text::encode_eof(&mut out).map_err(|_| RenderError)?;
            Ok(out)
        }
        Format::Text004 => Ok(openmetrics_to_text004(&out)),
    }
}

/// Renders one buffer, labelled with `target` (used by tests and tools).
pub fn render_samples(
    target: Option<&str>,
    samples: Samples,
    format: Format,
) -> Result<String, RenderError> {
    let block = Block {
        target: target.map(str::to_owned),
        samples,
    };
    render(vec![Arc::new(block)], None, format)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exposition::Desc;

    static UP: Desc = Desc::gauge("x_up", "1 if up.");
    static REQS: Desc = Desc::counter("x_requests", "Requests.");

    fn block(target: &str, up: i64) -> Arc<Block> {
        let mut samples = Samples::new();
        samples.push_plain(&UP, up);
        samples.push(&REQS, &[("code", "200")], 3_i64);
        Arc::new(Block {
            target: Some(target.into()),
            samples,
        })
    }

    #[test]
    fn families_are_grouped_across_targets() {
        let out = render(
            vec![block("a", 1), block("b", 0)],
            None,
            Format::OpenMetrics,
        )
        .unwrap();
        assert_eq!(
            out,
            "# HELP x_up 1 if up.\n# TYPE x_up gauge\nx_up{target=\"a\"} 1\nx_up{target=\"b\"} 0\n\
             # HELP x_requests Requests.\n# TYPE x_requests counter\n\
             x_requests_total{target=\"a\",code=\"200\"} 3\nx_requests_total{target=\"b\",code=\"200\"} 3\n# EOF\n"
        );
    }

    #[test]
    fn text004_has_no_eof_and_counter_metadata_with_total() {
        let out = render(vec![block("a", 1)], None, Format::Text004).unwrap();
        assert!(!out.contains("# EOF"));
        assert!(out.contains("# TYPE x_requests_total counter\n"));
    }

    #[test]
    fn label_values_are_escaped() {
        let mut samples = Samples::new();
        samples.push(&UP, &[("path", "D:\\My \"data\"\n")], 1_i64);
        let out = render_samples(None, samples, Format::Text004).unwrap();
        assert!(out.contains(r#"x_up{path="D:\\My \"data\"\n"} 1"#), "{out}");
    }

    #[test]
    fn floats_and_integers() {
        let mut samples = Samples::new();
        samples.push_plain(&UP, 0.25);
        samples.push_plain(&REQS, 2.0);
        let out = render_samples(None, samples, Format::Text004).unwrap();
        assert!(out.contains("x_up 0.25\n"), "{out}");
        assert!(out.contains("x_requests_total 2\n"), "{out}");
    }
}
