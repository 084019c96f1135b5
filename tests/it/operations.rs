//! The operations kit: the Grafana dashboards follow the dashboard-linter
//! rules, the alerting rules follow their conventions and are each tested
//! firing and quiet, every metric they reference is documented, the
//! README's Prometheus examples pass promtool, and the systemd unit and its
//! example configuration agree. The run against a real Prometheus is in
//! `e2e`, the runbook's Alertmanager configuration against amtool and a
//! real Alertmanager in `alertmanager`, the snmp_exporter module and the
//! SNMP panels and alerts against snmp_exporter and simulated gateways in
//! `snmp`, the links between the README and `docs/` in `docs`, the ER2
//! master server and session panels' figures in `signals`.

mod alertmanager;
mod dashboard_lint;
mod docs;
mod e2e;
mod fleet_dashboard;
mod loopback;
mod signals;
mod snmp;
mod snmp_stand_in;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::{Workdir, tool};

// ---------------------------------------------------------------------------
// The files of the kit.

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(relative: &str) -> String {
    let path = repo().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The files of `folder` whose name ends with `suffix`, sorted.
fn files(folder: &str, suffix: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(repo().join(folder))
        .unwrap_or_else(|e| panic!("{folder}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.to_string_lossy().ends_with(suffix))
        .collect();
    found.sort();
    assert!(!found.is_empty(), "no {suffix} file in {folder}");
    found
}

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

fn yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// A Grafana dashboard of `dashboards/`.
pub(crate) struct Dashboard {
    pub file: String,
    pub json: Value,
}

pub(crate) fn dashboards() -> Vec<Dashboard> {
    files("dashboards", ".json")
        .into_iter()
        .map(|p| Dashboard {
            file: file_name(&p),
            json: serde_json::from_str(&std::fs::read_to_string(&p).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", p.display())),
        })
        .collect()
}

impl Dashboard {
    /// Every panel, including those nested in collapsed rows; not the
    /// rows themselves.
    pub fn panels(&self) -> Vec<&Value> {
        self.all_panels()
            .into_iter()
            .filter(|p| text(p, "type") != "row")
            .collect()
    }

    /// Every row and every panel, in the order of the file.
    pub fn all_panels(&self) -> Vec<&Value> {
        fn walk<'a>(panels: &'a Value, out: &mut Vec<&'a Value>) {
            for p in panels.as_array().into_iter().flatten() {
                out.push(p);
                if let Some(nested) = p.get("panels") {
                    walk(nested, out);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.json["panels"], &mut out);
        out
    }

    pub fn variable(&self, name: &str) -> Option<&Value> {
        self.json["templating"]["list"]
            .as_array()?
            .iter()
            .find(|v| text(v, "name") == name)
    }

    /// The query of the `target` variable: `label_values(METRIC, target)`.
    pub fn target_variable_query(&self) -> String {
        self.variable_query("target")
    }

    /// The query of a query variable.
    pub fn variable_query(&self, name: &str) -> String {
        let var = self
            .variable(name)
            .unwrap_or_else(|| panic!("{}: no {name} variable", self.file));
        match &var["query"] {
            Value::String(s) => s.clone(),
            q => text(q, "query").to_owned(),
        }
    }

    /// Every PromQL query of its panels.
    pub fn queries(&self) -> Vec<PanelQuery> {
        let mut out = Vec::new();
        for panel in self.panels() {
            for target in panel["targets"].as_array().into_iter().flatten() {
                out.push(PanelQuery {
                    dashboard: self.file.clone(),
                    panel: text(panel, "title").to_owned(),
                    ref_id: text(target, "refId").to_owned(),
                    expr: text(target, "expr").to_owned(),
                });
            }
        }
        out
    }
}

/// One query of one panel.
pub(crate) struct PanelQuery {
    pub dashboard: String,
    pub panel: String,
    pub ref_id: String,
    pub expr: String,
}

impl std::fmt::Display for PanelQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} / {:?} / {}: {}",
            self.dashboard, self.panel, self.ref_id, self.expr
        )
    }
}

/// The series selector of `label_values(SELECTOR, target)`.
fn label_values_metric(query: &str) -> Option<&str> {
    label_values_of(query, "target")
}

/// The series selector of `label_values(SELECTOR, label)`.
fn label_values_of<'a>(query: &'a str, label: &str) -> Option<&'a str> {
    let inner = query.strip_prefix("label_values(")?.strip_suffix(')')?;
    let (selector, of) = inner.rsplit_once(',')?;
    (of.trim() == label).then(|| selector.trim())
}

/// One alerting rule of `alerts/`.
#[derive(Debug)]
pub(crate) struct AlertRule {
    pub file: String,
    pub group: String,
    pub name: String,
    pub expr: String,
    pub duration: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

/// A JSON object of strings (labels, annotations) as a sorted map.
fn string_map(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect()
}

pub(crate) fn alert_rules() -> Vec<AlertRule> {
    let mut out = Vec::new();
    for path in files("alerts", ".yml") {
        let doc = yaml(&path);
        for group in doc["groups"].as_array().into_iter().flatten() {
            for rule in group["rules"].as_array().into_iter().flatten() {
                assert!(
                    rule.get("record").is_none(),
                    "{}: recording rules belong elsewhere",
                    path.display()
                );
                out.push(AlertRule {
                    file: file_name(&path),
                    group: text(group, "name").to_owned(),
                    name: text(rule, "alert").to_owned(),
                    expr: text(rule, "expr").to_owned(),
                    duration: text(rule, "for").to_owned(),
                    labels: string_map(&rule["labels"]),
                    annotations: string_map(&rule["annotations"]),
                });
            }
        }
    }
    assert!(!out.is_empty(), "no alerting rules");
    out
}

// ---------------------------------------------------------------------------
// Enough of PromQL to find the series a query selects.

/// A series selector: a metric name and / or `{matchers}`.
#[derive(Debug, PartialEq)]
pub(crate) struct Selector {
    pub name: Option<String>,
    pub matchers: String,
}

impl Selector {
    /// The selector as written: `name{matchers}`.
    pub fn text(&self) -> String {
        let name = self.name.as_deref().unwrap_or_default();
        if self.matchers.is_empty() {
            name.to_owned()
        } else {
            format!("{name}{{{}}}", self.matchers)
        }
    }

    /// The metric names it selects: its name, or the alternatives of a
    /// `__name__=~"a|b"` matcher.
    pub fn metric_names(&self) -> Vec<String> {
        if let Some(name) = &self.name {
            return vec![name.clone()];
        }
        let Some(rest) = self.matchers.split("__name__").nth(1) else {
            return Vec::new();
        };
        let value = rest.split('"').nth(1).unwrap_or_default();
        value.split('|').map(str::to_owned).collect()
    }
}

/// Binary operators, modifiers and the literals that look like names.
const PROMQL_KEYWORDS: &[&str] = &["and", "or", "unless", "bool", "offset", "inf", "nan"];
/// Aggregation operators, which may be followed by `by (...)` instead of
/// their parenthesis.
const AGGREGATIONS: &[&str] = &[
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
];
/// Keywords followed by a list of label names.
const LABEL_LIST_KEYWORDS: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];

/// The index just past the bracket that closes the one at `open`,
/// skipping string literals.
fn closing(b: &[u8], open: usize) -> usize {
    let (start, end) = (b[open], matching(b[open]));
    let mut depth = 0;
    let mut i = open;
    while i < b.len() {
        match b[i] {
            q @ (b'"' | b'\'' | b'`') => i = past_string(b, i, q) - 1,
            c if c == start => depth += 1,
            c if c == end => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    panic!(
        "unbalanced {:?} in {:?}",
        start as char,
        String::from_utf8_lossy(b)
    );
}

fn matching(open: u8) -> u8 {
    match open {
        b'(' => b')',
        b'[' => b']',
        _ => b'}',
    }
}

fn past_string(b: &[u8], open: usize, quote: u8) -> usize {
    let mut i = open + 1;
    while i < b.len() && b[i] != quote {
        i += if b[i] == b'\\' { 2 } else { 1 };
    }
    i + 1
}

fn is_name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b':'
}

/// What a PromQL expression selects: its series selectors, and the
/// contents of its `[...]` ranges.
#[derive(Debug, Default)]
pub(crate) struct Scan<'a> {
    pub selectors: Vec<Selector>,
    pub ranges: Vec<&'a str>,
}

pub(crate) fn scan(expr: &str) -> Scan<'_> {
    let b = expr.as_bytes();
    let mut found = Scan::default();
    let out = &mut found.selectors;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'"' | b'\'' | b'`') => i = past_string(b, i, q),
            b'[' => {
                let end = closing(b, i);
                found.ranges.push(&expr[i + 1..end - 1]);
                i = end;
            }
            b'{' => {
                let end = closing(b, i);
                out.push(Selector {
                    name: None,
                    matchers: expr[i + 1..end - 1].to_owned(),
                });
                i = end;
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c == b':' => {
                let start = i;
                while i < b.len() && is_name_byte(b[i]) {
                    i += 1;
                }
                let word = &expr[start..i];
                let mut next = i;
                while next < b.len() && b[next].is_ascii_whitespace() {
                    next += 1;
                }
                let before_paren = next < b.len() && b[next] == b'(';
                if LABEL_LIST_KEYWORDS.contains(&word) {
                    if before_paren {
                        i = closing(b, next);
                    }
                } else if PROMQL_KEYWORDS.contains(&word)
                    || AGGREGATIONS.contains(&word)
                    || before_paren
                {
                    // An operator, or a function / aggregation name.
                } else if next < b.len() && b[next] == b'{' {
                    let end = closing(b, next);
                    out.push(Selector {
                        name: Some(word.to_owned()),
                        matchers: expr[next + 1..end - 1].to_owned(),
                    });
                    i = end;
                } else {
                    out.push(Selector {
                        name: Some(word.to_owned()),
                        matchers: String::new(),
                    });
                }
            }
            // Numbers, durations and variables such as `$__rate_interval`.
            c if c.is_ascii_digit() || c == b'.' || c == b'$' => {
                i += 1;
                while i < b.len() && (is_name_byte(b[i]) || b[i] == b'.') {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    found
}

/// The series selectors of a PromQL expression.
pub(crate) fn selectors(expr: &str) -> Vec<Selector> {
    scan(expr).selectors
}

/// The PromQL of `printf "..." ... | query` calls in an alert template.
fn template_queries(template: &str) -> Vec<String> {
    template
        .split("printf \"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|q| q.replace("%q", "\"x\""))
        .collect()
}

#[test]
fn promql_selectors_are_found_and_label_lists_functions_and_strings_skipped() {
    let found = selectors(
        r#"histogram_quantile(0.9, sum by (target, le) (rate(a_bucket{target=~"$target"}[$__rate_interval]))) / ignoring (feature) b offset 5m
           or label_replace(c, "dst", "$1 d", "src", "(.*)") and on (job) {__name__=~"x_up|y_up", k="v"} > bool 1e3"#,
    );
    assert_eq!(
        found,
        vec![
            Selector {
                name: Some("a_bucket".into()),
                matchers: r#"target=~"$target""#.into()
            },
            Selector {
                name: Some("b".into()),
                matchers: String::new()
            },
            Selector {
                name: Some("c".into()),
                matchers: String::new()
            },
            Selector {
                name: None,
                matchers: r#"__name__=~"x_up|y_up", k="v""#.into()
            },
        ]
    );
    assert_eq!(found[3].metric_names(), ["x_up", "y_up"]);
    assert_eq!(
        scan("rate(a[5m]) + rate(b[$__rate_interval])").ranges,
        ["5m", "$__rate_interval"]
    );
    assert_eq!(
        template_queries(r#"{{ range printf "m{t=%q} == 1" $labels.t | query }}"#),
        [r#"m{t="x"} == 1"#]
    );
}

// ---------------------------------------------------------------------------
// The README and docs/.

/// The alert runbook, where every alert's `runbook_url` points.
const RUNBOOK: &str = "docs/runbook.md";

/// The lines of the README section under `heading`.
fn readme_section(heading: &str) -> Vec<String> {
    doc_section("README.md", heading)
}

/// The lines of the section of the Markdown file `file` (relative to the
/// repository) under `heading` (up to the next heading of the same or a
/// higher level).
fn doc_section(file: &str, heading: &str) -> Vec<String> {
    let readme = read(file);
    let level = heading.chars().take_while(|&c| c == '#').count();
    let mut lines = readme.lines().skip_while(|l| *l != heading);
    assert!(lines.next().is_some(), "{file} has no section {heading:?}");
    let mut in_code = false;
    lines
        .take_while(|l| {
            in_code ^= l.starts_with("```");
            let hashes = l.chars().take_while(|&c| c == '#').count();
            in_code || !(hashes > 0 && hashes <= level && l[hashes..].starts_with(' '))
        })
        .map(str::to_owned)
        .collect()
}

/// A documented metric and whether it carries the `target` label.
fn documented_metrics() -> BTreeMap<String, bool> {
    let mut out = BTreeMap::new();
    let mut columns: Option<(usize, Option<usize>)> = None;
    for line in readme_section("## Metrics") {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if !line.starts_with('|') {
            columns = None;
            continue;
        }
        if let Some(metric) = cells.iter().position(|c| *c == "metric") {
            columns = Some((metric, cells.iter().position(|c| *c == "labels")));
            continue;
        }
        let Some((metric, labels)) = columns else {
            continue;
        };
        let labels = labels.and_then(|i| cells.get(i)).copied().unwrap_or("");
        let names = cells.get(metric).copied().unwrap_or("").split('`');
        for name in names.skip(1).step_by(2) {
            if !name.is_empty() && name.bytes().all(is_name_byte) {
                let appliance = ["er2_", "ics_", "sectona_"]
                    .iter()
                    .any(|p| name.starts_with(p));
                out.insert(name.to_owned(), appliance || labels.contains("target"));
            }
        }
    }
    assert!(
        out.len() > 10,
        "the README's metric tables were not found: {out:?}"
    );
    out
}

/// `name` as the README documents it: histograms' `_bucket`, `_sum` and
/// `_count` series count as the histogram.
fn documented<'a>(docs: &'a BTreeMap<String, bool>, name: &str) -> Option<&'a bool> {
    docs.get(name).or_else(|| {
        ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .and_then(|base| docs.get(base))
    })
}

/// A string field of the mixin's configuration (`mixin/config.libsonnet`),
/// as its `field: '...'` line sets it.
fn mixin_config_string(field: &str) -> String {
    let config = read("mixin/config.libsonnet");
    let line = config
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with(&format!("{field}:")))
        .unwrap_or_else(|| panic!("mixin/config.libsonnet sets no {field}"));
    line.split('\'')
        .nth(1)
        .unwrap_or_else(|| panic!("mixin/config.libsonnet: {line}"))
        .to_owned()
}

/// GitHub's anchor of a heading.
fn anchor(heading: &str) -> String {
    heading
        .trim_start_matches('#')
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '-' || *c == '_' || *c == ' ')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

// ---------------------------------------------------------------------------
// Dashboards.

const DATASOURCE_UIDS: &[&str] = &["${datasource}", "$datasource"];

#[test]
fn every_dashboard_has_a_datasource_and_a_target_variable() {
    let docs = documented_metrics();
    for d in dashboards() {
        let ds = d
            .variable("datasource")
            .unwrap_or_else(|| panic!("{}: no datasource variable", d.file));
        assert_eq!(text(ds, "type"), "datasource", "{}", d.file);
        assert_eq!(text(ds, "query"), "prometheus", "{}", d.file);

        let target = d.variable("target").unwrap();
        assert_eq!(text(target, "type"), "query", "{}", d.file);
        assert!(
            DATASOURCE_UIDS.contains(&text(&target["datasource"], "uid")),
            "{}: the target variable does not use the datasource variable",
            d.file
        );
        let query = d.target_variable_query();
        let selector = label_values_metric(&query)
            .unwrap_or_else(|| panic!("{}: target variable query {query:?}", d.file));
        let names: Vec<String> = selectors(selector)
            .iter()
            .flat_map(Selector::metric_names)
            .collect();
        assert!(
            !names.is_empty(),
            "{}: target variable query {query:?}",
            d.file
        );
        for metric in names {
            assert!(
                documented(&docs, &metric).is_some(),
                "{}: {metric} is not documented",
                d.file
            );
        }
        assert_eq!(target["includeAll"], true, "{}", d.file);
        assert_eq!(target["multi"], true, "{}", d.file);
        // Refresh on time range change, so new targets appear.
        assert_eq!(target["refresh"], 2, "{}", d.file);
    }
}

#[test]
fn every_panel_uses_the_datasource_variable() {
    for d in dashboards() {
        for p in d.panels() {
            let title = text(p, "title");
            assert_eq!(
                text(&p["datasource"], "type"),
                "prometheus",
                "{} / {title}",
                d.file
            );
            assert!(
                DATASOURCE_UIDS.contains(&text(&p["datasource"], "uid")),
                "{} / {title}: panel data source {}",
                d.file,
                p["datasource"]
            );
            for t in p["targets"].as_array().into_iter().flatten() {
                if let Some(ds) = t.get("datasource") {
                    assert!(
                        DATASOURCE_UIDS.contains(&text(ds, "uid")),
                        "{} / {title}: query data source {ds}",
                        d.file
                    );
                }
            }
        }
    }
}

#[test]
fn every_panel_has_a_title_description_unit_and_queries() {
    for d in dashboards() {
        for p in d.panels() {
            let title = text(p, "title");
            assert!(
                !title.trim().is_empty(),
                "{}: panel {} has no title",
                d.file,
                p["id"]
            );
            assert!(
                text(p, "description").trim().len() > 10,
                "{} / {title}: no description",
                d.file
            );
            assert!(
                !text(&p["fieldConfig"]["defaults"], "unit").is_empty(),
                "{} / {title}: no unit",
                d.file
            );
            let targets = p["targets"].as_array().map(Vec::len).unwrap_or(0);
            assert!(targets > 0, "{} / {title}: no queries", d.file);
        }
        for q in d.queries() {
            assert!(!q.expr.trim().is_empty(), "{q}: empty query");
            assert!(!q.ref_id.is_empty(), "{q}: no refId");
        }
    }
}

#[test]
fn panel_ids_are_unique_and_panels_do_not_overlap() {
    for d in dashboards() {
        let mut ids = BTreeSet::new();
        let mut boxes: Vec<(&str, [i64; 4])> = Vec::new();
        for p in d.panels() {
            let title = text(p, "title");
            let id = p["id"]
                .as_i64()
                .unwrap_or_else(|| panic!("{} / {title}: no id", d.file));
            assert!(ids.insert(id), "{}: panel id {id} twice", d.file);
            let g = &p["gridPos"];
            let [x, y, w, h] = ["x", "y", "w", "h"].map(|k| {
                g[k].as_i64()
                    .unwrap_or_else(|| panic!("{} / {title}: gridPos.{k}", d.file))
            });
            assert!(
                w > 0 && h > 0 && x >= 0 && y >= 0,
                "{} / {title}: {g}",
                d.file
            );
            assert!(
                x + w <= 24,
                "{} / {title}: wider than the grid: {g}",
                d.file
            );
            for (other, [ox, oy, ow, oh]) in &boxes {
                let apart = x + w <= *ox || *ox + ow <= x || y + h <= *oy || *oy + oh <= y;
                assert!(apart, "{}: {title:?} overlaps {other:?}", d.file);
            }
            boxes.push((title, [x, y, w, h]));
        }
    }
}

#[test]
fn dashboard_uids_are_unique_and_dashboards_are_tagged() {
    let mut uids = BTreeSet::new();
    for d in dashboards() {
        let uid = text(&d.json, "uid");
        assert!(
            !uid.is_empty() && uid.len() <= 40,
            "{}: uid {uid:?}",
            d.file
        );
        assert!(uids.insert(uid.to_owned()), "{}: uid {uid} twice", d.file);
        assert!(!text(&d.json, "title").is_empty(), "{}: no title", d.file);
        let tags = d.json["tags"].as_array().cloned().unwrap_or_default();
        assert!(
            tags.contains(&Value::from("appliance_exporter")),
            "{}: not tagged appliance_exporter (the dashboards link each other by that tag)",
            d.file
        );
    }
    assert_eq!(
        uids.len(),
        5,
        "one dashboard per family, one for the exporter and the fleet overview"
    );
}

/// Series a query joins from another target, so that the dashboard's
/// `target` cannot filter them: the concurrent-user leases of a licence
/// server, joined to the gateways they were leased to.
pub(crate) const CROSS_TARGET_JOINS: &[&str] =
    &[r#"ics_license_leased{feature="Concurrent Users"}"#];

#[test]
fn every_appliance_series_in_a_dashboard_is_filtered_by_target() {
    let docs = documented_metrics();
    for d in dashboards() {
        for q in d.queries() {
            for s in selectors(&q.expr) {
                let per_target = s
                    .metric_names()
                    .iter()
                    .any(|m| documented(&docs, m) == Some(&true));
                if per_target && !CROSS_TARGET_JOINS.contains(&s.text().as_str()) {
                    assert!(
                        s.matchers.contains(r#"target=~"$target""#),
                        "{q}: {s:?} is not filtered by target=~\"$target\""
                    );
                }
            }
        }
    }
}

#[test]
fn dashboard_rates_use_the_rate_interval() {
    for d in dashboards() {
        for q in d.queries() {
            for range in scan(&q.expr).ranges {
                assert_eq!(range, "$__rate_interval", "{q}");
            }
        }
    }
}

#[test]
fn licence_expiry_is_shown_as_time_left() {
    let mut shown = 0;
    for d in dashboards() {
        for p in d.panels() {
            for t in p["targets"].as_array().into_iter().flatten() {
                let expr = text(t, "expr");
                if expr.contains("er2_license_expiry_timestamp_seconds") {
                    shown += 1;
                    assert!(expr.contains("- time()"), "{}: {expr}", d.file);
                    let unit = text(&p["fieldConfig"]["defaults"], "unit");
                    let days = expr.contains("- time()) / 86400");
                    assert!(
                        ["s", "dtdurations", "dtdurationms"].contains(&unit)
                            || (days && unit == "d"),
                        "{}: {unit} for {expr}",
                        d.file
                    );
                }
            }
        }
    }
    assert!(shown > 0, "no panel shows the licence expiry");
}

#[test]
fn the_provisioning_file_points_grafana_at_a_dashboard_folder() {
    let files = files("dashboards/provisioning", ".yml");
    for path in files {
        let doc = yaml(&path);
        assert_eq!(doc["apiVersion"], 1, "{}", path.display());
        let providers = doc["providers"].as_array().unwrap();
        assert!(!providers.is_empty());
        for p in providers {
            assert_eq!(text(p, "type"), "file", "{}", path.display());
            assert!(
                text(&p["options"], "path").starts_with('/'),
                "{}",
                path.display()
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Alerting rules.

#[test]
fn every_alert_has_a_duration_severity_and_annotations() {
    for r in alert_rules() {
        let at = format!("{} / {}", r.file, r.name);
        assert!(!r.name.is_empty() && !r.expr.is_empty(), "{at}");
        let amount: u32 = r
            .duration
            .strip_suffix('m')
            .or_else(|| r.duration.strip_suffix('h'))
            .or_else(|| r.duration.strip_suffix('d'))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{at}: for: {:?}", r.duration));
        assert!(amount > 0, "{at}: fires on a single evaluation");
        let severity = r.labels.get("severity").map(String::as_str);
        assert!(
            matches!(severity, Some("warning" | "critical")),
            "{at}: severity {severity:?}"
        );
        for key in ["summary", "description", "runbook_url"] {
            let value = r.annotations.get(key).map(String::as_str).unwrap_or("");
            assert!(!value.trim().is_empty(), "{at}: no {key}");
        }
        assert_ne!(
            r.annotations["summary"], r.annotations["description"],
            "{at}"
        );
    }
}

#[test]
fn alerts_sharing_a_name_differ_in_severity() {
    let mut by_name: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let rules = alert_rules();
    for r in &rules {
        by_name
            .entry(&r.name)
            .or_default()
            .push(&r.labels["severity"]);
    }
    for (name, severities) in by_name {
        let distinct: BTreeSet<_> = severities.iter().collect();
        assert_eq!(distinct.len(), severities.len(), "{name}: {severities:?}");
    }
}

#[test]
fn every_runbook_url_points_at_its_runbook_entry() {
    let entries: BTreeSet<String> = doc_section(RUNBOOK, "## Alerts")
        .iter()
        .filter(|l| l.starts_with("### "))
        .map(|l| anchor(l))
        .collect();
    let headings = docs::heading_anchors(&read(RUNBOOK));
    let base = mixin_config_string("runbookURLBase");
    assert!(
        base.starts_with("https://") && base.ends_with(&format!("/{RUNBOOK}")),
        "runbookURLBase {base:?}: receivers need an absolute URL of {RUNBOOK}"
    );
    let rules = alert_rules();
    for r in &rules {
        let url = &r.annotations["runbook_url"];
        let expected = format!("{base}#{}", anchor(&r.name));
        assert_eq!(*url, expected, "{}", r.name);
        let (_, fragment) = url
            .split_once('#')
            .unwrap_or_else(|| panic!("{}: runbook_url {url} has no anchor", r.name));
        assert!(
            headings.contains(fragment),
            "{}: runbook_url {url}: no heading of {RUNBOOK} has the anchor #{fragment}",
            r.name
        );
        assert!(
            entries.contains(&anchor(&r.name)),
            "{}: no runbook entry \"### {}\" under \"## Alerts\" in {RUNBOOK}",
            r.name,
            r.name
        );
    }
    let alerts: BTreeSet<String> = rules.iter().map(|r| anchor(&r.name)).collect();
    let stale: Vec<_> = entries.difference(&alerts).collect();
    assert!(
        stale.is_empty(),
        "runbook entries without an alert: {stale:?}"
    );
}

#[test]
fn every_alert_is_tested_firing_and_quiet() {
    let rules = alert_rules();
    let mut covered_files = BTreeSet::new();
    let mut fired: BTreeSet<(String, String)> = BTreeSet::new();
    let mut quiet: BTreeSet<String> = BTreeSet::new();
    for path in files("alerts/tests", ".test.yml") {
        let doc = yaml(&path);
        for f in doc["rule_files"].as_array().into_iter().flatten() {
            let f = f.as_str().unwrap_or_default();
            covered_files.insert(f.rsplit('/').next().unwrap_or(f).to_owned());
        }
        for case in doc["tests"].as_array().into_iter().flatten() {
            for t in case["alert_rule_test"].as_array().into_iter().flatten() {
                let name = text(t, "alertname").to_owned();
                let expected = t["exp_alerts"].as_array().cloned().unwrap_or_default();
                if expected.is_empty() {
                    quiet.insert(name.clone());
                }
                for a in expected {
                    let severity = text(&a["exp_labels"], "severity").to_owned();
                    fired.insert((name.clone(), severity));
                }
            }
        }
    }
    for r in &rules {
        assert!(
            covered_files.contains(&r.file),
            "{} has no promtool test file",
            r.file
        );
        let severity = r.labels["severity"].clone();
        assert!(
            fired.contains(&(r.name.clone(), severity.clone())),
            "{} ({severity}) is never shown to fire",
            r.name
        );
        assert!(quiet.contains(&r.name), "{} is never shown quiet", r.name);
    }
}

// ---------------------------------------------------------------------------
// Every metric the kit refers to is one the exporter documents.

#[test]
fn every_metric_in_alerts_and_dashboards_is_documented() {
    let docs = documented_metrics();
    // Series Prometheus itself attaches to every scrape (the timeout with
    // --enable-feature=extra-scrape-metrics).
    let prometheus = [
        "up",
        "scrape_duration_seconds",
        "scrape_samples_scraped",
        "scrape_timeout_seconds",
    ];
    let mut unknown = BTreeSet::new();
    let mut check = |origin: String, expr: &str| {
        for s in selectors(expr) {
            let names = s.metric_names();
            assert!(
                !names.is_empty(),
                "{origin}: a selector without a metric name: {s:?}"
            );
            for name in names {
                if documented(&docs, &name).is_none() && !prometheus.contains(&name.as_str()) {
                    unknown.insert(format!("{name} ({origin})"));
                }
            }
        }
    };
    for d in dashboards() {
        let variable = d.target_variable_query();
        check(
            d.file.clone(),
            label_values_metric(&variable).unwrap_or(&variable),
        );
        for q in d.queries() {
            check(q.to_string(), &q.expr);
        }
    }
    for r in alert_rules() {
        check(format!("{} / {}", r.file, r.name), &r.expr);
        for a in r.annotations.values() {
            for q in template_queries(a) {
                check(format!("{} / {} annotation", r.file, r.name), &q);
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "metrics referenced but not documented in the README's metric tables:\n  {}",
        unknown.into_iter().collect::<Vec<_>>().join("\n  ")
    );
}

// ---------------------------------------------------------------------------
// The README's Prometheus configuration examples.

/// The ```yaml blocks of a README section.
fn yaml_blocks(section: &[String]) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in section {
        match (&mut current, line.trim_end()) {
            (None, "```yaml") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), l) => {
                block.push_str(l);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

const README_SD_FILES: &str = "/etc/prometheus/appliances/*.yml";

fn run(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn readme_prometheus_examples_pass_promtool_and_relabel_as_described() {
    let Some(promtool) = tool("promtool") else {
        return;
    };
    let blocks = yaml_blocks(&readme_section("## Prometheus configuration"));
    let work = Workdir::new();
    let sd = work.path().join("sd");
    std::fs::create_dir(&sd).unwrap();
    let targets: Vec<&String> = blocks
        .iter()
        .filter(|b| b.lines().any(|l| l.starts_with("- targets:")))
        .collect();
    assert_eq!(targets.len(), 1, "one file_sd example");
    std::fs::write(sd.join("appliances.yml"), targets[0]).unwrap();
    let mut expected: BTreeMap<String, String> = BTreeMap::new();
    for group in serde_saphyr::from_str::<Value>(targets[0])
        .unwrap()
        .as_array()
        .unwrap()
    {
        for t in group["targets"].as_array().unwrap() {
            expected.insert(
                t.as_str().unwrap().to_owned(),
                text(&group["labels"], "module").to_owned(),
            );
        }
    }

    let configs: Vec<&String> = blocks
        .iter()
        .filter(|b| b.contains("\nscrape_configs:"))
        .collect();
    assert_eq!(
        configs.len(),
        3,
        "single exporter, multi-target and sharded examples"
    );
    for (n, config) in configs.into_iter().enumerate() {
        let path = work.write(&format!("prometheus-{n}.yml"), config);
        let (ok, out, err) = run(Command::new(&promtool)
            .arg("check")
            .arg("config")
            .arg(&path));
        assert!(
            ok,
            "promtool check config on README example {n}:\n{config}\n{out}{err}"
        );

        // Relabelling of the /probe jobs, on the README's file_sd example.
        let local = config.replace(README_SD_FILES, &format!("{}/*.yml", sd.display()));
        if local == *config {
            continue;
        }
        std::fs::write(&path, &local).unwrap();
        let doc: Value = serde_saphyr::from_str(config).unwrap();
        let mut scraped_by: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for job in doc["scrape_configs"].as_array().unwrap() {
            if text(job, "metrics_path") != "/probe" {
                continue;
            }
            let name = text(job, "job_name");
            let (ok, out, err) = run(Command::new(&promtool)
                .args(["check", "service-discovery", "--timeout=1s"])
                .arg(&path)
                .arg(name));
            assert!(ok, "promtool check service-discovery {name}: {out}{err}");
            let discovered: Value =
                serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
            for t in discovered.as_array().unwrap() {
                let labels = &t["labels"];
                if labels.as_object().is_none_or(|l| l.is_empty()) {
                    continue;
                }
                let address = text(&t["discoveredLabels"], "__address__");
                assert_eq!(text(labels, "__param_target"), address, "{name}: {t}");
                assert_eq!(
                    text(labels, "__param_module"),
                    expected[address],
                    "{name}: {t}"
                );
                assert_eq!(text(labels, "instance"), address, "{name}: {t}");
                assert!(
                    text(labels, "__address__").ends_with(":29339"),
                    "{name}: {t}"
                );
                assert!(labels.get("auth").is_none(), "{name}: {t}");
                let auth = text(&t["discoveredLabels"], "auth");
                assert_eq!(text(labels, "__param_auth"), auth, "{name}: {t}");
                scraped_by
                    .entry(address.to_owned())
                    .or_default()
                    .push(name.to_owned());
            }
        }
        for address in expected.keys() {
            let jobs = scraped_by.get(address).cloned().unwrap_or_default();
            assert_eq!(
                jobs.len(),
                1,
                "example {n}: {address} is scraped by {jobs:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------
// The systemd unit and its example configuration.

/// The values of `key=` lines of the unit.
fn unit_values(unit: &str, key: &str) -> Vec<String> {
    unit.lines()
        .filter_map(|l| l.strip_prefix(&format!("{key}=")))
        .map(str::to_owned)
        .collect()
}

/// The credential names the example configuration reads.
fn credentials_used(config: &str) -> BTreeSet<String> {
    config
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .flat_map(|l| l.split("$CREDENTIALS_DIRECTORY/").skip(1))
        .map(|rest| {
            rest.split(|c: char| c.is_whitespace() || c == '"')
                .next()
                .unwrap_or("")
                .to_owned()
        })
        .collect()
}

#[test]
fn the_systemd_unit_loads_every_secret_of_its_configuration_as_a_credential() {
    let unit = read("systemd/appliance_exporter.service");
    let config = read("systemd/appliance_exporter.yml");
    let loaded: BTreeSet<String> = unit_values(&unit, "LoadCredential")
        .iter()
        .map(|v| v.split(':').next().unwrap().to_owned())
        .collect();
    let used = credentials_used(&config);
    assert!(!used.is_empty());
    assert_eq!(
        loaded, used,
        "LoadCredential= names and $CREDENTIALS_DIRECTORY/ files differ"
    );
    for inline in ["password:", "api_key:", "password_env:", "api_key_env:"] {
        assert!(
            !config.contains(&format!(" {inline}")),
            "the example configuration has {inline}"
        );
    }

    assert_eq!(unit_values(&unit, "DynamicUser"), ["yes"]);
    assert_eq!(
        unit_values(&unit, "ExecReload"),
        ["/bin/kill -HUP $MAINPID"]
    );
    let exec = unit_values(&unit, "ExecStart");
    assert_eq!(exec.len(), 1);
    assert!(
        exec[0].contains("--config.file=/etc/appliance_exporter/appliance_exporter.yml"),
        "{exec:?}"
    );
    assert!(config.starts_with("# /etc/appliance_exporter/appliance_exporter.yml"));
}

#[test]
fn the_systemd_example_configuration_is_valid_with_its_credentials() {
    let config = repo().join("systemd/appliance_exporter.yml");
    let credentials = Workdir::new();
    for name in credentials_used(&read("systemd/appliance_exporter.yml")) {
        credentials.write(&name, "not-a-real-secret\n");
    }
    let check = || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_appliance_exporter"));
        cmd.arg("--config.check").arg("--config.file").arg(&config);
        cmd
    };
    let (ok, out, err) = run(check().env("CREDENTIALS_DIRECTORY", credentials.path()));
    assert!(ok, "{out}{err}");
    assert!(out.contains("is valid"), "{out}");
    assert!(!out.contains("not-a-real-secret"), "{out}");

    // Without systemd's credentials directory the secrets cannot be found.
    let (ok, out, err) = run(check().env_remove("CREDENTIALS_DIRECTORY"));
    assert!(!ok, "{out}");
    assert!(err.contains("$CREDENTIALS_DIRECTORY"), "{err}");
}
