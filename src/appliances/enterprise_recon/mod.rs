//! Ground Labs Enterprise Recon (ER2) master server: the `licenses`,
//! `risk` and `server` collectors, over HTTP basic authentication. Its
//! simulator is `crate::simulator::enterprise_recon`.

pub mod options;

options::collectors!(crate::collector::declare);

/// The family keeps nothing across scrapes.
pub type SharedState = ();
