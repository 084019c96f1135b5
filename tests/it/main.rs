//! Integration tests: the real server on port 0 against the in-process
//! simulated appliances, over HTTP.

mod appliance_tls;
mod common;
mod config_rules;
mod connect_secure;
mod credential_rules;
mod credentials;
mod enterprise_recon;
mod faults;
mod faults_connect_secure;
mod fleet;
mod hostile;
mod keep_alive;
mod lifecycle;
mod operations;
mod reload;
mod sectona;
mod security;
mod server;
mod sharing;
mod web_hardening;
