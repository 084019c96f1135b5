//! What the configuration reads of the family: the names of its
//! collectors, and their options (the sections as written, strictly
//! decoded, and the typed options the collectors get). It sits below `crate::config` (which decodes modules
//! with it) and so imports nothing of the crate.

use serde::Deserialize;

/// The names of the family's collectors, in default order (each is a file
/// of the family, entered through its `ALL`).
pub const COLLECTORS: &[&str] = &["licenses", "risk", "server"];

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
