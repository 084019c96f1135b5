//! ER2 `server` collector: `GET /v1/server` as the master server's version
//! and host name, its newest load sample (CPU, stolen CPU, disk and, where
//! sent, memory, as ratios) and the offset of its clock from the
//! exporter's. The document is partly unreadable after the first `loads`
//! fields and calls `loads` an object; a range of samples may arrive as a
//! list of objects or an object of lists, so all three shapes are read and
//! the newest sample is used. An unknown shape drops only the load series,
//! with a warning.

use serde::Deserialize;

use super::options::Options;
use crate::collector::{CollectError, Context, basic_auth, offload};
use crate::exposition::{Desc, Samples};
use crate::json::{self, Num, Text};
use crate::upstream::{BasicAuth, Request, Upstream, UpstreamError};

/// The endpoint, as logged and labelled.
pub const ENDPOINT: &str = "/v1/server";

static INFO: Desc = Desc::gauge(
    "er2_server_info",
    "Enterprise Recon master server version and host name; always 1",
);
static CLOCK_OFFSET: Desc = Desc::gauge(
    "er2_server_clock_offset_seconds",
    "The master server's clock minus the exporter's when the answer arrived, in whole seconds (positive: the server is ahead)",
);
static LOAD_TIMESTAMP: Desc = Desc::gauge(
    "er2_server_load_timestamp_seconds",
    "When the master server took the newest load sample it reported, in seconds since the epoch",
);
static CPU: Desc = Desc::gauge(
    "er2_server_cpu_ratio",
    "CPU load of the Enterprise Recon master server in its newest load sample (0 to 1)",
);
static STOLEN_CPU: Desc = Desc::gauge(
    "er2_server_cpu_stolen_ratio",
    "CPU time stolen from the master server's virtual machine by its hypervisor in the newest load sample (0 to 1)",
);
static DISK: Desc = Desc::gauge(
    "er2_server_disk_used_ratio",
    "Disk space in use on the master server in its newest load sample (0 to 1)",
);
static MEMORY: Desc = Desc::gauge(
    "er2_server_memory_used_ratio",
    "Memory in use on the master server in its newest load sample, where the server sends it (0 to 1)",
);

/// The load fields read, by their name in `loads` and the metric they feed.
const LOAD_FIELDS: [(&str, &Desc); 4] = [
    ("cpu", &CPU),
    ("stolen_cpu", &STOLEN_CPU),
    ("disk", &DISK),
    ("memory", &MEMORY),
];

/// The answer of `GET /v1/server` (the public key is not read).
#[derive(Debug, Default, Deserialize)]
pub struct Server {
    /// Host name.
    #[serde(default)]
    pub host_name: Text,
    /// The server's clock, Unix seconds.
    #[serde(default)]
    pub timestamp: Num,
    /// Enterprise Recon version.
    #[serde(default)]
    pub version: Text,
    /// Load samples, in whichever shape the server sends them.
    #[serde(default)]
    pub loads: serde_json::Value,
}

/// What one scrape fetched: the answer and the exporter's clock when it
/// arrived.
#[derive(Debug)]
pub struct Snapshot {
    /// The decoded answer.
    pub server: Server,
    /// The exporter's clock when the answer arrived, Unix seconds.
    pub received_at: f64,
}

/// Fetches and decodes `/v1/server`.
pub async fn fetch(upstream: &Upstream, auth: &BasicAuth) -> Result<Snapshot, UpstreamError> {
    let reply = upstream
        .send(Request::get(ENDPOINT, ENDPOINT, Some(auth)))
        .await?
        .require_success()?;
    let received_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    Ok(Snapshot {
        server: offload::decode(ENDPOINT, &reply.body).await?,
        received_at,
    })
}

/// Encodes a server snapshot.
pub fn encode(snapshot: &Snapshot) -> Samples {
    let mut s = Samples::new();
    let server = &snapshot.server;
    s.push(
        &INFO,
        &[
            ("version", server.version.as_str().unwrap_or("")),
            ("host_name", server.host_name.as_str().unwrap_or("")),
        ],
        1_i64,
    );
    if let Some(clock) = server.timestamp.read(&mut s, ENDPOINT, "timestamp") {
        // The server sends whole seconds: so is the offset (0 for clocks
        // that agree).
        s.push_plain(&CLOCK_OFFSET, clock - snapshot.received_at.floor());
    }
    match newest_sample(&server.loads) {
        Ok(None) => {}
        Ok(Some(sample)) => encode_sample(&mut s, &sample),
        Err(why) => s.warn(ENDPOINT, "loads", why),
    }
    s
}

/// One load sample: each field as the server sent it.
#[derive(Debug, Default)]
struct Sample<'a> {
    /// Where the sample stands in the answer, for warnings (e.g. `loads[2]`).
    path: String,
    timestamp: Option<&'a serde_json::Value>,
    fields: Vec<(&'static str, &'a serde_json::Value)>,
}

fn encode_sample(s: &mut Samples, sample: &Sample<'_>) {
    if let Some(v) = sample.timestamp {
        match number(v) {
            Some(t) => s.push_plain(&LOAD_TIMESTAMP, t),
            None => s.warn(
                ENDPOINT,
                format!("{}.timestamp", sample.path),
                not_a_number(v),
            ),
        }
    }
    for (name, desc) in LOAD_FIELDS {
        let Some((_, value)) = sample.fields.iter().find(|(n, _)| *n == name) else {
            continue;
        };
        match number(value) {
            Some(percent) if (0.0..=100.0).contains(&percent) => {
                s.push_plain(desc, percent / 100.0);
            }
            Some(percent) => s.warn(
                ENDPOINT,
                format!("{}.{name}", sample.path),
                format!("a percentage out of range: {percent}"),
            ),
            None => s.warn(
                ENDPOINT,
                format!("{}.{name}", sample.path),
                not_a_number(value),
            ),
        }
    }
}

/// The newest sample of `loads` (one object, a list of objects, or an
/// object of lists); `None` when there is none; the reason when the shape
/// is unknown. Linear in the number of samples.
fn newest_sample(loads: &serde_json::Value) -> Result<Option<Sample<'_>>, String> {
    use serde_json::Value;
    match loads {
        Value::Null => Ok(None),
        Value::Array(list) => {
            let mut newest: Option<(usize, f64)> = None;
            for (i, item) in list.iter().enumerate() {
                let Value::Object(_) = item else {
                    return Err(format!(
                        "unknown shape: loads[{i}] is {}, not an object",
                        kind(item)
                    ));
                };
                let t = item.get("timestamp").and_then(number).unwrap_or(f64::MIN);
                if newest.is_none_or(|(_, best)| t >= best) {
                    newest = Some((i, t));
                }
            }
            Ok(newest.map(|(i, _)| sample_of(format!("loads[{i}]"), &list[i])))
        }
        Value::Object(map) if map.values().any(Value::is_array) => {
            // Only the known fields count; each must be a list, all alike.
            let known = |k: &str| k == "timestamp" || LOAD_FIELDS.iter().any(|(n, _)| *n == k);
            let mut columns: Vec<(&String, &Vec<Value>)> = Vec::new();
            for (key, value) in map.iter().filter(|(k, _)| known(k)) {
                let Value::Array(column) = value else {
                    return Err(format!(
                        "unknown shape: loads.{key} is {} among lists",
                        kind(value)
                    ));
                };
                columns.push((key, column));
            }
            let len = columns.iter().map(|(_, a)| a.len()).max().unwrap_or(0);
            if columns.iter().any(|(_, a)| a.len() != len) {
                return Err("unknown shape: an object of lists of different lengths".into());
            }
            let times = map.get("timestamp").and_then(Value::as_array);
            let mut newest: Option<(usize, f64)> = None;
            for i in 0..len {
                let t = times
                    .and_then(|t| t.get(i))
                    .and_then(number)
                    .unwrap_or(f64::MIN);
                if newest.is_none_or(|(_, best)| t >= best) {
                    newest = Some((i, t));
                }
            }
            Ok(newest.map(|(i, _)| {
                let mut sample = Sample {
                    path: format!("loads[*][{i}]"),
                    ..Sample::default()
                };
                for (key, column) in &columns {
                    add_field(&mut sample, key, &column[i]);
                }
                sample
            }))
        }
        Value::Object(_) => Ok(Some(sample_of("loads".into(), loads))),
        other => Err(format!(
            "unknown shape: {}, not an object or a list",
            kind(other)
        )),
    }
}

fn sample_of(path: String, object: &serde_json::Value) -> Sample<'_> {
    let mut sample = Sample {
        path,
        ..Sample::default()
    };
    if let serde_json::Value::Object(map) = object {
        for (key, value) in map {
            add_field(&mut sample, key, value);
        }
    }
    sample
}

fn add_field<'a>(sample: &mut Sample<'a>, key: &str, value: &'a serde_json::Value) {
    if key == "timestamp" {
        sample.timestamp = Some(value);
    } else if let Some((name, _)) = LOAD_FIELDS.iter().find(|(n, _)| *n == key) {
        sample.fields.push((name, value));
    }
}

/// A JSON number or a numeric string.
fn number(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|n| n.is_finite())
}

fn not_a_number(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => {
            format!("expected a number, got \"{}\"", json::clip(s, 40))
        }
        other => format!("expected a number, got {}", kind(other)),
    }
}

fn kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

/// The collector: [`fetch`], then [`encode`].
pub async fn collect(ctx: &Context<'_, Options>) -> Result<Samples, CollectError> {
    Ok(encode(&fetch(ctx.upstream, &basic_auth(ctx)?).await?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exposition::{Format, render_samples};
    use crate::simulator::enterprise_recon as sim;

    fn snapshot(body: &str, received_at: f64) -> Snapshot {
        Snapshot {
            server: json::decode(ENDPOINT, body.as_bytes()).unwrap(),
            received_at,
        }
    }

    fn series_and_warnings(snapshot: &Snapshot) -> (Vec<String>, Vec<String>) {
        let samples = encode(snapshot);
        let warnings = samples.warnings.iter().map(|w| w.to_string()).collect();
        let out = render_samples(Some("er2"), samples, Format::Text004).unwrap();
        let series = out
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(str::to_owned)
            .collect();
        (series, warnings)
    }

    #[test]
    fn the_documents_illustrative_answer() {
        // The document's example: loads as a list of one sample, with the
        // inferred memory field; the exporter's clock reads 29.1 s behind
        // the server's, which is 30 in the whole seconds the server sends.
        let (series, warnings) =
            series_and_warnings(&snapshot(sim::SERVER_DOCUMENT_SAMPLE, 1_718_408_970.9));
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(
            series,
            [
                "er2_server_info{target=\"er2\",version=\"2.10.0\",host_name=\"er-master\"} 1",
                "er2_server_clock_offset_seconds{target=\"er2\"} 30",
                "er2_server_load_timestamp_seconds{target=\"er2\"} 1718408940",
                "er2_server_cpu_ratio{target=\"er2\"} 0.125",
                "er2_server_cpu_stolen_ratio{target=\"er2\"} 0",
                "er2_server_disk_used_ratio{target=\"er2\"} 0.632",
                "er2_server_memory_used_ratio{target=\"er2\"} 0.7140000000000001",
            ]
        );
    }

    #[test]
    fn each_shape_of_loads_gives_the_newest_sample() {
        let bodies = [
            // One object, numbers as strings.
            r#"{"timestamp": 100, "loads": {"timestamp": "90", "cpu": "50", "stolen_cpu": 1, "disk": 20}}"#,
            // A list, newest not last.
            r#"{"timestamp": 100, "loads": [{"timestamp": 60, "cpu": 10, "stolen_cpu": 0, "disk": 10},
                                             {"timestamp": 90, "cpu": 50, "stolen_cpu": 1, "disk": 20},
                                             {"timestamp": 30, "cpu": 99, "stolen_cpu": 9, "disk": 90}]}"#,
            // An object of lists.
            r#"{"timestamp": 100, "loads": {"timestamp": [30, 90, 60], "cpu": [99, 50, 10],
                                             "stolen_cpu": [9, 1, 0], "disk": [90, 20, 10]}}"#,
        ];
        for body in bodies {
            let (series, warnings) = series_and_warnings(&snapshot(body, 100.0));
            assert!(warnings.is_empty(), "{body}: {warnings:?}");
            assert_eq!(
                &series[1..],
                [
                    "er2_server_clock_offset_seconds{target=\"er2\"} 0",
                    "er2_server_load_timestamp_seconds{target=\"er2\"} 90",
                    "er2_server_cpu_ratio{target=\"er2\"} 0.5",
                    "er2_server_cpu_stolen_ratio{target=\"er2\"} 0.01",
                    "er2_server_disk_used_ratio{target=\"er2\"} 0.2",
                ],
                "{body}"
            );
        }
    }

    #[test]
    fn an_unknown_shape_drops_only_the_load_series() {
        for (body, reason) in [
            (
                r#"{"version": "2.2", "loads": 42}"#,
                "a number, not an object or a list",
            ),
            (
                r#"{"version": "2.2", "loads": [1, 2]}"#,
                "loads[0] is a number",
            ),
            (
                r#"{"version": "2.2", "loads": {"cpu": [1, 2], "disk": [3]}}"#,
                "lists of different lengths",
            ),
        ] {
            let (series, warnings) = series_and_warnings(&snapshot(body, 0.0));
            assert_eq!(
                series,
                ["er2_server_info{target=\"er2\",version=\"2.2\",host_name=\"\"} 1"],
                "{body}"
            );
            assert_eq!(warnings.len(), 1, "{body}: {warnings:?}");
            assert!(warnings[0].starts_with("/v1/server loads: unknown shape"));
            assert!(warnings[0].contains(reason), "{body}: {warnings:?}");
        }
    }

    #[test]
    fn a_bad_value_drops_only_its_own_series() {
        let body =
            r#"{"timestamp": "soon", "loads": {"cpu": 140, "stolen_cpu": "n/a", "disk": 50}}"#;
        let (series, warnings) = series_and_warnings(&snapshot(body, 0.0));
        assert_eq!(
            &series[1..],
            ["er2_server_disk_used_ratio{target=\"er2\"} 0.5"]
        );
        assert_eq!(
            warnings,
            [
                "/v1/server timestamp: expected a number, got \"soon\"",
                "/v1/server loads.cpu: a percentage out of range: 140",
                "/v1/server loads.stolen_cpu: expected a number, got \"n/a\"",
            ]
        );
    }

    #[test]
    fn no_loads_is_no_load_series_and_no_warning() {
        let (series, warnings) =
            series_and_warnings(&snapshot(r#"{"host_name": "m", "version": "2.2"}"#, 0.0));
        assert_eq!(
            series,
            ["er2_server_info{target=\"er2\",version=\"2.2\",host_name=\"m\"} 1"]
        );
        assert!(warnings.is_empty());
    }
}
