//! The collectors, one folder per appliance family and one file per
//! collector. A collector is an async `fetch` that returns a typed snapshot
//! and a pure `encode` of that snapshot into [`Samples`]; this module picks
//! the collector by family and name.

pub mod connect_secure;
pub mod enterprise_recon;
pub mod json;
pub mod sectona;

use crate::config::{Auth, Module};
use crate::exposition::{Desc, Samples};
use crate::upstream::{Upstream, UpstreamError};

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
}

impl CollectError {
    /// Whether this failure means the credentials were refused (`*_up` 0).
    pub fn is_auth(&self) -> bool {
        match self {
            CollectError::Upstream(e) => e.is_unauthorized(),
            CollectError::CredentialsRejected { .. } => true,
            CollectError::Unsupported(_) => false,
        }
    }

    /// The endpoint involved, when there is one.
    pub fn endpoint(&self) -> Option<&'static str> {
        match self {
            CollectError::Upstream(e) => Some(e.endpoint()),
            CollectError::CredentialsRejected { endpoint, .. } => Some(endpoint),
            CollectError::Unsupported(_) => None,
        }
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
