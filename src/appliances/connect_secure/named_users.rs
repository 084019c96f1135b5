//! ICS `named_users` collector: `GET /api/v1/license/named-users`, counted
//! per scope. An independent gateway (or licence client) answers with one
//! `named-users` list (scope `local`); a licence server answers with one
//! object per product, `pcs` and `pps`, each with its `named-users`.

use std::collections::BTreeMap;

use serde::de::{Deserialize, Deserializer, IgnoredAny};

use super::options::Options;
use super::{Gateway, SharedState};
use crate::collector::{CollectError, Context};
use crate::exposition::{Desc, Samples};
use crate::json::OneOrMany;
use crate::upstream::UpstreamError;

/// The endpoint, as logged and labelled.
pub const ENDPOINT: &str = "/api/v1/license/named-users";
/// The scope of the list of an independent gateway.
const LOCAL: &str = "local";

static NAMED_USERS: Desc = Desc::gauge(
    "ics_named_users",
    "Named users, by scope: local on an independent gateway, pcs or pps on a licence server",
);

/// Named users counted per scope (`local` first, then by name).
#[derive(Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(from = "Answer")]
pub struct NamedUsers {
    /// (scope, users).
    pub scopes: Vec<(String, u64)>,
}

/// A list of named users: only its length is read.
type UserList = OneOrMany<IgnoredAny>;

/// Either shape of the answer.
#[derive(Debug, serde::Deserialize)]
struct Answer {
    /// An independent gateway's list.
    #[serde(default, rename = "named-users", deserialize_with = "present")]
    local: Option<UserList>,
    /// A licence server's products (`pcs`, `pps`), and any other key.
    #[serde(flatten)]
    products: BTreeMap<String, Product>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(untagged)]
enum Product {
    /// An object with a list of named users.
    Scope {
        #[serde(rename = "named-users")]
        users: UserList,
    },
    /// Anything else, ignored.
    Other(IgnoredAny),
}

/// A list that is present, even as `null` (no named users).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<UserList>, D::Error> {
    UserList::deserialize(d).map(Some)
}

impl From<Answer> for NamedUsers {
    fn from(a: Answer) -> Self {
        let local = a.local.map(|l| (LOCAL.to_owned(), l.0.len() as u64));
        let products = a.products.into_iter().filter_map(|(scope, p)| match p {
            Product::Scope { users } => Some((scope, users.0.len() as u64)),
            Product::Other(_) => None,
        });
        NamedUsers {
            scopes: local.into_iter().chain(products).collect(),
        }
    }
}

/// Fetches the named users.
pub async fn fetch(gateway: &Gateway<'_>) -> Result<NamedUsers, UpstreamError> {
    gateway.get_json(ENDPOINT, ENDPOINT).await
}

/// Encodes a named users snapshot.
pub fn encode(n: &NamedUsers) -> Samples {
    let mut s = Samples::new();
    for (scope, users) in &n.scopes {
        s.push(&NAMED_USERS, &[("scope", scope)], *users);
    }
    s
}

/// The collector: [`fetch`], then [`encode`].
pub async fn collect(ctx: &Context<'_, Options, SharedState>) -> Result<Samples, CollectError> {
    Ok(encode(&fetch(&Gateway::new(ctx)?).await?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appliances::connect_secure::testing::check;
    use crate::json;
    use crate::simulator::connect_secure as sim;

    fn decode(body: &str) -> NamedUsers {
        json::decode(ENDPOINT, body.as_bytes()).unwrap()
    }

    #[test]
    fn independent_gateway_sample() {
        check(
            encode(&decode(sim::NAMED_USERS_INDEPENDENT)),
            "named_users_independent.prom",
        );
    }

    #[test]
    fn license_server_sample() {
        check(
            encode(&decode(sim::NAMED_USERS_LICENSE_SERVER)),
            "named_users_license_server.prom",
        );
    }

    #[test]
    fn single_objects_empty_lists_and_other_keys() {
        let n = decode(
            r#"{"pcs": {"named-users": {"User": "dev1"}}, "pps": {"named-users": []},
                "result": {"info": []}, "note": "x"}"#,
        );
        assert_eq!(n.scopes, vec![("pcs".to_owned(), 1), ("pps".to_owned(), 0)]);
        assert_eq!(
            decode(r#"{"named-users": null}"#).scopes,
            vec![("local".to_owned(), 0)]
        );
    }
}
