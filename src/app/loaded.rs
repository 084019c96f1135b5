//! A configuration made ready to serve: the connector (HTTP client, TLS
//! prepared) of each module and the budget of upstream work its limits
//! set, and the warnings it gives when it comes into force.

use std::collections::BTreeMap;
use std::sync::Arc;

use tracing::warn;

use crate::config::{Auth, Config, ConfigError, Module};
use crate::scrape::ScrapeTarget;
use crate::upstream::tls::TlsError;
use crate::upstream::{Budget, Connector, Retained};

/// Why a configuration cannot be put in force. The message names the file
/// and, past decoding, the setting at fault.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file cannot be read, decoded or validated.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A module's TLS settings cannot make its connector.
    #[error("{file}: modules.{module}.tls: {source}")]
    Tls {
        /// The configuration file.
        file: String,
        /// The module.
        module: String,
        /// Why its TLS settings do not work.
        source: TlsError,
    },
    /// The reload task ended without an answer.
    #[error("reload task failed: {0}")]
    TaskFailed(#[from] tokio::task::JoinError),
}

/// A configuration with the connector of each module and the budget of
/// upstream work its limits set.
#[derive(Debug)]
pub struct Loaded {
    /// The configuration.
    pub config: Config,
    /// Connector (TLS prepared) per module name.
    connectors: BTreeMap<String, Arc<Connector>>,
    /// The budget every collection of this configuration shares. A reload
    /// brings a new one; collections still running finish under the old.
    pub budget: Budget,
    /// The clients kept between scrapes for this configuration's
    /// connectors; a reload brings an empty store, and the old one closes
    /// its connections when its last collection ends.
    retained: Retained,
}

impl Loaded {
    /// Prepares the connector of every module and the budget.
    pub fn new(config: Config) -> Result<Self, LoadError> {
        let mut connectors = BTreeMap::new();
        for (name, module) in &config.modules {
            let connector =
                Connector::new(module, &config.limits).map_err(|source| LoadError::Tls {
                    file: config.source.display().to_string(),
                    module: name.clone(),
                    source,
                })?;
            connectors.insert(name.clone(), Arc::new(connector));
        }
        let budget = Budget::new(&config.limits);
        let retained = Retained::new(&config.limits);
        Ok(Self {
            config,
            connectors,
            budget,
            retained,
        })
    }

    /// What a scrape of a target of `module` needs from the configuration.
    pub(super) fn scrape_target(
        &self,
        label: String,
        url: url::Url,
        module: &Arc<Module>,
        auth: Arc<Auth>,
        adhoc: bool,
    ) -> Option<ScrapeTarget> {
        Some(ScrapeTarget {
            label,
            url,
            module: module.clone(),
            auth,
            adhoc,
            connector: self.connectors.get(&module.name)?.clone(),
            budget: self.budget.clone(),
            retained: self.retained.clone(),
            limits: self.config.limits.clone(),
        })
    }

    /// Logs what an operator should know of this configuration as it comes
    /// into force: its warnings, credentials sent over plain HTTP (except to
    /// the demo's loopback appliances), certificates not verified.
    pub(super) fn announce(&self, demo: bool) {
        for w in &self.config.warnings {
            warn!(reason = %w, "configuration warning");
        }
        for t in &self.config.targets {
            let loopback = t.url.host().is_some_and(|h| match h {
                url::Host::Ipv4(ip) => ip.is_loopback(),
                url::Host::Ipv6(ip) => ip.is_loopback(),
                url::Host::Domain(d) => d == "localhost",
            });
            if t.url.scheme() == "http" && !(demo && loopback) {
                warn!(target = %t.name, url = %t.url, "credentials are sent to this target over plain http, readable by anyone on the path; use https");
            }
        }
        for (name, module) in &self.config.modules {
            if module.tls.insecure_skip_verify {
                warn!(module = %name, "tls.insecure_skip_verify is set: appliance certificates are not verified");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CA file that passed the checks at load and was then removed: the
    /// error names the configuration file, the module and the CA file.
    #[test]
    fn a_module_whose_tls_fails_is_named_with_the_file() {
        crate::install_crypto_provider();
        let dir = tempfile::tempdir().unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let ca = rcgen::CertificateParams::new(vec!["ca.example".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
        std::fs::write(dir.path().join("pw"), "pw\n").unwrap();
        let file = dir.path().join("config.yml");
        std::fs::write(
            &file,
            "auths:\n  a: {username: u, password_file: pw}\nmodules:\n  er2:\n    kind: enterprise_recon\n    auth: a\n    tls: {ca_file: ca.pem}\n",
        )
        .unwrap();
        let config = Config::load(&file).unwrap();
        let ca_file = dir.path().join("ca.pem");
        std::fs::remove_file(&ca_file).unwrap();
        let err = Loaded::new(config).unwrap_err();
        assert!(
            matches!(&err, LoadError::Tls { module, .. } if module == "er2"),
            "{err:?}"
        );
        let expected = format!(
            "{}: modules.er2.tls: CA file {}: ",
            file.display(),
            ca_file.display()
        );
        assert!(err.to_string().starts_with(&expected), "{err}");
    }
}
