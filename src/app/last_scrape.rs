//! What the landing page shows of each static target: how its last scrape
//! went, remembered as scrapes finish.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use crate::scrape::TargetReport;

/// The last scrape of a static target, for the landing page.
#[derive(Debug, Clone)]
pub struct LastScrape {
    /// When it finished.
    pub finished: SystemTime,
    /// How long it took.
    pub duration: Duration,
    /// Whether every collector succeeded and the appliance was up.
    pub success: bool,
    /// Failed collectors and why.
    pub failures: Vec<String>,
}

/// The last scrape of each static target, by label.
#[derive(Debug, Default)]
pub(super) struct LastScrapes(Mutex<BTreeMap<String, LastScrape>>);

impl LastScrapes {
    /// Keeps `report` as the last scrape of `label`.
    pub(super) fn remember(&self, label: &str, report: &TargetReport) {
        let failures = report
            .outcomes
            .iter()
            .filter_map(|o| o.error.as_ref().map(|e| format!("{}: {e}", o.name)))
            .collect();
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(
                label.to_owned(),
                LastScrape {
                    finished: report.finished,
                    duration: report.duration,
                    success: report.success(),
                    failures,
                },
            );
    }

    /// Every target's last scrape.
    pub(super) fn all(&self) -> BTreeMap<String, LastScrape> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
