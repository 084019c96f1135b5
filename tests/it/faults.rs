//! Fault injection: for each fault an appliance or its network can
//! produce, the exporter keeps serving, only the affected collector (or
//! target) fails, the healthy target is untouched, and one log line names
//! target, endpoint and cause.

use std::time::Duration;

use appliance_exporter::simulator::faults::{Fault, Faults};
use appliance_exporter::simulator::{self, enterprise_recon as er2};

use crate::common::{
    BUDGET_OFFSET, Ca, Exporter, Logs, SCRAPE_TIMEOUT, Workdir, assert_one_failure_line,
    collector_success, er2_config, er2_simulator, value,
};

const USER: &str = "apiuser";
const PASSWORD: &str = "fault-suite-password";
const LICENSES: &str = "/v1/licenses";

fn er2_router() -> axum::Router {
    er2::router(er2::Er2Config::new(
        er2::LicenseModel::NonSitewide,
        USER,
        PASSWORD,
    ))
}

/// A faulty and a healthy ER2 master behind one exporter.
struct Bench {
    faults: Faults,
    _faulty: simulator::Running,
    _healthy: simulator::Running,
    exporter: Exporter,
}

/// `faulty_url`: where the faulty target points (default: the faulty
/// simulator); `module_extra`: more module settings.
async fn bench(faulty_url: Option<String>, module_extra: &str) -> Bench {
    let faults = Faults::new();
    let model = er2::LicenseModel::NonSitewide;
    let faulty = er2_simulator(model, USER, PASSWORD, Some(&faults)).await;
    let healthy = er2_simulator(model, USER, PASSWORD, None).await;
    let work = Workdir::new();
    let secret = work.write("er2.pass", PASSWORD);
    let faulty_url = faulty_url.unwrap_or_else(|| faulty.url());
    let yaml = er2_config(
        USER,
        &secret,
        "er2_api",
        &format!("    timeout: 10s\n{module_extra}"),
        &[("faulty", faulty_url), ("healthy", healthy.url())],
    );
    let exporter = Exporter::start_with_offset(work, &yaml, BUDGET_OFFSET).await;
    Bench {
        faults,
        _faulty: faulty,
        _healthy: healthy,
        exporter,
    }
}

/// The healthy target is untouched and the exporter answers its health check.
async fn assert_healthy_untouched(b: &Bench, m: &str) {
    assert_eq!(value(m, "er2_up{target=\"healthy\"}"), Some(1.0), "{m}");
    assert_eq!(
        collector_success(m, "healthy", "licenses"),
        Some(1.0),
        "{m}"
    );
    assert_eq!(collector_success(m, "healthy", "risk"), Some(1.0), "{m}");
    assert!(m.contains("er2_license_info{target=\"healthy\""), "{m}");
    assert_eq!(b.exporter.get("/-/healthy").await.status, 200);
}

/// Exactly one "collector failed" line for the faulty target's licenses
/// collector, naming the endpoint and containing `cause`.
fn assert_one_log_line(logs: &Logs, cause: &str) {
    let failed = ("faulty", "licenses", LICENSES);
    assert_one_failure_line(logs, failed, cause, PASSWORD, "healthy");
}

/// One fault on `/v1/licenses`: licenses fails, risk (same appliance)
/// still succeeds, the healthy target is untouched.
async fn endpoint_fault(fault: Fault, cause: &str, up: f64) {
    let logs = Logs::capture();
    let b = bench(None, "    max_response_size: 64KiB\n").await;
    b.faults.set(LICENSES, fault.clone());
    let a = b.exporter.get("/metrics").await;
    assert_eq!(a.status, 200, "{fault:?}: {}", a.body);
    let m = a.body;
    assert_eq!(
        collector_success(&m, "faulty", "licenses"),
        Some(0.0),
        "{fault:?}: {m}"
    );
    assert_eq!(
        collector_success(&m, "faulty", "risk"),
        Some(1.0),
        "{fault:?}: {m}"
    );
    assert_eq!(
        value(&m, "er2_up{target=\"faulty\"}"),
        Some(up),
        "{fault:?}: {m}"
    );
    assert!(!m.contains("er2_license_info{target=\"faulty\""), "{m}");
    assert!(m.contains("er2_risk_levels{target=\"faulty\"}"), "{m}");
    assert_healthy_untouched(&b, &m).await;
    assert_one_log_line(&logs, cause);
    // Once the fault is gone the target recovers.
    b.faults.clear_all();
    let m = b.exporter.metrics().await;
    assert_eq!(
        collector_success(&m, "faulty", "licenses"),
        Some(1.0),
        "{fault:?} after recovery: {m}"
    );
}

#[tokio::test]
async fn http_500() {
    endpoint_fault(Fault::Status(500), "HTTP 500: Internal Server Error.", 1.0).await;
}

#[tokio::test]
async fn http_401_sets_up_to_zero() {
    endpoint_fault(Fault::Status(401), "HTTP 401", 0.0).await;
}

#[tokio::test]
async fn http_403() {
    endpoint_fault(Fault::Status(403), "HTTP 403: Forbidden.", 1.0).await;
}

#[tokio::test]
async fn html_maintenance_page_with_status_200() {
    endpoint_fault(Fault::MaintenancePage, "unexpected response at", 1.0).await;
}

#[tokio::test]
async fn malformed_json() {
    endpoint_fault(Fault::MalformedJson, "unexpected response at", 1.0).await;
}

#[tokio::test]
async fn truncated_body() {
    endpoint_fault(Fault::Truncated, "reading the response body failed", 1.0).await;
}

#[tokio::test]
async fn endless_body_stops_at_the_cap() {
    endpoint_fault(
        Fault::Endless,
        "response body exceeds the limit of 65536 bytes",
        1.0,
    )
    .await;
}

#[tokio::test]
async fn slow_appliance_within_the_budget_is_fine() {
    let b = bench(None, "").await;
    b.faults
        .set(LICENSES, Fault::Slow(Duration::from_millis(300)));
    let m = b.exporter.metrics().await;
    assert_eq!(
        collector_success(&m, "faulty", "licenses"),
        Some(1.0),
        "{m}"
    );
    assert_eq!(value(&m, "er2_up{target=\"faulty\"}"), Some(1.0));
    assert_healthy_untouched(&b, &m).await;
}

/// An appliance that never answers, or answers too late: the scrape ends
/// within Prometheus' scrape timeout (the exporter gives up after the
/// timeout less its offset).
async fn answer_within_budget(fault: Fault) {
    let logs = Logs::capture();
    let b = bench(None, "").await;
    b.faults.set(LICENSES, fault.clone());
    let m = b.exporter.metrics_within(SCRAPE_TIMEOUT).await;
    assert_eq!(
        collector_success(&m, "faulty", "licenses"),
        Some(0.0),
        "{m}"
    );
    assert_eq!(collector_success(&m, "faulty", "risk"), Some(1.0), "{m}");
    assert_eq!(
        value(
            &m,
            "appliance_exporter_upstream_requests_total{target=\"faulty\",endpoint=\"/v1/licenses\",code=\"timeout\"}"
        ),
        Some(1.0),
        "{m}"
    );
    assert_healthy_untouched(&b, &m).await;
    assert_one_log_line(&logs, "no answer within the time budget");
    b.faults.clear_all();
}

#[tokio::test]
async fn appliance_that_never_answers() {
    answer_within_budget(Fault::Hang).await;
}

#[tokio::test]
async fn slow_appliance_past_the_budget() {
    answer_within_budget(Fault::Slow(Duration::from_secs(30))).await;
}

/// A target that cannot be reached at all: every collector of it fails,
/// `er2_up` is 0, the healthy target is untouched.
async fn unreachable(url: String, module_extra: &str, cause: &str) {
    let logs = Logs::capture();
    let b = bench(Some(url), module_extra).await;
    let a = b.exporter.get("/metrics").await;
    assert_eq!(a.status, 200);
    let m = a.body;
    assert_eq!(value(&m, "er2_up{target=\"faulty\"}"), Some(0.0), "{m}");
    assert_eq!(
        collector_success(&m, "faulty", "licenses"),
        Some(0.0),
        "{m}"
    );
    assert_eq!(collector_success(&m, "faulty", "risk"), Some(0.0), "{m}");
    assert_healthy_untouched(&b, &m).await;
    assert_one_log_line(&logs, cause);
}

#[tokio::test]
async fn connection_refused() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    unreachable(format!("http://127.0.0.1:{port}"), "", "Connection refused").await;
}

#[tokio::test]
async fn unresolvable_host() {
    unreachable("http://er2-master.invalid:8339".into(), "", "dns error").await;
}

#[tokio::test]
async fn certificate_from_the_wrong_ca() {
    let appliance_ca = Ca::new("appliance CA");
    let other_ca = Ca::new("some other CA");
    let (cert, key) = appliance_ca.issue("er2-master");
    let tls_sim = simulator::start_tls(er2_router(), &cert, &key)
        .await
        .unwrap();
    let work_ca = tempfile::tempdir().unwrap();
    let wrong = work_ca.path().join("wrong-ca.pem");
    std::fs::write(&wrong, &other_ca.pem).unwrap();
    let extra = format!("    tls: {{ca_file: {}}}\n", wrong.display());
    unreachable(
        tls_sim.url(),
        &extra,
        "is issued by an unknown authority: add the issuing CA to tls.ca_file",
    )
    .await;
    // The control: trusting the right CA, the same appliance works.
    let right = work_ca.path().join("right-ca.pem");
    std::fs::write(&right, &appliance_ca.pem).unwrap();
    let b = bench(
        Some(tls_sim.url()),
        &format!("    tls: {{ca_file: {}}}\n", right.display()),
    )
    .await;
    let m = b.exporter.metrics().await;
    assert_eq!(value(&m, "er2_up{target=\"faulty\"}"), Some(1.0), "{m}");
    assert_eq!(
        collector_success(&m, "faulty", "licenses"),
        Some(1.0),
        "{m}"
    );
}
