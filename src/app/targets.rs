//! Target resolution: a static target by name, or an ad-hoc one from
//! `/probe?target=URL&module=M[&auth=A]` once the module's probe policy
//! has allowed its host and auth, each made into a [`ScrapeTarget`].

use crate::config;
use crate::scrape::ScrapeTarget;

use super::{App, Loaded};

/// Why a probe request cannot be served: 400 for a request that names
/// nothing usable, 403 for one the module's probe policy refuses.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProbeError {
    /// `target` is missing.
    #[error("the target parameter is missing")]
    MissingTarget,
    /// No static target has that name (and no module was given).
    #[error("no static target is named \"{0}\" (pass module= to probe a URL)")]
    UnknownTarget(String),
    /// The module does not exist.
    #[error("unknown module \"{0}\"")]
    UnknownModule(String),
    /// The auth does not exist.
    #[error("unknown auth \"{0}\"")]
    UnknownAuth(String),
    /// The auth exists but cannot be used with the module's kind.
    #[error("auth \"{0}\" cannot be used with module \"{1}\": {2}")]
    AuthMismatch(String, String, String),
    /// The target URL is not usable.
    #[error("target: {0}")]
    BadUrl(String),
    /// The module has no probe policy, so it takes no ad-hoc targets.
    #[error(
        "module \"{0}\" takes no ad-hoc targets: set modules.{0}.probe.allowed_hosts to allow them"
    )]
    AdhocRefused(String),
    /// The URL's host is not in the module's `probe.allowed_hosts`.
    #[error("host \"{host}\" is not in modules.{module}.probe.allowed_hosts")]
    HostNotAllowed {
        /// The URL's host.
        host: String,
        /// The module.
        module: String,
    },
    /// `&auth=` names an auth the module's `probe.allowed_auths` does not list.
    #[error("auth \"{auth}\" is not in modules.{module}.probe.allowed_auths")]
    AuthNotAllowed {
        /// The auth asked for.
        auth: String,
        /// The module.
        module: String,
    },
}

impl ProbeError {
    /// Whether the probe policy refused the request (403) rather than the
    /// request being malformed (400).
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            ProbeError::AdhocRefused(_)
                | ProbeError::HostNotAllowed { .. }
                | ProbeError::AuthNotAllowed { .. }
        )
    }
}

impl App {
    /// The static target `name`, ready to scrape.
    pub fn static_target(&self, loaded: &Loaded, name: &str) -> Option<ScrapeTarget> {
        let target = loaded.config.target(name)?;
        let module = loaded.config.modules.get(&target.module)?;
        let auth_name = target.auth.as_deref().unwrap_or(&module.auth);
        let auth = loaded.config.auths.get(auth_name)?.clone();
        loaded.scrape_target(target.name.clone(), target.url.clone(), module, auth, false)
    }

    /// An ad-hoc target from `/probe?target=URL&module=M[&auth=A]`, if the
    /// module's probe policy allows its host and auth. Nothing is sent
    /// anywhere before this has said yes.
    pub fn adhoc_target(
        &self,
        loaded: &Loaded,
        url: &str,
        module_name: &str,
        auth_name: Option<&str>,
    ) -> Result<ScrapeTarget, ProbeError> {
        let module = loaded
            .config
            .modules
            .get(module_name)
            .ok_or_else(|| ProbeError::UnknownModule(module_name.to_owned()))?;
        let policy = module
            .probe
            .as_ref()
            .ok_or_else(|| ProbeError::AdhocRefused(module_name.to_owned()))?;
        let parsed = config::check_url(url).map_err(ProbeError::BadUrl)?;
        if !policy.allows_host(&parsed) {
            return Err(ProbeError::HostNotAllowed {
                host: parsed.host_str().unwrap_or_default().to_owned(),
                module: module_name.to_owned(),
            });
        }
        // Refused whether or not such an auth exists, so the answer does
        // not tell which auth names do.
        let auth_name = auth_name.unwrap_or(&module.auth);
        if auth_name != module.auth && !policy.allows_auth(auth_name) {
            return Err(ProbeError::AuthNotAllowed {
                auth: auth_name.to_owned(),
                module: module_name.to_owned(),
            });
        }
        let auth = loaded
            .config
            .auths
            .get(auth_name)
            .ok_or_else(|| ProbeError::UnknownAuth(auth_name.to_owned()))?;
        // Checked when the configuration was loaded; kept as a guard.
        config::auth_fits(module.kind, &auth.credentials).map_err(|why| {
            ProbeError::AuthMismatch(auth_name.to_owned(), module_name.to_owned(), why)
        })?;
        loaded
            .scrape_target(url.to_owned(), parsed, module, auth.clone(), true)
            .ok_or_else(|| ProbeError::UnknownModule(module_name.to_owned()))
    }
}
