//! Metric descriptors, the per-target sample buffer that the pure encode
//! halves of the collectors fill, and the rendering of many buffers into one
//! exposition in either text format.

mod render;
mod text004;

pub use render::{Block, Format, RenderError, render, render_samples};
pub use text004::openmetrics_to_text004;

use std::fmt;

/// The Prometheus type of a metric family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricKind {
    /// A value that can go up and down.
    Gauge,
    /// A monotonically increasing value; the encoder appends `_total`.
    Counter,
}

/// A metric family's name, help and type, built once per collector as a
/// `static` and referenced by every series of that family.
#[derive(Debug)]
pub struct Desc {
    /// Full metric name (without `_total` for counters).
    pub name: &'static str,
    /// One-line HELP text.
    pub help: &'static str,
    /// Gauge or counter.
    pub kind: MetricKind,
}

impl Desc {
    /// A gauge descriptor.
    pub const fn gauge(name: &'static str, help: &'static str) -> Self {
        Self {
            name,
            help,
            kind: MetricKind::Gauge,
        }
    }

    /// A counter descriptor; `name` must not end in `_total`.
    pub const fn counter(name: &'static str, help: &'static str) -> Self {
        Self {
            name,
            help,
            kind: MetricKind::Counter,
        }
    }
}

/// A sample value: integers are kept exact and printed without a fraction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    /// An exact integer.
    Int(i64),
    /// A floating-point value.
    Float(f64),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

impl From<usize> for Value {
    fn from(v: usize) -> Self {
        Value::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}

impl From<u64> for Value {
    fn from(v: u64) -> Self {
        Value::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Int(i64::from(v))
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        // Whole numbers that fit exactly are printed as integers.
        if v.fract() == 0.0 && v.abs() < 9.0e15 {
            Value::Int(v as i64)
        } else {
            Value::Float(v)
        }
    }
}

/// Label pairs of one series, in output order.
pub type Labels = Vec<(&'static str, String)>;

/// One series: its family, labels and value.
#[derive(Debug, Clone)]
pub struct Series {
    /// The family the series belongs to.
    pub desc: &'static Desc,
    /// The series' labels (the `target` label is added when rendering).
    pub labels: Labels,
    /// The sample value.
    pub value: Value,
}

/// A value in an upstream answer that could not be used; its series was
/// dropped and the problem is logged with the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldWarning {
    /// The upstream endpoint the field came from.
    pub endpoint: &'static str,
    /// Where in the answer the field is (e.g. `summary[2].total`).
    pub field: String,
    /// What was wrong with it.
    pub reason: String,
}

impl fmt::Display for FieldWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.endpoint, self.field, self.reason)
    }
}

/// The series one collector (or the scrape machinery) produced for one
/// target, plus the warnings about values it had to drop.
#[derive(Debug, Default, Clone)]
pub struct Samples {
    /// Series in the order they were produced.
    pub series: Vec<Series>,
    /// Values that were dropped, to be logged with the target.
    pub warnings: Vec<FieldWarning>,
}

impl Samples {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one series with the given labels.
    pub fn push(
        &mut self,
        desc: &'static Desc,
        labels: &[(&'static str, &str)],
        value: impl Into<Value>,
    ) {
        self.series.push(Series {
            desc,
            labels: labels.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
            value: value.into(),
        });
    }

    /// Adds one series without labels.
    pub fn push_plain(&mut self, desc: &'static Desc, value: impl Into<Value>) {
        self.series.push(Series {
            desc,
            labels: Vec::new(),
            value: value.into(),
        });
    }

    /// Adds one series whose labels are already owned.
    pub fn push_owned(&mut self, desc: &'static Desc, labels: Labels, value: impl Into<Value>) {
        self.series.push(Series {
            desc,
            labels,
            value: value.into(),
        });
    }

    /// Records that a value was dropped.
    pub fn warn(
        &mut self,
        endpoint: &'static str,
        field: impl Into<String>,
        reason: impl Into<String>,
    ) {
        self.warnings.push(FieldWarning {
            endpoint,
            field: field.into(),
            reason: reason.into(),
        });
    }

    /// Moves everything from `other` into `self`.
    pub fn append(&mut self, mut other: Samples) {
        self.series.append(&mut other.series);
        self.warnings.append(&mut other.warnings);
    }
}
