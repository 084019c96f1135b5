//! Sectona `entitlements` collector: one `POST /API/APP/APP007/GetEntitlement`
//! per configured query, all in flight together; the rows of each answer
//! counted by entitlement type, policy and asset type, and the API's error
//! codes reported per query.
//!
//! How an answer is read:
//! - HTTP 2xx: the body is the document's answer. `IsSuccess` true gives the
//!   rows; `IsSuccess` false is an API error whose code is `LogCode`
//!   (`none` when it carries none). Without a boolean `IsSuccess`, a
//!   non-zero `LogCode` still means an error; otherwise the answer is
//!   unusable and the query's request counts as failed.
//! - Any other status whose body is the document's answer with a non-zero
//!   `LogCode` is an API error with that code; without one, the request
//!   failed.
//! - Credential errors (`LogCode` 011651, 011673, 011674, or HTTP 401) fail
//!   the collector and set `sectona_up` 0. Other API errors are reported by
//!   `sectona_query_success` 0 and `sectona_query_error` only.
//! - A query whose request failed (transport, timeout, an error status
//!   without a code, a body that is not the document's answer) fails the
//!   collector, yet every query's series are still emitted: the failed
//!   one as `sectona_query_success` 0.

use std::collections::{BTreeMap, BTreeSet};

use serde::de::{Deserialize, Deserializer};
use tracing::warn;

use super::codes;
use super::options::{EntitlementQuery, Options};
use crate::collector::{CollectError, Context, PartFailure, basic_auth, offload};
use crate::exposition::{Desc, Samples};
use crate::json::{self, Flag, OneOrMany, Text};
use crate::upstream::{BasicAuth, Reply, Request, Upstream, UpstreamError};

/// The endpoint, as requested, logged and labelled.
pub const ENDPOINT: &str = "/API/APP/APP007/GetEntitlement";

static ENTITLEMENTS: Desc = Desc::gauge(
    "sectona_entitlements",
    "Entitlements (rows of Result) returned by a Sectona GetEntitlement query",
);
static BY_POLICY: Desc = Desc::gauge(
    "sectona_entitlements_by_policy",
    "Entitlements returned by a Sectona GetEntitlement query, by Policy Name (unknown when a row has none)",
);
static BY_ASSET_TYPE: Desc = Desc::gauge(
    "sectona_entitlements_by_asset_type",
    "Entitlements returned by a Sectona GetEntitlement query, by Asset Type (unknown when a row has none)",
);
static QUERY_SUCCESS: Desc = Desc::gauge(
    "sectona_query_success",
    "1 if the Sectona API answered the GetEntitlement query with IsSuccess true, 0 if it answered with an error or the request failed",
);
static QUERY_ERROR: Desc = Desc::gauge(
    "sectona_query_error",
    "1 when the Sectona API answered the GetEntitlement query with an error: its LogCode and the API document's description (unknown for codes the document does not list)",
);
static API_INFO: Desc = Desc::gauge(
    "sectona_api_info",
    "Version reported by the Sectona API; always 1",
);

/// The answer of GetEntitlement, as far as the collector reads it.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Answer {
    /// API version.
    #[serde(default, rename = "Version")]
    pub version: Text,
    /// Whether the query succeeded (a boolean, or its text).
    #[serde(default, rename = "IsSuccess")]
    pub is_success: Flag,
    /// "0", or the error code of the document's table.
    #[serde(default, rename = "LogCode")]
    pub log_code: Text,
    /// The entitlement rows.
    #[serde(default, rename = "Result")]
    pub result: Rows,
}

impl Answer {
    /// The error code it carries, if any (see [`codes::normalize`]).
    pub fn error_code(&self) -> Option<String> {
        self.log_code.as_str().and_then(codes::normalize)
    }

    fn version(&self) -> Option<String> {
        self.version
            .as_str()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|v| json::clip(v, 60))
    }
}

/// `Result`: a list of rows, a single row, `null` or absent (no rows), or
/// something else, which drops the query's count series only.
#[derive(Debug)]
pub enum Rows {
    /// The rows.
    List(Vec<Row>),
    /// Not rows; the reason is for the warning.
    Invalid(String),
}

impl Default for Rows {
    fn default() -> Self {
        Rows::List(Vec::new())
    }
}

impl<'de> Deserialize<'de> for Rows {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Shape {
            Rows(OneOrMany<Row>),
            Other(serde_json::Value),
        }
        Ok(match Shape::deserialize(d)? {
            Shape::Rows(rows) => Rows::List(rows.0),
            Shape::Other(other) => {
                let got = match other {
                    serde_json::Value::String(_) => "text",
                    serde_json::Value::Number(_) => "a number",
                    serde_json::Value::Bool(_) => "a boolean",
                    _ => "a list holding something other than rows",
                };
                Rows::Invalid(format!("expected entitlement rows, got {got}"))
            }
        })
    }
}

/// One entitlement row (only the fields counted by).
#[derive(Debug, Default, serde::Deserialize)]
pub struct Row {
    /// The policy granting the entitlement.
    #[serde(default, rename = "Policy Name")]
    pub policy: Text,
    /// The asset's type.
    #[serde(default, rename = "Asset Type")]
    pub asset_type: Text,
}

/// What became of one query.
#[derive(Debug)]
pub enum Outcome {
    /// `IsSuccess` true: the rows.
    Entitlements(Rows),
    /// The API answered with an error code.
    ApiError {
        /// `LogCode`, normalized; `none` when the answer carried none.
        code: String,
        /// The HTTP status it came with.
        status: u16,
    },
    /// No usable answer.
    Failed(UpstreamError),
}

/// One query and its outcome.
#[derive(Debug)]
pub struct QueryResult<'q> {
    /// The configured query.
    pub query: &'q EntitlementQuery,
    /// The `Version` of the answer, when the API answered.
    pub version: Option<String>,
    /// What it gave.
    pub outcome: Outcome,
}

/// Every query's result, in configuration order.
#[derive(Debug)]
pub struct Snapshot<'q> {
    /// One per configured query.
    pub results: Vec<QueryResult<'q>>,
}

/// The request body of `query`: the document's field names, only the fields
/// the query sets, and the module's `Instance`.
pub fn request_body(query: &EntitlementQuery, instance: &str) -> Vec<u8> {
    let mut body = serde_json::Map::new();
    body.insert(
        "EntitlementType".to_owned(),
        query.entitlement_type.as_str().into(),
    );
    let fields = [
        ("Assettype", &query.asset_type),
        ("AssetHost", &query.asset_host),
        ("DBInstance", &query.db_instance),
        ("AccountName", &query.account_name),
        ("AccountType", &query.account_type),
        ("Username", &query.username),
        ("AuthenticationType", &query.authentication_type),
        ("DirectoryStore", &query.directory_store),
    ];
    for (name, value) in fields {
        if let Some(v) = value.as_deref().filter(|v| !v.trim().is_empty()) {
            body.insert(name.to_owned(), v.into());
        }
    }
    body.insert("Instance".to_owned(), instance.into());
    serde_json::Value::Object(body).to_string().into_bytes()
}

/// Sends every query concurrently (each waiting for its place under the
/// target's cap, `limits.max_requests_per_target`, and the process'
/// budget) and reads each answer, a large one off the async worker.
pub async fn fetch<'q>(
    upstream: &Upstream,
    auth: &BasicAuth,
    instance: &str,
    queries: &'q [EntitlementQuery],
) -> Snapshot<'q> {
    let asks = queries.iter().map(|query| async move {
        let body = request_body(query, instance);
        let sent = upstream
            .send(Request::post_json(ENDPOINT, ENDPOINT, Some(auth), body))
            .await;
        let (version, outcome) = match sent {
            Ok(reply) => offload::by_size(ENDPOINT, reply.body.len(), move || interpret(reply))
                .await
                .unwrap_or_else(|e| (None, Outcome::Failed(e))),
            Err(e) => (None, Outcome::Failed(e)),
        };
        QueryResult {
            query,
            version,
            outcome,
        }
    });
    Snapshot {
        results: futures::future::join_all(asks).await,
    }
}

/// Reads one reply (see the module documentation); returns the answer's
/// `Version` with the outcome.
pub fn interpret(reply: Reply) -> (Option<String>, Outcome) {
    let status = reply.status.as_u16();
    let decoded = json::decode::<Answer>(ENDPOINT, &reply.body);
    if !reply.status.is_success() {
        if let Ok(answer) = &decoded
            && answer.is_success != Flag::Value(true)
            && let Some(code) = answer.error_code()
        {
            return (answer.version(), Outcome::ApiError { code, status });
        }
        return (None, Outcome::Failed(reply.into_status_error()));
    }
    let answer = match decoded {
        Ok(answer) => answer,
        Err(e) => return (None, Outcome::Failed(e.into())),
    };
    let version = answer.version();
    let code = answer.error_code();
    let outcome = match (answer.is_success, code) {
        (Flag::Value(true), _) => Outcome::Entitlements(answer.result),
        (Flag::Value(false), code) => Outcome::ApiError {
            code: code.unwrap_or_else(|| "none".to_owned()),
            status,
        },
        (_, Some(code)) => Outcome::ApiError { code, status },
        (Flag::Missing, None) => Outcome::Failed(unusable("missing, and no error LogCode")),
        (Flag::Invalid(why), None) => Outcome::Failed(unusable(&why)),
    };
    (version, outcome)
}

fn unusable(reason: &str) -> UpstreamError {
    UpstreamError::Decode {
        endpoint: ENDPOINT,
        path: "IsSuccess".to_owned(),
        reason: reason.to_owned(),
    }
}

/// Why a query fails the collector, or `None` when it does not: a request
/// that failed, or a credential error.
pub fn failure(result: &QueryResult<'_>) -> Option<CollectError> {
    match &result.outcome {
        Outcome::Entitlements(_) => None,
        Outcome::ApiError { code, status }
            if *status == 401 || codes::is_credential_error(code) =>
        {
            let http = if *status == 200 {
                String::new()
            } else {
                format!("HTTP {status}, ")
            };
            Some(CollectError::CredentialsRejected {
                endpoint: ENDPOINT,
                reason: format!("{http}LogCode {code} ({})", codes::describe(code)),
            })
        }
        Outcome::ApiError { .. } => None,
        Outcome::Failed(e) => Some(CollectError::Upstream(e.clone())),
    }
}

/// Encodes every query's result.
pub fn encode(snapshot: &Snapshot<'_>) -> Samples {
    let mut s = Samples::new();
    let mut versions: BTreeSet<&str> = BTreeSet::new();
    for r in &snapshot.results {
        let query = r.query.name.as_str();
        versions.extend(r.version.as_deref());
        match &r.outcome {
            Outcome::Entitlements(rows) => {
                s.push(&QUERY_SUCCESS, &[("query", query)], 1_i64);
                encode_rows(&mut s, r.query, rows);
            }
            Outcome::ApiError { code, .. } => {
                s.push(&QUERY_SUCCESS, &[("query", query)], 0_i64);
                s.push(
                    &QUERY_ERROR,
                    &[
                        ("query", query),
                        ("code", code),
                        ("description", codes::describe(code)),
                    ],
                    1_i64,
                );
            }
            Outcome::Failed(_) => s.push(&QUERY_SUCCESS, &[("query", query)], 0_i64),
        }
    }
    for version in versions {
        s.push(&API_INFO, &[("version", version)], 1_i64);
    }
    s
}

fn encode_rows(s: &mut Samples, query: &EntitlementQuery, rows: &Rows) {
    let rows = match rows {
        Rows::List(rows) => rows,
        Rows::Invalid(why) => {
            s.warn(
                ENDPOINT,
                format!("Result (query {})", query.name),
                why.clone(),
            );
            return;
        }
    };
    s.push(
        &ENTITLEMENTS,
        &[
            ("query", &query.name),
            ("entitlement_type", query.entitlement_type.as_str()),
        ],
        rows.len(),
    );
    let mut by_policy: BTreeMap<&str, i64> = BTreeMap::new();
    let mut by_asset_type: BTreeMap<&str, i64> = BTreeMap::new();
    for (i, row) in rows.iter().enumerate() {
        for (field, text) in [
            ("Policy Name", &row.policy),
            ("Asset Type", &row.asset_type),
        ] {
            if let Text::Invalid(why) = text {
                s.warn(
                    ENDPOINT,
                    format!("Result[{i}].{field} (query {})", query.name),
                    format!("{why}; counted as unknown"),
                );
            }
        }
        *by_policy.entry(label_value(&row.policy)).or_default() += 1;
        *by_asset_type
            .entry(label_value(&row.asset_type))
            .or_default() += 1;
    }
    for (policy, n) in by_policy {
        s.push(&BY_POLICY, &[("query", &query.name), ("policy", policy)], n);
    }
    for (asset_type, n) in by_asset_type {
        s.push(
            &BY_ASSET_TYPE,
            &[("query", &query.name), ("asset_type", asset_type)],
            n,
        );
    }
}

/// A row's text as a label value; `unknown` when absent, blank or invalid.
fn label_value(text: &Text) -> &str {
    text.as_str()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or("unknown")
}

/// Runs the collector: fetch, encode, and fail (keeping the series) when a
/// query's request failed or the credentials were refused.
pub async fn collect(ctx: &Context<'_, Options>) -> Result<Samples, CollectError> {
    let auth = basic_auth(ctx)?;
    let options = ctx.options;
    let snapshot = fetch(
        ctx.upstream,
        &auth,
        &options.instance,
        &options.entitlements,
    )
    .await;
    let samples = encode(&snapshot);
    let mut failures = Vec::new();
    for r in &snapshot.results {
        match (failure(r), &r.outcome) {
            (Some(error), _) => failures.push(PartFailure {
                part: format!("query {}", r.query.name),
                error,
            }),
            (None, Outcome::ApiError { code, .. }) => warn!(
                target = %ctx.target,
                collector = "entitlements",
                endpoint = ENDPOINT,
                query = %r.query.name,
                code = %code,
                description = codes::describe(code),
                "the API answered the query with an error"
            ),
            (None, _) => {}
        }
    }
    if failures.is_empty() {
        Ok(samples)
    } else {
        Err(CollectError::Partial { samples, failures })
    }
}

#[cfg(test)]
mod tests {
    use super::super::options::EntitlementType;
    use super::*;
    use crate::exposition::{Format, render_samples};
    use crate::simulator::sectona as sim;

    fn query(name: &str, entitlement_type: EntitlementType) -> EntitlementQuery {
        let some = |v: &str| Some(v.to_owned());
        let mut q = EntitlementQuery {
            name: name.to_owned(),
            entitlement_type,
            asset_type: None,
            asset_host: None,
            db_instance: None,
            account_name: None,
            account_type: None,
            username: None,
            authentication_type: None,
            directory_store: None,
        };
        match entitlement_type {
            EntitlementType::User => {
                q.username = some(name);
                q.authentication_type = some("AD");
                q.directory_store = some("corp");
            }
            EntitlementType::Account => {
                q.asset_type = some("MSSQL");
                q.asset_host = some("db01");
                q.account_name = some("sa");
                q.account_type = some("Local");
            }
            EntitlementType::Asset => {
                q.asset_type = some("Linux");
                q.asset_host = some("web01");
                q.db_instance = some("");
            }
        }
        q
    }

    fn reply(status: u16, body: &str) -> Reply {
        Reply {
            endpoint: ENDPOINT,
            status: reqwest::StatusCode::from_u16(status).unwrap(),
            body: bytes::Bytes::from(body.to_owned()),
        }
    }

    fn snapshot<'q>(answers: &[(&'q EntitlementQuery, u16, &str)]) -> Snapshot<'q> {
        Snapshot {
            results: answers
                .iter()
                .map(|(query, status, body)| {
                    let (version, outcome) = interpret(reply(*status, body));
                    QueryResult {
                        query,
                        version,
                        outcome,
                    }
                })
                .collect(),
        }
    }

    /// The exposition's sample lines and the warnings.
    fn series(snapshot: &Snapshot<'_>) -> (Vec<String>, Vec<String>) {
        let samples = encode(snapshot);
        let warnings = samples.warnings.iter().map(ToString::to_string).collect();
        let out = render_samples(Some("pam"), samples, Format::Text004).unwrap();
        let lines = out
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(str::to_owned)
            .collect();
        (lines, warnings)
    }

    fn check_testdata(out: &str, file: &str) {
        crate::collector::testdata::assert_matches(
            out,
            &format!("appliances/sectona/testdata/{file}"),
        );
    }

    fn one(status: u16, body: &str) -> Outcome {
        interpret(reply(status, body)).1
    }

    #[test]
    fn document_sample() {
        let alice = query("alice", EntitlementType::User);
        let snapshot = snapshot(&[(&alice, 200, sim::GET_ENTITLEMENT_SAMPLE)]);
        let samples = encode(&snapshot);
        assert!(samples.warnings.is_empty(), "{:?}", samples.warnings);
        let out = render_samples(Some("pam"), samples, Format::Text004).unwrap();
        check_testdata(&out, "document_sample.prom");
        assert!(failure(&snapshot.results[0]).is_none());
    }

    #[test]
    fn document_sample_is_repaired_minimally() {
        let repaired = sim::GET_ENTITLEMENT_DOCUMENT
            .replace('\u{a0}', " ")
            .replacen("}]\t\"StatusCode\"", "}],\t\"StatusCode\"", 1);
        assert_eq!(repaired, sim::GET_ENTITLEMENT_SAMPLE);
        // The trailing comma the fixture keeps is read, strict JSON is not.
        assert!(serde_json::from_str::<serde_json::Value>(sim::GET_ENTITLEMENT_SAMPLE).is_err());
        // The document's bytes as they are fail the query's request.
        match one(200, sim::GET_ENTITLEMENT_DOCUMENT) {
            Outcome::Failed(UpstreamError::Decode { reason, .. }) => {
                assert!(reason.starts_with("invalid JSON"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_error_code_of_the_document() {
        let codes = [
            "011649", "011651", "011673", "011674", "011675", "011683", "011803", "032417",
            "011656", "011671", "011685", "011690", "011805", "011853", "099999",
        ];
        let queries: Vec<EntitlementQuery> = codes
            .iter()
            .map(|c| query(&format!("q{c}"), EntitlementType::User))
            .collect();
        let bodies: Vec<String> = codes
            .iter()
            .map(|c| {
                format!(r#"{{"Version":"5.7.0.1","IsSuccess":false,"LogCode":"{c}","Result":[]}}"#)
            })
            .collect();
        let answers: Vec<(&EntitlementQuery, u16, &str)> = queries
            .iter()
            .zip(&bodies)
            .map(|(q, b)| (q, 200, b.as_str()))
            .collect();
        let snapshot = snapshot(&answers);
        let out = render_samples(Some("pam"), encode(&snapshot), Format::Text004).unwrap();
        check_testdata(&out, "error_codes.prom");
        let refused: Vec<&str> = snapshot
            .results
            .iter()
            .zip(codes)
            .filter(|(r, _)| failure(r).is_some_and(|e| e.is_auth()))
            .map(|(_, c)| c)
            .collect();
        assert_eq!(refused, ["011651", "011673", "011674"]);
        let failing = snapshot
            .results
            .iter()
            .filter(|r| failure(r).is_some())
            .count();
        assert_eq!(failing, 3, "only credential errors fail the collector");
    }

    #[test]
    fn credential_error_message() {
        let alice = query("alice", EntitlementType::User);
        let body = r#"{"IsSuccess":false,"LogCode":"011673"}"#;
        let snapshot = snapshot(&[(&alice, 200, body), (&alice, 401, body)]);
        let messages: Vec<String> = snapshot
            .results
            .iter()
            .map(|r| failure(r).unwrap().to_string())
            .collect();
        assert_eq!(
            messages,
            [
                "/API/APP/APP007/GetEntitlement: credentials rejected: LogCode 011673 (Invalid credentials)",
                "/API/APP/APP007/GetEntitlement: credentials rejected: HTTP 401, LogCode 011673 (Invalid credentials)",
            ]
        );
    }

    /// Why one answer to query `alice` fails the collector, if it does.
    fn failing(status: u16, body: &str) -> Option<CollectError> {
        let alice = query("alice", EntitlementType::User);
        failure(&snapshot(&[(&alice, status, body)]).results[0])
    }

    #[test]
    fn http_401_refuses_the_credentials_whatever_the_body() {
        let err = failing(401, "Unauthorized").unwrap();
        assert!(err.is_auth(), "{err}");
        assert_eq!(err.to_string(), "/API/APP/APP007/GetEntitlement: HTTP 401");
        // Even with a code outside the credential codes: the status says it.
        let err = failing(401, r#"{"IsSuccess":false,"LogCode":"011649"}"#).unwrap();
        assert!(err.is_auth(), "{err}");
    }

    #[test]
    fn error_status_with_the_api_answer_is_an_api_error() {
        let body = r#"{"Version":"5.7.0.1","IsSuccess":false,"LogCode":"032417","Result":null}"#;
        match one(500, body) {
            Outcome::ApiError { code, status } => {
                assert_eq!((code.as_str(), status), ("032417", 500))
            }
            other => panic!("{other:?}"),
        }
        assert!(failing(500, body).is_none());
        // Without a code, an error status is a failed request.
        match one(503, "<html>Service Unavailable</html>") {
            Outcome::Failed(UpstreamError::Status { status: 503, .. }) => {}
            other => panic!("{other:?}"),
        }
        match one(502, r#"{"IsSuccess":false,"LogCode":"0"}"#) {
            Outcome::Failed(UpstreamError::Status { status: 502, .. }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn loose_shapes_are_read() {
        let single =
            r#"{"IsSuccess":"true","LogCode":0,"Result":{"Policy Name":"P","Asset Type":"Linux"}}"#;
        let missing = r#"{"IsSuccess":"True","LogCode":"0"}"#;
        let numeric = r#"{"IsSuccess":"false","LogCode":11683}"#;
        let no_flag = r#"{"LogCode":"011853","Result":[]}"#;
        let (a, b, c, d) = (
            query("a", EntitlementType::Account),
            query("b", EntitlementType::Asset),
            query("c", EntitlementType::User),
            query("d", EntitlementType::Asset),
        );
        let snapshot = snapshot(&[
            (&a, 200, single),
            (&b, 200, missing),
            (&c, 200, numeric),
            (&d, 200, no_flag),
        ]);
        let (lines, warnings) = series(&snapshot);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(
            lines,
            [
                "sectona_query_success{target=\"pam\",query=\"a\"} 1",
                "sectona_query_success{target=\"pam\",query=\"b\"} 1",
                "sectona_query_success{target=\"pam\",query=\"c\"} 0",
                "sectona_query_success{target=\"pam\",query=\"d\"} 0",
                "sectona_entitlements{target=\"pam\",query=\"a\",entitlement_type=\"Account\"} 1",
                "sectona_entitlements{target=\"pam\",query=\"b\",entitlement_type=\"Asset\"} 0",
                "sectona_entitlements_by_policy{target=\"pam\",query=\"a\",policy=\"P\"} 1",
                "sectona_entitlements_by_asset_type{target=\"pam\",query=\"a\",asset_type=\"Linux\"} 1",
                "sectona_query_error{target=\"pam\",query=\"c\",code=\"011683\",description=\"Invalid instance name\"} 1",
                "sectona_query_error{target=\"pam\",query=\"d\",code=\"011853\",description=\"Requested asset is not valid\"} 1",
            ]
        );
    }

    #[test]
    fn answers_without_a_verdict_are_unusable() {
        for (body, reason) in [
            ("{}", "missing, and no error LogCode"),
            (
                r#"{"IsSuccess":"maybe","Result":[]}"#,
                "expected a boolean, got \"maybe\"",
            ),
        ] {
            match one(200, body) {
                Outcome::Failed(UpstreamError::Decode {
                    path, reason: r, ..
                }) => {
                    assert_eq!((path.as_str(), r.as_str()), ("IsSuccess", reason))
                }
                other => panic!("{body}: {other:?}"),
            }
        }
        match one(200, r#"{"IsSuccess":false,"LogCode":"0"}"#) {
            Outcome::ApiError { code, .. } => assert_eq!(code, "none"),
            other => panic!("{other:?}"),
        }
        assert_eq!(codes::describe("none"), "unknown");
    }

    #[test]
    fn rows_are_counted_by_policy_and_asset_type() {
        let db = query("db01", EntitlementType::Asset);
        let body = r#"{"Version":"5.7.0.1","IsSuccess":true,"LogCode":"0","Result":[
            {"Policy Name":"DBA","Asset Type":"MSSQL"},
            {"Policy Name":"DBA","Asset Type":"MSSQL"},
            {"Policy Name":"Break Glass","Asset Type":"MSSQL"},
            {"Asset Type":""},
            {"Policy Name":["x"],"Asset Type":"MSSQL"}]}"#;
        let (lines, warnings) = series(&snapshot(&[(&db, 200, body)]));
        assert_eq!(
            lines,
            [
                "sectona_query_success{target=\"pam\",query=\"db01\"} 1",
                "sectona_entitlements{target=\"pam\",query=\"db01\",entitlement_type=\"Asset\"} 5",
                "sectona_entitlements_by_policy{target=\"pam\",query=\"db01\",policy=\"Break Glass\"} 1",
                "sectona_entitlements_by_policy{target=\"pam\",query=\"db01\",policy=\"DBA\"} 2",
                "sectona_entitlements_by_policy{target=\"pam\",query=\"db01\",policy=\"unknown\"} 2",
                "sectona_entitlements_by_asset_type{target=\"pam\",query=\"db01\",asset_type=\"MSSQL\"} 4",
                "sectona_entitlements_by_asset_type{target=\"pam\",query=\"db01\",asset_type=\"unknown\"} 1",
                "sectona_api_info{target=\"pam\",version=\"5.7.0.1\"} 1",
            ]
        );
        assert_eq!(
            warnings,
            [
                "/API/APP/APP007/GetEntitlement Result[4].Policy Name (query db01): expected text, got a list; counted as unknown"
            ]
        );
    }

    #[test]
    fn a_result_that_is_not_rows_drops_only_its_counts() {
        let alice = query("alice", EntitlementType::User);
        let bob = query("bob", EntitlementType::User);
        let snapshot = snapshot(&[
            (
                &alice,
                200,
                r#"{"IsSuccess":true,"LogCode":"0","Result":"none found"}"#,
            ),
            (
                &bob,
                200,
                r#"{"IsSuccess":true,"LogCode":"0","Result":[7]}"#,
            ),
        ]);
        let (lines, warnings) = series(&snapshot);
        assert_eq!(
            lines,
            [
                "sectona_query_success{target=\"pam\",query=\"alice\"} 1",
                "sectona_query_success{target=\"pam\",query=\"bob\"} 1",
            ]
        );
        assert_eq!(
            warnings,
            [
                "/API/APP/APP007/GetEntitlement Result (query alice): expected entitlement rows, got text",
                "/API/APP/APP007/GetEntitlement Result (query bob): expected entitlement rows, got a list holding something other than rows",
            ]
        );
        assert!(snapshot.results.iter().all(|r| failure(r).is_none()));
    }

    #[test]
    fn a_failed_request_keeps_the_other_queries_series() {
        let alice = query("alice", EntitlementType::User);
        let db = query("db01-sa", EntitlementType::Account);
        let web = query("web01", EntitlementType::Asset);
        let ok = r#"{"Version":"5.7.0.1","IsSuccess":true,"LogCode":"0","Result":[{"Policy Name":"P","Asset Type":"MSSQL"}]}"#;
        let mut snapshot = snapshot(&[(&alice, 200, ok), (&db, 200, ok)]);
        snapshot.results.insert(
            1,
            QueryResult {
                query: &web,
                version: None,
                outcome: Outcome::Failed(UpstreamError::Timeout { endpoint: ENDPOINT }),
            },
        );
        let (lines, _) = series(&snapshot);
        assert_eq!(
            lines[..3],
            [
                "sectona_query_success{target=\"pam\",query=\"alice\"} 1",
                "sectona_query_success{target=\"pam\",query=\"web01\"} 0",
                "sectona_query_success{target=\"pam\",query=\"db01-sa\"} 1",
            ]
        );
        assert!(lines.contains(&"sectona_entitlements{target=\"pam\",query=\"db01-sa\",entitlement_type=\"Account\"} 1".to_owned()));
        assert!(
            !lines
                .iter()
                .any(|l| l.contains("query=\"web01\",entitlement_type"))
        );
        let failed: Vec<String> = snapshot
            .results
            .iter()
            .filter_map(|r| failure(r).map(|e| format!("{}: {e}", r.query.name)))
            .collect();
        assert_eq!(
            failed,
            ["web01: /API/APP/APP007/GetEntitlement: no answer within the time budget"]
        );
    }

    #[test]
    fn request_bodies_use_the_document_field_names() {
        let body = |q: &EntitlementQuery| String::from_utf8(request_body(q, "PROD")).unwrap();
        assert_eq!(
            body(&query("alice", EntitlementType::User)),
            r#"{"AuthenticationType":"AD","DirectoryStore":"corp","EntitlementType":"User","Instance":"PROD","Username":"alice"}"#
        );
        assert_eq!(
            body(&query("db01-sa", EntitlementType::Account)),
            r#"{"AccountName":"sa","AccountType":"Local","AssetHost":"db01","Assettype":"MSSQL","EntitlementType":"Account","Instance":"PROD"}"#
        );
        // A blank optional field is not sent.
        assert_eq!(
            body(&query("web01", EntitlementType::Asset)),
            r#"{"AssetHost":"web01","Assettype":"Linux","EntitlementType":"Asset","Instance":"PROD"}"#
        );
    }
}
