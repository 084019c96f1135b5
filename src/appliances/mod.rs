//! The registry of appliance families: the one place the core (the scrape
//! machinery, the server) reaches a family through. Each family is one
//! folder: its collectors (one file each, listed once in its `options.rs`),
//! their names and options as the configuration reads them (`options.rs`),
//! its `*_up` metric and its state kept across scrapes (`mod.rs`), and a
//! pointer to its simulator. The families are listed once, in
//! `crate::config::families!`; this registry is made of that list.
//! ARCHITECTURE.md says how to add a collector or a family.

use crate::collector::{self, CollectError, Context};
use crate::config::{FamilyOptions, Kind};
use crate::exposition::{Desc, Samples};

/// The family modules, [`up_desc`], [`Shared`] and [`collect`].
macro_rules! registry {
    ($($(#[$doc:meta])* $kind:ident $family:ident { $($section:ident: $raw:ident)* })*) => {
        $($(#[$doc])* pub mod $family;)*

        /// The family's `*_up` metric.
        pub fn up_desc(kind: Kind) -> &'static Desc {
            match kind {
                $(Kind::$kind => &$family::UP,)*
            }
        }

        /// State that outlives one scrape, per family (e.g. cached ICS API
        /// keys).
        #[derive(Debug, Default)]
        pub struct Shared {
            $(
                /// The family's state kept across scrapes.
                pub $family: $family::SharedState,
            )*
        }

        /// Runs the collector `name` of the context's family.
        pub async fn collect(
            name: &str,
            ctx: &Context<'_>,
            shared: &Shared,
        ) -> Result<Samples, CollectError> {
            match &ctx.module.options {
                $(FamilyOptions::$kind(options) => {
                    let ctx = ctx.with_family(options, &shared.$family);
                    collector::run($family::ALL, name, &ctx).await
                })*
            }
        }

        #[cfg(test)]
        mod tests {
            use super::*;

            #[test]
            fn each_family_runs_exactly_the_collectors_the_configuration_names() {
                $(
                    let names: Vec<&str> = $family::ALL.iter().map(|c| c.name).collect();
                    assert_eq!(names, Kind::$kind.collectors());
                    assert_eq!($family::COLLECTORS, Kind::$kind.collectors());
                )*
            }
        }
    };
}

crate::config::families!(registry);
