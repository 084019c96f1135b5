//! The collectors, one folder per appliance family and one file per
//! collector. A collector is an async `fetch` that returns a typed snapshot
//! and a pure `encode` of that snapshot into [`Samples`]; this module picks
//! the collector by family and name.

pub mod connect_secure;
pub mod enterprise_recon;
pub mod json;
pub mod offload;
pub mod sectona;
#[cfg(test)]
pub(crate) mod testdata;

use crate::config::{Auth, Credentials, Limits, Module};
use crate::exposition::{Desc, Samples};
use crate::upstream::{BasicAuth, Upstream, UpstreamError};

/// The appliance families.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Ground Labs Enterprise Recon master server.
    EnterpriseRecon,
    /// Ivanti Connect Secure / Policy Secure gateway or cluster.
    ConnectSecure,
    /// Sectona PAM.
    Sectona,
}

static ER2_UP: Desc = Desc::gauge(
    "er2_up",
    "1 if the Enterprise Recon master server answered and accepted the credentials in this scrape",
);
static ICS_UP: Desc = Desc::gauge(
    "ics_up",
    "1 if the Connect Secure gateway answered and accepted the credentials in this scrape",
);
static SECTONA_UP: Desc = Desc::gauge(
    "sectona_up",
    "1 if the Sectona server answered and accepted the credentials in this scrape",
);

impl Kind {
    /// The name used in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::EnterpriseRecon => "enterprise_recon",
            Kind::ConnectSecure => "connect_secure",
            Kind::Sectona => "sectona",
        }
    }

    /// Every collector of the family, in their default order.
    pub fn collectors(self) -> &'static [&'static str] {
        match self {
            Kind::EnterpriseRecon => enterprise_recon::COLLECTORS,
            Kind::ConnectSecure => connect_secure::COLLECTORS,
            Kind::Sectona => sectona::COLLECTORS,
        }
    }

    /// The family's `*_up` metric.
    pub fn up_desc(self) -> &'static Desc {
        match self {
            Kind::EnterpriseRecon => &ER2_UP,
            Kind::ConnectSecure => &ICS_UP,
            Kind::Sectona => &SECTONA_UP,
        }
    }
}

/// State that outlives one scrape and is shared by the collectors of a
/// family (e.g. cached ICS API keys).
#[derive(Debug, Default)]
pub struct Shared {
    /// Connect Secure state (API keys obtained through realm_auth).
    pub connect_secure: connect_secure::SharedState,
}

/// What a collector gets to work with for one scrape of one target.
#[derive(Debug)]
pub struct Context<'a> {
    /// The target label value.
    pub target: &'a str,
    /// The module the target uses.
    pub module: &'a Module,
    /// The credentials in force (module's, or the target's / probe's override).
    pub auth: &'a Auth,
    /// The HTTP side of this scrape.
    pub upstream: &'a Upstream,
    /// State kept across scrapes.
    pub shared: &'a Shared,
    /// The limits in force (pages per listing, ...).
    pub limits: &'a Limits,
}

/// Why a collector failed.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// An upstream request failed.
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    /// The appliance refused the credentials (in a way other than HTTP 401).
    #[error("{endpoint}: credentials rejected: {reason}")]
    CredentialsRejected {
        /// The endpoint that refused them.
        endpoint: &'static str,
        /// The appliance's words.
        reason: String,
    },
    /// The collector cannot run with these settings.
    #[error("{0}")]
    Unsupported(String),
    /// Some parts of the collector's work failed (e.g. some of several
    /// Sectona queries): the collector reports failure, yet the series of
    /// the parts that worked are still emitted.
    #[error("{}", describe_failures(.failures))]
    Partial {
        /// The series of everything that worked.
        samples: Samples,
        /// Each failed part; never empty.
        failures: Vec<PartFailure>,
    },
}

/// One failed part of a collector's work.
#[derive(Debug)]
pub struct PartFailure {
    /// What failed, as logged (e.g. `query alice`).
    pub part: String,
    /// Why.
    pub error: CollectError,
}

/// The failures, parts with the same reason named together so that one
/// cause shared by many parts (bad credentials, a dead appliance) is said
/// once.
fn describe_failures(failures: &[PartFailure]) -> String {
    let mut grouped: Vec<(String, Vec<&str>)> = Vec::new();
    for f in failures {
        let reason = f.error.to_string();
        match grouped.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, parts)) => parts.push(&f.part),
            None => grouped.push((reason, vec![&f.part])),
        }
    }
    grouped
        .iter()
        .map(|(reason, parts)| format!("{}: {reason}", parts.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

impl CollectError {
    /// Whether this failure means the credentials were refused (`*_up` 0).
    pub fn is_auth(&self) -> bool {
        match self {
            CollectError::Upstream(e) => e.is_unauthorized(),
            CollectError::CredentialsRejected { .. } => true,
            CollectError::Unsupported(_) => false,
            CollectError::Partial { failures, .. } => failures.iter().any(|f| f.error.is_auth()),
        }
    }

    /// The endpoint involved, when there is one.
    pub fn endpoint(&self) -> Option<&'static str> {
        match self {
            CollectError::Upstream(e) => Some(e.endpoint()),
            CollectError::CredentialsRejected { endpoint, .. } => Some(endpoint),
            CollectError::Unsupported(_) => None,
            CollectError::Partial { failures, .. } => {
                failures.iter().find_map(|f| f.error.endpoint())
            }
        }
    }

    /// The series a partly failed collector still emits (empty for any
    /// other failure).
    pub fn take_samples(&mut self) -> Samples {
        match self {
            CollectError::Partial { samples, .. } => std::mem::take(samples),
            _ => Samples::new(),
        }
    }
}

/// The basic-auth credentials of the context (validated at load to be basic
/// for the families that use them).
pub fn basic_auth(ctx: &Context<'_>) -> Result<BasicAuth, CollectError> {
    match &ctx.auth.credentials {
        Credentials::Basic { username, password } => Ok(BasicAuth {
            username: username.clone(),
            password: password.clone(),
        }),
        _ => Err(CollectError::Unsupported(format!(
            "auth {} has no username and password",
            ctx.auth.name
        ))),
    }
}

/// Runs the collector `name` of the context's family.
pub async fn collect(name: &'static str, ctx: &Context<'_>) -> Result<Samples, CollectError> {
    match ctx.module.kind {
        Kind::EnterpriseRecon => enterprise_recon::collect(name, ctx).await,
        Kind::ConnectSecure => connect_secure::collect(name, ctx).await,
        Kind::Sectona => sectona::collect(name, ctx).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(name: &str, error: CollectError) -> PartFailure {
        PartFailure {
            part: name.to_owned(),
            error,
        }
    }

    #[test]
    fn a_partial_failure_says_each_reason_once_and_keeps_its_samples() {
        static G: Desc = Desc::gauge("x", "x");
        let mut samples = Samples::new();
        samples.push_plain(&G, 1_i64);
        let status = |status| {
            CollectError::Upstream(UpstreamError::Status {
                endpoint: "/e",
                status,
                message: None,
            })
        };
        let mut err = CollectError::Partial {
            samples,
            failures: vec![
                part("query a", status(401)),
                part("query b", status(503)),
                part("query c", status(401)),
            ],
        };
        assert_eq!(
            err.to_string(),
            "query a, query c: /e: HTTP 401; query b: /e: HTTP 503"
        );
        assert!(err.is_auth());
        assert_eq!(err.endpoint(), Some("/e"));
        assert_eq!(err.take_samples().series.len(), 1);
        assert!(err.take_samples().series.is_empty());
        let unavailable = CollectError::Partial {
            samples: Samples::new(),
            failures: vec![part("query b", status(503))],
        };
        assert!(!unavailable.is_auth());
    }
}
