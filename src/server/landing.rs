//! The HTML landing page: version, links, and every static target with its
//! module and last scrape result.

use std::fmt::Write as _;
use std::time::SystemTime;

use crate::app::App;
use crate::telemetry::{REVISION, VERSION};

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Renders the landing page.
pub fn render(app: &App) -> String {
    let loaded = app.loaded();
    let last = app.last_scrapes();
    let metrics = escape(&app.settings.telemetry_path);
    let mut rows = String::new();
    for t in &loaded.config.targets {
        let name = escape(&t.name);
        let result = match last.get(&t.name) {
            None => "not scraped yet".to_owned(),
            Some(l) => {
                let ago = SystemTime::now()
                    .duration_since(l.finished)
                    .map(|d| format!("{}s ago", d.as_secs()))
                    .unwrap_or_else(|_| "just now".into());
                let status = if l.success { "success" } else { "failed" };
                let detail = if l.failures.is_empty() {
                    String::new()
                } else {
                    format!("<br><small>{}</small>", escape(&l.failures.join("; ")))
                };
                format!("{status}, {ago}, {:.3}s{detail}", l.duration.as_secs_f64())
            }
        };
        let _ = write!(
            rows,
            "<tr><td><a href=\"/probe?target={}\">{name}</a></td><td>{}</td><td>{}</td><td>{result}</td></tr>",
            url_encode(&t.name),
            escape(&t.module),
            escape(t.url.as_str()),
        );
    }
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>appliance_exporter</title></head><body>\
         <h1>appliance_exporter</h1><p>Version {VERSION} (revision {REVISION})</p>\
         <ul><li><a href=\"{metrics}\">Metrics</a></li><li><a href=\"/-/healthy\">Health</a></li><li><a href=\"/-/ready\">Readiness</a></li></ul>\
         <h2>Targets</h2><table border=\"1\"><tr><th>target</th><th>module</th><th>url</th><th>last scrape</th></tr>{rows}</table>\
         <p>Configuration: {}</p></body></html>\n",
        escape(&loaded.config.source.display().to_string())
    )
}

fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
