//! Hostile appliances: answers of the right shape that are far larger than
//! any real one. Each list the parsers read (licence pools, licensed
//! targets, locations, risk profiles, lease features, cluster members,
//! Sectona rows, ESAP packages, ER2 server load samples) arrives with
//! 60,000 distinct rows (megabytes, under the
//! body cap); the scrape ends within its budget while `/-/healthy` and a
//! healthy target beside the hostile one keep answering promptly, and the
//! series beyond `limits.max_series_per_collector` are dropped with one
//! log line. A gateway claiming 10⁹ sessions is read up to
//! `limits.max_pages` pages, with one log line. Dropped values are logged
//! up to `limits.max_warnings_per_collector` lines, then counted in one.
//!
//! "Promptly" is a generous deadline: several seconds, far above what a
//! healthy answer takes on a loaded machine, far below what a worker busy
//! with a quadratic pass over 60,000 rows (12 s measured) or a blocking
//! decode would leave.

use std::time::{Duration, Instant};

use appliance_exporter::appliances::connect_secure::{active_users as ics_users, esap as ics_esap};
use appliance_exporter::appliances::enterprise_recon::{
    licenses as er2_licenses, server as er2_server,
};
use appliance_exporter::simulator::faults::{Fault, Faults};
use appliance_exporter::simulator::{
    self, connect_secure as ics, enterprise_recon as er2, sectona as pam,
};
use axum::Router;
use bytes::Bytes;

use crate::common::{Exporter, Logs, Workdir, collector_success, get, series, value};

/// Rows in each hostile list.
const ROWS: usize = 60_000;
/// Prometheus' scrape timeout in these tests, in seconds; the module
/// timeout (15 s) is the budget.
const SCRAPE_TIMEOUT: u64 = 20;
/// The longest `/-/healthy` or the healthy target may take to answer.
const PROMPT: Duration = Duration::from_secs(5);
const USER: &str = "apiuser";
const PASSWORD: &str = "Hostile-Test-Pa55";
const KEY: &str = "aG9zdGlsZS1zdWl0ZS1pY3MtYXBpLWtleQ==";

/// `row(i)` for every i below `n`, as a JSON list.
fn list_of(n: usize, row: impl Fn(usize) -> String) -> String {
    let rows: Vec<String> = (0..n).map(row).collect();
    format!("[{}]", rows.join(","))
}

/// `row(i)` for each of the `ROWS` rows, as a JSON list.
fn list(row: impl Fn(usize) -> String) -> String {
    list_of(ROWS, row)
}

/// One appliance family: its router, module and the collectors to check
/// on the healthy target.
struct Family {
    router: fn() -> Router,
    module: String,
    collector: &'static str,
}

fn er2_router() -> Router {
    er2::router(er2::Er2Config::new(
        er2::LicenseModel::NonSitewide,
        USER,
        PASSWORD,
    ))
}

fn ics_router() -> Router {
    ics::IcsSim::new(ics::IcsConfig::with_api_key(KEY)).router()
}

fn pam_router() -> Router {
    let mut config = pam::SectonaConfig::new(USER, PASSWORD, "PROD");
    config.grants = pam::demo_grants();
    pam::router(config, pam::Requests::default())
}

fn er2_family(work: &Workdir, collectors: &str, extra: &str) -> Family {
    let secret = work.write("er2.pass", PASSWORD);
    Family {
        router: er2_router,
        module: format!(
            "auths:\n  a:\n    username: {USER}\n    password_file: {}\n\
             modules:\n  m:\n    kind: enterprise_recon\n    auth: a\n    timeout: 15s\n    \
             collectors: [{collectors}]\n{extra}",
            secret.display()
        ),
        collector: "licenses",
    }
}

fn ics_family(work: &Workdir, collectors: &str, extra: &str) -> Family {
    let key = work.write("ics.key", KEY);
    Family {
        router: ics_router,
        module: format!(
            "auths:\n  a:\n    api_key_file: {}\n\
             modules:\n  m:\n    kind: connect_secure\n    auth: a\n    timeout: 15s\n    \
             collectors: [{collectors}]\n{extra}",
            key.display()
        ),
        collector: "healthcheck",
    }
}

fn pam_family(work: &Workdir) -> Family {
    let secret = work.write("pam.pass", PASSWORD);
    Family {
        router: pam_router,
        module: format!(
            "auths:\n  a:\n    username: {USER}\n    password_file: {}\n\
             modules:\n  m:\n    kind: sectona\n    auth: a\n    timeout: 15s\n    \
             instance: PROD\n    entitlements:\n{}\n",
            secret.display(),
            // One query: each query of the module would get the same
            // hostile answer.
            pam::DEMO_QUERIES.lines().next().unwrap_or_default()
        ),
        collector: "entitlements",
    }
}

/// What a scrape beside a hostile appliance left.
struct Outcome {
    metrics: String,
    logs: Logs,
    faults: Faults,
}

/// Scrapes a `hostile` appliance (answering `answers` at their paths) and
/// a `healthy` one of the same family, polling `/-/healthy` and the
/// healthy target alone the whole time; every poll must answer within
/// `PROMPT` and the scrape within its budget.
async fn beside_a_hostile_appliance(
    work: Workdir,
    family: Family,
    answers: &[(&str, String)],
) -> Outcome {
    let logs = Logs::capture();
    let faults = Faults::new();
    for (path, body) in answers {
        faults.set(path, Fault::Json(Bytes::from(body.clone())));
    }
    let hostile = simulator::start(faults.wrap((family.router)()))
        .await
        .unwrap();
    let healthy = simulator::start((family.router)()).await.unwrap();
    let yaml = format!(
        "{}targets:\n  - {{name: hostile, url: \"{}\", module: m}}\n  \
         - {{name: healthy, url: \"{}\", module: m}}\n",
        family.module,
        hostile.url(),
        healthy.url()
    );
    let exporter = Exporter::start_in(work, &yaml).await;

    let started = Instant::now();
    let metrics_url = format!("{}/metrics", exporter.url);
    let scrape = tokio::spawn(async move {
        let timeout = SCRAPE_TIMEOUT.to_string();
        get(
            &metrics_url,
            &[("X-Prometheus-Scrape-Timeout-Seconds", timeout.as_str())],
        )
        .await
    });
    let mut polls = 0;
    while !scrape.is_finished() {
        for path in ["/-/healthy", "/probe?target=healthy"] {
            let asked = Instant::now();
            let answer = exporter.get(path).await;
            let took = asked.elapsed();
            assert_eq!(answer.status, 200, "{path}: {}", answer.body);
            assert!(
                took < PROMPT,
                "{path} took {took:?} beside the hostile appliance"
            );
            if path.starts_with("/probe") {
                assert_eq!(
                    collector_success(&answer.body, "healthy", family.collector),
                    Some(1.0),
                    "{}",
                    answer.body
                );
            }
        }
        polls += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let answer = scrape.await.unwrap();
    let took = started.elapsed();
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(
        took < Duration::from_secs(SCRAPE_TIMEOUT),
        "the scrape took {took:?}, past Prometheus' {SCRAPE_TIMEOUT} s"
    );
    assert!(polls > 0, "the scrape ended before any poll");
    assert_eq!(
        collector_success(&answer.body, "healthy", family.collector),
        Some(1.0),
        "{}",
        answer.body
    );
    Outcome {
        metrics: answer.body,
        logs,
        faults,
    }
}

/// The hostile target's `collector` succeeded, and each of `values`
/// (`metric{target="hostile"}` and its value) is as expected.
fn assert_succeeded(o: &Outcome, collector: &str, values: &[(&str, f64)]) {
    assert_eq!(
        collector_success(&o.metrics, "hostile", collector),
        Some(1.0),
        "{}",
        o.logs.text()
    );
    for (metric, expected) in values {
        let selector = format!("{metric}{{target=\"hostile\"}}");
        assert_eq!(value(&o.metrics, &selector), Some(*expected), "{selector}");
    }
}

/// The hostile target's collector read the whole answer: it succeeded,
/// and its series stopped at the default limit with one log line.
fn assert_read_and_capped(o: &Outcome, collector: &str, family_prefix: &str) {
    assert_succeeded(o, collector, &[]);
    let emitted = series(&o.metrics, family_prefix)
        .into_iter()
        .filter(|s| s.contains("target=\"hostile\""))
        .count();
    assert!(
        emitted > 0,
        "no {family_prefix} series of the hostile target"
    );
    let limit = appliance_exporter::config::Limits::default().max_series_per_collector as usize;
    assert!(emitted <= limit, "{emitted} series emitted");
    let cut = o.logs.lines_with(&[
        "target=hostile",
        &format!("collector={collector}"),
        "series beyond limits.max_series_per_collector dropped",
    ]);
    assert_eq!(cut.len(), 1, "{}", o.logs.text());
}

/// A licensed ER2 answer whose `rows_key` list is `rows`.
fn licences_with(rows_key: &str, rows: &str) -> String {
    format!(
        "{{\"state\": \"licensed\", \"expires\": 1900000000, \"edition\": \"PRO\", \
         \"company\": \"Hostile\", \"{rows_key}\": {rows}}}"
    )
}

#[tokio::test]
async fn sixty_thousand_licence_pools() {
    let work = Workdir::new();
    let family = er2_family(&work, "licenses", "");
    let body = licences_with(
        "summary",
        &list(|i| {
            format!(
                "{{\"type\": \"pool-{i}\", \"comment\": \"Pool {i}\", \"total\": 5, \"usage\": 1}}"
            )
        }),
    );
    let o = beside_a_hostile_appliance(work, family, &[(er2_licenses::ENDPOINT, body)]).await;
    assert_read_and_capped(&o, "licenses", "er2_license_pool_");
}

#[tokio::test]
async fn sixty_thousand_licensed_targets_in_as_many_pools() {
    let work = Workdir::new();
    let family = er2_family(&work, "licenses", "");
    let body = licences_with("targets", &list(|i| format!("{{\"type\": \"pool-{i}\"}}")));
    let o = beside_a_hostile_appliance(work, family, &[(er2_licenses::ENDPOINT, body)]).await;
    assert_read_and_capped(&o, "licenses", "er2_licensed_targets");
}

#[tokio::test]
async fn sixty_thousand_locations() {
    let work = Workdir::new();
    let family = er2_family(&work, "licenses", "    licenses: {per_location: true}\n");
    let body = licences_with(
        "datausage",
        &list(|i| {
            format!(
                "{{\"type\": \"Server\", \"location\": \"host-{i}\", \"bytes\": 100, \"attribution\": \"server\"}}"
            )
        }),
    );
    let o = beside_a_hostile_appliance(work, family, &[(er2_licenses::ENDPOINT, body)]).await;
    assert_read_and_capped(&o, "licenses", "er2_location_data_usage_bytes");
}

#[tokio::test]
async fn sixty_thousand_risk_profiles() {
    let work = Workdir::new();
    let mut family = er2_family(&work, "risk", "");
    family.collector = "risk";
    let profiles = list(|i| {
        format!("{{\"profile_id\": \"{i}\", \"label\": \"P{i}\", \"level_id\": \"L{i}\"}}")
    });
    let o = beside_a_hostile_appliance(work, family, &[("/v1/risk/profiles", profiles)]).await;
    // Profiles are counted by level: 60,000 of them, in one series.
    assert_succeeded(&o, "risk", &[]);
    assert!(
        o.metrics.contains(&format!(
            "er2_risk_profiles{{target=\"hostile\",level=\"unknown\"}} {ROWS}"
        )),
        "{}",
        o.metrics
    );
}

#[tokio::test]
async fn sixty_thousand_lease_features() {
    let work = Workdir::new();
    let family = ics_family(&work, "healthcheck, leases", "");
    let features = list(|i| {
        format!(
            "{{\"name\": \"Feature {i}\", \"total-count\": 5, \"clients\": {{\"client-info\": [{{\"name\": \"c\", \"leased-count\": 1}}]}}}}"
        )
    });
    let body =
        format!("{{\"leased-license-counts\": {{\"features\": {{\"feature\": {features}}}}}}}");
    let o = beside_a_hostile_appliance(
        work,
        family,
        &[("/api/v1/license/license-server-lease-information", body)],
    )
    .await;
    assert_read_and_capped(&o, "leases", "ics_license_");
}

#[tokio::test]
async fn sixty_thousand_cluster_members() {
    let work = Workdir::new();
    let family = ics_family(&work, "healthcheck, cluster", "");
    let members = list(|i| {
        format!(
            "{{\"name\": \"node-{i}\", \"enabled\": true, \"notes\": \"Enabled\", \"status-code\": \"0x1b004\"}}"
        )
    });
    let body = format!("{{\"name\": \"C\", \"mode\": \"Active/Active\", \"members\": {members}}}");
    let o = beside_a_hostile_appliance(work, family, &[("/api/v1/cluster", body)]).await;
    assert_read_and_capped(&o, "cluster", "ics_cluster_");
}

#[tokio::test]
async fn sixty_thousand_sectona_rows() {
    let work = Workdir::new();
    let family = pam_family(&work);
    let rows = list(|i| {
        format!(
            "{{\"Asset Category\": \"c\", \"Asset Type\": \"t\", \"Host Name\": \"h{i}\", \
             \"Account\": \"a{i}\", \"Username\": \"u{i}\", \"Policy Name\": \"policy-{i}\", \
             \"User Group\": \"g\", \"Account Group\": \"ag\", \"Entitlement Type\": \"User\"}}"
        )
    });
    let body = format!(
        "{{\"Version\": \"1\", \"IsSuccess\": true, \"LogCode\": \"0\", \"Result\": {rows}}}"
    );
    let o =
        beside_a_hostile_appliance(work, family, &[("/API/APP/APP007/GetEntitlement", body)]).await;
    assert_read_and_capped(&o, "entitlements", "sectona_entitlements_by_policy");
}

#[tokio::test]
async fn a_gateway_claiming_a_billion_sessions_is_read_up_to_the_page_limit() {
    let work = Workdir::new();
    let family = ics_family(
        &work,
        "healthcheck, active_users",
        "    active_users: {page_size: 200, concurrency: 4}\n",
    );
    let family = Family {
        module: family
            .module
            .replace("modules:", "limits: {max_pages: 20}\nmodules:"),
        ..family
    };
    // Every page is full (200 sessions) and the total never reached.
    let records = (0..200)
        .map(|i| {
            format!(
                "{{\"session-id\": \"sid-{i}\", \"active-user-name\": \"u{i}\", \
                 \"authentication-realm\": \"Users\", \"login-node\": \"n\"}}"
            )
        })
        .collect::<Vec<_>>()
        .join(",");
    let page = format!(
        "{{\"active-users\": {{\"active-user-records\": {{\"active-user-record\": [{records}]}}, \
         \"total-matched-record-number\": 1000000000, \"total-returned-record-number\": 200, \
         \"user-login-permission\": true}}}}"
    );
    let o = beside_a_hostile_appliance(work, family, &[(ics_users::ENDPOINT, page)]).await;
    assert_eq!(o.faults.requests(ics_users::ENDPOINT), 20);
    assert_succeeded(&o, "active_users", &[]);
    let stopped = o.logs.lines_with(&[
        "target=hostile",
        "stopped at its page limit before reaching the total",
    ]);
    assert_eq!(stopped.len(), 1, "{}", o.logs.text());
}

#[tokio::test]
async fn sixty_thousand_esap_packages() {
    let work = Workdir::new();
    let family = ics_family(&work, "healthcheck, esap", "");
    let packages = list(|i| {
        format!(
            "{{\"esap-version\": \"3.{}.{}\", \"last-activated-time\": \"Never\", \
             \"upload-time\": \"Mon 18 Mar 2019 21:45:31 PDT\"}}",
            i / 1000,
            i % 1000
        )
    });
    let body = format!(
        "{{\"active-version\": \"3.3.5\", \"default-version\": \"3.3.5\", \"esap\": {packages}, \
         \"force-same-esap\": \"false\", \"opswat-sdk-version\": \"4\"}}"
    );
    let o = beside_a_hostile_appliance(work, family, &[(ics_esap::ENDPOINT, body)]).await;
    assert_succeeded(
        &o,
        "esap",
        &[
            ("ics_esap_packages", ROWS as f64),
            ("ics_esap_newer_package_available", 1.0),
        ],
    );
}

#[tokio::test]
async fn sixty_thousand_server_load_samples() {
    let work = Workdir::new();
    let family = er2_family(&work, "licenses, server", "");
    // The newest sample stands in the middle of the list, with a disk
    // figure of its own; the others are older by their index.
    let newest = ROWS / 2;
    let loads = list(|i| {
        let (timestamp, disk) = if i == newest {
            (1_718_460_000, 20.0)
        } else {
            (1_718_400_000 + i, 10.0)
        };
        format!(
            "{{\"timestamp\": {timestamp}, \"cpu\": 1.0, \"stolen_cpu\": 0.0, \"disk\": {disk:.1}}}"
        )
    });
    let body = format!(
        "{{\"host_name\": \"er-master\", \"timestamp\": 1718470000, \"version\": \"2.10.0\", \
         \"loads\": {loads}}}"
    );
    let o = beside_a_hostile_appliance(work, family, &[(er2_server::ENDPOINT, body)]).await;
    assert_succeeded(
        &o,
        "server",
        &[
            ("er2_server_load_timestamp_seconds", 1_718_460_000.0),
            ("er2_server_disk_used_ratio", 0.2),
        ],
    );
}

/// A collector's dropped values are logged up to
/// `limits.max_warnings_per_collector` lines, then one line with the count
/// of the rest; the values it could read are still reported.
#[tokio::test]
async fn dropped_values_are_logged_up_to_the_limit_then_counted() {
    let work = Workdir::new();
    let family = er2_family(
        &work,
        "licenses",
        "limits:\n  max_warnings_per_collector: 3\n",
    );
    // 30 pools without a `type` (each dropped with a warning) and one
    // good one.
    let rows = list_of(31, |i| match i {
        30 => "{\"type\": \"good\", \"comment\": \"Good\", \"total\": 5, \"usage\": 1}".to_owned(),
        _ => format!("{{\"comment\": \"Pool {i}\", \"total\": 5, \"usage\": 1}}"),
    });
    let body = licences_with("summary", &rows);
    let o = beside_a_hostile_appliance(work, family, &[(er2_licenses::ENDPOINT, body)]).await;
    assert_succeeded(&o, "licenses", &[]);
    let good = series(&o.metrics, "er2_license_pool")
        .into_iter()
        .filter(|s| s.contains("target=\"hostile\"") && s.contains("pool=\"good\""))
        .count();
    assert!(good > 0, "{}", o.metrics);
    let shown = o
        .logs
        .lines_with(&["target=hostile", "collector=licenses", "value dropped"]);
    assert_eq!(shown.len(), 3, "{}", o.logs.text());
    let counted = o.logs.lines_with(&[
        "target=hostile",
        "collector=licenses",
        "more=27",
        "more values dropped than limits.max_warnings_per_collector lets log",
    ]);
    assert_eq!(counted.len(), 1, "{}", o.logs.text());
}
