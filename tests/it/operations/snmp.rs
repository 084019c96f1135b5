//! End-to-end over SNMP: `snmpsim` serves two recorded Connect Secure
//! gateways (one beyond every threshold of the SNMP alerts, one healthy),
//! the real snmp_exporter runs `snmp/snmp.yml`, and a real Prometheus
//! scrapes it with the configuration of docs/snmp.md beside the demo exporter.
//! Every query of the Connect Secure dashboard returns data, the SNMP series
//! carry the demo gateway's `target`, the rule files load, and each SNMP
//! alert's expression selects the sick gateway (or the unreachable one)
//! and not the healthy one. Without the servers: the module makes the
//! metrics the README documents, and the scrape configuration of docs/snmp.md
//! labels each gateway with its `target` (promtool's service discovery).

use std::collections::BTreeSet;
use std::fs::File;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::LazyLock;
use std::time::Duration;

use serde_json::{Value, json};

use super::e2e::{BUDGET, INTERVAL, Prometheus, eventually, loaded_rules, with_variables};
use super::loopback::LoopbackServer;
use super::{
    alert_rules, dashboards, doc_section, readme_section, repo, run, selectors, text, yaml_blocks,
};
use crate::common::{Binary, Workdir, tool};

/// The module the scrape configuration of docs/snmp.md names.
const MODULE: &str = "ivanti_connect_secure";
/// The alert rules of the SNMP series.
const RULE_FILE: &str = "connect_secure_snmp.yml";
/// The dashboard with the SNMP panels.
const DASHBOARD: &str = "connect_secure.json";
/// Where the examples of docs/snmp.md point, replaced by the test's.
const README_SD_FILES: &str = "/etc/prometheus/connect_secure_snmp/*.yml";
const README_SNMP_EXPORTER: &str = "snmp-exporter.example.com:9116";
/// The software version the sick gateway sends, newline and all.
const VERSION: &str = "22.7R2.3";

/// Every metric name `snmp/snmp.yml` makes: the objects' names, and for
/// objects with `regex_extracts` the extracted names instead.
pub(crate) fn snmp_metric_names() -> BTreeSet<String> {
    let path = repo().join("snmp/snmp.yml");
    let text = std::fs::read_to_string(&path).unwrap();
    let config: Value =
        serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut names = BTreeSet::new();
    for module in config.as_object().unwrap().values() {
        for metric in module["metrics"].as_array().unwrap() {
            let name = metric["name"].as_str().unwrap();
            match metric.get("regex_extracts").and_then(Value::as_object) {
                Some(extracts) => names.extend(extracts.keys().map(|k| format!("{name}{k}"))),
                None => {
                    names.insert(name.to_owned());
                }
            }
        }
    }
    assert!(names.len() > 10, "{}: {names:?}", path.display());
    names
}

/// Whether a PromQL expression reads a series of snmp_exporter: a metric
/// of the module, or `up` of its jobs.
pub(crate) fn selects_snmp(expr: &str) -> bool {
    static NAMES: LazyLock<BTreeSet<String>> = LazyLock::new(snmp_metric_names);
    let names = &*NAMES;
    selectors(expr).iter().any(|s| {
        s.metric_names().iter().any(|n| names.contains(n))
            || s.matchers.contains("connect_secure_snmp")
    })
}

#[test]
fn the_module_makes_every_metric_the_readme_documents_for_it() {
    let names = snmp_metric_names();
    for expected in [
        "iveMaxConcurrentUsersLicenseCapacity",
        "iveConcurrentUsers",
        "clusterConcurrentUsers",
        "pclsRemainingGracePeriod",
        "fanDescriptionFailed",
        "psDescriptionFailed",
        "raidDescriptionFailed",
        "productVersion",
    ] {
        assert!(names.contains(expected), "snmp/snmp.yml has no {expected}");
    }
    let section = readme_section("### Ivanti Connect Secure over SNMP (snmp_exporter)");
    let documented: BTreeSet<String> = section
        .iter()
        .filter(|l| l.starts_with("| `"))
        .flat_map(|l| {
            let metric = l.split('|').nth(1).unwrap_or_default();
            metric
                .split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(documented, names, "the README's SNMP metric table");
}

// ---------------------------------------------------------------------------
// Recorded gateways.

/// A value of a `.snmprec` file: Gauge32 (tag 66) or an OCTET STRING in hex
/// (tag 4x).
enum Recorded {
    /// A number, as the MIB's Gauge32 objects.
    Gauge(u32),
    /// A text, as the MIB's OCTET STRING objects.
    Text(&'static str),
}

/// What a gateway answers, by object number under 1.3.6.1.4.1.12532.
type Recording = &'static [(u32, Recorded)];

/// Above every threshold of `alerts/connect_secure_snmp.yml`.
const SICK: Recording = &[
    (1, Recorded::Gauge(95)),  // logFullPercent
    (2, Recorded::Gauge(940)), // signedInWebUsers
    (3, Recorded::Gauge(3)),   // signedInMailUsers
    (6, Recorded::Text("Ivanti Connect Secure,PSA-3000")),
    (7, Recorded::Text("22.7R2.3\n")), // productVersion, with its newline
    (10, Recorded::Gauge(35)),         // iveCpuUtil
    (11, Recorded::Gauge(97)),         // iveMemoryUtil
    (12, Recorded::Gauge(950)),        // iveConcurrentUsers
    (13, Recorded::Gauge(950)),        // clusterConcurrentUsers
    (24, Recorded::Gauge(2)),          // iveSwapUtil
    (25, Recorded::Gauge(95)),         // diskFullPercent
    (32, Recorded::Text("Fan 2 speed below threshold")),
    (33, Recorded::Text("Power Supply 2 FAILED")),
    (34, Recorded::Text("RAID array degraded: disk 1 failed")),
    (42, Recorded::Gauge(80)),   // iveTemperature
    (43, Recorded::Gauge(610)),  // iveVPNTunnels
    (44, Recorded::Gauge(1320)), // iveSSLConnections
    (45, Recorded::Text("4.3.2")),
    (48, Recorded::Gauge(950)),  // iveTotalSignedInUsers
    (50, Recorded::Gauge(1200)), // vpnACLSCount
    (54, Recorded::Gauge(5)),    // pclsRemainingGracePeriod
    (55, Recorded::Gauge(1000)), // iveMaxConcurrentUsersLicenseCapacity
];

/// Below every threshold; no temperature sensor, no grace period.
const HEALTHY: Recording = &[
    (1, Recorded::Gauge(10)),
    (2, Recorded::Gauge(95)),
    (3, Recorded::Gauge(0)),
    (6, Recorded::Text("Ivanti Connect Secure,ISA-6000")),
    (7, Recorded::Text("22.7R2.3\n")),
    (10, Recorded::Gauge(8)),
    (11, Recorded::Gauge(40)),
    (12, Recorded::Gauge(100)),
    (13, Recorded::Gauge(100)),
    (24, Recorded::Gauge(0)),
    (25, Recorded::Gauge(30)),
    (32, Recorded::Text("Fan 1 OK, Fan 2 OK")),
    (33, Recorded::Text("Power Supply 1 OK, Power Supply 2 OK")),
    (34, Recorded::Text("")),
    (42, Recorded::Gauge(0)),
    (43, Recorded::Gauge(40)),
    (44, Recorded::Gauge(120)),
    (45, Recorded::Text("4.3.2")),
    (48, Recorded::Gauge(100)),
    (50, Recorded::Gauge(300)),
    (54, Recorded::Gauge(0)),
    (55, Recorded::Gauge(1000)),
];

fn snmprec(recording: Recording) -> String {
    let mut lines: Vec<(u32, String)> = recording
        .iter()
        .map(|(n, v)| {
            let value = match v {
                Recorded::Gauge(g) => format!("66|{g}"),
                Recorded::Text(t) => format!(
                    "4x|{}",
                    t.bytes().map(|b| format!("{b:02x}")).collect::<String>()
                ),
            };
            (*n, format!("1.3.6.1.4.1.12532.{n}.0|{value}"))
        })
        .collect();
    // snmpsim wants the records in OID order.
    lines.sort_by_key(|(n, _)| *n);
    lines.into_iter().map(|(_, l)| l + "\n").collect()
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A free UDP port on loopback.
fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `snmpsimd` serving one recording to the community `public` (the
/// module's) on a loopback UDP port; killed when dropped.
struct Simulator {
    /// The snmpsimd process, killed when dropped.
    child: Child,
    /// `127.0.0.1:PORT`, the SNMP target.
    address: String,
    /// Its standard error, which says when it listens.
    log: PathBuf,
    /// Its recording, index cache and log; removed last.
    _dir: Workdir,
}

impl Simulator {
    fn start(snmpsimd: &Path, recording: Recording) -> Self {
        let dir = Workdir::new();
        let data = dir.path().join("data");
        let cache = dir.path().join("cache");
        std::fs::create_dir(&data).unwrap();
        std::fs::create_dir(&cache).unwrap();
        std::fs::write(data.join("public.snmprec"), snmprec(recording)).unwrap();
        let log = dir.path().join("snmpsimd.log");
        let port = free_udp_port();
        let address = format!("127.0.0.1:{port}");
        let mut cmd = Command::new(snmpsimd);
        cmd.arg(format!("--data-dir={}", data.display()))
            .arg(format!("--cache-dir={}", cache.display()))
            .arg(format!("--agent-udpv4-endpoint={address}"))
            .arg("--logging-method=stderr");
        // As root, snmpsimd insists on dropping to an unprivileged user,
        // which must then read the data and write the index.
        if std::fs::metadata(dir.path()).unwrap().uid() == 0 {
            cmd.args(["--process-user=nobody", "--process-group=nogroup"]);
            chmod(dir.path(), 0o755);
            chmod(&data, 0o755);
            chmod(&data.join("public.snmprec"), 0o644);
            chmod(&cache, 0o777);
        }
        let child = cmd
            .stdout(Stdio::null())
            .stderr(File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut sim = Self {
            child,
            address,
            log,
            _dir: dir,
        };
        sim.wait_listening();
        sim
    }

    /// Waits until it says it listens (it indexes the data first).
    fn wait_listening(&mut self) {
        let deadline = std::time::Instant::now() + BUDGET;
        let listening = format!("Listening at UDP/IPv4 endpoint {}", self.address);
        loop {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            if log.contains(&listening) {
                return;
            }
            let exited = self.child.try_wait().unwrap();
            assert!(
                exited.is_none() && std::time::Instant::now() < deadline,
                "snmpsimd did not start ({exited:?}):\n{log}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------
// The configuration of docs/snmp.md.

/// The SNMP scrape jobs of `docs/snmp.md`, checked by promtool as written.
fn readme_jobs(promtool: &Path, work: &Workdir) -> (Vec<Value>, Value) {
    let blocks = yaml_blocks(&doc_section("docs/snmp.md", "# Hardware health (SNMP)"));
    let config: Vec<&String> = blocks
        .iter()
        .filter(|b| b.starts_with("# prometheus.yml\n"))
        .collect();
    assert_eq!(config.len(), 1, "one prometheus.yml in the SNMP section");
    let path = work.write("readme-snmp.yml", config[0]);
    let (ok, out, err) = run(Command::new(promtool).arg("check").arg("config").arg(&path));
    assert!(ok, "promtool check config:\n{}\n{out}{err}", config[0]);
    let parsed: Value = serde_saphyr::from_str(config[0]).unwrap();
    let jobs = parsed["scrape_configs"].as_array().unwrap().clone();

    let sd: Vec<&String> = blocks
        .iter()
        .filter(|b| b.starts_with("# /etc/prometheus/connect_secure_snmp/"))
        .collect();
    assert_eq!(sd.len(), 1, "one file_sd example in the SNMP section");
    let sd: Value = serde_saphyr::from_str(sd[0]).unwrap();
    (jobs, sd)
}

/// A job of docs/snmp.md pointed at the test's snmp_exporter, SD files and interval;
/// panics when docs/snmp.md no longer has what is replaced.
fn localise(mut job: Value, sd_files: &str, snmp_exporter: &str) -> Value {
    let name = text(&job, "job_name").to_owned();
    assert!(name.starts_with("connect_secure_snmp"), "job {name}");
    assert_eq!(job["params"]["module"], json!([MODULE]), "{name}");
    for key in ["scrape_interval", "scrape_timeout"] {
        assert!(job.get(key).is_some(), "{name}: no {key}");
        job[key] = INTERVAL.into();
    }
    let files = &mut job["file_sd_configs"][0]["files"];
    assert_eq!(*files, json!([README_SD_FILES]), "{name}");
    *files = json!([sd_files]);
    let mut replaced = 0;
    for r in job["relabel_configs"].as_array_mut().unwrap() {
        if text(r, "target_label") == "__address__" {
            assert_eq!(text(r, "replacement"), README_SNMP_EXPORTER, "{name}");
            r["replacement"] = snmp_exporter.into();
            replaced += 1;
        }
    }
    assert_eq!(replaced, 1, "{name}: the snmp_exporter address");
    job
}

#[test]
fn the_readme_scrape_configuration_gives_each_gateway_its_target() {
    let Some(promtool) = tool("promtool") else {
        return;
    };
    let work = Workdir::new();
    let (jobs, readme_sd) = readme_jobs(&promtool, &work);
    let sd = work.path().join("sd");
    std::fs::create_dir(&sd).unwrap();
    // The example of docs/snmp.md, and a gateway without a `target` label.
    let mut groups = readme_sd.as_array().unwrap().clone();
    groups.push(json!({"targets": ["10.1.2.3"]}));
    let mut expected: BTreeSet<(String, String)> =
        BTreeSet::from([("10.1.2.3".to_owned(), "10.1.2.3".to_owned())]);
    for g in &readme_sd.as_array().unwrap()[..] {
        for t in g["targets"].as_array().unwrap() {
            let address = t.as_str().unwrap().to_owned();
            expected.insert((address, text(&g["labels"], "target").to_owned()));
        }
    }
    std::fs::write(sd.join("gateways.yml"), Value::Array(groups).to_string()).unwrap();
    let sd_files = format!("{}/*.yml", sd.display());
    for job in jobs {
        let name = text(&job, "job_name").to_owned();
        let job = localise(job, &sd_files, "127.0.0.1:9116");
        let config = work.write(
            "prometheus.yml",
            &json!({"scrape_configs": [job]}).to_string(),
        );
        let (ok, out, err) = run(Command::new(&promtool)
            .args(["check", "service-discovery", "--timeout=1s"])
            .arg(&config)
            .arg(&name));
        assert!(ok, "promtool check service-discovery {name}: {out}{err}");
        let discovered: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
        let mut got = BTreeSet::new();
        for t in discovered.as_array().unwrap() {
            let labels = &t["labels"];
            let address = text(&t["discoveredLabels"], "__address__");
            assert_eq!(text(labels, "__param_target"), address, "{name}: {t}");
            assert_eq!(text(labels, "__param_module"), MODULE, "{name}: {t}");
            assert_eq!(text(labels, "instance"), address, "{name}: {t}");
            assert_eq!(text(labels, "__address__"), "127.0.0.1:9116", "{name}: {t}");
            assert_eq!(text(labels, "__metrics_path__"), "/snmp", "{name}: {t}");
            got.insert((address.to_owned(), text(labels, "target").to_owned()));
        }
        assert_eq!(got, expected, "{name}: (address, target)");
    }
}

// ---------------------------------------------------------------------------
// The stack.

/// The demo exporter, two simulated gateways, snmp_exporter and Prometheus.
struct Stack {
    /// Scrapes the demo and snmp_exporter, evaluates the rule files.
    prometheus: Prometheus,
    /// `target` of the sick gateway: the demo's first Connect Secure target.
    sick: String,
    /// `target` of the healthy gateway.
    healthy: String,
    /// `target` of an SNMP address that never answers.
    unreachable: String,
    /// The demo exporter, with the Connect Secure targets.
    _demo: Binary,
    /// snmp_exporter on `snmp/snmp.yml`.
    _snmp_exporter: LoopbackServer,
    /// The sick and the healthy gateway.
    _simulators: Vec<Simulator>,
    /// Holds the unreachable address' port, so nothing else answers there.
    _silent: std::net::UdpSocket,
    /// Configurations and Prometheus' data; removed last.
    _work: Workdir,
}

impl Stack {
    /// `None` when a tool is not installed (and not required).
    async fn start() -> Option<Self> {
        let prometheus = tool("prometheus")?;
        let promtool = tool("promtool")?;
        let snmp_exporter = tool("prometheus-snmp-exporter")?;
        let snmpsimd = tool("snmpsimd")?;
        let work = Workdir::new();
        let (jobs, readme_sd) = readme_jobs(&promtool, &work);

        let tmp = work.path().join("tmp");
        std::fs::create_dir(&tmp).unwrap();
        let demo = Binary::start(
            &["--demo", "--timeout-offset=100ms"],
            &[("TMPDIR", tmp.to_str().unwrap())],
        );
        let demo_config: Value = serde_saphyr::from_str(
            &std::fs::read_to_string(tmp.join("appliance_exporter-demo/appliance_exporter.yml"))
                .unwrap(),
        )
        .unwrap();
        let ics_targets: Vec<String> = demo_config["targets"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| {
                text(&demo_config["modules"][text(t, "module")], "kind") == "connect_secure"
            })
            .map(|t| text(t, "name").to_owned())
            .collect();
        assert!(
            !ics_targets.is_empty(),
            "the demo has no Connect Secure target"
        );
        let sick = ics_targets[0].clone();
        let healthy = ics_targets
            .get(1)
            .cloned()
            .unwrap_or_else(|| "healthy-gateway".to_owned());
        let unreachable = "unreachable-gateway".to_owned();

        let simulators = vec![
            Simulator::start(&snmpsimd, SICK),
            Simulator::start(&snmpsimd, HEALTHY),
        ];
        let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let silent_address = silent.local_addr().unwrap().to_string();

        let snmp_exporter = LoopbackServer::start(
            &snmp_exporter,
            &[format!(
                "--config.file={}",
                repo().join("snmp/snmp.yml").display()
            )],
            work.path().join("snmp_exporter.log"),
            BUDGET,
        )
        .await;

        // The file_sd shape of docs/snmp.md: an address and its `target`.
        let example = &readme_sd[0];
        assert!(
            example["targets"].is_array() && example["labels"].get("target").is_some(),
            "the file_sd example of docs/snmp.md: {readme_sd}"
        );
        let sd = work.path().join("sd");
        std::fs::create_dir(&sd).unwrap();
        let groups = json!([
            {"targets": [simulators[0].address], "labels": {"target": sick}},
            {"targets": [simulators[1].address], "labels": {"target": healthy}},
            {"targets": [silent_address], "labels": {"target": unreachable}},
        ]);
        std::fs::write(sd.join("gateways.yml"), groups.to_string()).unwrap();

        let snmp_address = snmp_exporter.url.trim_start_matches("http://").to_owned();
        let sd_files = format!("{}/*.yml", sd.display());
        let mut scrape_configs = vec![json!({
            "job_name": "appliance_exporter",
            "static_configs": [{"targets": [demo.url.trim_start_matches("http://")]}],
        })];
        scrape_configs.extend(
            jobs.into_iter()
                .map(|j| localise(j, &sd_files, &snmp_address)),
        );
        let config = json!({
            "global": {
                "scrape_interval": INTERVAL,
                "scrape_timeout": INTERVAL,
                "evaluation_interval": INTERVAL,
            },
            "rule_files": [format!("{}/alerts/*.yml", repo().display())],
            "scrape_configs": scrape_configs,
        });
        // JSON is YAML.
        let config_path = work.write("prometheus.yml", &config.to_string());
        let prometheus = Prometheus::start(&prometheus, work.path(), &config_path).await;
        Some(Self {
            prometheus,
            sick,
            healthy,
            unreachable,
            _demo: demo,
            _snmp_exporter: snmp_exporter,
            _simulators: simulators,
            _silent: silent,
            _work: work,
        })
    }

    /// The `target` labels of the series an expression selects now.
    async fn targets_of(&self, expr: &str) -> Result<BTreeSet<String>, String> {
        Ok(self
            .prometheus
            .query(expr)
            .await?
            .iter()
            .map(|s| text(&s["metric"], "target").to_owned())
            .collect())
    }
}

#[tokio::test]
async fn every_dashboard_query_returns_data_with_snmp_exporter() {
    let Some(stack) = Stack::start().await else {
        return;
    };
    let dashboard = dashboards()
        .into_iter()
        .find(|d| d.file == DASHBOARD)
        .unwrap();
    let queries: Vec<_> = dashboard
        .queries()
        .into_iter()
        .map(|q| {
            let expr = with_variables(&q);
            (q, expr)
        })
        .collect();
    assert!(
        queries.iter().any(|(q, _)| selects_snmp(&q.expr)),
        "{DASHBOARD} has no SNMP panel"
    );
    let sick = &stack.sick;
    eventually("every query of the dashboard returns data", async || {
        let mut missing = Vec::new();
        for (q, expr) in &queries {
            match stack.targets_of(expr).await {
                // An SNMP panel shows the sick gateway under the target
                // name its appliance_exporter series have.
                Ok(t) if selects_snmp(&q.expr) && !t.contains(sick) => {
                    missing.push(format!("no {sick:?} in {t:?}: {q}"));
                }
                Ok(t) if t.is_empty() => missing.push(format!("no data: {q}")),
                Ok(_) => {}
                Err(e) => missing.push(format!("{q}: {e}")),
            }
        }
        if missing.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{}\n{}",
                missing.join("\n"),
                stack.prometheus.log()
            ))
        }
    })
    .await;

    // One `target` selects both sources.
    let both = format!("iveMemoryUtil{{target={sick:?}}} and on (target) ics_up");
    let t = stack.targets_of(&both).await.unwrap();
    assert_eq!(t, BTreeSet::from([sick.clone()]), "{both}");

    // The scrape configuration drops the newline of productVersion.
    let r = stack
        .prometheus
        .query(&format!("productVersion{{target={sick:?}}}"))
        .await
        .unwrap();
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(text(&r[0]["metric"], "productVersion"), VERSION);
}

#[tokio::test]
async fn every_snmp_alert_selects_the_sick_gateway_and_not_the_healthy_one() {
    let Some(stack) = Stack::start().await else {
        return;
    };
    let rules: Vec<_> = alert_rules()
        .into_iter()
        .filter(|r| r.file == RULE_FILE)
        .collect();
    assert!(!rules.is_empty(), "no rule in {RULE_FILE}");
    let p = &stack.prometheus;
    eventually(
        "every rule loaded and evaluated without error",
        async || {
            let loaded = loaded_rules(p).await?;
            let names: BTreeSet<&str> = loaded.iter().map(|r| r.name.as_str()).collect();
            match rules.iter().find(|r| !names.contains(r.name.as_str())) {
                Some(r) => Err(format!("{} is not loaded", r.name)),
                None => Ok(()),
            }
        },
    )
    .await;

    eventually(
        "each alert selects exactly the gateway it is about",
        async || {
            let mut wrong = Vec::new();
            for r in &rules {
                let expected = if r.name == "ICSSNMPTargetDown" {
                    &stack.unreachable
                } else {
                    &stack.sick
                };
                let selected = stack.targets_of(&r.expr).await?;
                if selected != BTreeSet::from([expected.clone()]) {
                    wrong.push(format!(
                        "{} ({}): selects {selected:?}, expected {expected:?}",
                        r.name, r.labels["severity"]
                    ));
                }
                // The healthy gateway is quiet with every series there.
                for s in selectors(&r.expr) {
                    for name in s.metric_names() {
                        let healthy = format!("{name}{{target={:?}}}", stack.healthy);
                        if stack.targets_of(&healthy).await?.is_empty() {
                            wrong.push(format!("{}: no {healthy}", r.name));
                        }
                    }
                }
            }
            if wrong.is_empty() {
                Ok(())
            } else {
                Err(wrong.join("\n"))
            }
        },
    )
    .await;
}
