//! The signals of the Enterprise Recon master server and of how users
//! connect to Connect Secure, end to end: the panels of the *Master
//! server* and *How users connect* rows (and the fleet overview's master
//! servers), run against a real Prometheus
//! scraping the demo, show exactly the figures its simulators serve: each
//! ER2 master's newest load sample, version and host name, and the demo
//! cluster's sessions by transport mode, client version and authentication
//! server, its SSL share of tunnels and its host-check failures as
//! `SessionTable::connection_counts()` counts them.

use std::collections::BTreeMap;

use serde_json::Value;

use super::dashboards;
use super::e2e::{Prometheus, Stack, eventually, with_variables};
use appliance_exporter::simulator::connect_secure::{SessionTable, demo_cluster_sessions};
use appliance_exporter::simulator::enterprise_recon::{ServerLoads, server_body};

/// One figure a panel must show: the series of the panel's queries (or
/// of its query `ref_id` alone, where given) whose labels include
/// `labels`, exactly one, with the value `value`.
struct Shown {
    dashboard: &'static str,
    panel: &'static str,
    ref_id: Option<&'static str>,
    labels: BTreeMap<String, String>,
    value: f64,
}

impl Shown {
    fn in_query(self, ref_id: &'static str) -> Self {
        Self {
            ref_id: Some(ref_id),
            ..self
        }
    }
}

fn shown(
    dashboard: &'static str,
    panel: &'static str,
    labels: &[(&str, &str)],
    value: f64,
) -> Shown {
    Shown {
        dashboard,
        panel,
        ref_id: None,
        labels: labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        value,
    }
}

/// The label value the exporter gives a value the simulator sends, or
/// `none` for a session without it.
fn label(value: &Option<String>) -> String {
    value.clone().unwrap_or_else(|| "none".to_owned())
}

/// What the demo cluster's panels must show, from the simulator's own
/// count of its sessions.
fn connect_secure_figures() -> Vec<Shown> {
    const D: &str = "connect_secure.json";
    let sessions = demo_cluster_sessions();
    let total = sessions.count as f64;
    let counts = SessionTable::new(sessions).connection_counts();
    let cluster = [("job", "appliance_exporter"), ("target", "vpn-cluster")];
    fn with<'a>(
        cluster: &[(&'a str, &'a str)],
        extra: (&'a str, &'a str),
    ) -> Vec<(&'a str, &'a str)> {
        let mut l = cluster.to_vec();
        l.push(extra);
        l
    }
    let mut out = Vec::new();
    let transport = |mode: &str| {
        counts
            .by_transport
            .iter()
            .filter(|(m, _)| label(m).eq_ignore_ascii_case(mode))
            .map(|(_, n)| *n as f64)
            .sum::<f64>()
    };
    for mode in ["esp", "ssl", "none"] {
        let n = transport(mode);
        assert!(n > 0.0, "the demo cluster has no {mode} session");
        out.push(shown(
            D,
            "Sessions by transport",
            &with(&cluster, ("mode", mode)),
            n,
        ));
    }
    let (esp, ssl) = (transport("esp"), transport("ssl"));
    out.push(shown(
        D,
        "SSL share of tunnels",
        &cluster,
        ssl / (esp + ssl),
    ));
    for (version, n) in &counts.by_client_version {
        let v = label(version);
        out.push(shown(
            D,
            "Client versions",
            &with(&cluster, ("version", &v)),
            *n as f64,
        ));
    }
    for (server, n) in &counts.by_auth_server {
        let s = label(server);
        out.push(shown(
            D,
            "Authentication servers",
            &with(&cluster, ("server", &s)),
            *n as f64,
        ));
    }
    let failed = counts.host_check_failed as f64;
    assert!(failed > 0.0, "no demo session fails its host check");
    out.push(shown(D, "Host-check failures", &cluster, failed));
    out.push(shown(
        D,
        "Sessions failing their host check",
        &cluster,
        failed / total,
    ));
    out
}

/// What each ER2 master's panels must show: the newest sample of the
/// simulator's `/v1/server` answer.
fn enterprise_recon_figures(targets: &[String]) -> Vec<Shown> {
    const D: &str = "enterprise_recon.json";
    let body: Value = serde_json::from_str(&server_body(ServerLoads::List, 0)).unwrap();
    let newest = body["loads"]
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|s| s["timestamp"].as_i64().unwrap())
        .unwrap()
        .clone();
    let ratio = |field: &str| newest[field].as_f64().unwrap() / 100.0;
    let text = |field: &str| body[field].as_str().unwrap().to_owned();
    let (version, host) = (text("version"), text("host_name"));
    let mut out = Vec::new();
    for t in targets {
        let series = |name: &'static str| {
            [
                ("job", "appliance_exporter"),
                ("target", t.as_str()),
                ("__name__", name),
            ]
        };
        out.extend([
            shown(
                D,
                "Disk used",
                &series("er2_server_disk_used_ratio"),
                ratio("disk"),
            ),
            shown(
                D,
                "CPU and stolen CPU",
                &series("er2_server_cpu_ratio"),
                ratio("cpu"),
            ),
            shown(
                D,
                "CPU and stolen CPU",
                &series("er2_server_cpu_stolen_ratio"),
                ratio("stolen_cpu"),
            ),
            shown(
                D,
                "Disk and memory used",
                &series("er2_server_memory_used_ratio"),
                ratio("memory"),
            ),
            shown(
                D,
                "Master server",
                &[
                    ("job", "appliance_exporter"),
                    ("target", t.as_str()),
                    ("version", &version),
                    ("host_name", &host),
                ],
                1.0,
            ),
        ]);
        // The fleet overview's row of every master server.
        let master = [("target", t.as_str())];
        let fleet =
            |ref_id, value| shown("fleet.json", "Master servers", &master, value).in_query(ref_id);
        out.extend([
            fleet("B", ratio("disk")),
            fleet("C", ratio("stolen_cpu")),
            shown(
                "fleet.json",
                "Master servers",
                &[
                    ("target", t.as_str()),
                    ("version", &version),
                    ("host_name", &host),
                ],
                1.0,
            )
            .in_query("A"),
        ]);
    }
    out
}

/// Why `want` is not shown (`None`: it is).
async fn not_shown(p: &Prometheus, want: &Shown) -> Result<Option<String>, String> {
    let board = dashboards()
        .into_iter()
        .find(|d| d.file == want.dashboard)
        .ok_or_else(|| format!("no dashboard {}", want.dashboard))?;
    let queries: Vec<_> = board
        .queries()
        .into_iter()
        .filter(|q| q.panel == want.panel && want.ref_id.is_none_or(|r| q.ref_id == r))
        .collect();
    if queries.is_empty() {
        return Err(format!("{}: no panel {:?}", want.dashboard, want.panel));
    }
    let mut values = Vec::new();
    for q in &queries {
        for series in p.query(&with_variables(q)).await? {
            let metric = &series["metric"];
            let matches = want
                .labels
                .iter()
                .all(|(k, v)| metric[k].as_str() == Some(v.as_str()));
            if matches {
                values.push(series["value"][1].as_str().unwrap_or("").to_owned());
            }
        }
    }
    let wanted = format!("{} / {:?} {:?}", want.dashboard, want.panel, want.labels);
    Ok(match values.as_slice() {
        [one] if one.parse::<f64>().ok() == Some(want.value) => None,
        _ => Some(format!("{wanted}: {values:?}, expected {}", want.value)),
    })
}

#[tokio::test]
async fn the_new_rows_show_the_simulators_figures() {
    let Some(stack) = Stack::start().await else {
        return;
    };
    stack.a_few_scrapes_in().await;
    let masters: Vec<String> = stack
        .demo_targets
        .iter()
        .filter(|t| t.kind == "enterprise_recon")
        .map(|t| t.name.clone())
        .collect();
    assert!(!masters.is_empty(), "the demo has no ER2 master");
    let mut figures = connect_secure_figures();
    figures.extend(enterprise_recon_figures(&masters));
    let p = &stack.prometheus;
    eventually("every figure of the new rows shown", async || {
        let mut wrong = Vec::new();
        for want in &figures {
            wrong.extend(not_shown(p, want).await?);
        }
        if wrong.is_empty() {
            Ok(())
        } else {
            Err(wrong.join("\n"))
        }
    })
    .await;
}
