//! Integration tests: the real server on port 0 against the in-process
//! simulated appliances, over HTTP.

mod common;
mod config_rules;
mod connect_secure;
mod enterprise_recon;
mod sectona;
mod server;
