//! Sectona PAM: the `entitlements` collector, over HTTP basic
//! authentication, and the API's error codes. Its simulator is
//! `crate::simulator::sectona`.

pub mod codes;
pub mod options;

options::collectors!(crate::collector::declare);

/// The family keeps nothing across scrapes.
pub type SharedState = ();
