//! Connect Secure over HTTP: the paged session listing under both `start`
//! conventions and its concurrency, realm_auth keys that expire mid-scrape,
//! the XML-derived quirks, a standalone gateway, error bodies in the log,
//! refused credentials, and the demo's gateways.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use appliance_exporter::appliances::connect_secure::{COLLECTORS, active_users};
use appliance_exporter::simulator::faults::{Fault, Faults};
use appliance_exporter::simulator::{self, connect_secure as ics};

use crate::common::{
    Binary, Exporter, Workdir, collector_success, get, promtool_check_metrics, series, value,
};

const KEY: &str = "K7Z7xA54AKnv1++kcViamCCiUrEBgMSP+sHKar4EcKY=";
const ADMIN_PASSWORD: &str = "Adm1n-Pa55-never-logged";

fn admin() -> ics::Admin {
    ics::Admin {
        username: "admin1".into(),
        password: ADMIN_PASSWORD.into(),
        realm: "Admin Users".into(),
    }
}

/// The credentials the exporter is given.
enum Creds<'a> {
    Key(&'a str),
    Admin(&'a str),
}

/// A configuration with one `ics` module (page size 200, `concurrency`)
/// and the given targets.
fn config(work: &Workdir, creds: Creds<'_>, concurrency: u32, targets: &[(&str, &str)]) -> String {
    let auth = match creds {
        Creds::Key(key) => format!(
            "    api_key_file: {}\n",
            work.write("ics.key", &format!("{key}\n")).display()
        ),
        Creds::Admin(password) => format!(
            "    username: admin1\n    password_file: {}\n    realm: Admin Users\n",
            work.write("ics.pass", &format!("{password}\n")).display()
        ),
    };
    let mut yaml = format!(
        "auths:\n  ics_auth:\n{auth}\
         modules:\n  ics:\n    kind: connect_secure\n    auth: ics_auth\n    timeout: 20s\n    \
         active_users: {{page_size: 200, concurrency: {concurrency}}}\n    \
         leases: {{capacity: {{\"Concurrent Users\": 250}}}}\n\
         targets:\n"
    );
    for (name, url) in targets {
        yaml.push_str(&format!(
            "  - {{name: {name}, url: \"{url}\", module: ics}}\n"
        ));
    }
    yaml
}

async fn serve(config: ics::IcsConfig) -> (Arc<ics::IcsSim>, simulator::Running) {
    let sim = ics::IcsSim::new(config);
    let running = sim.start().await.unwrap();
    (sim, running)
}

/// A simulated gateway and an exporter with one target, `vpn`, on it.
struct Setup {
    sim: Arc<ics::IcsSim>,
    exporter: Exporter,
    _gateway: simulator::Running,
}

async fn setup(cfg: ics::IcsConfig, creds: Creds<'_>, concurrency: u32) -> Setup {
    let (sim, running) = serve(cfg).await;
    setup_on(sim, running, creds, concurrency).await
}

/// An exporter with one target, `vpn`, on the running gateway `sim`.
async fn setup_on(
    sim: Arc<ics::IcsSim>,
    running: simulator::Running,
    creds: Creds<'_>,
    concurrency: u32,
) -> Setup {
    let work = Workdir::new();
    let url = running.url();
    let yaml = config(&work, creds, concurrency, &[("vpn", &url)]);
    let exporter = Exporter::start_in(work, &yaml).await;
    Setup {
        sim,
        exporter,
        _gateway: running,
    }
}

fn assert_all_succeeded(m: &str, target: &str) {
    assert_eq!(
        value(m, &format!("ics_up{{target=\"{target}\"}}")),
        Some(1.0),
        "{m}"
    );
    for c in COLLECTORS {
        assert_eq!(
            collector_success(m, target, c),
            Some(1.0),
            "{target} {c}: {m}"
        );
    }
}

/// `ics_active_sessions_listed` of `target` by (realm, node).
fn listed(m: &str, target: &str) -> BTreeMap<(String, String), u64> {
    let prefix = format!("ics_active_sessions_listed{{target=\"{target}\",realm=\"");
    series(m, &prefix)
        .into_iter()
        .map(|line| {
            let rest = &line[prefix.len()..];
            let (realm, rest) = rest.split_once("\",node=\"").unwrap();
            let (node, v) = rest.split_once("\"} ").unwrap();
            ((realm.to_owned(), node.to_owned()), v.parse().unwrap())
        })
        .collect()
}

fn sessions(count: usize, start: ics::StartBase, is_last_record: bool) -> ics::Sessions {
    ics::Sessions {
        count,
        users: count * 3 / 4,
        realms: vec!["Users".into(), "Contractors".into(), "Admin Users".into()],
        nodes: vec!["node-a".into(), "node-b".into()],
        start,
        is_last_record,
        login_permitted: true,
        reported_total: None,
        connections: ics::Connections {
            transports: vec![
                Some("ESP".into()),
                Some("SSL".into()),
                Some("esp".into()),
                None,
            ],
            // More versions than the ten reported by name.
            client_versions: (0..25)
                .map(|v| Some(format!("22.7.{v}")))
                .chain([None])
                .collect(),
            auth_servers: vec![Some("AD".into()), Some("RADIUS".into()), None],
            host_check_failures: 7,
        },
    }
}

/// `metric{target="vpn",LABEL="v"} n` as (v, n).
fn by_label(metrics: &str, metric: &str, label: &str) -> BTreeMap<String, u64> {
    let prefix = format!("{metric}{{target=\"vpn\",{label}=\"");
    metrics
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .map(|rest| {
            let (v, n) = rest.split_once("\"} ").unwrap();
            (v.to_owned(), n.parse().unwrap())
        })
        .collect()
}

/// What the breakdown of `counts` by its `top` most common values should
/// say: those values, `other` for the rest and `none` for `null`.
fn expected_top(counts: &BTreeMap<Option<String>, u64>, top: usize) -> BTreeMap<String, u64> {
    let mut named: Vec<(&String, u64)> = counts
        .iter()
        .filter_map(|(v, n)| Some((v.as_ref()?, *n)))
        .collect();
    named.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let other = named.iter().skip(top).map(|(_, n)| n).sum();
    let mut out: BTreeMap<String, u64> = named
        .into_iter()
        .take(top)
        .map(|(v, n)| (v.clone(), n))
        .collect();
    out.insert("other".into(), other);
    out.insert("none".into(), counts.get(&None).copied().unwrap_or(0));
    out
}

/// The session breakdown of the scrape equals the simulator's sessions.
fn assert_breakdown(m: &str, sim: &ics::IcsSim, case: &str) {
    let c = sim.connection_counts();
    let mut transports = BTreeMap::from([
        ("esp".to_owned(), 0),
        ("ssl".to_owned(), 0),
        ("none".to_owned(), 0),
        ("other".to_owned(), 0),
    ]);
    for (mode, n) in &c.by_transport {
        let label = match mode.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None => "none".to_owned(),
            Some(m @ ("esp" | "ssl")) => m.to_owned(),
            Some(_) => "other".to_owned(),
        };
        *transports.get_mut(&label).unwrap() += n;
    }
    assert_eq!(
        by_label(m, "ics_active_sessions_by_transport", "mode"),
        transports,
        "{case}"
    );
    let versions = by_label(m, "ics_active_sessions_by_client_version", "version");
    assert_eq!(versions.len(), 12, "ten versions, other and none: {case}");
    assert_eq!(versions, expected_top(&c.by_client_version, 10), "{case}");
    assert_eq!(
        by_label(m, "ics_active_sessions_by_auth_server", "server"),
        expected_top(&c.by_auth_server, 10),
        "{case}"
    );
    assert_eq!(
        value(m, "ics_active_sessions_host_check_failed{target=\"vpn\"}"),
        Some(c.host_check_failed as f64),
        "{case}"
    );
    assert!(c.host_check_failed > 0);
    // Session 0 signed in first.
    assert_eq!(
        value(
            m,
            "ics_active_sessions_oldest_sign_in_timestamp_seconds{target=\"vpn\"}"
        ),
        Some(1_699_317_427.743_783),
        "{case}"
    );
}

/// One scrape, with an API key, of a gateway with `sessions`.
struct Listing {
    sim: Arc<ics::IcsSim>,
    metrics: String,
    /// `ics_active_sessions`.
    total: Option<f64>,
    /// `ics_active_sessions_listed` by (realm, node).
    listed: BTreeMap<(String, String), u64>,
}

impl Listing {
    async fn read(mut cfg: ics::IcsConfig, sessions: ics::Sessions, concurrency: u32) -> Self {
        cfg.api_keys = vec![KEY.into()];
        cfg.sessions = sessions;
        let Setup {
            sim,
            exporter,
            _gateway,
        } = setup(cfg, Creds::Key(KEY), concurrency).await;
        let metrics = exporter.metrics().await;
        assert_eq!(
            collector_success(&metrics, "vpn", "active_users"),
            Some(1.0),
            "{metrics}"
        );
        Self {
            total: value(&metrics, "ics_active_sessions{target=\"vpn\"}"),
            listed: listed(&metrics, "vpn"),
            sim,
            metrics,
        }
    }

    fn listed_sum(&self) -> u64 {
        self.listed.values().sum()
    }
}

#[tokio::test]
async fn every_session_is_counted_once_under_either_start_convention() {
    // (sessions, start, is-last-record, pages a complete listing takes)
    let cases = [
        (1234, ics::StartBase::Zero, false, 7),
        (1234, ics::StartBase::One, false, 7),
        (1234, ics::StartBase::One, true, 7),
        // A multiple of the page size: a 1-based listing needs one more page.
        (1400, ics::StartBase::Zero, false, 7),
        (1400, ics::StartBase::One, false, 8),
    ];
    for (count, start, is_last_record, pages) in cases {
        let case = format!("{count} sessions, start {start:?}, is-last-record {is_last_record}");
        let l = Listing::read(
            ics::IcsConfig::default(),
            sessions(count, start, is_last_record),
            4,
        )
        .await;
        let m = &l.metrics;
        assert_all_succeeded(m, "vpn");
        assert_eq!(l.total, Some(count as f64), "{case}");
        assert_eq!(l.listed_sum(), count as u64, "{case}: {m}");
        assert_eq!(l.listed, l.sim.sessions_by_realm_and_node(), "{case}");
        assert_eq!(
            value(m, "ics_active_users{target=\"vpn\"}"),
            Some(l.sim.distinct_users() as f64),
            "{case}"
        );
        assert_eq!(
            value(m, "ics_user_login_permitted{target=\"vpn\"}"),
            Some(1.0)
        );
        assert_breakdown(m, &l.sim, &case);
        assert_eq!(l.sim.active_users_requests(), pages, "{case}");
    }
}

#[tokio::test]
async fn the_listing_ends_on_a_short_page_or_the_last_record_marker() {
    // The gateway reports more sessions than it lists (sessions that ended
    // while the pages were read): the end of the listing is the gateway's
    // word, not the total.
    // (sessions, is-last-record, pages the listing takes)
    for (count, is_last_record, pages) in [(1234, false, 7), (1200, true, 6), (1200, false, 7)] {
        let mut listed_sessions = sessions(count, ics::StartBase::Zero, is_last_record);
        listed_sessions.reported_total = Some(1300);
        let l = Listing::read(ics::IcsConfig::default(), listed_sessions, 1).await;
        assert_eq!(l.total, Some(1300.0));
        assert_eq!(l.listed_sum(), count as u64);
        let case = format!("{count} sessions, is-last-record {is_last_record}");
        assert_eq!(l.sim.active_users_requests(), pages, "{case}");
    }
}

#[tokio::test]
async fn a_gateway_that_ignores_start_cannot_keep_the_listing_going() {
    let broken = sessions(1000, ics::StartBase::Ignored, false);
    let l = Listing::read(ics::IcsConfig::default(), broken, 2).await;
    assert_eq!(l.total, Some(1000.0));
    assert_eq!(l.listed_sum(), 200, "only the first page exists");
    // Five pages make the listing, two more are allowed for a 1-based
    // `start` and for shifting sessions; then it stops.
    assert_eq!(l.sim.active_users_requests(), 7);
}

#[tokio::test]
async fn pre_rendered_pages_list_as_rendered_ones() {
    // The benchmark's gateways serve pages rendered once at start.
    for start in [ics::StartBase::Zero, ics::StartBase::One] {
        let cfg = ics::IcsConfig {
            prerendered_page_size: Some(200),
            single_object: true,
            ..ics::IcsConfig::default()
        };
        let l = Listing::read(cfg, sessions(1201, start, true), 4).await;
        assert_all_succeeded(&l.metrics, "vpn");
        assert_eq!(l.listed_sum(), 1201, "start {start:?}: {}", l.metrics);
        assert_eq!(l.listed, l.sim.sessions_by_realm_and_node());
    }
}

#[tokio::test]
async fn pages_after_the_first_are_in_flight_together() {
    let cfg = ics::IcsConfig {
        latency: Duration::from_millis(30),
        ..ics::IcsConfig::default()
    };
    let l = Listing::read(cfg, sessions(2000, ics::StartBase::Zero, true), 4).await;
    assert_eq!(l.listed_sum(), 2000);
    assert_eq!(l.sim.active_users_requests(), 10);
    let max = l.sim.max_active_users_in_flight();
    assert!((2..=4).contains(&max), "{max} pages were in flight at most");
}

#[tokio::test]
async fn the_next_listing_asks_for_the_pages_the_last_one_took_with_the_first() {
    // Slow answers, so that pages asked for together are in flight together.
    let cfg = ics::IcsConfig {
        latency: Duration::from_millis(200),
        api_keys: vec![KEY.into()],
        sessions: sessions(300, ics::StartBase::Zero, true),
        ..ics::IcsConfig::default()
    };
    let s = setup(cfg, Creds::Key(KEY), 4).await;
    let m = s.exporter.metrics().await;
    assert_eq!(listed(&m, "vpn").values().sum::<u64>(), 300, "{m}");
    assert_eq!(s.sim.active_users_requests(), 2);
    // Nothing was known of the gateway: the first page came alone.
    assert_eq!(s.sim.max_active_users_in_flight(), 1);
    let m = s.exporter.metrics().await;
    assert_eq!(listed(&m, "vpn").values().sum::<u64>(), 300, "{m}");
    assert_eq!(s.sim.active_users_requests(), 4);
    // Now both pages were asked for at once.
    assert_eq!(s.sim.max_active_users_in_flight(), 2);
}

/// A gateway of `count` sessions behind faults, and an exporter with one
/// target on it, `vpn`, that asks for `concurrency` pages at once.
async fn setup_with_faults(count: usize, concurrency: u32) -> (Setup, Faults) {
    let sim = ics::IcsSim::new(ics::IcsConfig {
        api_keys: vec![KEY.into()],
        sessions: sessions(count, ics::StartBase::Zero, false),
        ..ics::IcsConfig::default()
    });
    let faults = Faults::new();
    let running = simulator::start(faults.wrap(sim.router())).await.unwrap();
    let setup = setup_on(sim, running, Creds::Key(KEY), concurrency).await;
    (setup, faults)
}

/// A page of the listing: sessions `ids`, and what the page says of the
/// whole.
fn page(ids: std::ops::Range<usize>, total: usize, is_last: bool) -> Fault {
    let records: Vec<String> = ids
        .map(|i| {
            format!(
                r#"{{"session-id": "s{i}", "active-user-name": "u{i}", "authentication-realm": "Users", "login-node": "node-a"}}"#
            )
        })
        .collect();
    Fault::Json(
        format!(
            r#"{{"active-users": {{"active-user-records": {{"active-user-record": [{}]}}, "total-matched-record-number": {total}, "user-login-permission": true, "is-last-record": {is_last}}}}}"#,
            records.join(",")
        )
        .into(),
    )
}

/// The listing's path.
const LISTING: &str = active_users::ENDPOINT;

/// A gateway of 2,000 sessions behind faults, listed once by an exporter
/// that asks for 4 pages at once: the exporter now knows that the listing
/// takes 10 pages.
async fn listed_once() -> (Setup, Faults) {
    let (s, faults) = setup_with_faults(2000, 4).await;
    let m = s.exporter.metrics().await;
    assert_eq!(listed(&m, "vpn").values().sum::<u64>(), 2000, "{m}");
    assert_eq!(faults.requests(LISTING), 10);
    (s, faults)
}

#[tokio::test]
async fn a_listing_that_shrank_costs_the_pages_asked_for_once() {
    let (s, faults) = listed_once().await;
    // One session is left: every page says so.
    faults.set(LISTING, page(0..1, 1, true));
    let m = s.exporter.metrics().await;
    assert_all_succeeded(&m, "vpn");
    assert_eq!(value(&m, "ics_active_sessions{target=\"vpn\"}"), Some(1.0));
    assert_eq!(listed(&m, "vpn").values().sum::<u64>(), 1, "{m}");
    // The first page and three more, asked for on the last listing's word.
    assert_eq!(faults.requests(LISTING), 10 + 4);
    let m = s.exporter.metrics().await;
    assert_eq!(listed(&m, "vpn").values().sum::<u64>(), 1, "{m}");
    assert_eq!(faults.requests(LISTING), 10 + 4 + 1);
}

#[tokio::test]
async fn a_page_refused_past_the_end_of_a_shrunk_listing_fails_nothing() {
    let (s, faults) = listed_once().await;
    // 240 sessions are left, on two pages (the gateway counts 250: the
    // listing ends on its last-record mark, so every page asked for is
    // waited for); the gateway refuses a `start` past them.
    faults.set(LISTING, page(0..200, 250, false));
    faults.set(
        &format!("{LISTING}?number=200&start=200"),
        page(200..240, 250, true),
    );
    for start in [400, 600] {
        faults.set(
            &format!("{LISTING}?number=200&start={start}"),
            Fault::Status(400),
        );
    }
    let m = s.exporter.metrics().await;
    assert_all_succeeded(&m, "vpn");
    assert_eq!(listed(&m, "vpn").values().sum::<u64>(), 240, "{m}");
    assert_eq!(faults.requests(LISTING), 10 + 4);
    // A page the listing needs fails it, refused the same way.
    faults.set(
        &format!("{LISTING}?number=200&start=200"),
        Fault::Status(400),
    );
    let m = s.exporter.metrics().await;
    assert_eq!(
        collector_success(&m, "vpn", "active_users"),
        Some(0.0),
        "{m}"
    );
}

#[tokio::test]
async fn a_key_that_expires_mid_scrape_is_renewed_and_the_scrape_succeeds() {
    let mut cfg = ics::IcsConfig::with_realm_auth(admin());
    // The first key serves five requests; the collectors need twelve.
    cfg.key_uses = vec![5, 1000];
    cfg.sessions = sessions(1234, ics::StartBase::Zero, false);
    cfg.latency = Duration::from_millis(5);
    let Setup {
        sim,
        exporter,
        _gateway,
    } = setup(cfg, Creds::Admin(ADMIN_PASSWORD), 4).await;

    let m = exporter.metrics().await;
    assert_all_succeeded(&m, "vpn");
    assert_eq!(listed(&m, "vpn").values().sum::<u64>(), 1234, "{m}");
    // How many requests met the expired key depends on how many were in
    // flight; the exporter counts each of them.
    let refused: f64 = series(
        &m,
        "appliance_exporter_upstream_requests_total{target=\"vpn\"",
    )
    .iter()
    .filter(|l| l.contains("code=\"401\""))
    .map(|l| l.rsplit_once(' ').unwrap().1.parse::<f64>().unwrap())
    .sum();
    assert!(sim.unauthorized_answers() >= 1, "the first key did expire");
    assert_eq!(refused, sim.unauthorized_answers() as f64, "{m}");
    assert_eq!(sim.realm_auth_calls(), 2, "one sign-in, one renewal");

    // The renewed key is kept for the next scrape.
    let m = exporter.metrics().await;
    assert_all_succeeded(&m, "vpn");
    assert_eq!(sim.realm_auth_calls(), 2);

    // The admin session times out between scrapes.
    sim.expire_keys();
    let m = exporter.metrics().await;
    assert_all_succeeded(&m, "vpn");
    assert_eq!(sim.realm_auth_calls(), 3);
}

#[tokio::test]
async fn collectors_refused_together_cause_one_sign_in() {
    let mut cfg = ics::IcsConfig::with_realm_auth(admin());
    // The first key is refused on its first use, by every collector at once.
    cfg.key_uses = vec![0, 1000];
    cfg.latency = Duration::from_millis(20);
    let Setup {
        sim,
        exporter,
        _gateway,
    } = setup(cfg, Creds::Admin(ADMIN_PASSWORD), 4).await;
    let m = exporter.metrics().await;
    assert_all_succeeded(&m, "vpn");
    // Every collector but the healthcheck (which needs no key) met the 401
    // with the same key; one of them signed in again.
    assert_eq!(sim.unauthorized_answers(), COLLECTORS.len() as u64 - 1);
    assert_eq!(sim.realm_auth_calls(), 2);
}

#[tokio::test]
async fn a_key_is_shared_by_targets_and_probes_of_the_same_gateway() {
    let (sim, running) = serve(ics::IcsConfig::with_realm_auth(admin())).await;
    let work = Workdir::new();
    let url = running.url();
    let yaml = config(
        &work,
        Creds::Admin(ADMIN_PASSWORD),
        4,
        &[("a", &url), ("b", &url)],
    )
    .replace(
        "    timeout: 20s\n",
        "    timeout: 20s\n    probe: {allowed_hosts: [127.0.0.1]}\n",
    );
    let exporter = Exporter::start_in(work, &yaml).await;
    let m = exporter.metrics().await;
    assert_all_succeeded(&m, "a");
    assert_all_succeeded(&m, "b");
    let probe = exporter
        .get(&format!("/probe?target={url}&module=ics"))
        .await;
    assert_eq!(probe.status, 200, "{}", probe.body);
    assert_all_succeeded(&probe.body, &url);
    assert_eq!(sim.realm_auth_calls(), 1);
}

#[tokio::test]
async fn a_wrong_api_key_sets_up_to_zero() {
    let cfg = ics::IcsConfig::with_api_key(KEY);
    let Setup {
        exporter, _gateway, ..
    } = setup(cfg, Creds::Key("not-the-key"), 4).await;
    let m = exporter.metrics().await;
    assert_eq!(value(&m, "ics_up{target=\"vpn\"}"), Some(0.0), "{m}");
    for c in COLLECTORS.iter().filter(|c| **c != "healthcheck") {
        assert_eq!(collector_success(&m, "vpn", c), Some(0.0), "{c}: {m}");
    }
    assert_eq!(
        collector_success(&m, "vpn", "healthcheck"),
        Some(1.0),
        "the healthcheck needs no key"
    );
    assert_eq!(
        value(
            &m,
            "appliance_exporter_upstream_requests_total{target=\"vpn\",endpoint=\"/api/v1/cluster\",code=\"401\"}"
        ),
        Some(1.0),
        "{m}"
    );
    assert!(
        series(&m, "ics_cluster_info{target=\"vpn\"").is_empty(),
        "{m}"
    );
    let landing = exporter.get("/").await;
    assert!(
        landing.body.contains(
            "/api/v1/cluster: HTTP 401: Invalid API key or the admin session has expired"
        ),
        "{}",
        landing.body
    );
}

#[tokio::test]
async fn a_wrong_admin_password_signs_in_once_per_scrape() {
    let cfg = ics::IcsConfig::with_realm_auth(admin());
    let Setup {
        sim,
        exporter,
        _gateway,
    } = setup(cfg, Creds::Admin("wrong-password"), 4).await;
    for scrape in 1..=2 {
        let m = exporter.metrics().await;
        assert_eq!(value(&m, "ics_up{target=\"vpn\"}"), Some(0.0), "{m}");
        for c in COLLECTORS {
            assert_eq!(collector_success(&m, "vpn", c), Some(0.0), "{c}: {m}");
        }
        assert_eq!(
            sim.realm_auth_calls(),
            scrape,
            "not one sign-in per collector"
        );
    }
    let landing = exporter.get("/").await;
    assert!(
        landing
            .body
            .contains("/api/v1/realm_auth: HTTP 401: Invalid username or password"),
        "{}",
        landing.body
    );
}

#[tokio::test]
async fn single_objects_and_numbers_as_strings() {
    let cfg = ics::IcsConfig {
        single_object: true,
        string_numbers: true,
        ..ics::IcsConfig::default()
    };
    // The second page holds one session: sent as an object.
    let l = Listing::read(cfg, sessions(201, ics::StartBase::Zero, true), 4).await;
    let m = &l.metrics;
    assert_all_succeeded(m, "vpn");
    assert_eq!(l.total, Some(201.0), "{m}");
    assert_eq!(l.listed_sum(), 201);
    assert_eq!(
        value(m, "ics_cpu_utilization_ratio{target=\"vpn\"}"),
        Some(0.08),
        "{m}"
    );
    assert!(
        series(m, "ics_disk_utilization_ratio{target=\"vpn\"").is_empty(),
        "-1 is unknown"
    );
    assert_eq!(
        value(m, "ics_max_licensed_users_reached{target=\"vpn\"}"),
        Some(0.0)
    );
    assert_eq!(
        value(
            m,
            "ics_license_leased{target=\"vpn\",feature=\"Concurrent Users\",client=\"client1\"}"
        ),
        Some(200.0),
        "{m}"
    );
    assert_eq!(
        value(
            m,
            "ics_license_leased{target=\"vpn\",feature=\"Named Users\",client=\"client1\"}"
        ),
        Some(0.0),
        "a single client-info object"
    );
    assert_eq!(
        value(
            m,
            "ics_license_feature_licenses{target=\"vpn\",feature=\"Concurrent Users\"}"
        ),
        Some(200.0)
    );
    assert_eq!(
        value(
            m,
            "ics_license_capacity{target=\"vpn\",feature=\"Concurrent Users\"}"
        ),
        Some(250.0)
    );
    assert_eq!(
        value(m, "ics_named_users{target=\"vpn\",scope=\"local\"}"),
        Some(4.0)
    );
    assert_eq!(
        value(
            m,
            "ics_software_info{target=\"vpn\",name=\"IVE-OS\",version=\"9.1R7\",build=\"6087\"}"
        ),
        Some(1.0),
        "{m}"
    );
    assert_eq!(
        value(
            m,
            "ics_cluster_member_status_code{target=\"vpn\",member=\"node-51-39\"}"
        ),
        Some(f64::from(0x1b004)),
        "{m}"
    );
}

#[tokio::test]
async fn the_esap_packages_as_documented_and_as_a_single_object() {
    let documented = ics::IcsConfig::with_api_key(KEY);
    let mut single = ics::IcsConfig::with_api_key(KEY);
    single.single_object = true;
    single.esaps = r#"{"active-version": "3.3.10", "default-version": "3.3.5", "esap": [
        {"esap-version": "3.3.10", "last-activated-time": "Tue 04 Nov 2025 09:12:40 PST"}]}"#
        .into();
    let (_a, a) = serve(documented).await;
    let (_b, b) = serve(single).await;
    let work = Workdir::new();
    let (ua, ub) = (a.url(), b.url());
    let yaml = config(&work, Creds::Key(KEY), 4, &[("doc", &ua), ("one", &ub)]);
    let exporter = Exporter::start_in(work, &yaml).await;
    let m = exporter.metrics().await;
    for t in ["doc", "one"] {
        assert_eq!(collector_success(&m, t, "esap"), Some(1.0), "{t}: {m}");
    }
    let expected = [
        (
            "ics_esap_info{target=\"doc\",active_version=\"3.3.5\",default_version=\"3.3.5\",opswat_sdk_version=\"4\"}",
            1.0,
        ),
        ("ics_esap_packages{target=\"doc\"}", 3.0),
        ("ics_esap_newer_package_available{target=\"doc\"}", 1.0),
        // Sun 17 Mar 2019 23:54:12 PDT.
        (
            "ics_esap_active_activated_timestamp_seconds{target=\"doc\"}",
            1_552_892_052.0,
        ),
        (
            "ics_esap_info{target=\"one\",active_version=\"3.3.10\",default_version=\"3.3.5\",opswat_sdk_version=\"\"}",
            1.0,
        ),
        ("ics_esap_packages{target=\"one\"}", 1.0),
        ("ics_esap_newer_package_available{target=\"one\"}", 0.0),
        // Tue 04 Nov 2025 17:12:40 UTC.
        (
            "ics_esap_active_activated_timestamp_seconds{target=\"one\"}",
            1_762_276_360.0,
        ),
    ];
    for (s, v) in expected {
        assert_eq!(value(&m, s), Some(v), "{s}: {m}");
    }
    assert_eq!(
        value(
            &m,
            "appliance_exporter_upstream_requests_total{target=\"doc\",endpoint=\"/api/v1/configuration/authentication/endpoint/host-checker/esaps\",code=\"200\"}"
        ),
        Some(1.0),
        "labelled by the path, without the query: {m}"
    );
}

#[tokio::test]
async fn a_body_that_is_not_the_esap_answer_fails_only_that_collector() {
    let mut cfg = ics::IcsConfig::with_api_key(KEY);
    cfg.esaps = "<html>Maintenance</html>".into();
    let Setup {
        exporter, _gateway, ..
    } = setup(cfg, Creds::Key(KEY), 4).await;
    let m = exporter.metrics().await;
    assert_eq!(collector_success(&m, "vpn", "esap"), Some(0.0), "{m}");
    for c in COLLECTORS.iter().filter(|c| **c != "esap") {
        assert_eq!(collector_success(&m, "vpn", c), Some(1.0), "{c}: {m}");
    }
    assert_eq!(value(&m, "ics_up{target=\"vpn\"}"), Some(1.0), "{m}");
    assert!(series(&m, "ics_esap_").is_empty(), "{m}");
}

#[tokio::test]
async fn a_standalone_gateway_is_not_a_failure() {
    let mut not_found = ics::IcsConfig::with_api_key(KEY);
    not_found.cluster = ics::ClusterAnswer::NotFound;
    let mut empty = ics::IcsConfig::with_api_key(KEY);
    empty.cluster = ics::ClusterAnswer::Body("{}".into());
    let mut no_members = ics::IcsConfig::with_api_key(KEY);
    no_members.cluster = ics::ClusterAnswer::Body(r#"{"members": [], "name": ""}"#.into());
    let (_a, a) = serve(not_found).await;
    let (_b, b) = serve(empty).await;
    let (_c, c) = serve(no_members).await;
    let work = Workdir::new();
    let (ua, ub, uc) = (a.url(), b.url(), c.url());
    let yaml = config(
        &work,
        Creds::Key(KEY),
        4,
        &[("a", &ua), ("b", &ub), ("c", &uc)],
    );
    let exporter = Exporter::start_in(work, &yaml).await;
    let m = exporter.metrics().await;
    for t in ["a", "b", "c"] {
        assert_all_succeeded(&m, t);
        assert!(
            series(&m, &format!("ics_cluster_info{{target=\"{t}\"")).is_empty(),
            "{m}"
        );
        assert!(
            series(&m, &format!("ics_cluster_member_leader{{target=\"{t}\"")).is_empty(),
            "{m}"
        );
    }
}

#[tokio::test]
async fn the_error_message_of_the_gateway_reaches_the_log_and_no_secret_does() {
    let mut cfg = ics::IcsConfig::with_realm_auth(admin());
    cfg.failures = vec![ics::Failure {
        path: "/api/v1/license/license-server-lease-information".into(),
        status: 400,
        message: "This appliance is not a license server".into(),
    }];
    let (_sim, running) = serve(cfg).await;
    let work = Workdir::new();
    let url = running.url();
    let yaml = config(&work, Creds::Admin(ADMIN_PASSWORD), 4, &[("vpn", &url)]);
    let path = work.write("config.yml", &yaml);
    let bin = Binary::start(
        &["--config.file", path.to_str().unwrap(), "--log.level=debug"],
        &[],
    );
    let m = get(&format!("{}/metrics", bin.url), &[]).await;
    assert_eq!(
        collector_success(&m.body, "vpn", "leases"),
        Some(0.0),
        "{}",
        m.body
    );
    assert_eq!(
        collector_success(&m.body, "vpn", "system"),
        Some(1.0),
        "{}",
        m.body
    );
    assert_eq!(
        value(&m.body, "ics_up{target=\"vpn\"}"),
        Some(1.0),
        "not a credentials failure"
    );
    let log = bin.log_with(&["collector failed", "collector=leases"]);
    let line = log
        .lines()
        .find(|l| l.contains("collector failed") && l.contains("collector=leases"))
        .unwrap_or_else(|| panic!("no failure line for leases: {log}"));
    assert!(line.contains("target=vpn"), "{line}");
    assert!(
        line.contains("endpoint=/api/v1/license/license-server-lease-information"),
        "{line}"
    );
    assert!(
        line.contains("HTTP 400: This appliance is not a license server"),
        "{line}"
    );
    use base64::Engine as _;
    let admin_header =
        base64::engine::general_purpose::STANDARD.encode(format!("admin1:{ADMIN_PASSWORD}"));
    // Keys the simulator issues start with this (base64 of "realm-auth-key-").
    let issued_key = "cmVhbG0tYXV0aC1rZXkt";
    for secret in [ADMIN_PASSWORD, admin_header.as_str(), issued_key] {
        assert!(!log.contains(secret), "{secret} appears in the log");
        assert!(!m.body.contains(secret), "{secret} appears in the metrics");
    }
}

#[tokio::test]
async fn the_demo_gateways_answer_every_collector_and_pass_promtool() {
    let dir = Workdir::new();
    let mut sims = Vec::new();
    let part = ics::demo(dir.path(), &mut sims).await.unwrap();
    let yaml = format!(
        "auths:\n{}modules:\n{}targets:\n{}",
        part.auths, part.modules, part.targets
    );
    let exporter = Exporter::start(&yaml).await;
    let m = exporter.metrics().await;
    for t in ["vpn-cluster", "vpn-dr"] {
        assert_all_succeeded(&m, t);
    }
    if let Some((ok, out)) = promtool_check_metrics(&m) {
        assert!(ok, "promtool check metrics: {out}\n{m}");
    }
    assert_eq!(listed(&m, "vpn-cluster").values().sum::<u64>(), 480);
    assert_eq!(
        value(&m, "ics_active_sessions{target=\"vpn-cluster\"}"),
        Some(480.0)
    );
    assert_eq!(
        value(
            &m,
            "ics_cluster_member_reachable{target=\"vpn-cluster\",member=\"ics-node-c\"}"
        ),
        Some(0.0)
    );
    assert_eq!(
        value(
            &m,
            "ics_cluster_member_leader{target=\"vpn-cluster\",member=\"ics-node-a\"}"
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &m,
            "ics_cluster_vip_owner{target=\"vpn-dr\",vip=\"internal\",member=\"node-51-39\"}"
        ),
        Some(1.0)
    );
    assert_eq!(
        value(&m, "ics_named_users{target=\"vpn-dr\",scope=\"pps\"}"),
        Some(1.0)
    );
    assert_eq!(
        value(
            &m,
            "ics_license_capacity{target=\"vpn-cluster\",feature=\"Concurrent Users\"}"
        ),
        Some(250.0)
    );
    // 3.3.10 is active on the cluster, above 3.3.9; the document's newer
    // packages on vpn-dr were never activated.
    for (target, newer) in [("vpn-cluster", 0.0), ("vpn-dr", 1.0)] {
        assert_eq!(
            value(
                &m,
                &format!("ics_esap_newer_package_available{{target=\"{target}\"}}")
            ),
            Some(newer),
            "{target}: {m}"
        );
    }
}
