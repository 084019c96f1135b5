//! Log set-up: logfmt or JSON on standard error, at the chosen level for
//! the exporter and at most `warn` for its libraries.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::prelude::*;

use crate::cli::{LogFormat, LogLevel};

fn filter(level: LogLevel) -> EnvFilter {
    let (own, libraries) = match level {
        LogLevel::Debug => ("debug", "warn"),
        LogLevel::Info => ("info", "warn"),
        LogLevel::Warn => ("warn", "warn"),
        LogLevel::Error => ("error", "error"),
    };
    EnvFilter::new(format!("{libraries},appliance_exporter={own}"))
}

/// Installs the global subscriber. Calling it twice is harmless.
pub fn init(level: LogLevel, format: LogFormat) {
    let registry = tracing_subscriber::registry().with(filter(level));
    let result = match format {
        LogFormat::Logfmt => registry
            .with(
                tracing_logfmt::builder()
                    .with_target(false)
                    .with_span_name(false)
                    .with_span_path(false)
                    .layer()
                    .with_writer(std::io::stderr),
            )
            .try_init(),
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_target(false)
                    .with_current_span(false)
                    .with_span_list(false)
                    .with_writer(std::io::stderr),
            )
            .try_init(),
    };
    // Already initialised (tests): keep the first subscriber.
    drop(result);
}
