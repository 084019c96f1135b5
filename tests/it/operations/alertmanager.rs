//! The runbook's Alertmanager configuration (`docs/runbook.md`, "Routing by
//! severity"), against the real thing: `amtool` accepts it and routes every
//! alert of the rule files, at each severity it carries, to the receiver the
//! runbook names for that severity;
//! a real Alertmanager on loopback suppresses exactly the alerts its
//! inhibition rules say.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::{Instant, sleep};

use super::loopback::LoopbackServer;
use super::{RUNBOOK, alert_rules, doc_section, run, yaml_blocks};
use crate::common::{self, Workdir, tool};

/// The receiver the runbook routes each severity to.
const RECEIVERS: &[(&str, &str)] = &[("critical", "pager"), ("warning", "tickets")];
/// How long Alertmanager may take to start on a busy machine.
const START_BUDGET: Duration = Duration::from_secs(60);

/// The runbook's `alertmanager.yml`, written to `work`.
fn readme_config(work: &Workdir) -> PathBuf {
    let blocks: Vec<String> = yaml_blocks(&doc_section(RUNBOOK, "## Routing by severity"))
        .into_iter()
        .filter(|b| b.starts_with("# alertmanager.yml\n"))
        .collect();
    assert_eq!(
        blocks.len(),
        1,
        "one alertmanager.yml in {RUNBOOK}, ## Routing by severity"
    );
    work.write("alertmanager.yml", &blocks[0])
}

#[test]
fn amtool_accepts_the_readme_configuration_and_routes_each_severity_to_its_receiver() {
    let Some(amtool) = tool("amtool") else {
        return;
    };
    let work = Workdir::new();
    let config = readme_config(&work);
    let (ok, out, err) = run(Command::new(&amtool).arg("check-config").arg(&config));
    assert!(ok, "amtool check-config:\n{out}{err}");

    let receivers: BTreeMap<&str, &str> = RECEIVERS.iter().copied().collect();
    let rules = alert_rules();
    for r in &rules {
        let severity = r.labels["severity"].as_str();
        let expected = receivers[severity];
        let (ok, out, err) = run(Command::new(&amtool)
            .args(["config", "routes", "test"])
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--verify.receivers={expected}"))
            .arg(format!("alertname={}", r.name))
            .arg(format!("severity={severity}"))
            .arg("target=appliance-1"));
        assert!(
            ok,
            "{} ({severity}) should reach {expected}, reached: {out}{err}",
            r.name
        );
    }
}

/// An Alertmanager on a loopback port, its state in a temporary folder;
/// killed when dropped.
struct Alertmanager {
    server: LoopbackServer,
}

impl Alertmanager {
    /// Starts Alertmanager on `config` without clustering and waits until
    /// it is ready.
    async fn start(binary: &Path, dir: &Path, config: &Path) -> Self {
        let args = [
            format!("--config.file={}", config.display()),
            format!("--storage.path={}", dir.join("data").display()),
            "--cluster.listen-address=".to_owned(),
        ];
        let log = dir.join("alertmanager.log");
        Self {
            server: LoopbackServer::start(binary, &args, log, START_BUDGET).await,
        }
    }

    /// Sends alerts with these labels, firing now.
    async fn fire(&self, alerts: &[[(&str, &str); 3]]) {
        let body: Vec<Value> = alerts
            .iter()
            .map(|labels| json!({ "labels": labels.iter().copied().collect::<BTreeMap<_, _>>() }))
            .collect();
        let resp = common::client()
            .post(format!("{}/api/v2/alerts", self.server.url))
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&body).unwrap())
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{:?}", resp.text().await);
    }

    /// The state (`active`, `suppressed`) of each alert, by (alertname,
    /// severity, target).
    async fn states(&self) -> BTreeMap<(String, String, String), String> {
        let body = common::client()
            .get(format!("{}/api/v2/alerts", self.server.url))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let alerts: Vec<Value> = serde_json::from_slice(&body).unwrap();
        alerts
            .iter()
            .map(|a| {
                let label = |k: &str| a["labels"][k].as_str().unwrap_or_default().to_owned();
                (
                    (label("alertname"), label("severity"), label("target")),
                    a["status"]["state"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }

    fn log(&self) -> String {
        self.server.log()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_alertmanager_inhibits_what_the_readme_says_and_nothing_else() {
    let Some(binary) = tool("prometheus-alertmanager") else {
        return;
    };
    let work = Workdir::new();
    let config = readme_config(&work);
    let am = Alertmanager::start(&binary, work.path(), &config).await;

    // (alertname, severity, target) fired, and the state each must end in.
    let cases = [
        // The critical expiry replaces the warning of the same target...
        (("ER2LicenseExpiringSoon", "critical", "a"), "active"),
        (("ER2LicenseExpiringSoon", "warning", "a"), "suppressed"),
        // ...not another target's, nor another alert's.
        (("ER2LicenseExpiringSoon", "warning", "b"), "active"),
        (("ICSCPUHigh", "warning", "a"), "active"),
        // Pending scan data follows from an expired or exceeded licence.
        (("ER2LicenseExpired", "critical", "c"), "active"),
        (("ER2ScanDataPending", "warning", "c"), "suppressed"),
        (("ER2LicenseExceeded", "critical", "d"), "active"),
        (("ER2ScanDataPending", "warning", "d"), "suppressed"),
        (("ER2ScanDataPending", "warning", "e"), "active"),
    ];
    let alerts: Vec<[(&str, &str); 3]> = cases
        .iter()
        .map(|((name, severity, target), _)| {
            [
                ("alertname", *name),
                ("severity", *severity),
                ("target", *target),
            ]
        })
        .collect();
    am.fire(&alerts).await;

    let expected: BTreeMap<(String, String, String), String> = cases
        .iter()
        .map(|((n, s, t), state)| {
            (
                (n.to_string(), s.to_string(), t.to_string()),
                state.to_string(),
            )
        })
        .collect();
    let deadline = Instant::now() + START_BUDGET;
    loop {
        let states = am.states().await;
        if states == expected {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "alert states:\n{states:#?}\nexpected:\n{expected:#?}\n{}",
            am.log()
        );
        sleep(Duration::from_millis(200)).await;
    }
}
