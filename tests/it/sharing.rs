//! Concurrent scrapes of one target share one collection in flight, and a
//! module's `min_interval` serves a recent result instead of asking the
//! appliance again.

use std::sync::Arc;
use std::time::{Duration, Instant};

use appliance_exporter::simulator::faults::{Fault, Faults};
use appliance_exporter::simulator::{self, enterprise_recon as er2};

use crate::common::{
    BUDGET_OFFSET, Exporter, Workdir, er2_config, er2_simulator, promtool_check_metrics, value,
};

const USER: &str = "apiuser";
const PASSWORD: &str = "sharing-password";
const LICENSES: &str = "/v1/licenses";

async fn bench(module_extra: &str) -> (Exporter, Faults, simulator::Running) {
    let faults = Faults::new();
    let sim = er2_simulator(
        er2::LicenseModel::NonSitewide,
        USER,
        PASSWORD,
        Some(&faults),
    )
    .await;
    let work = Workdir::new();
    let secret = work.write("er2.pass", PASSWORD);
    let yaml = er2_config(
        USER,
        &secret,
        "er2_api",
        &format!("    timeout: 10s\n{module_extra}"),
        &[("er2", sim.url())],
    );
    let exporter = Exporter::start_with_offset(work, &yaml, BUDGET_OFFSET).await;
    (exporter, faults, sim)
}

#[tokio::test]
async fn simultaneous_scrapes_cause_one_set_of_upstream_requests() {
    let (exporter, faults, sim) = bench("    probe: {allowed_hosts: [127.0.0.1]}\n").await;
    // Slow enough that all scrapes overlap, even on a loaded machine.
    faults.set("/v1", Fault::Slow(Duration::from_secs(2)));
    let paths = [
        "/metrics",
        "/probe?target=er2",
        "/metrics",
        "/probe?target=er2",
        "/metrics",
    ];
    let scrapes = paths.iter().map(|p| exporter.get(p));
    let answers = futures::future::join_all(scrapes).await;
    for a in &answers {
        assert_eq!(a.status, 200);
        assert_eq!(
            value(&a.body, "er2_up{target=\"er2\"}"),
            Some(1.0),
            "{}",
            a.body
        );
    }
    assert_eq!(faults.requests(LICENSES), 1);
    assert_eq!(faults.requests("/v1/risk/levels"), 1);
    // Done, the next scrape asks again.
    exporter.metrics().await;
    assert_eq!(faults.requests(LICENSES), 2);
    // An ad-hoc probe of the same URL is another target label: its own collection.
    exporter
        .get(&format!("/probe?target={}&module=er2", sim.url()))
        .await;
    assert_eq!(faults.requests(LICENSES), 3);
}

#[tokio::test]
async fn late_joiners_get_the_same_report() {
    let (exporter, faults, _sim) = bench("").await;
    // The later scrape joins after 0.1 s, well before the 2 s answer.
    faults.set("/v1", Fault::Slow(Duration::from_secs(2)));
    let app = exporter.app.clone();
    let loaded = app.loaded();
    let target = app.static_target(&loaded, "er2").unwrap();
    let first = app.scrape(&target, None, false);
    let later = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        app.scrape(&target, None, false).await
    };
    let (a, b) = tokio::join!(first, later);
    assert!(Arc::ptr_eq(&a.report, &b.report));
    assert_eq!(faults.requests(LICENSES), 1);
}

#[tokio::test]
async fn a_scraper_with_a_shorter_budget_leaves_in_time_and_the_collection_goes_on() {
    let (exporter, faults, _sim) = bench("").await;
    // The short scraper's budget is 4 s less the 3 s offset: it leaves
    // after 1 s, 2 s before the answer, and 3 s before its own timeout.
    faults.set(LICENSES, Fault::Slow(Duration::from_secs(3)));
    let long = exporter.get_with(
        "/probe?target=er2",
        &[("X-Prometheus-Scrape-Timeout-Seconds", "20")],
    );
    let short = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let started = Instant::now();
        let a = exporter
            .get_with(
                "/probe?target=er2",
                &[("X-Prometheus-Scrape-Timeout-Seconds", "4")],
            )
            .await;
        (a, started.elapsed())
    };
    let (long, (short, took)) = tokio::join!(long, short);
    assert!(
        took < Duration::from_secs(4),
        "the short scrape took {took:?}"
    );
    let success = |body: &str, c: &str| {
        value(
            body,
            &format!("appliance_exporter_collector_success{{target=\"er2\",collector=\"{c}\"}}"),
        )
    };
    assert_eq!(
        success(&short.body, "licenses"),
        Some(0.0),
        "{}",
        short.body
    );
    assert_eq!(success(&long.body, "licenses"), Some(1.0), "{}", long.body);
    assert_eq!(faults.requests(LICENSES), 1);
}

#[tokio::test]
async fn min_interval_serves_a_recent_result_and_says_how_old() {
    let (exporter, faults, _sim) = bench("    min_interval: 1h\n").await;
    let age = |m: &str| {
        value(
            m,
            "appliance_exporter_cached_result_age_seconds{target=\"er2\"}",
        )
    };
    let first = exporter.metrics().await;
    assert_eq!(age(&first), Some(0.0), "{first}");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let second = exporter.get("/probe?target=er2").await.body;
    assert!(age(&second).unwrap() > 0.0, "{second}");
    for text in [&first, &second] {
        if let Some((ok, out)) = promtool_check_metrics(text) {
            assert!(ok, "promtool check metrics: {out}");
        }
    }
    assert_eq!(value(&second, "er2_up{target=\"er2\"}"), Some(1.0));
    assert_eq!(
        faults.requests(LICENSES),
        1,
        "served from the recent result"
    );
    assert!(first.contains("# HELP appliance_exporter_cached_result_age_seconds Age of the appliance data served for the target; with the module's min_interval"), "{first}");
    // A reload forgets results of the old configuration.
    let resp = crate::common::client()
        .post(format!("{}/-/reload", exporter.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let third = exporter.metrics().await;
    assert_eq!(age(&third), Some(0.0));
    assert_eq!(faults.requests(LICENSES), 2);
}

#[tokio::test]
async fn without_min_interval_every_scrape_asks_and_no_age_is_shown() {
    let (exporter, faults, _sim) = bench("").await;
    let m = exporter.metrics().await;
    exporter.metrics().await;
    assert_eq!(faults.requests(LICENSES), 2);
    assert!(
        !m.contains("appliance_exporter_cached_result_age_seconds"),
        "{m}"
    );
}
