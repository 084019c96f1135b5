//! Sectona PAM: the `entitlements` collector, over HTTP basic
//! authentication, and the API's error codes. Its simulator is
//! `crate::simulator::sectona`.

pub mod codes;
pub mod entitlements;
pub mod options;

use crate::collector::Collector;
use crate::config::Kind;

/// The names of the family's collectors, in default order.
pub const COLLECTORS: &[&str] = Kind::Sectona.collectors();

/// The family's collectors, in default order.
pub const ALL: &[Collector] = &[Collector {
    name: "entitlements",
    run: |ctx| Box::pin(entitlements::collect(ctx)),
}];
