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
            entitlements
        }
    };
}
pub(crate) use collectors;

/// The options of a Sectona module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The Sectona instance name (required, not blank).
    pub instance: String,
    /// The GetEntitlement queries.
    pub entitlements: Vec<EntitlementQuery>,
}

/// The entitlement types of Sectona's GetEntitlement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum EntitlementType {
    /// Entitlements of a user.
    User,
    /// Entitlements on an account.
    Account,
    /// Entitlements on an asset.
    Asset,
}

impl EntitlementType {
    /// The value sent as `EntitlementType` and used as a label.
    pub fn as_str(self) -> &'static str {
        match self {
            EntitlementType::User => "User",
            EntitlementType::Account => "Account",
            EntitlementType::Asset => "Asset",
        }
    }
}

/// One Sectona GetEntitlement query; `name` becomes the `query` label.
/// Decoded as written; which fields each type needs is checked after.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntitlementQuery {
    /// The `query` label.
    pub name: String,
    /// `EntitlementType`.
    pub entitlement_type: EntitlementType,
    /// `Assettype`.
    pub asset_type: Option<String>,
    /// `AssetHost`.
    pub asset_host: Option<String>,
    /// `DBInstance`.
    pub db_instance: Option<String>,
    /// `AccountName`.
    pub account_name: Option<String>,
    /// `AccountType`.
    pub account_type: Option<String>,
    /// `Username`.
    pub username: Option<String>,
    /// `AuthenticationType`.
    pub authentication_type: Option<String>,
    /// `DirectoryStore`.
    pub directory_store: Option<String>,
}

/// The shapes of `auths` entries the family takes (`basic`: username and
/// password).
pub const CREDENTIALS: &[&str] = &["basic"];

/// What a module of the family is told when its auth has another shape.
pub const NEEDS: &str = "an auth with username and password (and no realm or api_key)";

/// The `instance` section as written.
pub type RawInstance = String;

/// The `entitlements` section as written.
pub type RawEntitlements = Vec<Spanned<EntitlementQuery>>;

/// The family's sections of a module, as written.
#[derive(Debug, Clone, Copy)]
pub struct Sections<'a> {
    /// `instance`.
    pub instance: Option<&'a Spanned<RawInstance>>,
    /// `entitlements`.
    pub entitlements: Option<&'a Spanned<RawEntitlements>>,
}

/// A refusal: where, the key under the module, and why.
type Refusal = (Location, String, String);

/// The options of a module from its sections, the collectors it runs and
/// where it is written: the instance is required, and the `entitlements`
/// collector needs at least one query.
pub fn options(
    sections: Sections<'_>,
    collectors: &[&str],
    module_at: &Location,
) -> Result<Options, Refusal> {
    let instance = match sections.instance {
        Some(i) if i.value.trim().is_empty() => {
            return Err((
                i.referenced,
                "instance".to_owned(),
                "must not be empty".to_owned(),
            ));
        }
        Some(i) => i.value.clone(),
        None => {
            return Err((
                *module_at,
                "instance".to_owned(),
                "kind sectona needs instance (the Sectona instance name)".to_owned(),
            ));
        }
    };
    let entitlements = entitlements(sections.entitlements, collectors, module_at)?;
    Ok(Options {
        instance,
        entitlements,
    })
}

/// The queries, each checked, their names unique; at least one when the
/// `entitlements` collector runs.
fn entitlements(
    list: Option<&Spanned<RawEntitlements>>,
    collectors: &[&str],
    module_at: &Location,
) -> Result<Vec<EntitlementQuery>, Refusal> {
    let needed = collectors.contains(&"entitlements");
    let none = || "the entitlements collector needs at least one query".to_owned();
    let Some(list) = list else {
        if needed {
            return Err((*module_at, "entitlements".to_owned(), none()));
        }
        return Ok(Vec::new());
    };
    if list.value.is_empty() && needed {
        return Err((list.referenced, "entitlements".to_owned(), none()));
    }
    let mut out: Vec<EntitlementQuery> = Vec::new();
    for (i, q) in list.value.iter().enumerate() {
        let key = format!("entitlements[{i}]");
        check_query(&q.value)
            .map_err(|(field, why)| (q.referenced, format!("{key}.{field}"), why))?;
        if out.iter().any(|o| o.name == q.value.name) {
            return Err((
                q.referenced,
                format!("{key}.name"),
                format!("duplicate query name \"{}\"", q.value.name),
            ));
        }
        out.push(q.value.clone());
    }
    Ok(out)
}

/// Checks the GetEntitlement fields each entitlement type requires and
/// ignores, from the API document's parameter table; a failure names the
/// key it is about.
fn check_query(r: &EntitlementQuery) -> Result<(), (&'static str, String)> {
    if r.name.trim().is_empty() {
        return Err(("name", "must not be empty".to_owned()));
    }
    let kind = r.entitlement_type;
    let fields: [(&'static str, &Option<String>); 8] = [
        ("asset_type", &r.asset_type),
        ("asset_host", &r.asset_host),
        ("db_instance", &r.db_instance),
        ("account_name", &r.account_name),
        ("account_type", &r.account_type),
        ("username", &r.username),
        ("authentication_type", &r.authentication_type),
        ("directory_store", &r.directory_store),
    ];
    let (required, allowed): (&[&str], &[&str]) = match kind {
        EntitlementType::User => (
            &["username", "authentication_type", "directory_store"],
            &["username", "authentication_type", "directory_store"],
        ),
        EntitlementType::Account => (
            &["asset_type", "asset_host", "account_name", "account_type"],
            &[
                "asset_type",
                "asset_host",
                "db_instance",
                "account_name",
                "account_type",
            ],
        ),
        EntitlementType::Asset => (
            &["asset_type", "asset_host"],
            &["asset_type", "asset_host", "db_instance"],
        ),
    };
    for (key, value) in fields {
        let present = value.as_deref().is_some_and(|v| !v.trim().is_empty());
        if required.contains(&key) && !present {
            return Err((
                key,
                format!("entitlement_type {} requires {key}", kind.as_str()),
            ));
        }
        if !allowed.contains(&key) && value.is_some() {
            return Err((
                key,
                format!("{key} is not used by entitlement_type {}", kind.as_str()),
            ));
        }
    }
    Ok(())
}
