//! The command line (SPEC §2), in Prometheus' flag conventions.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};

/// Log verbosity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogLevel {
    /// Everything, including each scrape.
    Debug,
    /// Start-up, reloads, warnings and errors.
    Info,
    /// Warnings (failed collectors, dropped values) and errors.
    Warn,
    /// Errors only.
    Error,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// `key=value` pairs.
    Logfmt,
    /// One JSON object per line.
    Json,
}

/// Prometheus exporter for the licences, health and capacity of Ground Labs
/// Enterprise Recon, Ivanti Connect Secure / Policy Secure and Sectona PAM
/// appliances.
#[derive(Debug, Parser)]
#[command(name = "appliance_exporter", version, about, long_about = None)]
pub struct Flags {
    /// Configuration file (YAML).
    #[arg(
        long = "config.file",
        default_value = "appliance_exporter.yml",
        value_name = "PATH"
    )]
    pub config_file: PathBuf,

    /// Validate the configuration, print a summary, and exit (0 when valid).
    #[arg(long = "config.check")]
    pub config_check: bool,

    /// Address to listen on (repeatable); ":PORT" means every interface.
    #[arg(
        long = "web.listen-address",
        default_value = ":29339",
        value_name = "ADDRESS"
    )]
    pub listen_addresses: Vec<String>,

    /// Path under which the metrics are exposed.
    #[arg(
        long = "web.telemetry-path",
        default_value = "/metrics",
        value_name = "PATH"
    )]
    pub telemetry_path: String,

    /// Web configuration file (exporter-toolkit format): TLS and basic auth.
    #[arg(long = "web.config.file", value_name = "PATH")]
    pub web_config_file: Option<PathBuf>,

    /// Enable POST /-/reload (otherwise it answers 403); SIGHUP reloads
    /// either way.
    #[arg(long = "web.enable-lifecycle")]
    pub enable_lifecycle: bool,

    /// Subtracted from Prometheus' X-Prometheus-Scrape-Timeout-Seconds.
    #[arg(long = "timeout-offset", default_value = "500ms", value_parser = parse_duration, value_name = "DURATION")]
    pub timeout_offset: Duration,

    /// Log level.
    #[arg(long = "log.level", value_enum, default_value = "info")]
    pub log_level: LogLevel,

    /// Log format.
    #[arg(long = "log.format", value_enum, default_value = "logfmt")]
    pub log_format: LogFormat,

    /// Run against built-in simulated appliances on loopback, with a
    /// generated configuration (ignores --config.file).
    #[arg(long = "demo")]
    pub demo: bool,

    /// Threads of the async runtime. Scrapes mostly wait on the appliances:
    /// one thread costs the least CPU and answers soonest (as node_exporter's
    /// --runtime.gomaxprocs=1); raise it for a /metrics of many hundreds of
    /// appliances.
    #[arg(long = "runtime.worker-threads", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..), value_name = "N")]
    pub worker_threads: u16,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let d =
        humantime::parse_duration(text).map_err(|e| format!("invalid duration \"{text}\": {e}"))?;
    // Subtracted from a scrape timeout, which is never this long.
    if d > crate::config::MAX_TIMEOUT {
        return Err(format!(
            "{text} is too long: at most {}",
            humantime::format_duration(crate::config::MAX_TIMEOUT)
        ));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_spec() {
        let f = Flags::parse_from(["appliance_exporter"]);
        assert_eq!(f.config_file, PathBuf::from("appliance_exporter.yml"));
        assert_eq!(f.listen_addresses, vec![":29339".to_owned()]);
        assert_eq!(f.telemetry_path, "/metrics");
        assert_eq!(f.timeout_offset, Duration::from_millis(500));
        assert_eq!(f.log_level, LogLevel::Info);
        assert_eq!(f.log_format, LogFormat::Logfmt);
        assert!(!f.demo && !f.config_check && !f.enable_lifecycle);
        assert_eq!(f.worker_threads, 1);
    }

    #[test]
    fn listen_address_repeats() {
        let f = Flags::parse_from([
            "appliance_exporter",
            "--web.listen-address=127.0.0.1:1",
            "--web.listen-address",
            "[::1]:2",
        ]);
        assert_eq!(f.listen_addresses, vec!["127.0.0.1:1", "[::1]:2"]);
    }

    #[test]
    fn worker_threads_are_at_least_one() {
        let f = Flags::parse_from(["appliance_exporter", "--runtime.worker-threads=4"]);
        assert_eq!(f.worker_threads, 4);
        assert!(
            Flags::try_parse_from(["appliance_exporter", "--runtime.worker-threads=0"]).is_err()
        );
    }

    #[test]
    fn bad_offset_is_rejected() {
        assert!(Flags::try_parse_from(["appliance_exporter", "--timeout-offset=soon"]).is_err());
    }
}
