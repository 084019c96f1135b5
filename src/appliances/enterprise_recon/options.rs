//! What the configuration reads of the family: the one list of its
//! collectors, the credentials it takes, and its options (its sections of
//! a module as written, strictly decoded, the rules they must keep, and
//! the typed options the collectors get). It sits below `crate::config`
//! (which checks modules with it, through `config::Kind`) and so imports
//! nothing of the crate.

use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

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

/// The shapes of `auths` entries the family takes (`basic`: username and
/// password).
pub const CREDENTIALS: &[&str] = &["basic"];

/// What a module of the family is told when its auth has another shape.
pub const NEEDS: &str = "an auth with username and password (and no realm or api_key)";

/// The family's sections of a module, as written.
#[derive(Debug, Clone, Copy)]
pub struct Sections<'a> {
    /// `licenses`.
    pub licenses: Option<&'a Spanned<RawLicenses>>,
}

/// The options of a module from its sections (the family's collectors and
/// where the module is written are not needed here); nothing is refused.
pub fn options(
    sections: Sections<'_>,
    _collectors: &[&str],
    _module_at: &Location,
) -> Result<Options, (Location, String, String)> {
    Ok(Options {
        licenses: LicensesOptions {
            per_location: sections.licenses.is_some_and(|l| l.value.per_location),
        },
    })
}
