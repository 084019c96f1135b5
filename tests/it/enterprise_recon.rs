//! Enterprise Recon over HTTP: each licensing model, wrong credentials, a
//! non-PRO appliance, and the password kept out of the logs.

use appliance_exporter::simulator::{self, enterprise_recon as er2};

use crate::common::{Binary, Exporter, Logs, Workdir, collector_success, get, series, value};

const USER: &str = "apiuser";
const PASSWORD: &str = "Pa55-w0rd-never-logged";

async fn sim(model: er2::LicenseModel) -> simulator::Running {
    simulator::start(er2::router(er2::Er2Config::new(model, USER, PASSWORD)))
        .await
        .unwrap()
}

fn config(work: &Workdir, password: &str, targets: &[(&str, String)]) -> String {
    let secret = work.write("er2.pass", password);
    let mut yaml = format!(
        "auths:\n  er2_api:\n    username: {USER}\n    password_file: {}\n\
         modules:\n  er2:\n    kind: enterprise_recon\n    auth: er2_api\n    timeout: 5s\n\
         targets:\n",
        secret.display()
    );
    for (name, url) in targets {
        yaml.push_str(&format!(
            "  - {{name: {name}, url: \"{url}\", module: er2}}\n"
        ));
    }
    yaml
}

#[tokio::test]
async fn every_licensing_model_over_http() {
    let legacy = sim(er2::LicenseModel::Legacy).await;
    let sitewide = sim(er2::LicenseModel::Sitewide).await;
    let non_sitewide = sim(er2::LicenseModel::NonSitewide).await;
    let work = Workdir::new();
    let yaml = config(
        &work,
        PASSWORD,
        &[
            ("legacy", legacy.url()),
            ("sitewide", sitewide.url()),
            ("nonsitewide", non_sitewide.url()),
        ],
    );
    let exporter = Exporter::start_in(work, &yaml).await;
    let m = exporter.metrics().await;
    for t in ["legacy", "sitewide", "nonsitewide"] {
        assert_eq!(
            value(&m, &format!("er2_up{{target=\"{t}\"}}")),
            Some(1.0),
            "{m}"
        );
        for c in ["licenses", "risk"] {
            assert_eq!(
                value(
                    &m,
                    &format!(
                        "appliance_exporter_collector_success{{target=\"{t}\",collector=\"{c}\"}}"
                    )
                ),
                Some(1.0),
                "{t} {c}: {m}"
            );
        }
    }
    // Legacy: no state series at all; targets counted by pool.
    assert!(
        series(&m, "er2_license_state{target=\"legacy\"").is_empty(),
        "{m}"
    );
    assert_eq!(
        value(
            &m,
            "er2_licensed_targets{target=\"legacy\",pool=\"server\"}"
        ),
        Some(5.0)
    );
    // The sample's one target of type none holds no licence.
    assert_eq!(
        value(&m, "er2_unlicensed_targets{target=\"legacy\"}"),
        Some(1.0)
    );
    assert!(
        series(&m, "er2_licensed_targets{target=\"legacy\",pool=\"none\"}").is_empty(),
        "{m}"
    );
    assert_eq!(
        value(
            &m,
            "er2_license_info{target=\"legacy\",company=\"My Company Pte Ltd\",edition=\"\",model=\"legacy\"}"
        ),
        Some(1.0)
    );
    // Sitewide: exceeded, global allowance, pending scans.
    assert_eq!(
        value(
            &m,
            "er2_license_state{target=\"sitewide\",state=\"exceeded\"}"
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &m,
            "er2_license_state{target=\"sitewide\",state=\"licensed\"}"
        ),
        Some(0.0)
    );
    assert_eq!(
        value(
            &m,
            "er2_data_allowance_used_bytes{target=\"sitewide\",pool=\"global\",description=\"Global Data Allowance\"}"
        ),
        Some(1_157_499_270.0)
    );
    assert_eq!(
        value(&m, "er2_pending_scans{target=\"sitewide\"}"),
        Some(2.0)
    );
    assert_eq!(
        value(&m, "er2_pending_scan_data_bytes{target=\"sitewide\"}"),
        Some(85_567_564_053.0)
    );
    assert_eq!(
        value(
            &m,
            "er2_feature_available{target=\"sitewide\",feature=\"risk\"}"
        ),
        Some(0.0)
    );
    // Non-sitewide PRO: expiry from a string, risk inventory.
    assert_eq!(
        value(
            &m,
            "er2_license_expiry_timestamp_seconds{target=\"nonsitewide\"}"
        ),
        Some(1_632_378_566.0)
    );
    assert_eq!(
        value(
            &m,
            "er2_license_pool_limit{target=\"nonsitewide\",pool=\"server\",description=\"Server\"}"
        ),
        Some(5.0)
    );
    assert_eq!(
        value(
            &m,
            "er2_feature_available{target=\"nonsitewide\",feature=\"risk\"}"
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &m,
            "er2_risk_profiles{target=\"nonsitewide\",level=\"High\"}"
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &m,
            "appliance_exporter_upstream_requests_total{target=\"nonsitewide\",endpoint=\"/v1/licenses\",code=\"200\"}"
        ),
        Some(1.0),
        "{m}"
    );
}

#[tokio::test]
async fn non_pro_appliance_reports_the_feature_unavailable_not_a_failure() {
    let mut cfg = er2::Er2Config::new(er2::LicenseModel::NonSitewide, USER, PASSWORD);
    cfg.risk_available = false;
    let appliance = simulator::start(er2::router(cfg)).await.unwrap();
    let work = Workdir::new();
    let yaml = config(&work, PASSWORD, &[("er2", appliance.url())]);
    let exporter = Exporter::start_in(work, &yaml).await;
    let m = exporter.metrics().await;
    assert_eq!(
        value(&m, "er2_feature_available{target=\"er2\",feature=\"risk\"}"),
        Some(0.0),
        "{m}"
    );
    assert_eq!(
        value(
            &m,
            "appliance_exporter_collector_success{target=\"er2\",collector=\"risk\"}"
        ),
        Some(1.0)
    );
    assert!(series(&m, "er2_risk_levels").is_empty(), "{m}");
    assert_eq!(value(&m, "er2_up{target=\"er2\"}"), Some(1.0));
}

#[tokio::test]
async fn a_user_without_risk_admin_loses_only_the_data_type_rules() {
    let mut cfg = er2::Er2Config::new(er2::LicenseModel::NonSitewide, USER, PASSWORD);
    cfg.access_denied = vec!["/v1/datatypes/rules"];
    let appliance = simulator::start(er2::router(cfg)).await.unwrap();
    let work = Workdir::new();
    let yaml = config(&work, PASSWORD, &[("er2", appliance.url())]);
    let logs = Logs::capture();
    let exporter = Exporter::start_in(work, &yaml).await;
    let m = exporter.metrics().await;
    assert_eq!(collector_success(&m, "er2", "risk"), Some(1.0), "{m}");
    assert_eq!(value(&m, "er2_up{target=\"er2\"}"), Some(1.0), "{m}");
    for (feature, available) in [
        ("risk", 1.0),
        ("risk_levels", 1.0),
        ("risk_profiles", 1.0),
        ("datatype_rules", 0.0),
    ] {
        assert_eq!(
            value(
                &m,
                &format!("er2_feature_available{{target=\"er2\",feature=\"{feature}\"}}")
            ),
            Some(available),
            "{feature}: {m}"
        );
    }
    assert_eq!(value(&m, "er2_risk_levels{target=\"er2\"}"), Some(3.0));
    assert_eq!(
        value(&m, "er2_risk_profiles{target=\"er2\",level=\"High\"}"),
        Some(1.0)
    );
    assert!(series(&m, "er2_datatype_rules").is_empty(), "{m}");
    let lines = logs.lines_with(&[
        "target=er2",
        "collector=risk",
        "endpoint=/v1/datatypes/rules",
    ]);
    assert_eq!(lines.len(), 1, "{}", logs.text());
    assert!(
        lines[0].contains("the API user needs the Global Admin or Risk Admin permission"),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("Access denied."), "{}", lines[0]);
}

#[tokio::test]
async fn server_health_from_each_shape_of_loads_and_a_malformed_one_fails_only_server() {
    let mut appliances = Vec::new();
    let mut targets = Vec::new();
    for (name, loads, offset) in [
        ("object", er2::ServerLoads::Object, 0),
        ("list", er2::ServerLoads::List, 600),
        ("columns", er2::ServerLoads::Columns, -90),
        ("malformed", er2::ServerLoads::Malformed, 0),
        ("truncated", er2::ServerLoads::Truncated, 0),
    ] {
        let mut cfg = er2::Er2Config::new(er2::LicenseModel::NonSitewide, USER, PASSWORD);
        cfg.server_loads = loads;
        cfg.clock_offset = offset;
        let appliance = simulator::start(er2::router(cfg)).await.unwrap();
        targets.push((name, appliance.url()));
        appliances.push(appliance);
    }
    let work = Workdir::new();
    let yaml = config(&work, PASSWORD, &targets);
    let logs = Logs::capture();
    let exporter = Exporter::start_in(work, &yaml).await;
    let m = exporter.metrics().await;
    for (t, offset) in [("object", 0.0), ("list", 600.0), ("columns", -90.0)] {
        assert_eq!(collector_success(&m, t, "server"), Some(1.0), "{t}: {m}");
        assert_eq!(
            value(
                &m,
                &format!(
                    "er2_server_info{{target=\"{t}\",version=\"2.10.0\",host_name=\"er-master\"}}"
                )
            ),
            Some(1.0),
            "{t}: {m}"
        );
        for (metric, expected) in [
            ("er2_server_cpu_ratio", 0.125),
            ("er2_server_cpu_stolen_ratio", 0.005),
            ("er2_server_disk_used_ratio", 0.632),
            ("er2_server_memory_used_ratio", 0.714),
        ] {
            let got = value(&m, &format!("{metric}{{target=\"{t}\"}}"));
            assert!(
                got.is_some_and(|v| (v - expected).abs() < 1e-9),
                "{t} {metric}: {got:?}"
            );
        }
        // The server's clock has whole seconds: the offset is within one
        // second of the simulated one, below it.
        let got = value(
            &m,
            &format!("er2_server_clock_offset_seconds{{target=\"{t}\"}}"),
        )
        .unwrap_or(f64::NAN);
        assert!(got <= offset && got > offset - 2.0, "{t}: offset {got}");
    }
    // `loads` of an unknown shape: the load series go, with one warning;
    // the rest of the answer still counts.
    assert_eq!(
        collector_success(&m, "malformed", "server"),
        Some(1.0),
        "{m}"
    );
    assert!(
        series(&m, "er2_server_cpu_ratio{target=\"malformed\"").is_empty(),
        "{m}"
    );
    assert_eq!(
        series(&m, "er2_server_info{target=\"malformed\"").len(),
        1,
        "{m}"
    );
    let lines = logs.lines_with(&["target=malformed", "endpoint=/v1/server", "field=loads"]);
    assert_eq!(lines.len(), 1, "{}", logs.text());
    assert!(lines[0].contains("unknown shape"), "{}", lines[0]);
    // A body that is not JSON fails `server` alone.
    assert_eq!(
        collector_success(&m, "truncated", "server"),
        Some(0.0),
        "{m}"
    );
    assert!(
        series(&m, "er2_server_info{target=\"truncated\"").is_empty(),
        "{m}"
    );
    for c in ["licenses", "risk"] {
        assert_eq!(collector_success(&m, "truncated", c), Some(1.0), "{c}: {m}");
    }
    assert_eq!(value(&m, "er2_up{target=\"truncated\"}"), Some(1.0), "{m}");
    let failed = logs.lines_with(&["collector failed", "target=truncated"]);
    assert_eq!(failed.len(), 1, "{}", logs.text());
    assert!(failed[0].contains("collector=server"), "{}", failed[0]);
    assert!(failed[0].contains("endpoint=/v1/server"), "{}", failed[0]);
}

#[tokio::test]
async fn wrong_credentials_set_up_to_zero_and_the_exporter_keeps_serving() {
    let appliance = sim(er2::LicenseModel::NonSitewide).await;
    let good = sim(er2::LicenseModel::Sitewide).await;
    let work = Workdir::new();
    let wrong = work.write("wrong.pass", "not-the-password\n");
    let mut yaml = config(
        &work,
        PASSWORD,
        &[("good", good.url()), ("er2", appliance.url())],
    );
    yaml = yaml.replace(
        "modules:",
        &format!(
            "  wrong:\n    username: {USER}\n    password_file: {}\nmodules:",
            wrong.display()
        ),
    );
    yaml = yaml.replace(
        &format!("url: \"{}\", module: er2}}", appliance.url()),
        &format!("url: \"{}\", module: er2, auth: wrong}}", appliance.url()),
    );
    let exporter = Exporter::start_in(work, &yaml).await;
    for scrape in 1..=2 {
        let m = exporter.metrics().await;
        assert_eq!(value(&m, "er2_up{target=\"er2\"}"), Some(0.0), "{m}");
        assert_eq!(
            value(
                &m,
                "appliance_exporter_collector_success{target=\"er2\",collector=\"licenses\"}"
            ),
            Some(0.0)
        );
        assert_eq!(
            value(
                &m,
                "appliance_exporter_upstream_requests_total{target=\"er2\",endpoint=\"/v1/licenses\",code=\"401\"}"
            ),
            Some(f64::from(scrape)),
            "{m}"
        );
        assert!(
            series(&m, "er2_license_info{target=\"er2\"").is_empty(),
            "{m}"
        );
        // The healthy target is untouched.
        assert_eq!(value(&m, "er2_up{target=\"good\"}"), Some(1.0));
        assert_eq!(
            value(
                &m,
                "appliance_exporter_collector_success{target=\"good\",collector=\"licenses\"}"
            ),
            Some(1.0)
        );
    }
    assert_eq!(exporter.get("/-/healthy").await.status, 200);
}

#[tokio::test]
async fn the_password_never_reaches_the_log_even_at_debug_level() {
    let appliance = sim(er2::LicenseModel::NonSitewide).await;
    let work = Workdir::new();
    let secret = "Wr0ng-Secret-Value";
    let yaml = config(&work, secret, &[("er2", appliance.url())]);
    let path = work.write("config.yml", &yaml);
    let bin = Binary::start(
        &["--config.file", path.to_str().unwrap(), "--log.level=debug"],
        &[],
    );
    let m = get(&format!("{}/metrics", bin.url), &[]).await;
    assert_eq!(
        value(&m.body, "er2_up{target=\"er2\"}"),
        Some(0.0),
        "{}",
        m.body
    );
    let landing = get(&format!("{}/", bin.url), &[]).await;
    let log = bin.log_with(&["collector failed"]);
    assert!(log.contains("collector failed"), "{log}");
    assert!(log.contains("target=er2"), "{log}");
    assert!(log.contains("endpoint=/v1/licenses"), "{log}");
    assert!(log.contains("HTTP 401"), "{log}");
    use base64::Engine as _;
    let header = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{secret}"));
    for (what, text) in [
        ("log", &log),
        ("metrics", &m.body),
        ("landing page", &landing.body),
    ] {
        assert!(!text.contains(secret), "the password appears in the {what}");
        assert!(
            !text.contains(&header),
            "the Authorization header appears in the {what}"
        );
    }
}
