//! Conversion of OpenMetrics text (as `prometheus-client` writes it) into the
//! Prometheus text format 0.0.4 that `promtool check metrics` and older
//! scrapers read.
//!
//! The two formats differ only in metadata for what this exporter emits: a
//! counter family is named `x` in OpenMetrics metadata but `x_total` in 0.0.4,
//! `unknown` is `untyped`, and 0.0.4 has neither `# UNIT` nor `# EOF`.

/// Rewrites an OpenMetrics exposition as text format 0.0.4.
pub fn openmetrics_to_text004(openmetrics: &str) -> String {
    let mut out = String::with_capacity(openmetrics.len());
    let mut lines = openmetrics.lines().peekable();
    while let Some(line) = lines.next() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
            let kind = lines
                .peek()
                .and_then(|next| next.strip_prefix("# TYPE "))
                .and_then(|t| t.split_once(' '))
                .filter(|(type_name, _)| *type_name == name)
                .map(|(_, kind)| kind);
            let family = family_name(name, kind.unwrap_or(""));
            push_line(&mut out, &["# HELP ", &family, " ", help]);
            if let Some(kind) = kind {
                lines.next();
                push_line(&mut out, &["# TYPE ", &family, " ", text004_kind(kind)]);
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, "untyped"));
            push_line(
                &mut out,
                &["# TYPE ", &family_name(name, kind), " ", text004_kind(kind)],
            );
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The 0.0.4 family name: counters carry their `_total` suffix.
fn family_name(name: &str, kind: &str) -> String {
    if kind == "counter" && !name.ends_with("_total") {
        format!("{name}_total")
    } else {
        name.to_owned()
    }
}

fn text004_kind(kind: &str) -> &str {
    match kind {
        "counter" | "gauge" | "histogram" | "summary" => kind,
        // `info` and `stateset` samples are plain gauges in 0.0.4.
        "info" | "stateset" => "gauge",
        _ => "untyped",
    }
}

fn push_line(out: &mut String, parts: &[&str]) {
    for part in parts {
        out.push_str(part);
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_metadata_gains_total_suffix() {
        let om = "# HELP requests Requests made.\n# TYPE requests counter\nrequests_total{code=\"200\"} 3\n# EOF\n";
        assert_eq!(
            openmetrics_to_text004(om),
            "# HELP requests_total Requests made.\n# TYPE requests_total counter\nrequests_total{code=\"200\"} 3\n"
        );
    }

    #[test]
    fn gauges_histograms_and_units() {
        let om = "# HELP up Up.\n# TYPE up gauge\nup 1\n# HELP d_seconds Dur.\n# TYPE d_seconds histogram\n# UNIT d_seconds seconds\nd_seconds_sum 1.0\n# HELP u Unknown.\n# TYPE u unknown\nu 2\n# EOF\n";
        assert_eq!(
            openmetrics_to_text004(om),
            "# HELP up Up.\n# TYPE up gauge\nup 1\n# HELP d_seconds Dur.\n# TYPE d_seconds histogram\nd_seconds_sum 1.0\n# HELP u Unknown.\n# TYPE u untyped\nu 2\n"
        );
    }

    #[test]
    fn lone_type_line_is_converted() {
        assert_eq!(
            openmetrics_to_text004("# TYPE c counter\nc_total 1\n"),
            "# TYPE c_total counter\nc_total 1\n"
        );
    }
}
