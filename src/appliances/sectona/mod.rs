//! Sectona PAM: the collectors listed in `options.rs` (one file each in
//! this folder), over HTTP basic authentication, and the API's error codes.
//! Its simulator is `crate::simulator::sectona`.

pub mod codes;
pub mod options;

options::collectors!(crate::collector::declare);

/// The family's `*_up` metric.
pub static UP: crate::exposition::Desc = crate::exposition::Desc::gauge(
    "sectona_up",
    "1 if the Sectona server answered and accepted the credentials in this scrape",
);

/// The family keeps nothing across scrapes.
pub type SharedState = ();
