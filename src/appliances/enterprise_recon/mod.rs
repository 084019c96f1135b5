//! Ground Labs Enterprise Recon (ER2) master server: the `licenses`,
//! `risk` and `server` collectors, over HTTP basic authentication. Its
//! simulator is `crate::simulator::enterprise_recon`.

pub mod licenses;
pub mod options;
pub mod risk;
pub mod server;

use crate::collector::{Collector, collector};

pub use options::COLLECTORS;

/// The family's collectors, in default order.
pub const ALL: &[Collector<options::Options>] =
    &[collector!(licenses), collector!(risk), collector!(server)];
