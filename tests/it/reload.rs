//! Configuration reload by `POST /-/reload` and SIGHUP: a good file takes
//! effect, a bad one keeps the configuration in force and says which file,
//! line and field; the reload metrics show both.

use std::time::{Duration, Instant};

use appliance_exporter::simulator::{self, enterprise_recon as er2};

use crate::common::{Binary, Exporter, Workdir, er2_config, er2_simulator, get, value};

const USER: &str = "apiuser";
const PASSWORD: &str = "reload-password";

fn yaml(secret: &std::path::Path, auth_ref: &str, targets: &[(&str, String)]) -> String {
    er2_config(USER, secret, auth_ref, "", targets)
}

async fn sim() -> simulator::Running {
    er2_simulator(er2::LicenseModel::Sitewide, USER, PASSWORD, None).await
}

async fn post_reload(url: &str) -> (u16, String) {
    let resp = crate::common::client()
        .post(format!("{url}/-/reload"))
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test]
async fn a_bad_file_keeps_the_old_configuration_and_names_file_line_and_field() {
    let appliance = sim().await;
    let work = Workdir::new();
    let secret = work.write("er2.pass", PASSWORD);
    let exporter =
        Exporter::start_in(work, &yaml(&secret, "er2_api", &[("one", appliance.url())])).await;
    let loaded_at = reload_state(&exporter.metrics().await).1.unwrap();

    let both = [("one", appliance.url()), ("two", appliance.url())];
    std::fs::write(&exporter.config_path, yaml(&secret, "er2-api", &both)).unwrap();
    let (status, body) = post_reload(&exporter.url).await;
    assert_eq!(status, 500);
    assert_eq!(
        body,
        format!(
            "failed to reload config: {}:8:11: modules.er2.auth: unknown auth \"er2-api\" (defined: er2_api)\n",
            exporter.config_path.display()
        )
    );
    let m = exporter.metrics().await;
    assert_eq!(reload_state(&m), (Some(0.0), Some(loaded_at)));
    // The old configuration is still in force.
    assert_eq!(value(&m, "er2_up{target=\"one\"}"), Some(1.0), "{m}");
    assert!(value(&m, "er2_up{target=\"two\"}").is_none(), "{m}");

    tokio::time::sleep(Duration::from_millis(20)).await;
    std::fs::write(&exporter.config_path, yaml(&secret, "er2_api", &both)).unwrap();
    let (status, body) = post_reload(&exporter.url).await;
    assert_eq!((status, body.as_str()), (200, "configuration reloaded\n"));
    let m = exporter.metrics().await;
    let (ok, at) = reload_state(&m);
    assert_eq!(ok, Some(1.0));
    assert!(at.unwrap() > loaded_at, "{m}");
    assert_eq!(value(&m, "er2_up{target=\"two\"}"), Some(1.0), "{m}");
    // GET is not a reload.
    assert_eq!(exporter.get("/-/reload").await.status, 405);
}

/// `appliance_exporter_config_last_reload_successful` and
/// `..._success_timestamp_seconds`.
fn reload_state(m: &str) -> (Option<f64>, Option<f64>) {
    (
        value(m, "appliance_exporter_config_last_reload_successful"),
        value(
            m,
            "appliance_exporter_config_last_reload_success_timestamp_seconds",
        ),
    )
}

/// Polls `/metrics` until `done` holds (at most 20 s).
async fn wait_for(url: &str, what: &str, done: impl Fn(&str) -> bool) -> String {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let m = get(&format!("{url}/metrics"), &[]).await.body;
        if done(&m) {
            return m;
        }
        assert!(Instant::now() < until, "{what}: {m}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn sighup(bin: &Binary) {
    let status = std::process::Command::new("kill")
        .args(["-HUP", &bin.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_the_real_binary() {
    let appliance = sim().await;
    let work = Workdir::new();
    let secret = work.write("er2.pass", PASSWORD);
    let config = work.write(
        "config.yml",
        &yaml(&secret, "er2_api", &[("one", appliance.url())]),
    );
    let bin = Binary::start(&["--config.file", config.to_str().unwrap()], &[]);
    let m = wait_for(&bin.url, "first scrape", |m| {
        value(m, "er2_up{target=\"one\"}") == Some(1.0)
    })
    .await;
    let loaded_at = reload_state(&m).1.unwrap();

    let both = [("one", appliance.url()), ("two", appliance.url())];
    std::fs::write(&config, yaml(&secret, "er2_api", &both)).unwrap();
    sighup(&bin);
    let m = wait_for(&bin.url, "the new target after SIGHUP", |m| {
        value(m, "er2_up{target=\"two\"}") == Some(1.0)
    })
    .await;
    let (ok, at) = reload_state(&m);
    assert_eq!(ok, Some(1.0));
    assert!(at.unwrap() > loaded_at, "{m}");

    std::fs::write(&config, "targets: [\n").unwrap();
    sighup(&bin);
    let m = wait_for(&bin.url, "the failed reload", |m| {
        reload_state(m).0 == Some(0.0)
    })
    .await;
    assert_eq!(
        value(&m, "er2_up{target=\"two\"}"),
        Some(1.0),
        "the last good configuration stays"
    );
    // The metrics are set before the line is written.
    let log = bin.log_with(&["configuration reload failed"]);
    assert!(log.contains("configuration reloaded"), "{log}");
    let failed: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("configuration reload failed"))
        .collect();
    assert_eq!(failed.len(), 1, "{log}");
    assert!(
        failed[0].contains(&format!("{}:", config.display())),
        "{}",
        failed[0]
    );
}
