//! Enterprise Recon over HTTP: each licensing model, wrong credentials, a
//! non-PRO appliance, and the password kept out of the logs.

use appliance_exporter::simulator::{self, enterprise_recon as er2};

use crate::common::{Binary, Exporter, Workdir, get, series, value};

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
