//! Log set-up: logfmt or JSON on standard error, at the chosen level for
//! the exporter and at most `warn` for its libraries.

use tracing::Level;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;

use crate::cli::{LogFormat, LogLevel};

/// The exporter's own target: it and every module under it log at the
/// chosen level.
const OWN_TARGET: &str = "appliance_exporter";

/// The exporter at `level`, its libraries at `warn` (or `error` when
/// `level` is `error`).
pub fn filter(level: LogLevel) -> Targets {
    let (own, libraries) = match level {
        LogLevel::Debug => (Level::DEBUG, Level::WARN),
        LogLevel::Info => (Level::INFO, Level::WARN),
        LogLevel::Warn => (Level::WARN, Level::WARN),
        LogLevel::Error => (Level::ERROR, Level::ERROR),
    };
    Targets::new()
        .with_default(libraries)
        .with_target(OWN_TARGET, own)
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

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;
    use crate::cli::Flags;

    /// The most verbose level `filter` lets through for `target`.
    fn most_verbose(level: LogLevel, target: &str) -> Option<Level> {
        let filter = filter(level);
        [
            Level::TRACE,
            Level::DEBUG,
            Level::INFO,
            Level::WARN,
            Level::ERROR,
        ]
        .into_iter()
        .find(|l| filter.would_enable(target, l))
    }

    #[test]
    fn each_level_is_parsed_from_the_flag() {
        for (text, level) in [
            ("debug", LogLevel::Debug),
            ("info", LogLevel::Info),
            ("warn", LogLevel::Warn),
            ("error", LogLevel::Error),
        ] {
            let flags = Flags::parse_from(["appliance_exporter", &format!("--log.level={text}")]);
            assert_eq!(flags.log_level, level, "{text}");
        }
        for bad in ["trace", "WARNING", "off", ""] {
            assert!(
                Flags::try_parse_from(["appliance_exporter", &format!("--log.level={bad}")])
                    .is_err(),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn the_exporter_logs_at_the_chosen_level_and_libraries_at_warn() {
        for (level, own, libraries) in [
            (LogLevel::Debug, Level::DEBUG, Level::WARN),
            (LogLevel::Info, Level::INFO, Level::WARN),
            (LogLevel::Warn, Level::WARN, Level::WARN),
            (LogLevel::Error, Level::ERROR, Level::ERROR),
        ] {
            for target in ["appliance_exporter", "appliance_exporter::scrape"] {
                assert_eq!(most_verbose(level, target), Some(own), "{level:?} {target}");
            }
            for target in ["hyper", "reqwest::connect", "rustls::client", "h2"] {
                assert_eq!(
                    most_verbose(level, target),
                    Some(libraries),
                    "{level:?} {target}"
                );
            }
        }
    }
}
