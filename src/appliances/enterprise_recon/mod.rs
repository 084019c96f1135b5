//! Ground Labs Enterprise Recon (ER2) master server: the collectors listed
//! in `options.rs` (one file each in this folder), over HTTP basic
//! authentication. Its simulator is `crate::simulator::enterprise_recon`.

pub mod options;

options::collectors!(crate::collector::declare);

/// The family's `*_up` metric.
pub static UP: crate::exposition::Desc = crate::exposition::Desc::gauge(
    "er2_up",
    "1 if the Enterprise Recon master server answered and accepted the credentials in this scrape",
);

/// The family keeps nothing across scrapes.
pub type SharedState = ();
