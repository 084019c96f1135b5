//! The configuration: `auths`, `modules` and `targets` (SPEC §3), decoded
//! strictly from YAML, checked across fields, with secrets loaded.
//!
//! Every error names file, line and field; secrets are loaded here so a
//! reload re-reads them, and they only ever leave as [`Secret`].

mod error;
mod kind;
mod limits;
mod probe;
mod raw;
mod secret;
mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub use error::ConfigError;
pub(crate) use kind::families;
pub use kind::{FamilyOptions, Kind};
pub use limits::{Limits, MAX_MIN_INTERVAL, MAX_TIMEOUT};
pub use probe::{HostPattern, ProbePolicy};
pub use secret::{Secret, SecretError, SecretSource};
pub use validate::{auth_fits, check_url, parse_size};

/// A loaded, validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from.
    pub source: PathBuf,
    /// Credentials by name.
    pub auths: BTreeMap<String, Arc<Auth>>,
    /// Modules by name.
    pub modules: BTreeMap<String, Arc<Module>>,
    /// Static targets in file order.
    pub targets: Vec<Arc<Target>>,
    /// The process-wide limits on upstream work.
    pub limits: Arc<Limits>,
    /// Things that work but deserve a warning at load (inline secrets).
    pub warnings: Vec<String>,
}

/// A named set of credentials.
#[derive(Debug, Clone)]
pub struct Auth {
    /// The name under `auths`.
    pub name: String,
    /// What is sent.
    pub credentials: Credentials,
}

/// The three ways the appliances accept credentials.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// HTTP basic authentication (ER2, Sectona).
    Basic {
        /// User name.
        username: String,
        /// Password.
        password: Secret,
    },
    /// An ICS API key, sent as the basic-auth user with an empty password.
    ApiKey(Secret),
    /// ICS admin credentials exchanged for an API key at `/api/v1/realm_auth`.
    RealmAuth {
        /// Admin user name.
        username: String,
        /// Admin password.
        password: Secret,
        /// The admin realm to sign in to.
        realm: String,
    },
}

impl Credentials {
    /// The shape of these credentials as a family names those it takes
    /// (`options::CREDENTIALS`): `basic`, `api_key` or `realm_auth`.
    pub fn shape(&self) -> &'static str {
        match self {
            Credentials::Basic { .. } => "basic",
            Credentials::ApiKey(_) => "api_key",
            Credentials::RealmAuth { .. } => "realm_auth",
        }
    }
}

/// How to talk to one kind of appliance.
#[derive(Debug, Clone)]
pub struct Module {
    /// The name under `modules`.
    pub name: String,
    /// The appliance family.
    pub kind: Kind,
    /// Name of the auth used unless a target or probe overrides it.
    pub auth: String,
    /// Upper bound for one scrape of one target.
    pub timeout: Duration,
    /// Serve a result younger than this instead of asking the appliance again.
    pub min_interval: Option<Duration>,
    /// Cap on one upstream response body.
    pub max_response_bytes: u64,
    /// TLS settings towards the appliance.
    pub tls: Tls,
    /// Collectors to run, in configuration order.
    pub collectors: Vec<&'static str>,
    /// The options of the module's family.
    pub options: FamilyOptions,
    /// Where ad-hoc probes may go; `None` refuses them.
    pub probe: Option<ProbePolicy>,
}

/// TLS towards the appliance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tls {
    /// Extra CA certificates (PEM), added to the system roots.
    pub ca_file: Option<PathBuf>,
    /// Do not verify the appliance's certificate (warned at start-up).
    pub insecure_skip_verify: bool,
    /// SHA-256 fingerprints of appliance certificates accepted as they are.
    pub pinned_sha256: Vec<[u8; 32]>,
}

/// A static target.
#[derive(Debug, Clone)]
pub struct Target {
    /// The `target` label and the `/probe?target=` name.
    pub name: String,
    /// Base URL of the appliance.
    pub url: url::Url,
    /// Module name.
    pub module: String,
    /// Auth name overriding the module's.
    pub auth: Option<String>,
}

/// Default cap on an upstream response body: the largest documented answer
/// is a page of 200 ICS sessions (about 100 KiB); ER2 licences and risk
/// lists and a Sectona query's rows are smaller. 16 MiB is over a hundred
/// times that, four times a 60,000-row answer, and keeps what the requests
/// in flight may hold (`limits.max_in_flight` bodies) bounded.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 16 * 1024 * 1024;
/// Default module timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

impl Config {
    /// Reads, decodes and validates the file at `path`, loading secrets.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::file(path, format!("cannot read the configuration: {e}")))?;
        Self::parse(path, &text)
    }

    /// Decodes and validates `text` as if read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        if text.trim().is_empty() {
            return Err(ConfigError::file(path, "the configuration is empty"));
        }
        let raw: raw::RawConfig = decode_yaml(path, text)?;
        validate::validate(path, raw)
    }

    /// The auth named `name`.
    pub fn auth(&self, name: &str) -> Option<&Arc<Auth>> {
        self.auths.get(name)
    }

    /// The static target named `name`.
    pub fn target(&self, name: &str) -> Option<&Arc<Target>> {
        self.targets.iter().find(|t| t.name == name)
    }

    /// A summary for `--config.check`: names and counts, never secrets.
    pub fn summary(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let _ = writeln!(s, "configuration {} is valid", self.source.display());
        let _ = writeln!(s, "auths: {}", self.auths.len());
        for (name, auth) in &self.auths {
            let kind = match auth.credentials {
                Credentials::Basic { .. } => "basic",
                Credentials::ApiKey(_) => "api key",
                Credentials::RealmAuth { .. } => "realm_auth",
            };
            let _ = writeln!(s, "  {name}: {kind}");
        }
        let _ = writeln!(s, "modules: {}", self.modules.len());
        for (name, m) in &self.modules {
            let _ = writeln!(
                s,
                "  {name}: kind {}, auth {}, timeout {}, collectors [{}]",
                m.kind.as_str(),
                m.auth,
                humantime::format_duration(m.timeout),
                m.collectors.join(", ")
            );
            let _ = writeln!(s, "    ad-hoc probes: {}", probe_summary(m));
        }
        let l = &self.limits;
        let _ = writeln!(
            s,
            "limits: {} requests in flight, {} targets at once, {} requests per target, {} idle connections kept (at most {} upstream sockets)",
            l.max_in_flight,
            l.max_targets_in_flight,
            l.max_requests_per_target,
            l.max_idle_connections,
            l.max_upstream_sockets()
        );
        let _ = writeln!(s, "targets: {}", self.targets.len());
        for t in &self.targets {
            let _ = writeln!(s, "  {}: {} (module {})", t.name, t.url, t.module);
        }
        s
    }
}

/// One line on a module's ad-hoc probe policy, for `--config.check`.
fn probe_summary(m: &Module) -> String {
    let Some(p) = &m.probe else {
        return "refused (no probe.allowed_hosts)".to_owned();
    };
    let hosts: Vec<String> = p.allowed_hosts.iter().map(ToString::to_string).collect();
    let mut auths = vec![format!("{} (module's)", m.auth)];
    auths.extend(p.allowed_auths.iter().filter(|a| **a != m.auth).cloned());
    format!("hosts [{}], auths [{}]", hosts.join(", "), auths.join(", "))
}

/// Strict YAML decode of `text` (read from `path`) as `T`, remembering the
/// serde path of a failure so the error names file, line and field. The
/// web configuration (`crate::webconfig`) is decoded the same way.
pub(crate) fn decode_yaml<T: serde::de::DeserializeOwned>(
    path: &Path,
    text: &str,
) -> Result<T, ConfigError> {
    let mut failed_at: Option<String> = None;
    serde_saphyr::with_deserializer_from_str(text, |de| {
        serde_path_to_error::deserialize::<_, T>(de).map_err(|e| {
            failed_at = Some(e.path().to_string());
            e.into_inner()
        })
    })
    .map_err(|e| ConfigError::from_decode(path, failed_at, &e))
}
