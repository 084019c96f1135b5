//! The registry of appliance families: the one place the core (the scrape
//! machinery, the server) reaches a family through. Each family is one
//! folder: its collectors (one file each, listed in its `ALL`), their names
//! and options as the configuration reads them (`options.rs`), its state
//! kept across scrapes, and a pointer to its simulator. ARCHITECTURE.md
//! says how to add a collector or a family.

pub mod connect_secure;
pub mod enterprise_recon;
pub mod sectona;

use crate::collector::{self, CollectError, Context};
use crate::config::{FamilyOptions, Kind};
use crate::exposition::{Desc, Samples};

static ER2_UP: Desc = Desc::gauge(
    "er2_up",
    "1 if the Enterprise Recon master server answered and accepted the credentials in this scrape",
);
static ICS_UP: Desc = Desc::gauge(
    "ics_up",
    "1 if the Connect Secure gateway answered and accepted the credentials in this scrape",
);
static SECTONA_UP: Desc = Desc::gauge(
    "sectona_up",
    "1 if the Sectona server answered and accepted the credentials in this scrape",
);

/// The family's `*_up` metric.
pub fn up_desc(kind: Kind) -> &'static Desc {
    match kind {
        Kind::EnterpriseRecon => &ER2_UP,
        Kind::ConnectSecure => &ICS_UP,
        Kind::Sectona => &SECTONA_UP,
    }
}

/// State that outlives one scrape, per family (e.g. cached ICS API keys).
#[derive(Debug, Default)]
pub struct Shared {
    /// Connect Secure state (API keys obtained through realm_auth).
    pub connect_secure: connect_secure::SharedState,
}

/// Runs the collector `name` of the context's family.
pub async fn collect(
    name: &str,
    ctx: &Context<'_>,
    shared: &Shared,
) -> Result<Samples, CollectError> {
    match &ctx.module.options {
        FamilyOptions::EnterpriseRecon(options) => {
            let ctx = ctx.with_family(options, &());
            collector::run(enterprise_recon::ALL, name, &ctx).await
        }
        FamilyOptions::ConnectSecure(options) => {
            let ctx = ctx.with_family(options, &shared.connect_secure);
            collector::run(connect_secure::ALL, name, &ctx).await
        }
        FamilyOptions::Sectona(options) => {
            let ctx = ctx.with_family(options, &());
            collector::run(sectona::ALL, name, &ctx).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collector::Collector;

    fn names<O, S>(all: &[Collector<O, S>]) -> Vec<&'static str> {
        all.iter().map(|c| c.name).collect()
    }

    #[test]
    fn each_family_runs_exactly_the_collectors_the_configuration_names() {
        assert_eq!(
            names(enterprise_recon::ALL),
            Kind::EnterpriseRecon.collectors()
        );
        assert_eq!(names(connect_secure::ALL), Kind::ConnectSecure.collectors());
        assert_eq!(names(sectona::ALL), Kind::Sectona.collectors());
    }
}
