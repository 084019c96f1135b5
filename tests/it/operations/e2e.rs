//! End-to-end: the demo exporter, and two replicas of it behind hashmod
//! relabelling, scraped by a real Prometheus on loopback with the alerting
//! rules loaded. Every dashboard query must return data, the stored values
//! must be the demo's (every appliance up, every collector succeeding, the
//! simulated cluster's sessions), every rule must load and hold exactly the
//! alerts its expression selects, the live output must be accepted in both
//! exposition formats, and the replicas must scrape every `/probe` target
//! exactly once between them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::{Instant, sleep};

use super::loopback::LoopbackServer;
use super::snmp::selects_snmp;
use super::snmp_stand_in;
use super::{
    PanelQuery, alert_rules, dashboards, label_values_metric, repo, string_map as labels, text,
};
use crate::common::{self, Binary, Workdir, tool};
use appliance_exporter::simulator::{Running, unix_now};

/// Scrape and rule evaluation interval (and scrape timeout) of the test
/// Prometheus: relaxed, so that a loaded machine answers every scrape in
/// time.
pub(super) const INTERVAL: &str = "5s";
/// How long the stack may take to show what is asserted. Generous, since
/// the machine may be busy; polling stops as soon as it holds.
pub(super) const BUDGET: Duration = Duration::from_secs(90);
/// Copies of each demo target in the replicas' configuration, so that
/// hashmod has a fleet to split.
const COPIES: usize = 3;
/// Exporter replicas behind hashmod.
const SHARDS: usize = 2;
/// The Accept header of Prometheus 2.42's scrapes.
const PROMETHEUS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
/// What the dashboards' variables stand for when the queries run: the
/// `target` variable's "All" value, and a rate window that holds several
/// scrapes.
pub(super) const VARIABLES: &[(&str, &str)] = &[
    ("${target}", ".+"),
    ("$target", ".+"),
    ("$job", ".+"),
    ("$instance", ".+"),
    ("$__rate_interval", "1m"),
];

/// A panel query as it runs: the dashboard's variables replaced by
/// `VARIABLES`.
pub(super) fn with_variables(q: &PanelQuery) -> String {
    let mut expr = q.expr.clone();
    for (variable, value) in VARIABLES {
        expr = expr.replace(variable, value);
    }
    // `$1` in a label_replace is a regex group, not a variable.
    let unknown = expr
        .split('$')
        .skip(1)
        .any(|rest| rest.starts_with(|c: char| c == '{' || c.is_alphabetic() || c == '_'));
    assert!(!unknown, "{q}: a variable the test does not know");
    expr
}

/// A static target of the demo's generated configuration.
pub(super) struct DemoTarget {
    pub name: String,
    url: String,
    module: String,
    /// The auth the target names instead of its module's.
    auth: Option<String>,
    /// The `kind` of its module: enterprise_recon, connect_secure, sectona.
    pub kind: String,
}

/// A Prometheus server on a loopback port, with its data in a temporary
/// folder; killed when dropped.
pub(super) struct Prometheus {
    server: LoopbackServer,
    url: String,
}

impl Prometheus {
    /// Starts Prometheus on `config` and waits until it is ready.
    pub(super) async fn start(binary: &Path, dir: &Path, config: &Path) -> Self {
        let args = [
            format!("--config.file={}", config.display()),
            format!("--storage.tsdb.path={}", dir.join("data").display()),
        ];
        let server = LoopbackServer::start(binary, &args, dir.join("prometheus.log"), BUDGET).await;
        let url = server.url.clone();
        Self { server, url }
    }

    /// The `data` of an HTTP API answer.
    pub(super) async fn api(&self, path: &str, params: &[(&str, &str)]) -> Result<Value, String> {
        let url = url::Url::parse_with_params(&format!("{}{path}", self.url), params).unwrap();
        let resp = common::client()
            .get(url)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let body = resp.text().await.map_err(|e| e.to_string())?;
        let answer: Value = serde_json::from_str(&body).map_err(|e| format!("{e}: {body}"))?;
        if answer["status"] != "success" {
            return Err(body);
        }
        Ok(answer["data"].clone())
    }

    /// The series of an instant query, now.
    pub(super) async fn query(&self, promql: &str) -> Result<Vec<Value>, String> {
        let data = self.api("/api/v1/query", &[("query", promql)]).await?;
        Ok(data["result"].as_array().cloned().unwrap_or_default())
    }

    async fn active_targets(&self) -> Result<Vec<Value>, String> {
        let data = self.api("/api/v1/targets", &[("state", "active")]).await?;
        Ok(data["activeTargets"]
            .as_array()
            .cloned()
            .unwrap_or_default())
    }

    pub(super) fn log(&self) -> String {
        self.server.log()
    }
}

/// Polls `check` until it holds, for at most `BUDGET`; panics with its
/// last complaint.
pub(super) async fn eventually<T>(
    what: &str,
    mut check: impl AsyncFnMut() -> Result<T, String>,
) -> T {
    let deadline = Instant::now() + BUDGET;
    loop {
        match check().await {
            Ok(v) => return v,
            Err(e) if Instant::now() >= deadline => panic!("{what}, within {BUDGET:?}:\n{e}"),
            Err(_) => sleep(Duration::from_millis(500)).await,
        }
    }
}

/// The value of a query that selects exactly one series.
async fn scalar(p: &Prometheus, promql: &str) -> Result<f64, String> {
    let r = p.query(promql).await?;
    match r.as_slice() {
        [one] => one["value"][1]
            .as_str()
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("{promql}: {one}")),
        _ => Err(format!("{promql}: {} series", r.len())),
    }
}

fn host_port(url: &str) -> &str {
    url.trim_start_matches("http://")
}

const PROBE_RELABEL: &str = "      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [module]
        target_label: __param_module
      - source_labels: [auth]
        regex: (.+)
        target_label: __param_auth
      - source_labels: [__param_target]
        target_label: instance
";

/// The test's Prometheus configuration: the three patterns of the README,
/// and an snmp_exporter stand-in at `snmp`.
fn prometheus_config(
    work: &Path,
    demo: &str,
    replicas: &[String],
    fleet: &[String],
    snmp: &str,
) -> String {
    let mut y = format!(
        "global:\n  scrape_interval: {INTERVAL}\n  scrape_timeout: {INTERVAL}\n  \
         evaluation_interval: {INTERVAL}\nrule_files:\n  - {}/alerts/*.yml\nscrape_configs:\n",
        repo().display()
    );
    // One exporter, every static target, on /metrics.
    y += &format!(
        "  - job_name: appliance_exporter\n    static_configs:\n      - targets: [\"{demo}\"]\n"
    );
    // The licensed capacity of the Connect Secure targets, as snmp_exporter
    // reports it in a job of its own.
    y += &format!("  - job_name: snmp\n    static_configs:\n      - targets: [\"{snmp}\"]\n");
    // Multi-target: ad-hoc probes by URL and module, from file_sd.
    y += &format!(
        "  - job_name: appliance_exporter_probe\n    metrics_path: /probe\n    file_sd_configs:\n      \
         - files: [\"{}/sd/*.json\"]\n    relabel_configs:\n{PROBE_RELABEL}      \
         - target_label: __address__\n        replacement: {demo}\n",
        work.display()
    );
    // A sharded fleet: one job per replica, each keeping its hashmod shard
    // of the same static target names.
    let names = serde_json::to_string(fleet).unwrap();
    for (n, replica) in replicas.iter().enumerate() {
        y += &format!(
            "  - job_name: appliance_exporter_shard_{n}\n    metrics_path: /probe\n    static_configs:\n      \
             - targets: {names}\n    relabel_configs:\n      - source_labels: [__address__]\n        \
             modulus: {}\n        target_label: __tmp_hash\n        action: hashmod\n      \
             - source_labels: [__tmp_hash]\n        regex: \"{n}\"\n        action: keep\n{PROBE_RELABEL}      \
             - target_label: __address__\n        replacement: {replica}\n",
            replicas.len()
        );
    }
    y
}

/// The demo exporter, two replicas configured with the demo's targets
/// (each in `COPIES` more copies), and Prometheus scraping them.
pub(super) struct Stack {
    pub prometheus: Prometheus,
    demo: Binary,
    replicas: Vec<Binary>,
    pub demo_targets: Vec<DemoTarget>,
    /// The snmp_exporter stand-in.
    _snmp: Running,
    /// When the stack started, in seconds since the epoch: the demo's
    /// licence expiry is set after it.
    pub started: i64,
    /// The static target names of the replicas' configuration.
    fleet: Vec<String>,
    /// Configurations, secrets and Prometheus' data; removed last.
    _work: Workdir,
}

impl Stack {
    /// `None` when Prometheus is not installed (and not required).
    pub async fn start() -> Option<Self> {
        let prometheus = tool("prometheus")?;
        let started = unix_now();
        let work = Workdir::new();
        let tmp = work.path().join("tmp");
        std::fs::create_dir(&tmp).unwrap();
        // The demo writes its configuration under the temporary folder.
        let demo = Binary::start(
            &["--demo", "--timeout-offset=100ms"],
            &[("TMPDIR", tmp.to_str().unwrap())],
        );
        let demo_config = tmp.join("appliance_exporter-demo/appliance_exporter.yml");
        let mut config: Value =
            serde_saphyr::from_str(&std::fs::read_to_string(&demo_config).unwrap()).unwrap();
        let original = config["targets"].as_array().cloned().unwrap_or_default();
        assert!(!original.is_empty(), "the demo has no targets");
        let demo_targets: Vec<DemoTarget> = original
            .iter()
            .map(|t| DemoTarget {
                name: text(t, "name").to_owned(),
                url: text(t, "url").to_owned(),
                module: text(t, "module").to_owned(),
                auth: t["auth"].as_str().map(str::to_owned),
                kind: text(&config["modules"][text(t, "module")], "kind").to_owned(),
            })
            .collect();

        let mut fleet_targets = Vec::new();
        for t in &original {
            for copy in 0..=COPIES {
                let mut t = t.clone();
                if copy > 0 {
                    t["name"] = format!("{}-{copy}", text(&t, "name")).into();
                }
                fleet_targets.push(t);
            }
        }
        let fleet: Vec<String> = fleet_targets
            .iter()
            .map(|t| text(t, "name").to_owned())
            .collect();
        config["targets"] = Value::Array(fleet_targets);
        // JSON is YAML: the replicas read it as their configuration.
        let fleet_config = work.write("fleet.yml", &serde_json::to_string_pretty(&config).unwrap());
        let replicas: Vec<Binary> = (0..SHARDS)
            .map(|_| {
                Binary::start(
                    &[
                        "--config.file",
                        fleet_config.to_str().unwrap(),
                        "--timeout-offset=100ms",
                    ],
                    &[],
                )
            })
            .collect();

        let sd = work.path().join("sd");
        std::fs::create_dir(&sd).unwrap();
        let mut by_module: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
        for t in &demo_targets {
            let auth = t.auth.as_deref().unwrap_or("");
            by_module.entry((&t.module, auth)).or_default().push(&t.url);
        }
        let groups: Vec<Value> = by_module
            .into_iter()
            .map(|((module, auth), urls)| {
                json!({"targets": urls, "labels": {"module": module, "auth": auth}})
            })
            .collect();
        std::fs::write(sd.join("demo.json"), Value::Array(groups).to_string()).unwrap();

        let replica_addresses: Vec<String> = replicas
            .iter()
            .map(|r| host_port(&r.url).to_owned())
            .collect();
        let gateways: Vec<String> = demo_targets
            .iter()
            .filter(|t| t.kind == "connect_secure")
            .map(|t| t.name.clone())
            .collect();
        let snmp = snmp_stand_in::start(&gateways).await;
        let config = prometheus_config(
            work.path(),
            host_port(&demo.url),
            &replica_addresses,
            &fleet,
            &snmp.addr.to_string(),
        );
        let config_path = work.write("prometheus.yml", &config);
        let prometheus = Prometheus::start(&prometheus, work.path(), &config_path).await;
        Some(Self {
            prometheus,
            demo,
            replicas,
            demo_targets,
            _snmp: snmp,
            started,
            fleet,
            _work: work,
        })
    }

    /// Waits until Prometheus has scraped every target of every job
    /// successfully (each at some poll, not necessarily all at the same
    /// one); returns the active targets.
    async fn scraped(&self) -> Vec<Value> {
        let expected = 1 + self.demo_targets.len() + self.fleet.len();
        let mut seen_up = BTreeSet::new();
        eventually("every target scraped and up", async || {
            let targets = self.prometheus.active_targets().await?;
            let id = |t: &Value| format!("{} {}", t["labels"]["job"], t["scrapeUrl"]);
            for t in &targets {
                if t["health"] == "up" && text(t, "lastError").is_empty() {
                    seen_up.insert(id(t));
                }
            }
            // At least: the hashmod test tells which target is scraped twice.
            if targets.len() < expected {
                return Err(format!(
                    "{} active targets, expected {expected}",
                    targets.len()
                ));
            }
            let bad: Vec<String> = targets
                .iter()
                .filter(|t| !seen_up.contains(&id(t)))
                .map(|t| {
                    format!(
                        "{} {}: {} {}",
                        t["labels"]["job"], t["labels"]["instance"], t["health"], t["lastError"]
                    )
                })
                .collect();
            if bad.is_empty() {
                Ok(targets)
            } else {
                Err(format!("{}\n{}", bad.join("\n"), self.prometheus.log()))
            }
        })
        .await
    }

    /// Waits until every job has a few scrapes stored, so that rates have
    /// data.
    pub async fn a_few_scrapes_in(&self) {
        self.scraped().await;
        eventually("three scrapes of every target", async || {
            let r = self
                .prometheus
                .query("min(count_over_time(up[1m]))")
                .await?;
            let n = r
                .first()
                .and_then(|s| s["value"][1].as_str())
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0);
            if n >= 3.0 {
                Ok(())
            } else {
                Err(format!("{n} scrapes"))
            }
        })
        .await;
    }
}

#[tokio::test]
async fn every_dashboard_query_returns_data_from_the_demo() {
    let Some(stack) = Stack::start().await else {
        return;
    };
    stack.a_few_scrapes_in().await;
    let p = &stack.prometheus;
    let mut variables = Vec::new();
    let mut queries = Vec::new();
    for d in dashboards() {
        let variable = d.target_variable_query();
        let mut metric = label_values_metric(&variable).unwrap().to_owned();
        for (variable, value) in VARIABLES {
            metric = metric.replace(variable, value);
        }
        variables.push((d.file.clone(), metric));
        for q in d.queries() {
            // The SNMP panels read snmp_exporter, which the demo has not:
            // `snmp::every_dashboard_query_returns_data_with_snmp_exporter`
            // runs them.
            if selects_snmp(&q.expr) {
                continue;
            }
            let expr = with_variables(&q);
            queries.push((q, expr));
        }
    }
    eventually(
        "every target variable has values and every dashboard query returns data",
        async || {
            let mut missing = Vec::new();
            for (file, metric) in &variables {
                let values = p
                    .api("/api/v1/label/target/values", &[("match[]", metric)])
                    .await?;
                if values.as_array().is_none_or(Vec::is_empty) {
                    missing.push(format!(
                        "{file}: the target variable has no values: no {metric} series"
                    ));
                }
            }
            for (q, expr) in &queries {
                match p.query(expr).await {
                    Ok(series) if !series.is_empty() => {}
                    Ok(_) => missing.push(format!("no data: {q}")),
                    Err(e) => missing.push(format!("{q}: {e}")),
                }
            }
            if missing.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "{} of {} queries and variables:\n{}",
                    missing.len(),
                    queries.len() + variables.len(),
                    missing.join("\n")
                ))
            }
        },
    )
    .await;

    // And the data is the demo's: every appliance up and every collector
    // succeeding, in every job, and the cluster's sessions as simulated.
    use appliance_exporter::simulator::connect_secure::{
        DEMO_CLUSTER_SESSIONS, DEMO_CLUSTER_USERS,
    };
    let demo = r#"job="appliance_exporter""#;
    // As many collectors as the demo exposes (the server tests name them).
    let exposed = common::get(&format!("{}/metrics", stack.demo.url), &[]).await;
    let collectors = common::series(&exposed.body, "appliance_exporter_collector_success{").len();
    let cluster = r#"job="appliance_exporter",target="vpn-cluster""#;
    let expected = [
        ("min(er2_up)".to_owned(), 1.0),
        ("min(ics_up)".to_owned(), 1.0),
        ("min(sectona_up)".to_owned(), 1.0),
        ("min(appliance_exporter_collector_success)".to_owned(), 1.0),
        (
            format!("count({{__name__=~\"er2_up|ics_up|sectona_up\",{demo}}})"),
            stack.demo_targets.len() as f64,
        ),
        (
            format!("count(appliance_exporter_collector_success{{{demo}}})"),
            collectors as f64,
        ),
        (
            format!("ics_active_sessions{{{cluster}}}"),
            DEMO_CLUSTER_SESSIONS as f64,
        ),
        (
            format!("sum(ics_active_sessions_listed{{{cluster}}})"),
            DEMO_CLUSTER_SESSIONS as f64,
        ),
        (
            format!("ics_active_users{{{cluster}}}"),
            DEMO_CLUSTER_USERS as f64,
        ),
    ];
    eventually("the demo's values stored", async || {
        let mut wrong = Vec::new();
        for (promql, want) in &expected {
            match scalar(p, promql).await {
                Ok(v) if v == *want => {}
                Ok(v) => wrong.push(format!("{promql} = {v}, expected {want}")),
                Err(e) => wrong.push(e),
            }
        }
        if wrong.is_empty() {
            return Ok(());
        }
        let failing =
            r#"{__name__=~"er2_up|ics_up|sectona_up|appliance_exporter_collector_success"} == 0"#;
        let failing: Vec<String> = p
            .query(failing)
            .await?
            .iter()
            .map(|s| s["metric"].to_string())
            .collect();
        Err(format!(
            "{}\nfailing: {}",
            wrong.join("\n"),
            failing.join("\n")
        ))
    })
    .await;
}

/// A rule as Prometheus reports it.
pub(super) struct LoadedRule {
    group: String,
    pub(super) name: String,
    pub(super) query: String,
    labels: BTreeMap<String, String>,
    alerts: BTreeSet<BTreeMap<String, String>>,
}

pub(super) async fn loaded_rules(p: &Prometheus) -> Result<Vec<LoadedRule>, String> {
    let data = p.api("/api/v1/rules", &[("type", "alert")]).await?;
    let mut rules = Vec::new();
    let mut unhealthy = Vec::new();
    for g in data["groups"].as_array().into_iter().flatten() {
        for r in g["rules"].as_array().into_iter().flatten() {
            if r["health"] != "ok" {
                unhealthy.push(format!("{}: {} {}", r["name"], r["health"], r["lastError"]));
            }
            rules.push(LoadedRule {
                group: text(g, "name").to_owned(),
                name: text(r, "name").to_owned(),
                query: text(r, "query").to_owned(),
                labels: labels(&r["labels"]),
                alerts: r["alerts"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|a| labels(&a["labels"]))
                    .collect(),
            });
        }
    }
    if unhealthy.is_empty() {
        Ok(rules)
    } else {
        Err(unhealthy.join("\n"))
    }
}

#[tokio::test]
async fn the_rule_files_load_and_every_rule_holds_the_alerts_its_expression_selects() {
    let Some(stack) = Stack::start().await else {
        return;
    };
    stack.scraped().await;
    let p = &stack.prometheus;
    let rules = eventually("every rule evaluated without error", async || {
        loaded_rules(p).await
    })
    .await;
    let loaded: BTreeSet<(String, String, String)> = rules
        .iter()
        .map(|r| {
            (
                r.group.clone(),
                r.name.clone(),
                r.labels["severity"].clone(),
            )
        })
        .collect();
    let written: BTreeSet<(String, String, String)> = alert_rules()
        .into_iter()
        .map(|r| (r.group, r.name, r.labels["severity"].clone()))
        .collect();
    assert_eq!(loaded, written, "the rules Prometheus loaded");

    let rules = eventually("every rule's alerts match its expression", async || {
        let rules = loaded_rules(p).await?;
        let mut wrong = Vec::new();
        for r in &rules {
            let mut selected = BTreeSet::new();
            for series in p.query(&r.query).await? {
                let mut l = labels(&series["metric"]);
                l.remove("__name__");
                l.extend(r.labels.clone());
                l.insert("alertname".into(), r.name.clone());
                selected.insert(l);
            }
            if selected != r.alerts {
                wrong.push(format!(
                    "{}: alerts {:?}, expression selects {:?}",
                    r.name, r.alerts, selected
                ));
            }
        }
        if wrong.is_empty() {
            Ok(rules)
        } else {
            Err(wrong.join("\n"))
        }
    })
    .await;
    // The demo's sitewide master server runs on the document's exceeded
    // licence, with its data allowance overdrawn.
    for name in ["ER2LicenseExceeded", "ER2DataAllowanceNearlyUsed"] {
        let alerts: usize = rules
            .iter()
            .filter(|r| r.name == name)
            .map(|r| r.alerts.len())
            .sum();
        assert!(alerts > 0, "{name} holds no alert on the demo");
    }
}

#[tokio::test]
async fn the_live_output_passes_promtool_and_prometheus_ingests_openmetrics_cleanly() {
    let Some(stack) = Stack::start().await else {
        return;
    };
    if tool("promtool").is_none() {
        return;
    }
    let demo = &stack.demo.url;
    let mut paths = vec!["/metrics".to_owned()];
    paths.extend(
        stack
            .demo_targets
            .iter()
            .map(|t| format!("/probe?target={}", t.name)),
    );
    for path in &paths {
        let text = common::get(&format!("{demo}{path}"), &[]).await;
        assert_eq!(text.status, 200, "{path}: {}", text.body);
        assert!(
            text.content_type.starts_with("text/plain; version=0.0.4"),
            "{path}: {}",
            text.content_type
        );
        let (ok, out) = common::promtool_check_metrics(&text.body).unwrap();
        assert!(ok, "promtool check metrics on {path}:\n{out}");

        let om = common::get(&format!("{demo}{path}"), &[("accept", PROMETHEUS_ACCEPT)]).await;
        assert_eq!(om.status, 200, "{path}");
        assert!(
            om.content_type.starts_with("application/openmetrics-text"),
            "{path}: Prometheus' scrape is answered with {}",
            om.content_type
        );
        assert!(om.body.ends_with("# EOF\n"), "{path}");
    }

    // Prometheus scraped every target in OpenMetrics without an error ...
    stack.scraped().await;
    let p = &stack.prometheus;
    // ... and stored every sample of each probe.
    for t in &stack.demo_targets {
        let mut params = vec![("target", t.url.as_str()), ("module", t.module.as_str())];
        params.extend(t.auth.as_deref().map(|a| ("auth", a)));
        let probe = url::Url::parse_with_params(&format!("{demo}/probe"), &params).unwrap();
        let selector = format!(
            "scrape_samples_scraped{{job=\"appliance_exporter_probe\",instance=\"{}\"}}",
            t.url
        );
        eventually(&format!("every sample of {probe} ingested"), async || {
            let om = common::get(probe.as_str(), &[("accept", PROMETHEUS_ACCEPT)]).await;
            let samples = om
                .body
                .lines()
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .count();
            let r = p.query(&selector).await?;
            let scraped = r
                .first()
                .and_then(|s| s["value"][1].as_str())
                .unwrap_or("none")
                .to_owned();
            if scraped == samples.to_string() {
                Ok(())
            } else {
                Err(format!(
                    "Prometheus scraped {scraped} samples, the probe has {samples}"
                ))
            }
        })
        .await;
    }
    let own = common::get(&format!("{}/metrics", p.url), &[]).await.body;
    for rejected in [
        "prometheus_target_scrapes_sample_duplicate_timestamp_total",
        "prometheus_target_scrapes_sample_out_of_bounds_total",
        "prometheus_target_scrapes_sample_out_of_order_total",
        "prometheus_target_scrapes_exceeded_sample_limit_total",
    ] {
        assert_eq!(common::value(&own, rejected), Some(0.0), "{rejected}");
    }
}

#[tokio::test]
async fn two_replicas_behind_hashmod_scrape_every_probe_target_exactly_once() {
    let Some(stack) = Stack::start().await else {
        return;
    };
    let targets = stack.scraped().await;
    let mut scraped_by: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for t in &targets {
        let Some(shard) = text(&t["labels"], "job").strip_prefix("appliance_exporter_shard_")
        else {
            continue;
        };
        let shard: usize = shard.parse().unwrap();
        let name = text(&t["labels"], "instance").to_owned();
        let url = text(t, "scrapeUrl");
        let replica = host_port(&stack.replicas[shard].url);
        assert!(
            url.starts_with(&format!("http://{replica}/probe?"))
                && url.contains(&format!("target={name}")),
            "shard {shard} scrapes {url}"
        );
        scraped_by.entry(name).or_default().push(shard);
    }
    let fleet: BTreeSet<&String> = stack.fleet.iter().collect();
    assert_eq!(
        scraped_by.keys().collect::<BTreeSet<_>>(),
        fleet,
        "the targets the shards scrape"
    );
    for (name, shards) in &scraped_by {
        assert_eq!(shards.len(), 1, "{name} is scraped by shards {shards:?}");
    }
    for shard in 0..SHARDS {
        assert!(
            scraped_by.values().any(|s| s == &[shard]),
            "shard {shard} scrapes nothing: {scraped_by:?}"
        );
    }

    // What the shards stored: each target's `*_up` exactly once.
    let p = &stack.prometheus;
    eventually("one *_up series per fleet target", async || {
        let r = p
            .query(r#"count by (target) ({__name__=~"er2_up|ics_up|sectona_up", job=~"appliance_exporter_shard_.+"})"#)
            .await?;
        let counts: BTreeMap<String, String> = r
            .iter()
            .map(|s| (text(&s["metric"], "target").to_owned(), s["value"][1].as_str().unwrap_or("").to_owned()))
            .collect();
        let expected: BTreeMap<String, String> = stack.fleet.iter().map(|n| (n.clone(), "1".to_owned())).collect();
        if counts == expected { Ok(()) } else { Err(format!("{counts:?}")) }
    })
    .await;
}
