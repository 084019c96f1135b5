//! Ground Labs Enterprise Recon (ER2) master server: the `licenses`,
//! `risk` and `server` collectors, over HTTP basic authentication. Its
//! simulator is `crate::simulator::enterprise_recon`.

pub mod licenses;
pub mod options;
pub mod risk;
pub mod server;

use crate::collector::Collector;
use crate::config::Kind;

/// The names of the family's collectors, in default order.
pub const COLLECTORS: &[&str] = Kind::EnterpriseRecon.collectors();

/// The family's collectors, in default order.
pub const ALL: &[Collector] = &[
    Collector {
        name: "licenses",
        run: |ctx| Box::pin(licenses::collect(ctx)),
    },
    Collector {
        name: "risk",
        run: |ctx| Box::pin(risk::collect(ctx)),
    },
    Collector {
        name: "server",
        run: |ctx| Box::pin(server::collect(ctx)),
    },
];
