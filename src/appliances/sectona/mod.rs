//! Sectona PAM: the `entitlements` collector, over HTTP basic
//! authentication, and the API's error codes. Its simulator is
//! `crate::simulator::sectona`.

pub mod codes;
pub mod entitlements;
pub mod options;

use crate::collector::{Collector, collector};

pub use options::COLLECTORS;

/// The family's collectors, in default order.
pub const ALL: &[Collector<options::Options>] = &[collector!(entitlements)];
