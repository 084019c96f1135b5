//! The configuration file exactly as written: strict serde structures
//! (unknown keys are errors) whose values keep their source location so that
//! the checks after decoding can name the line.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::Kind;
use super::probe::RawProbe;

/// A value with the line and column it was written at.
pub type At<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub auths: BTreeMap<String, At<RawAuth>>,
    #[serde(default)]
    pub modules: BTreeMap<String, At<RawModule>>,
    #[serde(default)]
    pub targets: Vec<At<RawTarget>>,
    pub limits: Option<super::limits::RawLimits>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuth {
    pub username: Option<At<String>>,
    pub password: Option<At<String>>,
    pub password_file: Option<At<String>>,
    pub password_env: Option<At<String>>,
    pub api_key: Option<At<String>>,
    pub api_key_file: Option<At<String>>,
    pub api_key_env: Option<At<String>>,
    pub realm: Option<At<String>>,
}

/// `RawModule`: the keys of every module, then each family's sections
/// (decoded as the family's `options.rs` writes them), then `probe`.
macro_rules! raw_module {
    ($($(#[$doc:meta])* $kind:ident $family:ident { $($section:ident: $raw:ident)* })*) => {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct RawModule {
            pub kind: At<Kind>,
            pub auth: Option<At<String>>,
            pub timeout: Option<At<String>>,
            pub min_interval: Option<At<String>>,
            pub max_response_size: Option<At<String>>,
            pub tls: Option<RawTls>,
            pub collectors: Option<Vec<At<String>>>,
            $($(pub $section: Option<At<crate::appliances::$family::options::$raw>>,)*)*
            pub probe: Option<At<RawProbe>>,
        }
    };
}

super::families!(raw_module);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTls {
    pub ca_file: Option<At<String>>,
    #[serde(default)]
    pub insecure_skip_verify: bool,
    #[serde(default)]
    pub pinned_sha256: Vec<At<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    pub name: At<String>,
    pub url: At<String>,
    pub module: At<String>,
    pub auth: Option<At<String>>,
}
