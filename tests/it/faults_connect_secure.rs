//! Fault injection on a Connect Secure gateway: when the session listing
//! (the collector that makes most requests) meets a fault, only
//! `active_users` of that gateway fails; its other five collectors and a
//! healthy gateway beside it are untouched, the exporter keeps serving, and
//! one log line names target, endpoint and cause.

use appliance_exporter::appliances::connect_secure::COLLECTORS;
use appliance_exporter::simulator::faults::{Fault, Faults};
use appliance_exporter::simulator::{self, connect_secure as ics};

use crate::common::{
    BUDGET_OFFSET, Exporter, Logs, SCRAPE_TIMEOUT, Workdir, assert_one_failure_line,
    collector_success, value,
};

const KEY: &str = "ZmF1bHQtc3VpdGUtaWNzLWFwaS1rZXk=";
const LISTING: &str = "/api/v1/system/active-users";
/// Sessions on each gateway: several pages of 200.
const SESSIONS: usize = 900;

/// A faulty and a healthy gateway behind one exporter.
struct Bench {
    faults: Faults,
    _faulty: simulator::Running,
    _healthy: simulator::Running,
    exporter: Exporter,
}

fn gateway() -> std::sync::Arc<ics::IcsSim> {
    ics::IcsSim::new(ics::IcsConfig {
        sessions: ics::Sessions {
            count: SESSIONS,
            users: SESSIONS / 2,
            realms: vec!["Users".into(), "Contractors".into()],
            nodes: vec!["node-a".into(), "node-b".into()],
            ..ics::Sessions::default()
        },
        ..ics::IcsConfig::with_api_key(KEY)
    })
}

async fn bench() -> Bench {
    let faults = Faults::new();
    let faulty = simulator::start(faults.wrap(gateway().router()))
        .await
        .unwrap();
    let healthy = gateway().start().await.unwrap();
    let work = Workdir::new();
    let key = work.write("ics.key", &format!("{KEY}\n"));
    // A page of 200 sessions is some 100 KiB: the cap leaves room for a
    // page and stops an endless one.
    let yaml = format!(
        "auths:\n  ics_key:\n    api_key_file: {}\n\
         modules:\n  ics:\n    kind: connect_secure\n    auth: ics_key\n    timeout: 10s\n    \
         max_response_size: 1MiB\n    active_users: {{page_size: 200, concurrency: 4}}\n\
         targets:\n  - {{name: faulty, url: \"{}\", module: ics}}\n  \
         - {{name: healthy, url: \"{}\", module: ics}}\n",
        key.display(),
        faulty.url(),
        healthy.url(),
    );
    let exporter = Exporter::start_with_offset(work, &yaml, BUDGET_OFFSET).await;
    Bench {
        faults,
        _faulty: faulty,
        _healthy: healthy,
        exporter,
    }
}

/// `active_users` of the faulty gateway failed and nothing else did.
fn assert_only_the_listing_failed(m: &str) {
    assert_eq!(
        collector_success(m, "faulty", "active_users"),
        Some(0.0),
        "{m}"
    );
    assert!(
        !m.contains("ics_active_sessions_listed{target=\"faulty\""),
        "{m}"
    );
    for c in COLLECTORS.iter().filter(|c| **c != "active_users") {
        assert_eq!(
            collector_success(m, "faulty", c),
            Some(1.0),
            "faulty {c}: {m}"
        );
    }
    assert_eq!(value(m, "ics_up{target=\"faulty\"}"), Some(1.0), "{m}");
    for c in COLLECTORS {
        assert_eq!(
            collector_success(m, "healthy", c),
            Some(1.0),
            "healthy {c}: {m}"
        );
    }
    assert_eq!(value(m, "ics_up{target=\"healthy\"}"), Some(1.0), "{m}");
    assert_eq!(
        value(m, "ics_active_sessions{target=\"healthy\"}"),
        Some(SESSIONS as f64),
        "{m}"
    );
}

/// One fault on the listing; the scrape answers within Prometheus' scrape
/// timeout; once the fault is gone the listing recovers.
async fn listing_fault(fault: Fault, cause: &str) {
    let logs = Logs::capture();
    let b = bench().await;
    b.faults.set(LISTING, fault.clone());
    let m = b.exporter.metrics_within(SCRAPE_TIMEOUT).await;
    assert_only_the_listing_failed(&m);
    let failed = ("faulty", "active_users", LISTING);
    assert_one_failure_line(&logs, failed, cause, KEY, "healthy");
    assert_eq!(b.exporter.get("/-/healthy").await.status, 200);

    b.faults.clear_all();
    let m = b.exporter.metrics().await;
    assert_eq!(
        collector_success(&m, "faulty", "active_users"),
        Some(1.0),
        "{fault:?} after recovery: {m}"
    );
    assert_eq!(
        value(&m, "ics_active_sessions{target=\"faulty\"}"),
        Some(SESSIONS as f64),
        "{m}"
    );
}

#[tokio::test]
async fn listing_http_500() {
    listing_fault(Fault::Status(500), "HTTP 500").await;
}

#[tokio::test]
async fn listing_html_maintenance_page_with_status_200() {
    listing_fault(Fault::MaintenancePage, "unexpected response at").await;
}

#[tokio::test]
async fn listing_malformed_json() {
    listing_fault(Fault::MalformedJson, "unexpected response at").await;
}

#[tokio::test]
async fn listing_truncated_body() {
    listing_fault(Fault::Truncated, "reading the response body failed").await;
}

#[tokio::test]
async fn listing_endless_body_stops_at_the_cap() {
    listing_fault(
        Fault::Endless,
        "response body exceeds the limit of 1048576 bytes",
    )
    .await;
}

#[tokio::test]
async fn listing_that_never_answers() {
    listing_fault(Fault::Hang, "no answer within the time budget").await;
}
