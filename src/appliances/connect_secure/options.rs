//! What the configuration reads of the family: the one list of its
//! collectors, the credentials it takes, and its options (its sections of
//! a module as written, strictly decoded, the rules they must keep, and
//! the typed options the collectors get). It sits below `crate::config`
//! (which checks modules with it, through `config::Kind`) and so imports
//! nothing of the crate.

use std::collections::BTreeMap;

/// The family's collectors, in default order, one a line: each is the file
/// of that name in this folder, entered through its `collect`, and is named
/// so under `collectors:` in the configuration. The family's `mod.rs`
/// declares them from this list (`crate::collector::declare`) and the
/// configuration reads their names from it (`crate::config::Kind`).
macro_rules! collectors {
    ($($then:ident)::+) => {
        $($then)::+! {
            healthcheck
            cluster
            active_users
            leases
            system
            named_users
            esap
        }
    };
}
pub(crate) use collectors;

use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

/// ICS `active_users` collector options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveUsersOptions {
    /// Sessions per page (the gateway caps at 200).
    pub page_size: u32,
    /// Pages in flight at once (the first page with them once the
    /// gateway's last listing told how many there are).
    pub concurrency: u32,
    /// Client versions and authentication servers reported by name, the
    /// most common first; the rest are summed as `other`.
    pub top_values: u32,
}

impl Default for ActiveUsersOptions {
    fn default() -> Self {
        Self {
            page_size: 200,
            concurrency: 8,
            top_values: 10,
        }
    }
}

/// ICS `leases` collector options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeasesOptions {
    /// Licence capacity per feature name, for `ics_license_capacity`.
    pub capacity: BTreeMap<String, u64>,
}

/// The options of a Connect Secure module.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// `active_users` collector options.
    pub active_users: ActiveUsersOptions,
    /// `leases` collector options.
    pub leases: LeasesOptions,
}

/// The `active_users` section as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawActiveUsers {
    /// `page_size`.
    pub page_size: Option<u32>,
    /// `concurrency`.
    pub concurrency: Option<u32>,
    /// `top_values`.
    pub top_values: Option<u32>,
}

/// The `leases` section as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLeases {
    /// `capacity`.
    #[serde(default)]
    pub capacity: BTreeMap<String, u64>,
}

/// The shapes of `auths` entries the family takes (an API key, or admin
/// credentials exchanged for one).
pub const CREDENTIALS: &[&str] = &["api_key", "realm_auth"];

/// What a module of the family is told when its auth has another shape.
pub const NEEDS: &str = "an api_key, or username, password and realm (realm_auth)";

/// The family's sections of a module, as written.
#[derive(Debug, Clone, Copy)]
pub struct Sections<'a> {
    /// `active_users`.
    pub active_users: Option<&'a Spanned<RawActiveUsers>>,
    /// `leases`.
    pub leases: Option<&'a Spanned<RawLeases>>,
}

/// The options of a module from its sections (the family's collectors and
/// where the module is written are not needed here); a refusal says where,
/// the key under the module, and why.
pub fn options(
    sections: Sections<'_>,
    _collectors: &[&str],
    _module_at: &Location,
) -> Result<Options, (Location, String, String)> {
    let active_users = match sections.active_users {
        Some(au) => active_users(&au.value)
            .map_err(|(key, why)| (au.referenced, format!("active_users.{key}"), why))?,
        None => ActiveUsersOptions::default(),
    };
    let leases = LeasesOptions {
        capacity: sections
            .leases
            .map(|l| l.value.capacity.clone())
            .unwrap_or_default(),
    };
    Ok(Options {
        active_users,
        leases,
    })
}

/// The `active_users` options of a section: the defaults, overridden by
/// what is set; an out-of-range value is refused with the key it is under.
fn active_users(raw: &RawActiveUsers) -> Result<ActiveUsersOptions, (&'static str, String)> {
    let mut options = ActiveUsersOptions::default();
    if let Some(p) = raw.page_size {
        if !(1..=200).contains(&p) {
            return Err((
                "page_size",
                format!(
                    "{p} is out of range: must be between 1 and 200 (the gateway caps a page at 200)"
                ),
            ));
        }
        options.page_size = p;
    }
    if let Some(c) = raw.concurrency {
        if !(1..=64).contains(&c) {
            return Err((
                "concurrency",
                format!("{c} is out of range: must be between 1 and 64"),
            ));
        }
        options.concurrency = c;
    }
    if let Some(n) = raw.top_values {
        if !(1..=100).contains(&n) {
            return Err((
                "top_values",
                format!("{n} is out of range: must be between 1 and 100"),
            ));
        }
        options.top_values = n;
    }
    Ok(options)
}
