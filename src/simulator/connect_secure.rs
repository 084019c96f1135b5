//! A simulated Ivanti Connect Secure gateway: the healthcheck, cluster,
//! active-users, licence lease, system information, named users, host
//! checker ESAP packages and realm_auth endpoints of the document, serving its samples (the lease
//! sample with its bracket typo repaired) and a configurable number of
//! sessions, with the quirks that vary between gateways: the `start`
//! convention, XML-derived single objects, numbers as strings. Keys from
//! realm_auth expire after a configured number of requests; latency and
//! error answers can be added; counters let tests see what was asked.

mod keys;
mod sessions;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Uri, header};
use axum::response::{IntoResponse as _, Response};
use axum::routing::{get, post};

pub use sessions::{ConnectionCounts, Connections, PAGE_CAP, SessionTable, Sessions, StartBase};

use super::{
    DemoPart, Running, basic_credentials, demo_tls, json_response, serve_for_demo,
    serve_for_demo_tls, write_secret,
};

/// The document's active users sample (two sessions).
pub const ACTIVE_USERS: &str = include_str!("fixtures/connect_secure/active_users.json");
/// The document's sample of the sessions of one user (`?name=user2`).
pub const ACTIVE_USERS_BY_NAME: &str =
    include_str!("fixtures/connect_secure/active_users_by_name.json");
/// The document's lease information sample, its bracket typo repaired.
pub const LEASES: &str = include_str!("fixtures/connect_secure/leases.json");
/// The document's system information sample.
pub const SYSTEM_INFORMATION: &str =
    include_str!("fixtures/connect_secure/system_information.json");
/// The document's system information sample with a machine id.
pub const SYSTEM_INFORMATION_MACHINE_ID: &str =
    include_str!("fixtures/connect_secure/system_information_machine_id.json");
/// The document's first cluster sample (Active/Active).
pub const CLUSTER_ACTIVE_ACTIVE: &str =
    include_str!("fixtures/connect_secure/cluster_active_active.json");
/// The document's second cluster sample (Active/Passive, with VIP owners).
pub const CLUSTER_ACTIVE_PASSIVE: &str =
    include_str!("fixtures/connect_secure/cluster_active_passive.json");
/// The document's answer to a bare healthcheck.
pub const HEALTHCHECK: &str = include_str!("fixtures/connect_secure/healthcheck.json");
/// The document's answer to `healthcheck?status=all`.
pub const HEALTHCHECK_STATUS_ALL: &str =
    include_str!("fixtures/connect_secure/healthcheck_status_all.json");
/// The document's answer to `healthcheck?status=sbr`.
pub const HEALTHCHECK_SBR: &str = include_str!("fixtures/connect_secure/healthcheck_sbr.json");
/// The document's named users of an independent gateway.
pub const NAMED_USERS_INDEPENDENT: &str =
    include_str!("fixtures/connect_secure/named_users_independent.json");
/// The document's named users of a licence server (`pcs` and `pps`).
pub const NAMED_USERS_LICENSE_SERVER: &str =
    include_str!("fixtures/connect_secure/named_users_license_server.json");

/// The document's host checker ESAP packages (3.3.5 active, 3.3.6 and
/// 3.3.7 uploaded but never activated).
pub const ESAPS: &str = include_str!("fixtures/connect_secure/esaps.json");

/// Admin credentials that realm_auth exchanges for a key.
#[derive(Debug, Clone)]
pub struct Admin {
    /// Admin user.
    pub username: String,
    /// Its password.
    pub password: String,
    /// The admin realm.
    pub realm: String,
}

/// What `GET /api/v1/cluster` answers.
#[derive(Debug, Clone)]
pub enum ClusterAnswer {
    /// This JSON body.
    Body(String),
    /// 404, as a standalone gateway may.
    NotFound,
}

/// Which named users answer the gateway gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamedUsersShape {
    /// An independent gateway: one `named-users` list.
    Independent,
    /// A licence server: `pcs` and `pps`.
    LicenseServer,
}

/// An error answer in place of an endpoint's normal one.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The request path it replaces (no query).
    pub path: String,
    /// HTTP status.
    pub status: u16,
    /// The message of the `{"result":{"errors":[{"message":..}]}}` body.
    pub message: String,
}

/// How the simulated gateway behaves.
#[derive(Debug, Clone)]
pub struct IcsConfig {
    /// API keys accepted as they are.
    pub api_keys: Vec<String>,
    /// Admin credentials realm_auth accepts.
    pub admin: Option<Admin>,
    /// Requests the n-th key from realm_auth is valid for; later keys get
    /// the last entry; empty: keys never expire.
    pub key_uses: Vec<u64>,
    /// The active sessions.
    pub sessions: Sessions,
    /// Send one-element lists of objects as the object alone.
    pub single_object: bool,
    /// Send numbers as strings.
    pub string_numbers: bool,
    /// The cluster answer.
    pub cluster: ClusterAnswer,
    /// The named users answer.
    pub named_users: NamedUsersShape,
    /// The `healthcheck?status=all` body.
    pub healthcheck: String,
    /// The system information body.
    pub system_information: String,
    /// The lease information body.
    pub leases: String,
    /// The host checker ESAP packages body.
    pub esaps: String,
    /// Added to every answer.
    pub latency: Duration,
    /// Render the session pages of this size (at its multiples, as a
    /// listing asks for them) once at start and serve them from memory, so
    /// that the simulator costs next to nothing per page when benchmarking.
    pub prerendered_page_size: Option<usize>,
    /// Error answers.
    pub failures: Vec<Failure>,
}

impl Default for IcsConfig {
    /// The document's samples, no credentials accepted.
    fn default() -> Self {
        Self {
            api_keys: Vec::new(),
            admin: None,
            key_uses: Vec::new(),
            sessions: Sessions::default(),
            single_object: false,
            string_numbers: false,
            cluster: ClusterAnswer::Body(CLUSTER_ACTIVE_PASSIVE.to_owned()),
            named_users: NamedUsersShape::Independent,
            healthcheck: HEALTHCHECK_STATUS_ALL.to_owned(),
            system_information: SYSTEM_INFORMATION_MACHINE_ID.to_owned(),
            leases: LEASES.to_owned(),
            esaps: ESAPS.to_owned(),
            latency: Duration::ZERO,
            prerendered_page_size: None,
            failures: Vec::new(),
        }
    }
}

impl IcsConfig {
    /// The document's samples, accepting the API key `key`.
    pub fn with_api_key(key: &str) -> Self {
        Self {
            api_keys: vec![key.to_owned()],
            ..Self::default()
        }
    }

    /// The document's samples, issuing keys to `admin` through realm_auth.
    pub fn with_realm_auth(admin: Admin) -> Self {
        Self {
            admin: Some(admin),
            ..Self::default()
        }
    }
}

/// What the simulated gateway was asked, for tests.
#[derive(Debug, Default)]
struct Counters {
    /// Sign-ins asked for (to see that collectors share one).
    realm_auth: AtomicU64,
    /// Active-users pages asked for (to see where a listing stops).
    active_users: AtomicU64,
    /// Active-users requests being answered now.
    active_users_in_flight: AtomicU64,
    /// The most of them at once (to see the pages fetched concurrently).
    max_active_users_in_flight: AtomicU64,
    /// Requests refused with 401 (to see keys expire).
    unauthorized: AtomicU64,
}

/// A running simulated gateway's state.
#[derive(Debug)]
pub struct IcsSim {
    /// How it behaves.
    config: IcsConfig,
    /// The keys it accepts and issues.
    keys: keys::Keys,
    /// The sessions it lists.
    sessions: sessions::SessionTable,
    /// Session pages rendered at start, if configured.
    prerendered: sessions::Prerendered,
    /// Its fixed answers, quirks applied.
    bodies: Bodies,
    /// What it was asked.
    counters: Counters,
}

/// The fixed bodies, with the configured quirks applied once.
#[derive(Debug)]
struct Bodies {
    /// `healthcheck?status=all`.
    healthcheck: String,
    /// `/api/v1/cluster`, `None` for a 404.
    cluster: Option<String>,
    /// `/api/v1/system/system-information`.
    system_information: String,
    /// `/api/v1/license/license-server-lease-information`.
    leases: String,
    /// `/api/v1/license/named-users`.
    named_users: String,
    /// The host checker's ESAP packages.
    esaps: String,
}

impl IcsSim {
    /// A gateway behaving as `config` says.
    pub fn new(config: IcsConfig) -> Arc<Self> {
        let quirks = |body: &str| with_quirks(body, config.single_object, config.string_numbers);
        let named_users = match config.named_users {
            NamedUsersShape::Independent => NAMED_USERS_INDEPENDENT,
            NamedUsersShape::LicenseServer => NAMED_USERS_LICENSE_SERVER,
        };
        let bodies = Bodies {
            healthcheck: quirks(&config.healthcheck),
            cluster: match &config.cluster {
                ClusterAnswer::Body(b) => Some(quirks(b)),
                ClusterAnswer::NotFound => None,
            },
            system_information: quirks(&config.system_information),
            leases: quirks(&config.leases),
            named_users: quirks(named_users),
            esaps: quirks(&config.esaps),
        };
        let sessions = sessions::SessionTable::new(config.sessions.clone());
        let prerendered = match config.prerendered_page_size {
            Some(size) => sessions::Prerendered::new(
                &sessions,
                size,
                config.single_object,
                config.string_numbers,
            ),
            None => sessions::Prerendered::default(),
        };
        Arc::new(Self {
            keys: keys::Keys::new(config.api_keys.clone(), config.key_uses.clone()),
            sessions,
            prerendered,
            bodies,
            counters: Counters::default(),
            config,
        })
    }

    /// The simulator's routes.
    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/api/v1/system/healthcheck", get(healthcheck))
            .route("/api/v1/cluster", get(cluster))
            .route("/api/v1/system/active-users", get(active_users))
            .route(LEASES_PATH, get(fixed))
            .route(SYSTEM_PATH, get(fixed))
            .route(NAMED_USERS_PATH, get(fixed))
            .route(ESAPS_PATH, get(fixed))
            .route("/api/v1/realm_auth", post(realm_auth))
            .with_state(self.clone())
    }

    /// Serves this gateway on a loopback port.
    pub async fn start(self: &Arc<Self>) -> std::io::Result<Running> {
        super::start(self.router()).await
    }

    /// Expires every key realm_auth issued so far.
    pub fn expire_keys(&self) {
        self.keys.expire_all();
    }

    /// realm_auth requests so far.
    pub fn realm_auth_calls(&self) -> u64 {
        self.counters.realm_auth.load(Ordering::SeqCst)
    }

    /// Active-users pages asked for so far.
    pub fn active_users_requests(&self) -> u64 {
        self.counters.active_users.load(Ordering::SeqCst)
    }

    /// The most active-users requests that were in flight at once.
    pub fn max_active_users_in_flight(&self) -> u64 {
        self.counters
            .max_active_users_in_flight
            .load(Ordering::SeqCst)
    }

    /// Requests refused with 401 so far.
    pub fn unauthorized_answers(&self) -> u64 {
        self.counters.unauthorized.load(Ordering::SeqCst)
    }

    /// Sessions per (realm, node) in the table.
    pub fn sessions_by_realm_and_node(&self) -> std::collections::BTreeMap<(String, String), u64> {
        self.sessions.by_realm_and_node()
    }

    /// Distinct user names in the table.
    pub fn distinct_users(&self) -> usize {
        self.sessions.distinct_users()
    }

    /// How the table's sessions connect.
    pub fn connection_counts(&self) -> ConnectionCounts {
        self.sessions.connection_counts()
    }

    /// Waits the latency, then refuses a request without an accepted key
    /// or answers with a configured failure.
    async fn gate(&self, headers: &HeaderMap, path: &str) -> Result<(), Response> {
        if !self.config.latency.is_zero() {
            tokio::time::sleep(self.config.latency).await;
        }
        let admitted = basic_credentials(headers)
            .is_some_and(|(key, password)| password.is_empty() && self.keys.admit(&key));
        if !admitted {
            self.counters.unauthorized.fetch_add(1, Ordering::SeqCst);
            return Err(error(
                401,
                "Invalid API key or the admin session has expired",
            ));
        }
        match self.config.failures.iter().find(|f| f.path == path) {
            Some(f) => Err(error(f.status, &f.message)),
            None => Ok(()),
        }
    }
}

/// An error answer in the document's shape.
fn error(status: u16, message: &str) -> Response {
    let body = serde_json::json!({"result": {"errors": [{"message": message}]}});
    json_response(status, body.to_string())
}

/// `body` with the configured quirks applied (unchanged without any).
fn with_quirks(body: &str, single_object: bool, string_numbers: bool) -> String {
    if !single_object && !string_numbers {
        return body.to_owned();
    }
    let Ok(mut value) = serde_json::from_str::<serde_json::Value>(body) else {
        return body.to_owned();
    };
    apply_quirks(&mut value, single_object, string_numbers);
    value.to_string()
}

fn apply_quirks(v: &mut serde_json::Value, single_object: bool, string_numbers: bool) {
    use serde_json::Value;
    match v {
        Value::Number(n) if string_numbers => *v = Value::String(n.to_string()),
        Value::Array(items) => {
            for item in items.iter_mut() {
                apply_quirks(item, single_object, string_numbers);
            }
            if single_object && items.len() == 1 && items[0].is_object() {
                *v = items.remove(0);
            }
        }
        Value::Object(map) => {
            for item in map.values_mut() {
                apply_quirks(item, single_object, string_numbers);
            }
        }
        _ => {}
    }
}

#[derive(Debug, serde::Deserialize)]
struct HealthQuery {
    status: Option<String>,
}

async fn healthcheck(State(sim): State<Arc<IcsSim>>, Query(q): Query<HealthQuery>) -> Response {
    // The document shows the healthcheck without credentials (load
    // balancers poll it).
    if !sim.config.latency.is_zero() {
        tokio::time::sleep(sim.config.latency).await;
    }
    match q.status.as_deref() {
        Some("all") => json_response(200, sim.bodies.healthcheck.clone()),
        Some("sbr") => json_response(200, HEALTHCHECK_SBR),
        _ => json_response(200, HEALTHCHECK),
    }
}

async fn cluster(State(sim): State<Arc<IcsSim>>, headers: HeaderMap, uri: Uri) -> Response {
    if let Err(denied) = sim.gate(&headers, uri.path()).await {
        return denied;
    }
    match &sim.bodies.cluster {
        Some(body) => json_response(200, body.clone()),
        None => error(404, "Cluster is not configured"),
    }
}

#[derive(Debug, serde::Deserialize)]
struct PageQuery {
    number: Option<usize>,
    start: Option<usize>,
}

/// Counts an active-users request in flight until dropped.
struct InFlight<'a>(&'a Counters);

impl<'a> InFlight<'a> {
    fn enter(c: &'a Counters) -> Self {
        c.active_users.fetch_add(1, Ordering::SeqCst);
        let now = c.active_users_in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        c.max_active_users_in_flight
            .fetch_max(now, Ordering::SeqCst);
        Self(c)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.active_users_in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn active_users(
    State(sim): State<Arc<IcsSim>>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<PageQuery>,
) -> Response {
    let _in_flight = InFlight::enter(&sim.counters);
    if let Err(denied) = sim.gate(&headers, uri.path()).await {
        return denied;
    }
    if let Some(page) = sim.prerendered.get(q.number, q.start) {
        let json = [(header::CONTENT_TYPE, "application/json")];
        return (json, page).into_response();
    }
    let body = sim.sessions.page(
        q.number,
        q.start,
        sim.config.single_object,
        sim.config.string_numbers,
    );
    json_response(200, body)
}

/// The endpoints that answer with a fixed body.
const LEASES_PATH: &str = "/api/v1/license/license-server-lease-information";
const SYSTEM_PATH: &str = "/api/v1/system/system-information";
const NAMED_USERS_PATH: &str = "/api/v1/license/named-users";
/// Asked with the document's query, `?expand&&excludePulsePackages`.
const ESAPS_PATH: &str = "/api/v1/configuration/authentication/endpoint/host-checker/esaps";

async fn fixed(State(sim): State<Arc<IcsSim>>, headers: HeaderMap, uri: Uri) -> Response {
    if let Err(denied) = sim.gate(&headers, uri.path()).await {
        return denied;
    }
    let body = match uri.path() {
        LEASES_PATH => &sim.bodies.leases,
        SYSTEM_PATH => &sim.bodies.system_information,
        NAMED_USERS_PATH => &sim.bodies.named_users,
        ESAPS_PATH => &sim.bodies.esaps,
        _ => return error(404, "No such endpoint"),
    };
    json_response(200, body.clone())
}

async fn realm_auth(State(sim): State<Arc<IcsSim>>, headers: HeaderMap, body: Bytes) -> Response {
    #[derive(serde::Deserialize)]
    struct SignIn {
        realm: String,
    }
    sim.counters.realm_auth.fetch_add(1, Ordering::SeqCst);
    if !sim.config.latency.is_zero() {
        tokio::time::sleep(sim.config.latency).await;
    }
    let Some(admin) = &sim.config.admin else {
        return error(401, "Invalid username or password");
    };
    let credentials_ok = basic_credentials(&headers)
        .is_some_and(|(u, p)| u == admin.username && p == admin.password);
    if !credentials_ok {
        return error(401, "Invalid username or password");
    }
    match serde_json::from_slice::<SignIn>(&body) {
        Ok(s) if s.realm == admin.realm => {
            let key = sim.keys.issue();
            json_response(200, serde_json::json!({ "api_key": key }).to_string())
        }
        Ok(_) => error(401, "Invalid realm"),
        Err(_) => error(400, "Invalid request body"),
    }
}

/// Sessions on the demo's `vpn-cluster`.
pub const DEMO_CLUSTER_SESSIONS: usize = 480;
/// Distinct users among them.
pub const DEMO_CLUSTER_USERS: usize = 415;

/// The sessions of the demo's `vpn-cluster`: how they connect varies
/// (transport modes, client versions, authentication servers, failed host
/// checks), so that every panel of the dashboards has something to show.
pub fn demo_cluster_sessions() -> Sessions {
    Sessions {
        count: DEMO_CLUSTER_SESSIONS,
        users: DEMO_CLUSTER_USERS,
        realms: vec!["Users".into(), "Contractors".into(), "Admin Users".into()],
        nodes: vec!["ics-node-a".into(), "ics-node-b".into()],
        connections: Connections {
            // One session in six fell back to SSL: UDP 4500 is blocked
            // somewhere on the way.
            transports: ["ESP", "ESP", "ESP", "ESP", "SSL"]
                .map(|m| Some(m.to_owned()))
                .into_iter()
                .chain([None])
                .collect(),
            client_versions: vec![
                Some("22.7.2.3191".into()),
                Some("22.7.2.3191".into()),
                Some("22.6.1.1879".into()),
                Some("9.1.18.24035".into()),
                None,
            ],
            auth_servers: vec![
                Some("Corp-AD".into()),
                Some("Corp-AD".into()),
                Some("RADIUS-MFA".into()),
                Some("System Local".into()),
            ],
            host_check_failures: 40,
        },
        ..Sessions::default()
    }
}

/// The demo's gateways: `vpn-cluster`, an Active/Active cluster of three
/// members (one unreachable) with a few hundred sessions, signed in to
/// through realm_auth with keys that expire every 300 requests; and
/// `vpn-dr`, the document's Active/Passive pair acting as licence server
/// (with the document's ESAP packages: newer ones uploaded, never
/// activated), read with an API key.
pub async fn demo(dir: &std::path::Path, sims: &mut Vec<Running>) -> Result<DemoPart, String> {
    let admin = Admin {
        username: "exporter".into(),
        password: "demo-ics-admin-password".into(),
        realm: "Admin Users".into(),
    };
    let password_file = write_secret(dir, "ics-admin.password", &admin.password)?;
    let api_key = "ZGVtby1pY3MtYXBpLWtleQ==";
    let key_file = write_secret(dir, "ics.key", api_key)?;

    let mut cluster = IcsConfig::with_realm_auth(admin.clone());
    cluster.key_uses = vec![300];
    cluster.sessions = demo_cluster_sessions();
    cluster.healthcheck = serde_json::json!({
        "CPU-UTILIZATION4": 23, "SSL-CONNECTION-COUNT": 512, "MAX-LICENSED-USERS-REACHED": "NO",
        "SWAP-UTILIZATION": 1, "DISK-UTILIZATION": 38, "USER-COUNT": DEMO_CLUSTER_SESSIONS, "VPN-TUNNEL-COUNT": 397
    })
    .to_string();
    cluster.cluster = ClusterAnswer::Body(
        serde_json::json!({
            "members": [
                {"enabled": true, "name": "ics-node-a", "notes": "Leader", "status-code": "0x19004"},
                {"enabled": true, "name": "ics-node-b", "notes": "Enabled", "status-code": "0x11004"},
                {"enabled": true, "name": "ics-node-c", "notes": "Enabled, Unreachable", "status-code": "0x18"}
            ],
            "mode": "Active/Active",
            "name": "vpn-cluster"
        })
        .to_string(),
    );
    // Up to date, past 3.3.9 (a version sorting below 3.3.9 as text).
    cluster.esaps = serde_json::json!({
        "active-version": "3.3.10", "default-version": "3.3.9",
        "esap": [
            {"esap-version": "3.3.9", "last-activated-time": "Mon 08 Sep 2025 10:02:51 PDT",
             "upload-time": "Mon 08 Sep 2025 09:58:17 PDT"},
            {"esap-version": "3.3.10", "last-activated-time": "Tue 04 Nov 2025 09:12:40 PST",
             "upload-time": "Tue 04 Nov 2025 09:10:05 PST"}
        ],
        "force-same-esap": "true", "opswat-sdk-version": "4"
    })
    .to_string();
    let cluster_url = serve_for_demo_tls(IcsSim::new(cluster).router(), sims).await?;

    let mut dr = IcsConfig::with_api_key(api_key);
    dr.named_users = NamedUsersShape::LicenseServer;
    dr.healthcheck = serde_json::json!({
        "CPU-UTILIZATION4": 4, "SSL-CONNECTION-COUNT": 41, "MAX-LICENSED-USERS-REACHED": "NO",
        "SWAP-UTILIZATION": 0, "DISK-UTILIZATION": 21, "USER-COUNT": 37, "VPN-TUNNEL-COUNT": 30
    })
    .to_string();
    dr.sessions = Sessions {
        count: 37,
        users: 30,
        nodes: vec!["node-51-39".into()],
        ..Sessions::default()
    };
    let dr_url = serve_for_demo(IcsSim::new(dr).router(), sims).await?;

    Ok(DemoPart {
        auths: format!(
            "  ics_admin:\n    username: {}\n    password_file: {}\n    realm: {}\n  \
             ics_key:\n    api_key_file: {}\n",
            admin.username,
            password_file.display(),
            admin.realm,
            key_file.display()
        ),
        modules: format!(
            "  ics:\n    kind: connect_secure\n    auth: ics_admin\n    timeout: 10s\n    \
             probe: {{allowed_hosts: [127.0.0.1], allowed_auths: [ics_key]}}\n    \
             active_users: {{page_size: 200, concurrency: 4}}\n    \
             leases: {{capacity: {{\"Concurrent Users\": 250, \"Named Users\": 50}}}}\n{}",
            demo_tls(dir)?
        ),
        targets: format!(
            "  - {{name: vpn-cluster, url: \"{cluster_url}\", module: ics}}\n  \
             - {{name: vpn-dr, url: \"{dr_url}\", module: ics, auth: ics_key}}\n"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fixture_is_json() {
        for body in [
            ACTIVE_USERS,
            ACTIVE_USERS_BY_NAME,
            LEASES,
            SYSTEM_INFORMATION,
            SYSTEM_INFORMATION_MACHINE_ID,
            CLUSTER_ACTIVE_ACTIVE,
            CLUSTER_ACTIVE_PASSIVE,
            HEALTHCHECK,
            HEALTHCHECK_STATUS_ALL,
            HEALTHCHECK_SBR,
            NAMED_USERS_INDEPENDENT,
            NAMED_USERS_LICENSE_SERVER,
            ESAPS,
        ] {
            serde_json::from_str::<serde_json::Value>(body)
                .unwrap_or_else(|e| panic!("{e}: {body}"));
        }
    }

    #[test]
    fn quirks_collapse_single_objects_and_stringify_numbers() {
        let out: serde_json::Value =
            serde_json::from_str(&with_quirks(LEASES, true, true)).unwrap();
        let features = &out["leased-license-counts"]["features"]["feature"];
        assert_eq!(features.as_array().unwrap().len(), 6);
        assert!(features[0]["clients"]["client-info"].is_object());
        assert_eq!(features[0]["total-count"], "0");
        assert_eq!(
            features[3]["clients"]["client-info"][0]["leased-count"],
            "200"
        );
        let named: serde_json::Value =
            serde_json::from_str(&with_quirks(NAMED_USERS_INDEPENDENT, true, false)).unwrap();
        assert!(
            named["named-users"][0]["Last Role"].is_array(),
            "lists of text stay lists"
        );
        assert_eq!(with_quirks(LEASES, false, false), LEASES);
    }
}
