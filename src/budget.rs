//! The time budget of one scrape: Prometheus' scrape timeout header minus
//! the configured offset, capped by the module's timeout; and the deadline
//! it gives, computed without any arithmetic that could panic.

use std::time::Duration;

use tokio::time::Instant;

use crate::config::MAX_TIMEOUT;

/// The header Prometheus sends with the scrape timeout in seconds.
pub const SCRAPE_TIMEOUT_HEADER: &str = "X-Prometheus-Scrape-Timeout-Seconds";

/// `min(header - offset, module_timeout)`.
///
/// Without a (valid, positive) header the module timeout applies. When the
/// offset would eat the whole header value, half the header value is used,
/// so the exporter still answers before Prometheus gives up.
pub fn budget(header: Option<&str>, offset: Duration, module_timeout: Duration) -> Duration {
    let Some(scrape_timeout) = header
        .and_then(|h| h.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
    else {
        return module_timeout;
    };
    let available = if scrape_timeout > offset {
        scrape_timeout - offset
    } else {
        scrape_timeout / 2
    };
    available.min(module_timeout)
}

/// `start + budget`, the budget capped at the longest module timeout (so
/// a budget from a hostile header or a bug cannot overflow an `Instant`);
/// `start` itself should the addition still not fit.
pub fn deadline(start: Instant, budget: Duration) -> Instant {
    start.checked_add(budget.min(MAX_TIMEOUT)).unwrap_or(start)
}

/// `start + d` for any configured interval (checked at load to be at most
/// a day); `start` should the addition not fit.
pub fn later(start: Instant, d: Duration) -> Instant {
    start.checked_add(d).unwrap_or(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_never_overflows() {
        let now = Instant::now();
        assert_eq!(deadline(now, MS(250)), now + MS(250));
        assert_eq!(deadline(now, Duration::MAX), now + MAX_TIMEOUT);
    }

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn header_minus_offset_when_smaller() {
        assert_eq!(budget(Some("10"), MS(500), MS(30_000)), MS(9_500));
        assert_eq!(budget(Some("2.5"), MS(500), MS(30_000)), MS(2_000));
    }

    #[test]
    fn module_timeout_caps() {
        assert_eq!(budget(Some("60"), MS(500), MS(10_000)), MS(10_000));
    }

    #[test]
    fn missing_or_bad_header_uses_module_timeout() {
        assert_eq!(budget(None, MS(500), MS(10_000)), MS(10_000));
        assert_eq!(budget(Some("soon"), MS(500), MS(10_000)), MS(10_000));
        assert_eq!(budget(Some("-3"), MS(500), MS(10_000)), MS(10_000));
        assert_eq!(budget(Some("NaN"), MS(500), MS(10_000)), MS(10_000));
    }

    #[test]
    fn offset_larger_than_header_halves_it() {
        assert_eq!(budget(Some("0.4"), MS(500), MS(10_000)), MS(200));
    }
}
