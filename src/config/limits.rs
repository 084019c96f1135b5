//! The `limits` block: one budget of upstream work for the whole process
//! and the caps on what one appliance's answers may cost, with defaults
//! that keep a fleet of 1,000 gateways inside 1,024 descriptors, and the
//! upper bounds on every configured duration.
//!
//! The defaults were sized by the fleet benchmark: resident memory follows
//! the connections open (each keeps the read buffer of its largest answer,
//! some 200 KiB for a page of sessions), at most targets at once × requests
//! per target: with 8 × 8 (the first defaults) 200 gateways peaked at
//! 42 MiB, where 64 × 8 took 147 MiB. The defaults are now 24 targets at
//! once, each held to its share of the 64 requests in flight (about three
//! in a fleet), which keeps 200 gateways near 46 MiB (docs/fleet.md).
//!
//! Between scrapes at most `max_idle_connections` idle sockets are kept
//! for the targets' next collections (64 by default: the clients of 8
//! targets at 8 requests each; one client's pool at least when fewer), so
//! the descriptors stay bounded by the limits, not by the fleet: 192 for
//! the targets being collected and 64 idle.

use std::ops::RangeInclusive;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use super::ConfigError;
use super::raw::At;

/// The process-wide limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Upstream requests in flight in the whole process (FIFO, shared by
    /// every target).
    pub max_in_flight: u32,
    /// Targets collected at once; each holds its connections only while it
    /// is collected (or while they are kept idle, see
    /// `max_idle_connections`), so this and `max_idle_connections` bound
    /// the sockets open.
    pub max_targets_in_flight: u32,
    /// Requests in flight to one target (Sectona queries, session pages,
    /// collectors running side by side).
    pub max_requests_per_target: u32,
    /// Idle connections kept between scrapes, in all, for the targets'
    /// next collections; a kept client counts as `max_requests_per_target`
    /// of them (one client is kept when fewer are allowed). 0 closes every
    /// connection when its collection ends.
    pub max_idle_connections: u32,
    /// Pages read of one session listing.
    pub max_pages: u32,
    /// Series one collector may emit for one target; more are dropped and
    /// counted.
    pub max_series_per_collector: u32,
    /// Warning lines one collector may log per scrape; the rest are counted
    /// in one summary line.
    pub max_warnings_per_collector: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_in_flight: 64,
            max_targets_in_flight: 24,
            max_requests_per_target: 8,
            max_idle_connections: 64,
            max_pages: 1_000,
            max_series_per_collector: 20_000,
            max_warnings_per_collector: 10,
        }
    }
}

impl Limits {
    /// The sockets the limits allow open towards the appliances at once:
    /// every socket belongs to a target being collected or to a client
    /// kept for a target's next collection, and either keeps at most one
    /// per request a target may have in flight.
    pub fn max_upstream_sockets(&self) -> u64 {
        let clients = u64::from(self.max_targets_in_flight) + self.max_kept_clients() as u64;
        clients * u64::from(self.max_requests_per_target)
    }

    /// The clients kept between scrapes: each may hold
    /// `max_requests_per_target` idle connections, so as many as fit in
    /// `max_idle_connections`, and at least one unless that is 0.
    pub fn max_kept_clients(&self) -> usize {
        match self.max_idle_connections {
            0 => 0,
            idle => (idle / self.max_requests_per_target.max(1)).max(1) as usize,
        }
    }
}

/// The block as written.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    max_in_flight: Option<At<u32>>,
    max_targets_in_flight: Option<At<u32>>,
    max_requests_per_target: Option<At<u32>>,
    max_idle_connections: Option<At<u32>>,
    max_pages: Option<At<u32>>,
    max_series_per_collector: Option<At<u32>>,
    max_warnings_per_collector: Option<At<u32>>,
}

/// The largest module `timeout`: far above any Prometheus scrape timeout.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(600);
/// The largest `min_interval`.
pub const MAX_MIN_INTERVAL: Duration = Duration::from_secs(24 * 3600);

/// Checks each key against its range; an absent key keeps its default.
pub(super) fn check(file: &Path, raw: Option<&RawLimits>) -> Result<Limits, ConfigError> {
    let mut limits = Limits::default();
    let Some(raw) = raw else {
        return Ok(limits);
    };
    let l = &mut limits;
    set(
        file,
        "max_in_flight",
        &raw.max_in_flight,
        &mut l.max_in_flight,
        1..=65_536,
    )?;
    set(
        file,
        "max_targets_in_flight",
        &raw.max_targets_in_flight,
        &mut l.max_targets_in_flight,
        1..=65_536,
    )?;
    set(
        file,
        "max_requests_per_target",
        &raw.max_requests_per_target,
        &mut l.max_requests_per_target,
        1..=64,
    )?;
    set(
        file,
        "max_idle_connections",
        &raw.max_idle_connections,
        &mut l.max_idle_connections,
        0..=65_536,
    )?;
    set(
        file,
        "max_pages",
        &raw.max_pages,
        &mut l.max_pages,
        1..=1_000_000,
    )?;
    set(
        file,
        "max_series_per_collector",
        &raw.max_series_per_collector,
        &mut l.max_series_per_collector,
        1..=10_000_000,
    )?;
    set(
        file,
        "max_warnings_per_collector",
        &raw.max_warnings_per_collector,
        &mut l.max_warnings_per_collector,
        0..=10_000,
    )?;
    Ok(limits)
}

/// Puts the key's value, when given and within `range`, into `slot`.
fn set(
    file: &Path,
    key: &str,
    given: &Option<At<u32>>,
    slot: &mut u32,
    range: RangeInclusive<u32>,
) -> Result<(), ConfigError> {
    let Some(value) = given else {
        return Ok(());
    };
    if !range.contains(&value.value) {
        return Err(ConfigError::at(
            file,
            &value.referenced,
            format!("limits.{key}"),
            format!(
                "{} is out of range: must be between {} and {}",
                value.value,
                range.start(),
                range.end()
            ),
        ));
    }
    *slot = value.value;
    Ok(())
}

/// `value` unless it exceeds `max`: the reason why not.
pub(super) fn at_most(value: Duration, max: Duration) -> Result<Duration, String> {
    if value > max {
        Err(format!(
            "{} is too long: at most {}",
            humantime::format_duration(value),
            humantime::format_duration(max)
        ))
    } else {
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<Limits, ConfigError> {
        let raw: RawLimits = serde_saphyr::from_str(yaml).unwrap();
        check(Path::new("c.yml"), Some(&raw))
    }

    #[test]
    fn absent_keys_keep_their_defaults() {
        assert_eq!(check(Path::new("c.yml"), None).unwrap(), Limits::default());
        let l = parse("max_in_flight: 512\nmax_pages: 20\n").unwrap();
        assert_eq!(l.max_in_flight, 512);
        assert_eq!(l.max_pages, 20);
        assert_eq!(l.max_targets_in_flight, 24);
    }

    #[test]
    fn the_default_sockets_fit_well_inside_1024_descriptors() {
        // 24 targets being collected and 8 kept, at 8 connections each.
        assert_eq!(Limits::default().max_upstream_sockets(), 256);
        let l = Limits::default();
        // With every target place taken, each target keeps to its share of
        // the requests in flight, below its cap: a fleet's requests are
        // spread over all the targets being collected.
        assert!(l.max_in_flight.div_ceil(l.max_targets_in_flight) < l.max_requests_per_target);
    }

    #[test]
    fn kept_clients_are_the_idle_connections_over_the_requests_per_target() {
        let kept = |idle: &str, per_target: &str| {
            parse(&format!(
                "max_idle_connections: {idle}\nmax_requests_per_target: {per_target}\n"
            ))
            .unwrap()
            .max_kept_clients()
        };
        assert_eq!(Limits::default().max_kept_clients(), 8);
        assert_eq!(kept("64", "8"), 8);
        assert_eq!(kept("70", "8"), 8);
        assert_eq!(kept("3", "8"), 1);
        assert_eq!(kept("0", "8"), 0);
        assert_eq!(kept("65536", "1"), 65_536);
        let err = parse("max_idle_connections: 65537\n").unwrap_err();
        assert_eq!(err.field, "limits.max_idle_connections");
        assert_eq!(
            err.message,
            "65537 is out of range: must be between 0 and 65536"
        );
    }

    #[test]
    fn out_of_range_values_name_line_and_key() {
        let err = parse("max_pages: 5\nmax_requests_per_target: 0\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert_eq!(err.field, "limits.max_requests_per_target");
        assert_eq!(err.message, "0 is out of range: must be between 1 and 64");
    }

    #[test]
    fn a_too_long_timeout_or_interval_names_its_line() {
        let yaml = |key: &str, value: &str| {
            format!(
                "auths:\n  a:\n    username: u\n    password: p\n\
                 modules:\n  m:\n    kind: enterprise_recon\n    auth: a\n    {key}: {value}\n"
            )
        };
        let err = |key, value| {
            crate::config::Config::parse(Path::new("c.yml"), &yaml(key, value))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err("timeout", "11m"),
            "c.yml:9:14: modules.m.timeout: 11m is too long: at most 10m"
        );
        assert_eq!(
            err("min_interval", "2days"),
            "c.yml:9:19: modules.m.min_interval: 2days is too long: at most 1day"
        );
        assert!(crate::config::Config::parse(Path::new("c.yml"), &yaml("timeout", "10m")).is_ok());
    }

    #[test]
    fn durations_have_an_upper_bound() {
        assert!(at_most(Duration::from_secs(600), MAX_TIMEOUT).is_ok());
        assert_eq!(
            at_most(Duration::from_secs(601), MAX_TIMEOUT).unwrap_err(),
            "10m 1s is too long: at most 10m"
        );
    }
}
