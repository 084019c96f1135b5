//! The contract every collector keeps: what it is given ([`Context`]), how
//! it is entered ([`Collector`]: one `collect(ctx)` that is an async `fetch`
//! of a typed snapshot followed by a pure `encode` into [`Samples`]) and how
//! it fails ([`CollectError`]). The families under `crate::appliances`
//! implement it; this module knows none of them.

pub mod offload;
#[cfg(test)]
pub(crate) mod testdata;

use futures::future::BoxFuture;

use crate::config::{Auth, Credentials, Limits, Module};
use crate::exposition::Samples;
use crate::upstream::{BasicAuth, Upstream, UpstreamError};

/// What a collector gets to work with for one scrape of one target; `O`
/// is its family's options and `S` the state its family keeps across
/// scrapes (none by default: the scrape machinery knows no family, the
/// registry gives each family its own).
#[derive(Debug)]
pub struct Context<'a, O = (), S = ()> {
    /// The target label value.
    pub target: &'a str,
    /// The module the target uses.
    pub module: &'a Module,
    /// The credentials in force (module's, or the target's / probe's override).
    pub auth: &'a Auth,
    /// The HTTP side of this scrape.
    pub upstream: &'a Upstream,
    /// The options of the module's family.
    pub options: &'a O,
    /// The family's state kept across scrapes.
    pub state: &'a S,
    /// The limits in force (pages per listing, ...).
    pub limits: &'a Limits,
}

impl<'a> Context<'a> {
    /// This context with the options and state of a family.
    pub fn with_family<O, S>(&self, options: &'a O, state: &'a S) -> Context<'a, O, S> {
        Context {
            target: self.target,
            module: self.module,
            auth: self.auth,
            upstream: self.upstream,
            options,
            state,
            limits: self.limits,
        }
    }
}

/// How every collector is entered: its `fetch`, then its `encode`.
pub type Run<O, S> =
    for<'a> fn(&'a Context<'a, O, S>) -> BoxFuture<'a, Result<Samples, CollectError>>;

/// One collector of a family, as the family lists it.
pub struct Collector<O: 'static = (), S: 'static = ()> {
    /// Its name in the configuration and in the `collector` label.
    pub name: &'static str,
    /// Its way in.
    pub run: Run<O, S>,
}

/// A family's collectors from its one list (`options::collectors!` in the
/// family's folder, handing the names here): a module for each (the file
/// of that name in the folder), `ALL`, the typed list of them in that
/// order, each the [`Collector`] named after its module and entered through
/// that module's `collect`, and `COLLECTORS`, their names. The family's `mod.rs` names `options::Options`
/// and `SharedState`, its options and its state kept across scrapes.
macro_rules! declare {
    ($($module:ident)*) => {
        $(pub mod $module;)*

        /// The names of the family's collectors, in default order.
        pub const COLLECTORS: &[&str] = &[$(stringify!($module)),*];

        /// The family's collectors, in default order.
        pub const ALL: &[$crate::collector::Collector<options::Options, SharedState>] = &[$(
            $crate::collector::Collector {
                name: stringify!($module),
                run: |ctx| Box::pin($module::collect(ctx)),
            }
        ),*];
    };
}
pub(crate) use declare;

/// Runs the collector `name` of a family's list (the configuration only
/// names collectors of the module's family, so it is always there).
pub async fn run<O, S>(
    collectors: &[Collector<O, S>],
    name: &str,
    ctx: &Context<'_, O, S>,
) -> Result<Samples, CollectError> {
    match collectors.iter().find(|c| c.name == name) {
        Some(c) => (c.run)(ctx).await,
        None => Err(CollectError::Unsupported(format!(
            "unknown {} collector {name}",
            ctx.module.kind.as_str()
        ))),
    }
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

impl From<crate::json::DecodeError> for CollectError {
    fn from(e: crate::json::DecodeError) -> Self {
        CollectError::Upstream(e.into())
    }
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
pub fn basic_auth<O, S>(ctx: &Context<'_, O, S>) -> Result<BasicAuth, CollectError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exposition::Desc;

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
