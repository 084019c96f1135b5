//! What the configuration reads of the family: the names of its
//! collectors, and their options (the sections as written, strictly
//! decoded, and the typed options the collectors get). It sits below `crate::config` (which decodes modules
//! with it) and so imports nothing of the crate.

use serde::Deserialize;

/// The family's collectors, in default order, one a line: each is the file
/// of that name in this folder, entered through its `collect`, and is named
/// so under `collectors:` in the configuration. The family's `mod.rs`
/// declares them from this list (`crate::collector::declare`) and the
/// configuration reads their names from it (`crate::config::Kind`).
macro_rules! collectors {
    ($($then:ident)::+) => {
        $($then)::+! {
            licenses
            risk
            server
        }
    };
}
pub(crate) use collectors;

/// ER2 `licenses` collector options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LicensesOptions {
    /// Emit `er2_location_data_usage_bytes` per location.
    pub per_location: bool,
}

/// The options of an Enterprise Recon module.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// `licenses` collector options.
    pub licenses: LicensesOptions,
}

/// The `licenses` section as written.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawLicenses {
    /// `per_location`.
    #[serde(default)]
    pub per_location: bool,
}
