//! ICS `named_users` collector: `GET /api/v1/license/named-users`, counted
//! per scope. An independent gateway (or licence client) answers with one
//! `named-users` list (scope `local`); a licence server answers with one
//! object per product, `pcs` and `pps`, each with its `named-users`.

use std::fmt;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::Gateway;
use crate::collectors::json::OneOrMany;
use crate::exposition::{Desc, Samples};
use crate::upstream::UpstreamError;

/// The endpoint, as logged and labelled.
pub const ENDPOINT: &str = "/api/v1/license/named-users";
/// The key of a named-users list.
const LIST: &str = "named-users";
/// The scope of the list of an independent gateway.
const LOCAL: &str = "local";

static NAMED_USERS: Desc = Desc::gauge(
    "ics_named_users",
    "Named users, by scope: local on an independent gateway, pcs or pps on a licence server",
);

/// Named users counted per scope, in answer order.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct NamedUsers {
    /// (scope, users).
    pub scopes: Vec<(String, u64)>,
}

/// A list's length, reading nothing of its entries.
fn count<'de, A: MapAccess<'de>>(map: &mut A) -> Result<u64, A::Error> {
    let users: OneOrMany<IgnoredAny> = map.next_value()?;
    Ok(users.0.len() as u64)
}

/// A licence server's per-product object: its list's length, or `None`
/// for any other value.
struct Scope(Option<u64>);

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scope;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object with named-users")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scope, A::Error> {
                let mut users = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key == LIST {
                        users = Some(count(&mut map)?);
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(Scope(users))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Scope, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scope(None))
            }
            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Scope, E> {
                Ok(Scope(None))
            }
            fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Scope, E> {
                Ok(Scope(None))
            }
            fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Scope, E> {
                Ok(Scope(None))
            }
            fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Scope, E> {
                Ok(Scope(None))
            }
            fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Scope, E> {
                Ok(Scope(None))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Scope, E> {
                Ok(Scope(None))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for NamedUsers {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = NamedUsers;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object with named-users lists")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NamedUsers, A::Error> {
                let mut scopes = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    if key == LIST {
                        scopes.push((LOCAL.to_owned(), count(&mut map)?));
                    } else if let Scope(Some(n)) = map.next_value()? {
                        scopes.push((key, n));
                    }
                }
                Ok(NamedUsers { scopes })
            }
        }
        d.deserialize_map(V)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::connect_secure::testing::check;
    use crate::collectors::json;
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
