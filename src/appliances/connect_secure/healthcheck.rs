//! ICS `healthcheck` collector: `GET /api/v1/system/healthcheck?status=all`
//! as utilisation ratios, counts and the licensed-users flag. A key that
//! starts with `CPU-UTILIZATION` is the CPU (the document shows
//! `CPU-UTILIZATION4`); -1 means unknown and gives no series.

use std::fmt;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::options::Options;
use super::{Gateway, SharedState};
use crate::collector::{CollectError, Context};
use crate::exposition::{Desc, Samples};
use crate::json::{Flag, Num};
use crate::upstream::UpstreamError;

/// The endpoint, as logged and labelled.
pub const ENDPOINT: &str = "/api/v1/system/healthcheck";
const PATH: &str = "/api/v1/system/healthcheck?status=all";

static CPU: Desc = Desc::gauge(
    "ics_cpu_utilization_ratio",
    "CPU utilisation of the Connect Secure gateway, 0 to 1",
);
static SWAP: Desc = Desc::gauge(
    "ics_swap_utilization_ratio",
    "Swap utilisation of the Connect Secure gateway, 0 to 1",
);
static DISK: Desc = Desc::gauge(
    "ics_disk_utilization_ratio",
    "Disk utilisation of the Connect Secure gateway, 0 to 1",
);
static USERS: Desc = Desc::gauge(
    "ics_signed_in_users",
    "Users signed in to the Connect Secure gateway (USER-COUNT)",
);
static SSL: Desc = Desc::gauge(
    "ics_ssl_connections",
    "SSL connections to the Connect Secure gateway (SSL-CONNECTION-COUNT)",
);
static VPN: Desc = Desc::gauge(
    "ics_vpn_tunnels",
    "VPN tunnels on the Connect Secure gateway (VPN-TUNNEL-COUNT)",
);
static MAX_USERS: Desc = Desc::gauge(
    "ics_max_licensed_users_reached",
    "1 if the Connect Secure gateway has reached its maximum of licensed users",
);

/// The answer of `healthcheck?status=all`; every value is optional and
/// may be a number or a numeric string.
#[derive(Debug, Default)]
pub struct Healthcheck {
    /// The first `CPU-UTILIZATION*` key and its percentage.
    pub cpu: Option<(String, Num)>,
    /// `SWAP-UTILIZATION`, percent.
    pub swap: Num,
    /// `DISK-UTILIZATION`, percent.
    pub disk: Num,
    /// `USER-COUNT`.
    pub users: Num,
    /// `SSL-CONNECTION-COUNT`.
    pub ssl_connections: Num,
    /// `VPN-TUNNEL-COUNT`.
    pub vpn_tunnels: Num,
    /// `MAX-LICENSED-USERS-REACHED`, YES or NO.
    pub max_licensed_users_reached: Flag,
}

impl<'de> Deserialize<'de> for Healthcheck {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Healthcheck;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of healthcheck values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Healthcheck, A::Error> {
                let mut h = Healthcheck::default();
                while let Some(key) = map.next_key::<String>()? {
                    let slot = match key.as_str() {
                        "SWAP-UTILIZATION" => &mut h.swap,
                        "DISK-UTILIZATION" => &mut h.disk,
                        "USER-COUNT" => &mut h.users,
                        "SSL-CONNECTION-COUNT" => &mut h.ssl_connections,
                        "VPN-TUNNEL-COUNT" => &mut h.vpn_tunnels,
                        "MAX-LICENSED-USERS-REACHED" => {
                            h.max_licensed_users_reached = map.next_value()?;
                            continue;
                        }
                        k if k.starts_with("CPU-UTILIZATION") && h.cpu.is_none() => {
                            h.cpu = Some((key, map.next_value()?));
                            continue;
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                            continue;
                        }
                    };
                    *slot = map.next_value()?;
                }
                Ok(h)
            }
        }
        d.deserialize_map(V)
    }
}

/// Fetches and decodes the healthcheck.
pub async fn fetch(gateway: &Gateway<'_>) -> Result<Healthcheck, UpstreamError> {
    gateway.get_json(ENDPOINT, PATH).await
}

/// Encodes a healthcheck snapshot.
pub fn encode(h: &Healthcheck) -> Samples {
    let mut s = Samples::new();
    if let Some((key, cpu)) = &h.cpu {
        push_known(&mut s, &CPU, key, cpu, 100.0);
    }
    push_known(&mut s, &SWAP, "SWAP-UTILIZATION", &h.swap, 100.0);
    push_known(&mut s, &DISK, "DISK-UTILIZATION", &h.disk, 100.0);
    push_known(&mut s, &USERS, "USER-COUNT", &h.users, 1.0);
    push_known(
        &mut s,
        &SSL,
        "SSL-CONNECTION-COUNT",
        &h.ssl_connections,
        1.0,
    );
    push_known(&mut s, &VPN, "VPN-TUNNEL-COUNT", &h.vpn_tunnels, 1.0);
    match &h.max_licensed_users_reached {
        Flag::Value(reached) => s.push_plain(&MAX_USERS, *reached),
        Flag::Missing => {}
        Flag::Invalid(why) => s.warn(ENDPOINT, "MAX-LICENSED-USERS-REACHED", why.clone()),
    }
    s
}

/// Pushes `value / divisor` unless the gateway does not know it (-1).
fn push_known(s: &mut Samples, desc: &'static Desc, field: &str, value: &Num, divisor: f64) {
    match value.read(s, ENDPOINT, field) {
        Some(-1.0) => {}
        Some(v) if v < 0.0 => s.warn(ENDPOINT, field, format!("negative value {v}")),
        Some(v) => s.push_plain(desc, v / divisor),
        None => {}
    }
}

/// The collector: [`fetch`], then [`encode`].
pub async fn collect(ctx: &Context<'_, Options, SharedState>) -> Result<Samples, CollectError> {
    Ok(encode(&fetch(&Gateway::new(ctx)?).await?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appliances::connect_secure::testing::{check, exposition};
    use crate::json;
    use crate::simulator::connect_secure as sim;

    fn decode(body: &str) -> Healthcheck {
        json::decode(ENDPOINT, body.as_bytes()).unwrap()
    }

    #[test]
    fn status_all_sample() {
        check(
            encode(&decode(sim::HEALTHCHECK_STATUS_ALL)),
            "healthcheck_status_all.prom",
        );
    }

    #[test]
    fn other_healthcheck_answers_give_no_series() {
        for body in [sim::HEALTHCHECK, sim::HEALTHCHECK_SBR] {
            let (out, warnings) = exposition(encode(&decode(body)));
            assert_eq!(out, "", "{body}");
            assert!(warnings.is_empty());
        }
    }

    #[test]
    fn strings_any_cpu_key_and_unknowns() {
        let h = decode(
            r#"{"CPU-UTILIZATION": "55", "SWAP-UTILIZATION": "-1", "DISK-UTILIZATION": "12.5",
                "USER-COUNT": "1234", "SSL-CONNECTION-COUNT": -1, "VPN-TUNNEL-COUNT": "7",
                "MAX-LICENSED-USERS-REACHED": "YES"}"#,
        );
        let (out, warnings) = exposition(encode(&h));
        assert!(warnings.is_empty(), "{warnings:?}");
        assert!(
            out.contains("ics_cpu_utilization_ratio{target=\"ics\"} 0.55\n"),
            "{out}"
        );
        assert!(!out.contains("ics_swap_utilization_ratio{"), "{out}");
        assert!(
            out.contains("ics_disk_utilization_ratio{target=\"ics\"} 0.125\n"),
            "{out}"
        );
        assert!(
            out.contains("ics_signed_in_users{target=\"ics\"} 1234\n"),
            "{out}"
        );
        assert!(!out.contains("ics_ssl_connections{"), "{out}");
        assert!(out.contains("ics_vpn_tunnels{target=\"ics\"} 7\n"), "{out}");
        assert!(
            out.contains("ics_max_licensed_users_reached{target=\"ics\"} 1\n"),
            "{out}"
        );
    }

    #[test]
    fn a_bad_value_drops_only_its_series() {
        let h = decode(
            r#"{"CPU-UTILIZATION1": "busy", "SWAP-UTILIZATION": -3, "USER-COUNT": 4,
                "MAX-LICENSED-USERS-REACHED": "MAYBE"}"#,
        );
        let (out, warnings) = exposition(encode(&h));
        assert!(
            out.contains("ics_signed_in_users{target=\"ics\"} 4\n"),
            "{out}"
        );
        assert!(!out.contains("ics_cpu_utilization_ratio{"), "{out}");
        assert!(!out.contains("ics_max_licensed_users_reached{"), "{out}");
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(
            warnings[0]
                .starts_with("/api/v1/system/healthcheck CPU-UTILIZATION1: expected a number"),
            "{warnings:?}"
        );
        assert!(
            warnings[1].contains("SWAP-UTILIZATION: negative value -3"),
            "{warnings:?}"
        );
        assert!(
            warnings[2].contains("MAX-LICENSED-USERS-REACHED: expected a boolean"),
            "{warnings:?}"
        );
    }
}
