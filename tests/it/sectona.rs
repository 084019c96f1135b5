//! Sectona PAM over HTTP: several GetEntitlement queries of each
//! entitlement type, a failing query beside succeeding ones, a failed
//! request that keeps the other queries' series, bad credentials, a wrong
//! instance, the request bodies as sent, and the demo's part.

use std::collections::{BTreeMap, BTreeSet};

use appliance_exporter::simulator::{self, sectona as sim};

use crate::common::{Binary, Exporter, Workdir, get, promtool_check_metrics, series, value};

const USER: &str = "pamapi";
const PASSWORD: &str = "S3ctona-Pa55-never-shown";
const INSTANCE: &str = "PROD";

/// A Sectona server holding the demo's grants, and what it receives.
async fn server(tune: impl FnOnce(&mut sim::SectonaConfig)) -> (simulator::Running, sim::Requests) {
    let mut config = sim::SectonaConfig::new(USER, PASSWORD, INSTANCE);
    config.grants = sim::demo_grants();
    tune(&mut config);
    let requests = sim::Requests::default();
    let running = simulator::start(sim::router(config, requests.clone()))
        .await
        .unwrap();
    (running, requests)
}

/// A configuration with module `pam` (the demo's nine queries on
/// `instance`, credentials `password`) and the given targets.
fn config(work: &Workdir, password: &str, instance: &str, targets: &[(&str, String)]) -> String {
    let secret = work.write("pam.pass", password);
    let mut yaml = format!(
        "auths:\n  pam:\n    username: {USER}\n    password_file: {}\n\
         modules:\n  pam:\n    kind: sectona\n    auth: pam\n    timeout: 10s\n    \
         instance: {instance}\n    entitlements:\n{}\
         targets:\n",
        secret.display(),
        sim::DEMO_QUERIES
    );
    for (name, url) in targets {
        yaml.push_str(&format!(
            "  - {{name: {name}, url: \"{url}\", module: pam}}\n"
        ));
    }
    yaml
}

async fn scrape(password: &str, instance: &str, targets: &[(&str, String)]) -> String {
    let work = Workdir::new();
    let yaml = config(&work, password, instance, targets);
    let exporter = Exporter::start_in(work, &yaml).await;
    exporter.metrics().await
}

fn success(m: &str, target: &str) -> Option<f64> {
    value(
        m,
        &format!(
            "appliance_exporter_collector_success{{target=\"{target}\",collector=\"entitlements\"}}"
        ),
    )
}

/// The demo's queries: (name, entitlement type, rows, rows by policy, rows
/// by asset type), worked out by hand from `demo_grants`.
type Expected = (
    &'static str,
    &'static str,
    f64,
    &'static [(&'static str, f64)],
    &'static [(&'static str, f64)],
);
#[rustfmt::skip]
const EXPECTED: [Expected; 9] = [
    ("alice", "User", 3.0, &[("Break Glass", 1.0), ("DBA Full Access", 1.0), ("Linux Admins", 1.0)], &[("Linux", 1.0), ("MSSQL", 1.0), ("Windows", 1.0)]),
    ("bob", "User", 2.0, &[("DBA Read Only", 1.0), ("Deployers", 1.0)], &[("Linux", 1.0), ("MSSQL", 1.0)]),
    ("carol", "User", 2.0, &[("Linux Admins", 1.0), ("Windows Admins", 1.0)], &[("Linux", 1.0), ("Windows", 1.0)]),
    ("db01-sa", "Account", 2.0, &[("DBA Full Access", 1.0), ("DBA Read Only", 1.0)], &[("MSSQL", 2.0)]),
    ("web01-root", "Account", 2.0, &[("Linux Admins", 2.0)], &[("Linux", 2.0)]),
    ("dc01-administrator", "Account", 2.0, &[("Break Glass", 1.0), ("Windows Admins", 1.0)], &[("Windows", 2.0)]),
    ("db01", "Asset", 2.0, &[("DBA Full Access", 1.0), ("DBA Read Only", 1.0)], &[("MSSQL", 2.0)]),
    ("web01", "Asset", 3.0, &[("Deployers", 1.0), ("Linux Admins", 2.0)], &[("Linux", 3.0)]),
    ("core-sw1", "Asset", 1.0, &[("Network Admins", 1.0)], &[("Cisco", 1.0)]),
];

/// Asserts every series of the expected queries on `target`.
fn assert_entitlements(m: &str, target: &str, expected: &[Expected]) {
    for (query, kind, rows, policies, asset_types) in expected {
        let q = format!("target=\"{target}\",query=\"{query}\"");
        assert_eq!(
            value(m, &format!("sectona_query_success{{{q}}}")),
            Some(1.0),
            "{query}: {m}"
        );
        assert_eq!(
            value(
                m,
                &format!("sectona_entitlements{{{q},entitlement_type=\"{kind}\"}}")
            ),
            Some(*rows),
            "{query}: {m}"
        );
        for (metric, label, counts) in [
            ("sectona_entitlements_by_policy", "policy", policies),
            (
                "sectona_entitlements_by_asset_type",
                "asset_type",
                asset_types,
            ),
        ] {
            let all = series(m, &format!("{metric}{{{q},"));
            assert_eq!(all.len(), counts.len(), "{query}: {all:?}");
            for (label_value, n) in *counts {
                assert_eq!(
                    value(m, &format!("{metric}{{{q},{label}=\"{label_value}\"}}")),
                    Some(*n),
                    "{query} {label_value}: {m}"
                );
            }
        }
    }
}

/// The expected queries but `left_out`.
fn expected_except(left_out: &[&str]) -> Vec<Expected> {
    EXPECTED
        .into_iter()
        .filter(|e| !left_out.contains(&e.0))
        .collect()
}

/// Asserts that `queries` on `target` show `sectona_query_success` 0 and
/// no count series.
fn assert_unsuccessful(m: &str, target: &str, queries: &[&str]) {
    for query in queries {
        let q = format!("target=\"{target}\",query=\"{query}\"");
        let success = value(m, &format!("sectona_query_success{{{q}}}"));
        assert_eq!(success, Some(0.0), "{query}: {m}");
        let counts = series(m, &format!("sectona_entitlements{{{q}"));
        assert!(counts.is_empty(), "{counts:?}");
    }
}

fn assert_no_query_error(m: &str, target: &str) {
    let errors = series(m, &format!("sectona_query_error{{target=\"{target}\""));
    assert!(errors.is_empty(), "{errors:?}");
}

#[tokio::test]
async fn several_queries_of_each_entitlement_type() {
    let (pam, requests) = server(|_| {}).await;
    let m = scrape(PASSWORD, INSTANCE, &[("pam", pam.url())]).await;
    assert_eq!(value(&m, "sectona_up{target=\"pam\"}"), Some(1.0), "{m}");
    assert_eq!(success(&m, "pam"), Some(1.0), "{m}");
    assert_entitlements(&m, "pam", &EXPECTED);
    assert_no_query_error(&m, "pam");
    assert_eq!(
        value(
            &m,
            &format!(
                "sectona_api_info{{target=\"pam\",version=\"{}\"}}",
                sim::VERSION
            )
        ),
        Some(1.0),
        "{m}"
    );
    assert_eq!(requests.count(), 9, "one request per query");
    assert_eq!(
        value(
            &m,
            "appliance_exporter_upstream_requests_total{target=\"pam\",endpoint=\"/API/APP/APP007/GetEntitlement\",code=\"200\"}"
        ),
        Some(9.0),
        "{m}"
    );
    if let Some((ok, out)) = promtool_check_metrics(&m) {
        assert!(ok, "{out}");
    }
}

#[tokio::test]
async fn the_queries_of_a_target_are_in_flight_together_up_to_its_cap() {
    // Each request is held until eight are in flight: sequential requests
    // would never get there, and the ninth query waits for the target's
    // cap (limits.max_requests_per_target, 8 by default).
    let (pam, requests) = server(|c| c.hold_until_in_flight = Some(8)).await;
    let m = scrape(PASSWORD, INSTANCE, &[("pam", pam.url())]).await;
    assert_eq!(requests.count(), 9);
    assert_eq!(requests.max_in_flight(), 8);
    assert_eq!(success(&m, "pam"), Some(1.0), "{m}");
}

#[tokio::test]
async fn loose_answer_shapes_count_the_same() {
    let (pam, _) = server(|c| c.loose_shapes = true).await;
    // core-sw1 has one row, served as an object; a query with no rows gets
    // no Result at all.
    let work = Workdir::new();
    let yaml = config(&work, PASSWORD, INSTANCE, &[("pam", pam.url())]).replace(
        "targets:",
        "      - {name: nobody, entitlement_type: User, username: nobody, authentication_type: AD, directory_store: corp}\ntargets:",
    );
    let exporter = Exporter::start_in(work, &yaml).await;
    let m = exporter.metrics().await;
    assert_eq!(success(&m, "pam"), Some(1.0), "{m}");
    assert_entitlements(&m, "pam", &EXPECTED);
    assert_eq!(
        value(
            &m,
            "sectona_entitlements{target=\"pam\",query=\"nobody\",entitlement_type=\"User\"}"
        ),
        Some(0.0),
        "{m}"
    );
}

#[tokio::test]
async fn the_document_sample_over_http() {
    let (pam, _) = server(|c| c.document_sample = true).await;
    let m = scrape(PASSWORD, INSTANCE, &[("pam", pam.url())]).await;
    assert_eq!(success(&m, "pam"), Some(1.0), "{m}");
    assert_eq!(
        value(&m, "sectona_api_info{target=\"pam\",version=\"X.X.X.X\"}"),
        Some(1.0),
        "{m}"
    );
    assert_eq!(
        value(
            &m,
            "sectona_entitlements_by_policy{target=\"pam\",query=\"db01-sa\",policy=\"String\"}"
        ),
        Some(1.0),
        "{m}"
    );
}

#[tokio::test]
async fn a_failing_query_beside_succeeding_ones() {
    let (pam, _) = server(|c| {
        c.faults
            .insert("User:bob".into(), sim::Fault::LogCode("011805".into()));
        c.faults
            .insert("Asset:web01".into(), sim::Fault::LogCode("099999".into()));
    })
    .await;
    let m = scrape(PASSWORD, INSTANCE, &[("pam", pam.url())]).await;
    // The API answered every query: the collector succeeded.
    assert_eq!(success(&m, "pam"), Some(1.0), "{m}");
    assert_eq!(value(&m, "sectona_up{target=\"pam\"}"), Some(1.0));
    assert_eq!(
        series(&m, "sectona_query_error{"),
        [
            "sectona_query_error{target=\"pam\",query=\"bob\",code=\"011805\",description=\"Unable to get user group\"} 1",
            "sectona_query_error{target=\"pam\",query=\"web01\",code=\"099999\",description=\"unknown\"} 1",
        ],
        "{m}"
    );
    assert_unsuccessful(&m, "pam", &["bob", "web01"]);
    assert_entitlements(&m, "pam", &expected_except(&["bob", "web01"]));
}

#[tokio::test]
async fn an_account_not_on_the_asset_is_the_servers_own_error() {
    let (pam, _) = server(|_| {}).await;
    let work = Workdir::new();
    let yaml = config(&work, PASSWORD, INSTANCE, &[("pam", pam.url())]).replace(
        "targets:",
        "      - {name: dc01-root, entitlement_type: Account, asset_type: Windows, asset_host: dc01, account_name: root, account_type: Local}\n      \
         - {name: nosuch, entitlement_type: Asset, asset_type: Linux, asset_host: nosuch}\n      \
         - {name: eve, entitlement_type: User, username: eve, authentication_type: AD, directory_store: elsewhere}\ntargets:",
    );
    let exporter = Exporter::start_in(work, &yaml).await;
    let m = exporter.metrics().await;
    assert_eq!(success(&m, "pam"), Some(1.0), "{m}");
    assert_eq!(
        series(&m, "sectona_query_error{"),
        [
            "sectona_query_error{target=\"pam\",query=\"dc01-root\",code=\"011690\",description=\"Account does not belongs to asset\"} 1",
            "sectona_query_error{target=\"pam\",query=\"nosuch\",code=\"011853\",description=\"Requested asset is not valid\"} 1",
            "sectona_query_error{target=\"pam\",query=\"eve\",code=\"011656\",description=\"Invalid directory store\"} 1",
        ],
        "{m}"
    );
}

#[tokio::test]
async fn a_failed_request_fails_the_collector_and_keeps_the_other_queries() {
    let (pam, _) = server(|c| {
        c.faults
            .insert("Asset:web01".into(), sim::Fault::Status(503));
        c.faults
            .insert("Account:db01/sa".into(), sim::Fault::DocumentSample);
        // An API error beside them: reported, logged, not a failure.
        c.faults
            .insert("User:carol".into(), sim::Fault::LogCode("011805".into()));
    })
    .await;
    let work = Workdir::new();
    let yaml = config(&work, PASSWORD, INSTANCE, &[("pam", pam.url())]);
    let path = work.write("config.yml", &yaml);
    let bin = Binary::start(&["--config.file", path.to_str().unwrap()], &[]);
    let m = get(&format!("{}/metrics", bin.url), &[]).await.body;
    assert_eq!(success(&m, "pam"), Some(0.0), "{m}");
    // The appliance answered and accepted the credentials.
    assert_eq!(value(&m, "sectona_up{target=\"pam\"}"), Some(1.0), "{m}");
    assert_unsuccessful(&m, "pam", &["web01", "db01-sa", "carol"]);
    assert_entitlements(&m, "pam", &expected_except(&["web01", "db01-sa", "carol"]));
    assert_eq!(
        series(&m, "sectona_query_error{"),
        [
            "sectona_query_error{target=\"pam\",query=\"carol\",code=\"011805\",description=\"Unable to get user group\"} 1"
        ]
    );
    let line = |message: &str| -> String {
        let log = bin.log_with(&[message]);
        let found = log.lines().find(|l| l.contains(message));
        found
            .unwrap_or_else(|| panic!("no {message} in {log}"))
            .to_owned()
    };
    let failed = line("collector failed");
    for part in [
        "target=pam",
        "collector=entitlements",
        "endpoint=/API/APP/APP007/GetEntitlement",
        "query db01-sa: /API/APP/APP007/GetEntitlement: unexpected response at .: invalid JSON: key must be a string at line 2 column 1",
        "query web01: /API/APP/APP007/GetEntitlement: HTTP 503",
    ] {
        assert!(failed.contains(part), "{part} missing from {failed}");
    }
    assert!(!failed.contains("carol"), "{failed}");
    let api_error = line("the API answered the query with an error");
    for part in [
        "level=warn",
        "target=pam",
        "endpoint=/API/APP/APP007/GetEntitlement",
        "query=carol",
        "code=011805",
        "description=\"Unable to get user group\"",
    ] {
        assert!(api_error.contains(part), "{part} missing from {api_error}");
    }
}

#[tokio::test]
async fn bad_credentials_set_sectona_up_to_zero() {
    let (by_code, _) = server(|_| {}).await;
    let (by_401, _) = server(|c| c.refusal = sim::Refusal::Http401).await;
    let (good, _) = server(|_| {}).await;
    let work = Workdir::new();
    let wrong = work.write("wrong.pass", "not-the-password\n");
    let yaml = config(
        &work,
        PASSWORD,
        INSTANCE,
        &[
            ("by-code", by_code.url()),
            ("by-401", by_401.url()),
            ("good", good.url()),
        ],
    )
    .replace(
        "modules:",
        &format!(
            "  wrong:\n    username: {USER}\n    password_file: {}\nmodules:",
            wrong.display()
        ),
    )
    .replace(
        "module: pam}\n  - {name: by-401",
        "module: pam, auth: wrong}\n  - {name: by-401",
    )
    .replace(
        "module: pam}\n  - {name: good",
        "module: pam, auth: wrong}\n  - {name: good",
    );
    let exporter = Exporter::start_in(work, &yaml).await;
    let m = exporter.metrics().await;
    for target in ["by-code", "by-401"] {
        assert_eq!(
            value(&m, &format!("sectona_up{{target=\"{target}\"}}")),
            Some(0.0),
            "{target}: {m}"
        );
        assert_eq!(success(&m, target), Some(0.0), "{target}: {m}");
        assert_eq!(
            value(
                &m,
                &format!(
                    "sectona_query_error{{target=\"{target}\",query=\"alice\",code=\"011673\",description=\"Invalid credentials\"}}"
                )
            ),
            Some(1.0),
            "{target}: {m}"
        );
        assert!(
            series(&m, &format!("sectona_entitlements{{target=\"{target}\"")).is_empty(),
            "{m}"
        );
    }
    // One refused request per query.
    assert_eq!(
        value(
            &m,
            "appliance_exporter_upstream_requests_total{target=\"by-401\",endpoint=\"/API/APP/APP007/GetEntitlement\",code=\"401\"}"
        ),
        Some(EXPECTED.len() as f64),
        "{m}"
    );
    // The healthy target is untouched.
    assert_eq!(value(&m, "sectona_up{target=\"good\"}"), Some(1.0), "{m}");
    assert_entitlements(&m, "good", &EXPECTED);
    assert_no_query_error(&m, "good");
    assert!(!m.contains(PASSWORD) && !m.contains("not-the-password"));
    let landing = exporter.get("/").await.body;
    assert!(landing.contains("credentials rejected"), "{landing}");
}

#[tokio::test]
async fn a_wrong_instance_is_reported_per_query() {
    let (pam, _) = server(|_| {}).await;
    let m = scrape(PASSWORD, "TEST", &[("pam", pam.url())]).await;
    // The credentials were accepted and the API answered every query.
    assert_eq!(value(&m, "sectona_up{target=\"pam\"}"), Some(1.0), "{m}");
    assert_eq!(success(&m, "pam"), Some(1.0), "{m}");
    let errors = series(&m, "sectona_query_error{");
    assert_eq!(errors.len(), 9, "{m}");
    assert!(
        errors
            .iter()
            .all(|l| l.ends_with(",code=\"011683\",description=\"Invalid instance name\"} 1")),
        "{errors:?}"
    );
}

#[tokio::test]
async fn request_bodies_carry_the_document_field_names() {
    let (pam, requests) = server(|_| {}).await;
    scrape(PASSWORD, INSTANCE, &[("pam", pam.url())]).await;
    let mut by_query: BTreeMap<String, serde_json::Map<String, serde_json::Value>> =
        BTreeMap::new();
    for body in requests.bodies() {
        let serde_json::Value::Object(fields) = serde_json::from_str(&body).unwrap() else {
            panic!("not a JSON object: {body}");
        };
        let key = ["Username", "AccountName", "AssetHost"]
            .iter()
            .find_map(|k| fields.get(*k).and_then(|v| v.as_str()))
            .unwrap()
            .to_owned();
        by_query.insert(
            format!("{}:{key}", fields["EntitlementType"].as_str().unwrap()),
            fields,
        );
    }
    let keys = |q: &str| -> BTreeSet<&str> { by_query[q].keys().map(String::as_str).collect() };
    let set =
        |names: &[&'static str]| -> BTreeSet<&'static str> { names.iter().copied().collect() };
    assert_eq!(by_query.len(), 9, "{by_query:?}");
    for user in ["alice", "bob", "carol"] {
        assert_eq!(
            keys(&format!("User:{user}")),
            set(&[
                "EntitlementType",
                "Username",
                "AuthenticationType",
                "DirectoryStore",
                "Instance"
            ])
        );
    }
    for account in ["sa", "root", "Administrator"] {
        assert_eq!(
            keys(&format!("Account:{account}")),
            set(&[
                "EntitlementType",
                "Assettype",
                "AssetHost",
                "AccountName",
                "AccountType",
                "Instance"
            ])
        );
    }
    for asset in ["db01", "web01", "core-sw1"] {
        assert_eq!(
            keys(&format!("Asset:{asset}")),
            set(&["EntitlementType", "Assettype", "AssetHost", "Instance"])
        );
    }
    assert_eq!(
        serde_json::Value::Object(by_query["Account:Administrator"].clone()),
        serde_json::json!({
            "EntitlementType": "Account", "Assettype": "Windows", "AssetHost": "dc01",
            "AccountName": "Administrator", "AccountType": "AD Account", "Instance": "PROD"
        })
    );
    assert_eq!(
        serde_json::Value::Object(by_query["User:carol"].clone()),
        serde_json::json!({
            "EntitlementType": "User", "Username": "carol", "AuthenticationType": "AD",
            "DirectoryStore": "corp", "Instance": "PROD"
        })
    );
}

#[tokio::test]
async fn every_collector_of_the_demo_part_succeeds() {
    let work = Workdir::new();
    let mut sims = Vec::new();
    let part = sim::demo(work.path(), &mut sims).await.unwrap();
    let yaml = format!(
        "auths:\n{}modules:\n{}targets:\n{}",
        part.auths, part.modules, part.targets
    );
    let exporter = Exporter::start_in(work, &yaml).await;
    let m = exporter.metrics().await;
    assert_eq!(value(&m, "sectona_up{target=\"pam\"}"), Some(1.0), "{m}");
    let collectors = series(&m, "appliance_exporter_collector_success{");
    assert_eq!(
        collectors,
        ["appliance_exporter_collector_success{target=\"pam\",collector=\"entitlements\"} 1"],
        "{m}"
    );
    assert_entitlements(&m, "pam", &EXPECTED);
    // The one query the demo server refuses shows as an API error only.
    assert_eq!(
        series(&m, "sectona_query_error{target=\"pam\""),
        [
            "sectona_query_error{target=\"pam\",query=\"web01-backup\",code=\"011690\",description=\"Account does not belongs to asset\"} 1"
        ],
        "{m}"
    );
    assert_eq!(
        value(
            &m,
            "sectona_query_success{target=\"pam\",query=\"web01-backup\"}"
        ),
        Some(0.0)
    );
}

#[tokio::test]
async fn the_simulator_wants_basic_authorization() {
    let (pam, requests) = server(|_| {}).await;
    let url = format!("{}{}", pam.url(), sim::PATH);
    let body =
        r#"{"EntitlementType":"Asset","Assettype":"Linux","AssetHost":"web01","Instance":"PROD"}"#;
    for header in [None, Some("Bearer abc")] {
        let mut req = crate::common::client().post(&url).body(body);
        if let Some(h) = header {
            req = req.header("Authorization", h);
        }
        let text = req.send().await.unwrap().text().await.unwrap();
        let answer: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(answer["IsSuccess"], false, "{header:?}: {answer}");
        assert_eq!(answer["LogCode"], "011651", "{header:?}: {answer}");
    }
    assert_eq!(requests.count(), 2);
}
