//! The web configuration file exactly as written, in the exporter-toolkit
//! format that `promtool check web-config` reads: strict serde structures
//! (unknown keys are errors) whose values keep their line and column.

use std::collections::BTreeMap;

use serde::Deserialize;

use serde_saphyr::Spanned as At;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWebConfig {
    pub tls_server_config: Option<At<RawTlsServer>>,
    pub http_server_config: Option<RawHttpServer>,
    pub basic_auth_users: Option<At<BTreeMap<String, Option<At<String>>>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTlsServer {
    pub cert_file: Option<At<String>>,
    pub key_file: Option<At<String>>,
    pub client_auth_type: Option<At<String>>,
    pub client_ca_file: Option<At<String>>,
    pub min_version: Option<At<String>>,
    pub max_version: Option<At<String>>,
    pub cipher_suites: Option<Vec<At<String>>>,
    pub prefer_server_cipher_suites: Option<bool>,
    pub curve_preferences: Option<Vec<At<String>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHttpServer {
    pub http2: Option<bool>,
    pub headers: Option<BTreeMap<String, At<String>>>,
}
