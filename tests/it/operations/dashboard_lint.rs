//! The dashboard-linter rules the mixin's dashboards follow beyond the
//! basics: `job` and `instance` variables narrowing the `target` one and
//! used by every query, panels in collapsible rows, threshold lines drawn,
//! tables of several queries merged, a data-freshness row on every family
//! dashboard, and a fleet overview of every family.

use serde_json::Value;

use super::snmp::selects_snmp;
use super::{
    CROSS_TARGET_JOINS, DATASOURCE_UIDS, Dashboard, dashboards, label_values_of, selectors, text,
};

/// The families' `up` series; a family dashboard lists its targets from one.
const FAMILY_UP: &[&str] = &["er2_up", "ics_up", "sectona_up"];

#[test]
fn job_and_instance_variables_narrow_the_target_variable() {
    for d in dashboards() {
        for name in ["job", "instance", "target"] {
            let var = d
                .variable(name)
                .unwrap_or_else(|| panic!("{}: no {name} variable", d.file));
            assert_eq!(text(var, "type"), "query", "{} / {name}", d.file);
            assert!(
                DATASOURCE_UIDS.contains(&text(&var["datasource"], "uid")),
                "{} / {name}: not on the datasource variable",
                d.file
            );
            assert_eq!(var["multi"], true, "{} / {name}", d.file);
            assert_eq!(var["includeAll"], true, "{} / {name}", d.file);
            assert_eq!(var["refresh"], 2, "{} / {name}", d.file);
        }
        let job = d.variable_query("job");
        let source = label_values_of(&job, "job")
            .unwrap_or_else(|| panic!("{}: job variable {job:?}", d.file));
        let instance = d.variable_query("instance");
        let instance_source = label_values_of(&instance, "instance")
            .unwrap_or_else(|| panic!("{}: instance variable {instance:?}", d.file));
        assert!(
            instance_source.contains(r#"job=~"$job""#),
            "{}: the instance variable is not narrowed by $job: {instance:?}",
            d.file
        );
        let target = d.target_variable_query();
        let target_source = label_values_of(&target, "target").unwrap();
        for narrowed_by in [r#"job=~"$job""#, r#"instance=~"$instance""#] {
            assert!(
                target_source.contains(narrowed_by),
                "{}: the target variable is not narrowed by {narrowed_by}: {target:?}",
                d.file
            );
        }
        let metric = |s: &str| selectors(s).first().map(|s| s.metric_names());
        assert_eq!(metric(source), metric(target_source), "{}", d.file);
    }
}

#[test]
fn every_query_is_filtered_by_job_and_instance() {
    for d in dashboards() {
        for q in d.queries() {
            for s in selectors(&q.expr) {
                let text = s.text();
                if CROSS_TARGET_JOINS.contains(&text.as_str()) {
                    continue;
                }
                // snmp_exporter's series come from a job of its own, joined
                // by `target` alone.
                if selects_snmp(&text) {
                    assert!(s.matchers.contains(r#"target=~"$target""#), "{q}: {text}");
                    continue;
                }
                for matcher in [r#"job=~"$job""#, r#"instance=~"$instance""#] {
                    assert!(
                        s.matchers.contains(matcher),
                        "{q}: {text} is not filtered by {matcher}"
                    );
                }
            }
        }
    }
}

#[test]
fn panels_are_grouped_in_collapsible_rows() {
    for d in dashboards() {
        let all = d.all_panels();
        assert_eq!(
            all.first().map(|p| text(p, "type")),
            Some("row"),
            "{}: the first panel is not a row",
            d.file
        );
        let top: Vec<&Value> = d.json["panels"].as_array().unwrap().iter().collect();
        let rows: Vec<&&Value> = top.iter().filter(|p| text(p, "type") == "row").collect();
        assert!(rows.len() >= 2, "{}: {} rows", d.file, rows.len());
        for (i, p) in top.iter().enumerate() {
            if text(p, "type") != "row" {
                continue;
            }
            let title = text(p, "title");
            assert!(
                !title.trim().is_empty(),
                "{}: a row without a title",
                d.file
            );
            let nested = p["panels"].as_array().map(Vec::len).unwrap_or(0);
            let following = top[i + 1..]
                .iter()
                .take_while(|q| text(q, "type") != "row")
                .count();
            if p["collapsed"] == true {
                assert!(nested > 0, "{} / row {title}: collapsed and empty", d.file);
            } else {
                assert_eq!(
                    nested, 0,
                    "{} / row {title}: open with nested panels",
                    d.file
                );
                assert!(following > 0, "{} / row {title}: no panel", d.file);
            }
            assert_eq!(p["gridPos"]["w"], 24, "{} / row {title}", d.file);
        }
    }
}

#[test]
fn thresholds_on_time_series_are_drawn() {
    let mut drawn = 0;
    for d in dashboards() {
        for p in d.panels() {
            let defaults = &p["fieldConfig"]["defaults"];
            let steps = defaults["thresholds"]["steps"]
                .as_array()
                .map(Vec::len)
                .unwrap_or(0);
            if text(p, "type") == "timeseries" && steps > 1 {
                let mode = text(&defaults["custom"]["thresholdsStyle"], "mode");
                assert!(
                    !mode.is_empty() && mode != "off",
                    "{} / {}: thresholds set but not drawn",
                    d.file,
                    text(p, "title")
                );
                drawn += 1;
            }
        }
    }
    assert!(drawn > 0, "no time series with thresholds");
}

#[test]
fn tables_of_several_queries_are_merged() {
    for d in dashboards() {
        for p in d.panels() {
            let queries = p["targets"].as_array().map(Vec::len).unwrap_or(0);
            if text(p, "type") != "table" || queries < 2 {
                continue;
            }
            let merges = p["transformations"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|t| ["merge", "joinByField", "seriesToColumns"].contains(&text(t, "id")));
            assert!(
                merges,
                "{} / {}: {queries} queries, and only the first is shown",
                d.file,
                text(p, "title")
            );
            for t in p["targets"].as_array().into_iter().flatten() {
                assert_eq!(
                    text(t, "format"),
                    "table",
                    "{} / {}",
                    d.file,
                    text(p, "title")
                );
                assert_eq!(t["instant"], true, "{} / {}", d.file, text(p, "title"));
            }
        }
    }
}

/// The family of a dashboard: the one `up` series its targets come from.
fn family_up(d: &Dashboard) -> Option<&'static str> {
    let target = d.target_variable_query();
    let found: Vec<&str> = FAMILY_UP
        .iter()
        .copied()
        .filter(|up| target.contains(up))
        .collect();
    (found.len() == 1).then(|| found[0])
}

#[test]
fn every_family_dashboard_shows_whether_its_data_is_current() {
    let mut families = 0;
    for d in dashboards() {
        let Some(up) = family_up(&d) else {
            continue;
        };
        families += 1;
        let exprs: Vec<String> = d.queries().into_iter().map(|q| q.expr).collect();
        for needed in [
            up,
            "appliance_exporter_collector_success",
            "appliance_exporter_cached_result_age_seconds",
        ] {
            assert!(
                exprs.iter().any(|e| selectors(e)
                    .iter()
                    .any(|s| s.metric_names().iter().any(|m| m == needed))),
                "{}: no panel shows {needed}",
                d.file
            );
        }
        let first = d.all_panels()[0];
        assert_eq!(text(first, "title"), "Data freshness", "{}", d.file);
    }
    assert_eq!(families, FAMILY_UP.len(), "one dashboard per family");
}

#[test]
fn the_fleet_overview_covers_every_family_and_sorts_licences_by_time_left() {
    let d = dashboards()
        .into_iter()
        .find(|d| d.file == "fleet.json")
        .expect("dashboards/fleet.json");
    let target = d.target_variable_query();
    for up in FAMILY_UP {
        assert!(
            target.contains(up),
            "the fleet's targets miss {up}: {target}"
        );
    }
    let queries = d.queries();
    for needed in [
        "appliance_exporter_collector_success",
        "appliance_exporter_cached_result_age_seconds",
        "er2_license_info",
        "ics_signed_in_users",
        "er2_data_allowance_used_bytes",
    ] {
        assert!(
            queries.iter().any(|q| q.expr.contains(needed)),
            "the fleet overview does not show {needed}"
        );
    }
    let expiry: Vec<_> = queries
        .iter()
        .filter(|q| q.expr.contains("er2_license_expiry_timestamp_seconds"))
        .collect();
    assert_eq!(
        expiry.len(),
        1,
        "{}",
        expiry
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(expiry[0].expr.starts_with("sort("), "{}", expiry[0]);
    for label in ["company", "edition"] {
        assert!(expiry[0].expr.contains(label), "{}: no {label}", expiry[0]);
    }
}
