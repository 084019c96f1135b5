//! A simulated Sectona PAM server: `POST /API/APP/APP007/GetEntitlement`
//! behind basic authentication, answering from a table of grants (which
//! user may use which account on which asset, under which policy) in the
//! shape of the document's sample, with the document's error codes for bad
//! credentials, a wrong instance, invalid requests, unknown directory
//! stores, assets and accounts, and faults injected per query. Every
//! request body is recorded for the tests.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    DemoPart, Running, basic_credentials, demo_tls, json_response, serve_for_demo_tls, write_secret,
};
use crate::appliances::sectona::codes;

/// The endpoint.
pub const PATH: &str = "/API/APP/APP007/GetEntitlement";
/// The document's sample response, repaired (see `fixtures/sectona/README.md`).
pub const GET_ENTITLEMENT_SAMPLE: &str = include_str!("fixtures/sectona/get_entitlement.json");
/// The document's sample response byte for byte (not JSON).
pub const GET_ENTITLEMENT_DOCUMENT: &str =
    include_str!("fixtures/sectona/get_entitlement_document.txt");
/// The `Version` the simulator reports.
pub const VERSION: &str = "5.7.0.1";
/// The document's `Timestamp` (the exporter does not read it).
const TIMESTAMP: &str = "03 Jun 2019 12:25:16 GMT 05:30:00";

/// One entitlement: a user may use an account on an asset under a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The user (`Username`).
    pub username: String,
    /// The user's directory store (`DirectoryStore`).
    pub directory_store: String,
    /// The user's group.
    pub user_group: String,
    /// The asset (`AssetHost`, the row's `Host Name`).
    pub asset_host: String,
    /// Its type (`Assettype`, the row's `Asset Type`), e.g. MSSQL, Linux.
    pub asset_type: String,
    /// Its category, e.g. Database, Server.
    pub asset_category: String,
    /// Its address.
    pub ip_address: String,
    /// The database instance on the asset, if any (`DBInstance`).
    pub db_instance: Option<String>,
    /// The account (`AccountName`, the row's `Account`).
    pub account: String,
    /// Its type (`AccountType`), e.g. Local, AD Account.
    pub account_type: String,
    /// Its group.
    pub account_group: String,
    /// The policy granting it (`Policy Name`).
    pub policy: String,
}

impl Grant {
    /// A grant of `account` on `asset_host` (of `asset_type`) to `username`
    /// of directory store `corp` under `policy`; the other fields are
    /// derived from these.
    pub fn new(
        username: &str,
        policy: &str,
        asset_host: &str,
        asset_type: &str,
        account: &str,
    ) -> Self {
        let category = match asset_type {
            "MSSQL" | "Oracle" | "MySQL" | "PostgreSQL" => "Database",
            "Cisco" | "Juniper" => "Network Device",
            _ => "Server",
        };
        Self {
            username: username.to_owned(),
            directory_store: "corp".to_owned(),
            user_group: format!("{policy} Users"),
            asset_host: asset_host.to_owned(),
            asset_type: asset_type.to_owned(),
            asset_category: category.to_owned(),
            ip_address: format!("10.0.0.{}", 10 + asset_host.len()),
            db_instance: None,
            account: account.to_owned(),
            account_type: "Local".to_owned(),
            account_group: format!("{asset_type} Accounts"),
            policy: policy.to_owned(),
        }
    }

    /// The same grant with another account type.
    pub fn with_account_type(mut self, account_type: &str) -> Self {
        self.account_type = account_type.to_owned();
        self
    }

    /// The row of `Result` describing this grant, for a query of `kind`.
    fn row(&self, kind: &str) -> Value {
        json!({
            "Asset Category": self.asset_category,
            "Asset Type": self.asset_type,
            "Host Name": self.asset_host,
            "IP Address": self.ip_address,
            "Account Type": self.account_type,
            "Account": self.account,
            "Domain": self.directory_store,
            "Username": self.username,
            "Policy Name": self.policy,
            "User Group": self.user_group,
            "Account Group": self.account_group,
            "Entitlement Type": kind,
        })
    }
}

/// A fault injected into the answer of one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// `IsSuccess: false` with this `LogCode`, HTTP 200.
    LogCode(String),
    /// This HTTP status with a body that is not JSON (the request fails).
    Status(u16),
    /// The document's sample byte for byte, HTTP 200 (not JSON).
    DocumentSample,
}

/// How bad credentials are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// HTTP 200, `IsSuccess: false`, `LogCode` 011673 (the document gives
    /// error codes, not HTTP statuses).
    LogCode,
    /// HTTP 401 with the same body.
    Http401,
}

/// How the simulated server behaves.
#[derive(Debug, Clone)]
pub struct SectonaConfig {
    /// The API user.
    pub username: String,
    /// Its password.
    pub password: String,
    /// The instance name every request must carry.
    pub instance: String,
    /// The entitlements the server knows.
    pub grants: Vec<Grant>,
    /// Faults by query key: `User:<Username>`, `Account:<AssetHost>/<AccountName>`
    /// or `Asset:<AssetHost>`.
    pub faults: BTreeMap<String, Fault>,
    /// How bad credentials are refused.
    pub refusal: Refusal,
    /// Answer in the loosest shapes a defensive reader must accept:
    /// `IsSuccess` as text, `LogCode` as a JSON number (losing its leading
    /// zero), a single row as an object instead of a list, no `Result`
    /// when there are no rows.
    pub loose_shapes: bool,
    /// Answer every successful query with the document's sample instead of
    /// the grants.
    pub document_sample: bool,
    /// Hold each request until this many are in flight (or a few seconds
    /// have passed), so a test can tell concurrent requests from
    /// sequential ones without measuring time.
    pub hold_until_in_flight: Option<usize>,
}

impl SectonaConfig {
    /// A server for `username` / `password` and instance `instance` with no
    /// grants and no faults.
    pub fn new(username: &str, password: &str, instance: &str) -> Self {
        Self {
            username: username.to_owned(),
            password: password.to_owned(),
            instance: instance.to_owned(),
            grants: Vec::new(),
            faults: BTreeMap::new(),
            refusal: Refusal::LogCode,
            loose_shapes: false,
            document_sample: false,
            hold_until_in_flight: None,
        }
    }
}

/// What the simulator received, shared between the server and a test: the
/// request bodies in arrival order and how many were in flight at once.
#[derive(Debug, Clone, Default)]
pub struct Requests(Arc<RequestLog>);

#[derive(Debug, Default)]
struct RequestLog {
    bodies: Mutex<Vec<String>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl Requests {
    /// How many requests arrived.
    pub fn count(&self) -> usize {
        self.bodies_locked().len()
    }

    /// Their bodies.
    pub fn bodies(&self) -> Vec<String> {
        self.bodies_locked().clone()
    }

    /// The most requests that were being answered at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.0.max_in_flight.load(Ordering::SeqCst)
    }

    /// Records a request that stays in flight until the guard drops.
    fn arrive(&self, body: &[u8]) -> InFlight {
        self.bodies_locked()
            .push(String::from_utf8_lossy(body).into_owned());
        let now = self.0.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.0.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(self.clone())
    }

    fn bodies_locked(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        // A test that panicked while holding the lock leaves a usable list.
        self.0
            .bodies
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// One request being answered (also when the client goes away mid-way).
struct InFlight(Requests);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

#[derive(Debug)]
struct Sim {
    config: SectonaConfig,
    requests: Requests,
}

/// The simulator's routes; every request is recorded in `requests`.
pub fn router(config: SectonaConfig, requests: Requests) -> Router {
    Router::new()
        .route(PATH, post(get_entitlement))
        .with_state(Arc::new(Sim { config, requests }))
}

/// The request body, with the document's field names; any other field is
/// refused as the API would not know it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Query {
    #[serde(rename = "EntitlementType")]
    entitlement_type: Option<String>,
    #[serde(rename = "Assettype")]
    asset_type: Option<String>,
    #[serde(rename = "AssetHost")]
    asset_host: Option<String>,
    #[serde(rename = "DBInstance")]
    db_instance: Option<String>,
    #[serde(rename = "AccountName")]
    account_name: Option<String>,
    #[serde(rename = "AccountType")]
    account_type: Option<String>,
    #[serde(rename = "Username")]
    username: Option<String>,
    #[serde(rename = "AuthenticationType")]
    authentication_type: Option<String>,
    #[serde(rename = "DirectoryStore")]
    directory_store: Option<String>,
    #[serde(rename = "Instance")]
    instance: Option<String>,
}

/// Why a query gets no rows: the document's error code.
type Refused = &'static str;

async fn get_entitlement(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    let _in_flight = sim.requests.arrive(&body);
    let config = &sim.config;
    if let Some(n) = config.hold_until_in_flight {
        let give_up = tokio::time::Instant::now() + Duration::from_secs(5);
        // Once n were in flight together all are released, also those that
        // wake after the first has been answered.
        while sim.requests.max_in_flight() < n && tokio::time::Instant::now() < give_up {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    match basic_credentials(&headers) {
        None => return error(config, 200, codes::AUTHORIZATION_HEADER),
        Some((u, p)) if u != config.username || p != config.password => {
            let status = match config.refusal {
                Refusal::LogCode => 200,
                Refusal::Http401 => 401,
            };
            return error(config, status, codes::INVALID_CREDENTIALS);
        }
        Some(_) => {}
    }
    let Ok(query) = serde_json::from_slice::<Query>(&body) else {
        return error(config, 200, codes::UNABLE_TO_VALIDATE);
    };
    match query.instance.as_deref() {
        None => return error(config, 200, codes::UNABLE_TO_VALIDATE),
        Some(i) if i != config.instance => return error(config, 200, codes::INVALID_INSTANCE),
        Some(_) => {}
    }
    let Some(key) = key(&query) else {
        return error(config, 200, codes::UNABLE_TO_VALIDATE);
    };
    match config.faults.get(&key) {
        Some(Fault::LogCode(code)) => return error(config, 200, code),
        Some(Fault::Status(status)) => {
            return text_response(*status, "<html><body>Service Unavailable</body></html>");
        }
        Some(Fault::DocumentSample) => return json_response(200, GET_ENTITLEMENT_DOCUMENT),
        None => {}
    }
    if config.document_sample {
        return json_response(200, GET_ENTITLEMENT_SAMPLE);
    }
    match entitlements(config, &query) {
        Ok((kind, grants)) => {
            let rows: Vec<Value> = grants.iter().map(|g| g.row(kind)).collect();
            success(config, rows)
        }
        Err(code) => error(config, 200, code),
    }
}

/// The fault key of a query, or `None` when it lacks the fields that
/// identify it.
fn key(q: &Query) -> Option<String> {
    match q.entitlement_type.as_deref()? {
        "User" => Some(format!("User:{}", q.username.as_deref()?)),
        "Account" => Some(format!(
            "Account:{}/{}",
            q.asset_host.as_deref()?,
            q.account_name.as_deref()?
        )),
        "Asset" => Some(format!("Asset:{}", q.asset_host.as_deref()?)),
        _ => None,
    }
}

/// The grants a query asks for, with its entitlement type, or the error
/// code the document gives for what is wrong with it.
fn entitlements<'c>(
    config: &'c SectonaConfig,
    q: &Query,
) -> Result<(&'static str, Vec<&'c Grant>), Refused> {
    let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    let grants = config.grants.iter();
    match q.entitlement_type.as_deref() {
        Some("User") => {
            let user = required(&q.username)?;
            required(&q.authentication_type)?;
            let store = required(&q.directory_store)?;
            if !config
                .grants
                .iter()
                .any(|g| same(&g.directory_store, store))
            {
                return Err(codes::INVALID_DIRECTORY_STORE);
            }
            let rows = grants
                .filter(|g| same(&g.username, user) && same(&g.directory_store, store))
                .collect();
            Ok(("User", rows))
        }
        Some("Account") => {
            let host = required(&q.asset_host)?;
            let asset_type = required(&q.asset_type)?;
            let account = required(&q.account_name)?;
            let account_type = required(&q.account_type)?;
            let on_asset: Vec<&Grant> = asset(grants, host, asset_type, q.db_instance.as_deref())?;
            let rows: Vec<&Grant> = on_asset
                .into_iter()
                .filter(|g| same(&g.account, account) && same(&g.account_type, account_type))
                .collect();
            if rows.is_empty() {
                return Err(codes::ACCOUNT_NOT_ON_ASSET);
            }
            Ok(("Account", rows))
        }
        Some("Asset") => {
            let host = required(&q.asset_host)?;
            let asset_type = required(&q.asset_type)?;
            Ok((
                "Asset",
                asset(grants, host, asset_type, q.db_instance.as_deref())?,
            ))
        }
        _ => Err(codes::UNABLE_TO_VALIDATE),
    }
}

/// A field the query's type needs, or 011675 (unable to validate request).
fn required(v: &Option<String>) -> Result<&str, Refused> {
    v.as_deref()
        .filter(|s| !s.trim().is_empty())
        .ok_or(codes::UNABLE_TO_VALIDATE)
}

/// The grants on one asset, or 011853 when the server knows no such asset.
fn asset<'c>(
    grants: impl Iterator<Item = &'c Grant>,
    host: &str,
    asset_type: &str,
    db_instance: Option<&str>,
) -> Result<Vec<&'c Grant>, Refused> {
    let rows: Vec<&Grant> = grants
        .filter(|g| {
            g.asset_host.eq_ignore_ascii_case(host)
                && g.asset_type.eq_ignore_ascii_case(asset_type)
                && db_instance.is_none_or(|i| g.db_instance.as_deref() == Some(i))
        })
        .collect();
    if rows.is_empty() {
        return Err(codes::INVALID_ASSET);
    }
    Ok(rows)
}

fn success(config: &SectonaConfig, rows: Vec<Value>) -> Response {
    let mut answer = json!({
        "Version": VERSION,
        "IsSuccess": if config.loose_shapes { json!("true") } else { json!(true) },
        "LogCode": if config.loose_shapes { json!(0) } else { json!("0") },
        "StatusCode": "Accepted",
        "Timestamp": TIMESTAMP,
    });
    let result = match (config.loose_shapes, rows.len()) {
        (true, 0) => None,
        (true, 1) => rows.into_iter().next(),
        _ => Some(Value::Array(rows)),
    };
    if let (Some(result), Some(map)) = (result, answer.as_object_mut()) {
        map.insert("Result".to_owned(), result);
    }
    json_response(200, answer.to_string())
}

/// An error answer; the document shows only the success shape, so this
/// keeps it with `IsSuccess: false`, the code and an empty `Result`.
fn error(config: &SectonaConfig, status: u16, code: &str) -> Response {
    let log_code = match code.parse::<u64>() {
        Ok(n) if config.loose_shapes => json!(n),
        _ => json!(code),
    };
    let answer = json!({
        "Version": VERSION,
        "IsSuccess": if config.loose_shapes { json!("false") } else { json!(false) },
        "LogCode": log_code,
        "Result": [],
        "StatusCode": "Failed",
        "Timestamp": TIMESTAMP,
    });
    json_response(status, answer.to_string())
}

fn text_response(status: u16, body: &'static str) -> Response {
    use axum::response::IntoResponse as _;
    let status = axum::http::StatusCode::from_u16(status)
        .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "text/html")],
        body,
    )
        .into_response()
}

/// The demo's users, accounts and assets.
pub fn demo_grants() -> Vec<Grant> {
    vec![
        Grant::new("alice", "DBA Full Access", "db01", "MSSQL", "sa"),
        Grant::new("alice", "Linux Admins", "web01", "Linux", "root"),
        Grant::new("alice", "Break Glass", "dc01", "Windows", "Administrator")
            .with_account_type("AD Account"),
        Grant::new("bob", "DBA Read Only", "db01", "MSSQL", "sa"),
        Grant::new("bob", "Deployers", "web01", "Linux", "deploy"),
        Grant::new(
            "carol",
            "Windows Admins",
            "dc01",
            "Windows",
            "Administrator",
        )
        .with_account_type("AD Account"),
        Grant::new("carol", "Linux Admins", "web01", "Linux", "root"),
        Grant::new("dave", "Network Admins", "core-sw1", "Cisco", "admin"),
    ]
}

/// The demo's queries, as configuration lines: three of each type.
pub const DEMO_QUERIES: &str = concat!(
    "      - {name: alice, entitlement_type: User, username: alice, authentication_type: AD, directory_store: corp}\n",
    "      - {name: bob, entitlement_type: User, username: bob, authentication_type: AD, directory_store: corp}\n",
    "      - {name: carol, entitlement_type: User, username: carol, authentication_type: AD, directory_store: corp}\n",
    "      - {name: db01-sa, entitlement_type: Account, asset_type: MSSQL, asset_host: db01, account_name: sa, account_type: Local}\n",
    "      - {name: web01-root, entitlement_type: Account, asset_type: Linux, asset_host: web01, account_name: root, account_type: Local}\n",
    "      - {name: dc01-administrator, entitlement_type: Account, asset_type: Windows, asset_host: dc01, account_name: Administrator, account_type: AD Account}\n",
    "      - {name: db01, entitlement_type: Asset, asset_type: MSSQL, asset_host: db01}\n",
    "      - {name: web01, entitlement_type: Asset, asset_type: Linux, asset_host: web01}\n",
    "      - {name: core-sw1, entitlement_type: Asset, asset_type: Cisco, asset_host: core-sw1}\n",
);

/// A demo query the server answers with a documented API error (011690,
/// the account is not on that asset): the collector still succeeds, and
/// `sectona_query_error` and its alert have something to show.
pub const DEMO_FAILING_QUERY: &str = "      - {name: web01-backup, entitlement_type: Account, asset_type: Linux, asset_host: web01, account_name: backup, account_type: Local}\n";

/// The demo's Sectona server: a few users with entitlements on database,
/// Linux, Windows and network assets, watched by three queries of each
/// entitlement type, answered successfully, and one query the server
/// refuses with an API error.
pub async fn demo(dir: &std::path::Path, sims: &mut Vec<Running>) -> Result<DemoPart, String> {
    let (user, password, instance) = ("pamapi", "demo-sectona-password", "PROD");
    let secret = write_secret(dir, "sectona.password", password)?;
    let mut config = SectonaConfig::new(user, password, instance);
    config.grants = demo_grants();
    let url = serve_for_demo_tls(router(config, Requests::default()), sims).await?;
    Ok(DemoPart {
        auths: format!(
            "  sectona_api:\n    username: {user}\n    password_file: {}\n",
            secret.display()
        ),
        modules: format!(
            "  sectona:\n    kind: sectona\n    auth: sectona_api\n    timeout: 10s\n    \
             probe: {{allowed_hosts: [127.0.0.1]}}\n    \
             instance: {instance}\n{}    entitlements:\n{DEMO_QUERIES}{DEMO_FAILING_QUERY}",
            demo_tls(dir)?
        ),
        targets: format!("  - {{name: pam, url: \"{url}\", module: sectona}}\n"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(json: &str) -> Query {
        serde_json::from_str(json).unwrap()
    }

    fn config() -> SectonaConfig {
        let mut c = SectonaConfig::new("u", "p", "PROD");
        c.grants = demo_grants();
        c
    }

    #[test]
    fn queries_are_answered_from_the_grants() {
        let c = config();
        let user = query(
            r#"{"EntitlementType":"User","Username":"alice","AuthenticationType":"AD","DirectoryStore":"corp","Instance":"PROD"}"#,
        );
        let (kind, rows) = entitlements(&c, &user).unwrap();
        assert_eq!((kind, rows.len()), ("User", 3));
        let account = query(
            r#"{"EntitlementType":"Account","Assettype":"MSSQL","AssetHost":"db01","AccountName":"sa","AccountType":"Local","Instance":"PROD"}"#,
        );
        let (_, rows) = entitlements(&c, &account).unwrap();
        let users: Vec<&str> = rows.iter().map(|g| g.username.as_str()).collect();
        assert_eq!(users, ["alice", "bob"]);
        let asset = query(
            r#"{"EntitlementType":"Asset","Assettype":"Linux","AssetHost":"web01","Instance":"PROD"}"#,
        );
        assert_eq!(entitlements(&c, &asset).unwrap().1.len(), 3);
    }

    #[test]
    fn the_document_error_codes_for_bad_queries() {
        let c = config();
        let code = |json: &str| entitlements(&c, &query(json)).unwrap_err();
        assert_eq!(
            code(
                r#"{"EntitlementType":"User","Username":"alice","AuthenticationType":"AD","DirectoryStore":"nowhere"}"#
            ),
            codes::INVALID_DIRECTORY_STORE
        );
        assert_eq!(
            code(r#"{"EntitlementType":"User","Username":"alice"}"#),
            codes::UNABLE_TO_VALIDATE
        );
        assert_eq!(
            code(r#"{"EntitlementType":"Asset","Assettype":"Linux","AssetHost":"nosuch"}"#),
            codes::INVALID_ASSET
        );
        assert_eq!(
            code(
                r#"{"EntitlementType":"Account","Assettype":"MSSQL","AssetHost":"db01","AccountName":"root","AccountType":"Local"}"#
            ),
            codes::ACCOUNT_NOT_ON_ASSET
        );
        assert_eq!(
            code(r#"{"EntitlementType":"Group"}"#),
            codes::UNABLE_TO_VALIDATE
        );
    }

    #[test]
    fn unknown_request_fields_are_refused() {
        assert!(
            serde_json::from_str::<Query>(r#"{"EntitlementType":"User","AssetType":"x"}"#).is_err()
        );
    }

    #[test]
    fn fault_keys() {
        assert_eq!(
            key(&query(r#"{"EntitlementType":"User","Username":"alice"}"#)).as_deref(),
            Some("User:alice")
        );
        assert_eq!(
            key(&query(
                r#"{"EntitlementType":"Account","AssetHost":"db01","AccountName":"sa"}"#
            ))
            .as_deref(),
            Some("Account:db01/sa")
        );
        assert_eq!(
            key(&query(r#"{"EntitlementType":"Asset","AssetHost":"db01"}"#)).as_deref(),
            Some("Asset:db01")
        );
        assert_eq!(key(&query(r#"{"EntitlementType":"Asset"}"#)), None);
    }
}
