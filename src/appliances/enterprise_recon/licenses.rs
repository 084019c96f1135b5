//! ER2 `licenses` collector: `GET /v1/licenses` for all three licensing
//! models (legacy target, sitewide, non-sitewide).

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;

use super::options::{LicensesOptions, Options};
use crate::collector::{CollectError, Context, basic_auth, offload};
use crate::exposition::{Desc, Samples};
use crate::json::{self, Num, OneOrMany, Text};
use crate::upstream::{BasicAuth, Request, Upstream, UpstreamError};

/// The endpoint, as logged and labelled.
pub const ENDPOINT: &str = "/v1/licenses";

static INFO: Desc = Desc::gauge(
    "er2_license_info",
    "Enterprise Recon licence: company, edition and licensing model (legacy, sitewide or non_sitewide); always 1",
);
static STATE: Desc = Desc::gauge(
    "er2_license_state",
    "Enterprise Recon system licence state: 1 for the current state (licensed, expired, exceeded, absent), 0 for the others",
);
static EXPIRY: Desc = Desc::gauge(
    "er2_license_expiry_timestamp_seconds",
    "When the Enterprise Recon licence expires, in seconds since the epoch",
);
static POOL_LIMIT: Desc = Desc::gauge(
    "er2_license_pool_limit",
    "Licences in an Enterprise Recon target licence pool",
);
static POOL_USED: Desc = Desc::gauge(
    "er2_license_pool_used",
    "Licences assigned from an Enterprise Recon target licence pool",
);
static ALLOWANCE_LIMIT: Desc = Desc::gauge(
    "er2_data_allowance_limit_bytes",
    "Data allowance of an Enterprise Recon licence pool, in bytes",
);
static ALLOWANCE_USED: Desc = Desc::gauge(
    "er2_data_allowance_used_bytes",
    "Data allowance consumed in an Enterprise Recon licence pool, in bytes",
);
static LICENSED_TARGETS: Desc = Desc::gauge(
    "er2_licensed_targets",
    "Enterprise Recon targets holding a licence, by the pool they draw from",
);
static UNLICENSED_TARGETS: Desc = Desc::gauge(
    "er2_unlicensed_targets",
    "Enterprise Recon targets listed without a licence (type none) in the legacy target licensing model",
);
static DATA_USAGE: Desc = Desc::gauge(
    "er2_data_usage_bytes",
    "Data allowance consumed, summed by attribution (global, server, client) and location type, in bytes",
);
static LOCATION_USAGE: Desc = Desc::gauge(
    "er2_location_data_usage_bytes",
    "Data allowance consumed per target location, in bytes (only with licenses.per_location)",
);
static PENDING_SCANS: Desc = Desc::gauge(
    "er2_pending_scans",
    "Scans whose data is waiting to be processed because the licence expired or was exceeded",
);
static PENDING_BYTES: Desc = Desc::gauge(
    "er2_pending_scan_data_bytes",
    "Scanned data waiting to be processed because the licence expired or was exceeded, in bytes",
);

/// The answer of `GET /v1/licenses`; every field is optional and lenient.
#[derive(Debug, Default, Deserialize)]
pub struct Licenses {
    /// licensed, expired, exceeded or absent; missing in the legacy model.
    #[serde(default)]
    pub state: Text,
    /// Expiry, Unix seconds (number or string).
    #[serde(default)]
    pub expires: Num,
    /// PCI, PII, PRO or NOW.
    #[serde(default)]
    pub edition: Text,
    /// Licensee.
    #[serde(default)]
    pub company: Text,
    /// Licensed targets and their pools.
    #[serde(default)]
    pub targets: OneOrMany<LicensedTarget>,
    /// Licence pools and data allowances.
    #[serde(default)]
    pub summary: OneOrMany<SummaryRow>,
    /// Data allowance consumption per location.
    #[serde(default)]
    pub datausage: OneOrMany<DataUsageRow>,
    /// Pending scan data notice.
    #[serde(default)]
    pub warning: Text,
}

/// One `targets` row.
#[derive(Debug, Default, Deserialize)]
pub struct LicensedTarget {
    /// The pool (`type`) the target draws from.
    #[serde(default, rename = "type")]
    pub pool: Text,
}

/// One `summary` row.
#[derive(Debug, Default, Deserialize)]
pub struct SummaryRow {
    /// Pool type.
    #[serde(default, rename = "type")]
    pub pool: Text,
    /// Pool description; "... Data Allowance" for byte pools.
    #[serde(default)]
    pub comment: Text,
    /// Limit.
    #[serde(default)]
    pub total: Num,
    /// Consumed.
    #[serde(default)]
    pub usage: Num,
}

/// One `datausage` row.
#[derive(Debug, Default, Deserialize)]
pub struct DataUsageRow {
    /// Location type.
    #[serde(default, rename = "type")]
    pub location_type: Text,
    /// Location description.
    #[serde(default)]
    pub location: Text,
    /// Bytes consumed.
    #[serde(default)]
    pub bytes: Num,
    /// global, server or client.
    #[serde(default)]
    pub attribution: Text,
}

/// Fetches and decodes `/v1/licenses`.
pub async fn fetch(upstream: &Upstream, auth: &BasicAuth) -> Result<Licenses, UpstreamError> {
    let reply = upstream
        .send(Request::get(ENDPOINT, ENDPOINT, Some(auth)))
        .await?
        .require_success()?;
    offload::decode(ENDPOINT, &reply.body).await
}

impl Licenses {
    /// Rows of every list, which the encoding's work follows.
    pub fn rows(&self) -> usize {
        self.summary.0.len() + self.targets.0.len() + self.datausage.0.len()
    }
}

/// The licensing model, from the shape of the answer.
pub fn model(l: &Licenses) -> &'static str {
    if l.state == Text::Missing {
        "legacy"
    } else if l
        .summary
        .0
        .iter()
        .any(|r| r.pool.as_str() == Some("global"))
    {
        "sitewide"
    } else {
        "non_sitewide"
    }
}

const STATES: [&str; 4] = ["licensed", "expired", "exceeded", "absent"];

/// Encodes a licences snapshot.
pub fn encode(l: &Licenses, options: &LicensesOptions) -> Samples {
    let mut s = Samples::new();
    s.push(
        &INFO,
        &[
            ("company", l.company.as_str().unwrap_or("")),
            ("edition", l.edition.as_str().unwrap_or("")),
            ("model", model(l)),
        ],
        1_i64,
    );
    encode_state(l, &mut s);
    if let Some(v) = l.expires.read(&mut s, ENDPOINT, "expires") {
        s.push_plain(&EXPIRY, v);
    }
    encode_summary(l, &mut s);
    encode_targets(l, &mut s);
    encode_data_usage(l, options, &mut s);
    encode_pending(l, &mut s);
    s
}

/// Targets by the pool they draw from; a target of `type` `none` holds no
/// licence and is counted apart.
fn encode_targets(l: &Licenses, s: &mut Samples) {
    let mut by_pool: BTreeMap<&str, i64> = BTreeMap::new();
    let mut unlicensed = 0_i64;
    for t in &l.targets.0 {
        match t.pool.as_str().unwrap_or("unknown") {
            "none" => unlicensed += 1,
            pool => *by_pool.entry(pool).or_default() += 1,
        }
    }
    for (pool, n) in by_pool {
        s.push(&LICENSED_TARGETS, &[("pool", pool)], n);
    }
    if model(l) == "legacy" {
        s.push_plain(&UNLICENSED_TARGETS, unlicensed);
    }
}

fn encode_state(l: &Licenses, s: &mut Samples) {
    let current = match &l.state {
        Text::Missing => return,
        Text::Invalid(why) => {
            s.warn(ENDPOINT, "state", why.clone());
            return;
        }
        Text::Value(v) => v.trim().to_ascii_lowercase(),
    };
    for state in STATES {
        s.push(&STATE, &[("state", state)], i64::from(state == current));
    }
    if !STATES.contains(&current.as_str()) {
        s.push(&STATE, &[("state", &current)], 1_i64);
    }
}

fn encode_summary(l: &Licenses, s: &mut Samples) {
    // A set, not a list: a hostile answer of 60,000 distinct rows costs
    // 60,000 look-ups, not 60,000² / 2 comparisons.
    let mut seen: HashSet<(&str, &str)> = HashSet::with_capacity(l.summary.0.len().min(1024));
    for (i, row) in l.summary.0.iter().enumerate() {
        let Some(pool) = row.pool.as_str() else {
            s.warn(
                ENDPOINT,
                format!("summary[{i}].type"),
                "missing or not text",
            );
            continue;
        };
        let description = row.comment.as_str().unwrap_or("");
        if !seen.insert((pool, description)) {
            s.warn(
                ENDPOINT,
                format!("summary[{i}]"),
                format!("duplicate pool {pool} ({description})"),
            );
            continue;
        }
        let (limit_desc, used_desc) = if description.to_ascii_lowercase().contains("data allowance")
        {
            (&ALLOWANCE_LIMIT, &ALLOWANCE_USED)
        } else {
            (&POOL_LIMIT, &POOL_USED)
        };
        let labels = [("pool", pool), ("description", description)];
        if let Some(v) = row.total.read(s, ENDPOINT, &format!("summary[{i}].total")) {
            s.push(limit_desc, &labels, v);
        }
        if let Some(v) = row.usage.read(s, ENDPOINT, &format!("summary[{i}].usage")) {
            s.push(used_desc, &labels, v);
        }
    }
}

fn encode_data_usage(l: &Licenses, options: &LicensesOptions, s: &mut Samples) {
    let mut totals: BTreeMap<(String, String), f64> = BTreeMap::new();
    let mut per_location: BTreeMap<(String, String, String), f64> = BTreeMap::new();
    for (i, row) in l.datausage.0.iter().enumerate() {
        let Some(bytes) = row
            .bytes
            .read(s, ENDPOINT, &format!("datausage[{i}].bytes"))
        else {
            continue;
        };
        let attribution = row.attribution.as_str().unwrap_or("unknown").to_owned();
        let location_type = row
            .location_type
            .as_str()
            .unwrap_or("unknown")
            .trim()
            .to_owned();
        *totals
            .entry((attribution.clone(), location_type.clone()))
            .or_default() += bytes;
        if options.per_location {
            let location = row.location.as_str().unwrap_or("").to_owned();
            *per_location
                .entry((location, location_type, attribution))
                .or_default() += bytes;
        }
    }
    for ((attribution, location_type), bytes) in &totals {
        s.push(
            &DATA_USAGE,
            &[
                ("attribution", attribution),
                ("location_type", location_type),
            ],
            *bytes,
        );
    }
    for ((location, location_type, attribution), bytes) in &per_location {
        s.push(
            &LOCATION_USAGE,
            &[
                ("location", location),
                ("location_type", location_type),
                ("attribution", attribution),
            ],
            *bytes,
        );
    }
}

fn encode_pending(l: &Licenses, s: &mut Samples) {
    let (scans, bytes) = match &l.warning {
        Text::Missing => (0, 0),
        Text::Invalid(why) => {
            s.warn(ENDPOINT, "warning", why.clone());
            return;
        }
        Text::Value(text) => match parse_pending(text) {
            Some((bytes, scans)) => (scans, bytes),
            None => {
                s.warn(
                    ENDPOINT,
                    "warning",
                    format!("not of the form \"N bytes of scanned data from M scans pending processing\": \"{}\"", json::clip(text, 120)),
                );
                return;
            }
        },
    };
    s.push_plain(&PENDING_SCANS, scans);
    s.push_plain(&PENDING_BYTES, bytes);
}

/// Parses "N bytes of scanned data from M scans pending processing" into
/// `(N, M)`.
pub fn parse_pending(text: &str) -> Option<(u64, u64)> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let number_before = |unit: [&str; 2]| -> Option<u64> {
        let at = words
            .iter()
            .position(|w| unit.contains(&w.to_ascii_lowercase().as_str()))?;
        words.get(at.checked_sub(1)?)?.replace(',', "").parse().ok()
    };
    Some((
        number_before(["byte", "bytes"])?,
        number_before(["scan", "scans"])?,
    ))
}

/// The collector: [`fetch`], then [`encode`] (off the worker when large).
pub async fn collect(ctx: &Context<'_, Options>) -> Result<Samples, CollectError> {
    let snapshot = fetch(ctx.upstream, &basic_auth(ctx)?).await?;
    let options = ctx.options.licenses.clone();
    let rows = snapshot.rows();
    let encode = move || encode(&snapshot, &options);
    Ok(offload::encode(ENDPOINT, rows, encode).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exposition::{Format, render_samples};
    use crate::simulator::enterprise_recon as sim;

    fn exposition(sample: &str, per_location: bool) -> (String, Vec<String>) {
        let licenses: Licenses = json::decode(ENDPOINT, sample.as_bytes()).unwrap();
        let samples = encode(&licenses, &LicensesOptions { per_location });
        let warnings = samples.warnings.iter().map(ToString::to_string).collect();
        (
            render_samples(Some("er2"), samples, Format::Text004).unwrap(),
            warnings,
        )
    }

    fn check(sample: &str, per_location: bool, expected: &str) {
        let (out, warnings) = exposition(sample, per_location);
        crate::collector::testdata::assert_matches(
            &out,
            &format!("appliances/enterprise_recon/testdata/{expected}"),
        );
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn legacy_sample() {
        check(sim::LICENSES_LEGACY, false, "licenses_legacy.prom");
    }

    #[test]
    fn sitewide_sample_with_locations() {
        check(sim::LICENSES_SITEWIDE, true, "licenses_sitewide.prom");
    }

    #[test]
    fn non_sitewide_sample() {
        check(
            sim::LICENSES_NON_SITEWIDE,
            false,
            "licenses_non_sitewide.prom",
        );
    }

    #[test]
    fn models() {
        let m = |s: &str| model(&json::decode::<Licenses>(ENDPOINT, s.as_bytes()).unwrap());
        assert_eq!(m(sim::LICENSES_LEGACY), "legacy");
        assert_eq!(m(sim::LICENSES_SITEWIDE), "sitewide");
        assert_eq!(m(sim::LICENSES_NON_SITEWIDE), "non_sitewide");
    }

    #[test]
    fn malformed_field_drops_only_its_series() {
        let body = r#"{"state": "licensed", "expires": "soon", "company": "C", "edition": "PRO",
            "summary": [{"type": "server", "comment": "Server", "total": {"n": 5}, "usage": "1"}],
            "warning": "the licence has expired"}"#;
        let (out, warnings) = exposition(body, false);
        assert!(
            !out.contains("er2_license_expiry_timestamp_seconds{"),
            "{out}"
        );
        assert!(!out.contains("er2_license_pool_limit{"), "{out}");
        assert!(
            out.contains(
                "er2_license_pool_used{target=\"er2\",pool=\"server\",description=\"Server\"} 1\n"
            ),
            "{out}"
        );
        assert!(!out.contains("er2_pending_scans{"), "{out}");
        assert!(
            out.contains("er2_license_state{target=\"er2\",state=\"licensed\"} 1\n"),
            "{out}"
        );
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(
            warnings[0].starts_with("/v1/licenses expires: expected a number, got \"soon\""),
            "{warnings:?}"
        );
        assert!(
            warnings[1]
                .starts_with("/v1/licenses summary[0].total: expected a number, got an object"),
            "{warnings:?}"
        );
        assert!(
            warnings[2].starts_with("/v1/licenses warning: not of the form"),
            "{warnings:?}"
        );
    }

    #[test]
    fn unknown_state_gets_its_own_series() {
        let (out, _) = exposition(r#"{"state": "suspended", "expires": 1}"#, false);
        assert!(
            out.contains("er2_license_state{target=\"er2\",state=\"suspended\"} 1\n"),
            "{out}"
        );
        assert!(
            out.contains("er2_license_state{target=\"er2\",state=\"licensed\"} 0\n"),
            "{out}"
        );
    }

    #[test]
    fn single_object_where_a_list_is_expected() {
        let (out, _) = exposition(
            r#"{"state": "licensed", "expires": 1, "targets": {"name": "a", "id": "1", "type": "server"}}"#,
            false,
        );
        assert!(
            out.contains("er2_licensed_targets{target=\"er2\",pool=\"server\"} 1\n"),
            "{out}"
        );
    }

    #[test]
    fn malformed_body_fails_with_the_serde_path() {
        let err = json::decode::<Licenses>(ENDPOINT, br#"{"summary": [{"type": "server"}, 5]}"#)
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("/v1/licenses: unexpected response at summary[1]:"),
            "{err}"
        );
    }

    #[test]
    fn pending_warning_parses() {
        assert_eq!(
            parse_pending("85567564053 bytes of scanned data from 2 scans pending processing"),
            Some((85_567_564_053, 2))
        );
        assert_eq!(
            parse_pending("1 byte of scanned data from 1 scan pending processing"),
            Some((1, 1))
        );
        assert_eq!(parse_pending("something else"), None);
    }
}
