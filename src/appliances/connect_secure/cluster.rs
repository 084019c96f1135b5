//! ICS `cluster` collector: `GET /api/v1/cluster` as member health (the
//! status-code bitmask decoded into its documented bits), the leader, the
//! VIP owners and the cluster's name and mode. A standalone gateway (404,
//! or an answer without members or name) is reported as such, not as a
//! failure.

use std::collections::HashSet;

use serde::Deserialize;

use super::options::Options;
use super::{Gateway, SharedState, unique_name};
use crate::collector::{CollectError, Context, offload};
use crate::exposition::{Desc, Samples};
use crate::json::{Flag, OneOrMany, Text};
use crate::upstream::UpstreamError;

/// The endpoint, as logged and labelled.
pub const ENDPOINT: &str = "/api/v1/cluster";

static INFO: Desc = Desc::gauge(
    "ics_cluster_info",
    "Connect Secure cluster name and mode (Active/Active or Active/Passive); absent on a standalone gateway; always 1",
);
static ENABLED: Desc = Desc::gauge(
    "ics_cluster_member_enabled",
    "1 if the Connect Secure cluster member is enabled in the cluster configuration (its enabled field; without the field, status bit 0x4 or 0x2)",
);
static REACHABLE: Desc = Desc::gauge(
    "ics_cluster_member_reachable",
    "1 if the Connect Secure cluster member is reachable (status code without the unreachable bit 0x8)",
);
static LEADER: Desc = Desc::gauge(
    "ics_cluster_member_leader",
    "1 if the Connect Secure cluster member is the leader (status bit 0x8000 or notes Leader)",
);
static STATUS_CODE: Desc = Desc::gauge(
    "ics_cluster_member_status_code",
    "The raw status-code bitmask of the Connect Secure cluster member",
);
static STATUS_FLAG: Desc = Desc::gauge(
    "ics_cluster_member_status_flag",
    "1 if the bit of the Connect Secure cluster member status code is set: one series per documented bit (flag=\"enabled\" is bit 0x4 alone, not the member's enabled field), plus flag=\"bit_0x...\" for each undocumented bit that is set",
);
static VIP_OWNER: Desc = Desc::gauge(
    "ics_cluster_vip_owner",
    "The Connect Secure cluster member that owns the internal or external VIP; always 1",
);

/// The documented bits of a member's status code, by flag label.
pub const STATUS_BITS: [(&str, u64); 12] = [
    ("standalone", 0x1),
    ("disabled", 0x2),
    ("enabled", 0x4),
    ("unreachable", 0x8),
    ("syncing", 0x100),
    ("transitioning", 0x200),
    ("int0_no_carrier", 0x800),
    ("configured_member", 0x1000),
    ("owns_vips", 0x2000),
    ("initial_sync", 0x4000),
    ("leader", 0x8000),
    ("group_communication_ok", 0x10000),
];
const DISABLED: u64 = 0x2;
const ENABLED_BIT: u64 = 0x4;
const UNREACHABLE: u64 = 0x8;
const LEADER_BIT: u64 = 0x8000;

/// The answer of `GET /api/v1/cluster`.
#[derive(Debug, Default, Deserialize)]
pub struct ClusterStatus {
    /// Cluster name.
    #[serde(default)]
    pub name: Text,
    /// Active/Active or Active/Passive.
    #[serde(default)]
    pub mode: Text,
    /// The members.
    #[serde(default)]
    pub members: OneOrMany<Member>,
    /// The member owning the internal VIP (Active/Passive).
    #[serde(default, rename = "internal-vip-owner")]
    pub internal_vip_owner: Text,
    /// The member owning the external VIP (Active/Passive).
    #[serde(default, rename = "external-vip-owner")]
    pub external_vip_owner: Text,
}

/// One cluster member (only the fields used).
#[derive(Debug, Default, Deserialize)]
pub struct Member {
    /// Member name.
    #[serde(default)]
    pub name: Text,
    /// Whether it is enabled.
    #[serde(default)]
    pub enabled: Flag,
    /// e.g. "Leader" or "Enabled, Unreachable".
    #[serde(default)]
    pub notes: Text,
    /// The status bitmask, a hex string such as "0x19004".
    #[serde(default, rename = "status-code")]
    pub status_code: Text,
}

/// What the gateway said about clustering.
#[derive(Debug)]
pub enum Cluster {
    /// Not part of a cluster.
    Standalone,
    /// A cluster member's view of the cluster.
    Clustered(ClusterStatus),
}

impl Cluster {
    /// Members, which the encoding's work follows.
    pub fn rows(&self) -> usize {
        match self {
            Cluster::Standalone => 0,
            Cluster::Clustered(status) => status.members.0.len(),
        }
    }
}

/// Fetches the cluster status.
pub async fn fetch(gateway: &Gateway<'_>) -> Result<Cluster, UpstreamError> {
    let reply = gateway.get(ENDPOINT, ENDPOINT).await?;
    if reply.status == reqwest::StatusCode::NOT_FOUND {
        return Ok(Cluster::Standalone);
    }
    let reply = reply.require_success()?;
    let status: ClusterStatus = crate::collector::offload::decode(ENDPOINT, &reply.body).await?;
    Ok(
        if status.members.0.is_empty() && status.name.as_str().is_none_or(str::is_empty) {
            Cluster::Standalone
        } else {
            Cluster::Clustered(status)
        },
    )
}

/// A status code: `0x`-prefixed hex as the document shows, or decimal.
pub fn parse_status_code(text: &str) -> Option<u64> {
    let t = text.trim();
    match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => t.parse().ok(),
    }
}

/// Encodes a cluster snapshot.
pub fn encode(cluster: &Cluster) -> Samples {
    let mut s = Samples::new();
    let Cluster::Clustered(c) = cluster else {
        return s;
    };
    s.push(
        &INFO,
        &[
            ("name", c.name.as_str().unwrap_or("")),
            ("mode", c.mode.as_str().unwrap_or("")),
        ],
        1_i64,
    );
    let mut seen = HashSet::new();
    for (i, m) in c.members.0.iter().enumerate() {
        let field = format!("members[{i}].name");
        let Some(name) = unique_name(&mut s, ENDPOINT, field, &m.name, &mut seen) else {
            continue;
        };
        encode_member(&mut s, i, name, m);
    }
    for (vip, owner) in [
        ("internal", &c.internal_vip_owner),
        ("external", &c.external_vip_owner),
    ] {
        if let Some(member) = owner.as_str().filter(|o| !o.is_empty()) {
            s.push(&VIP_OWNER, &[("vip", vip), ("member", member)], 1_i64);
        }
    }
    s
}

fn encode_member(s: &mut Samples, i: usize, name: &str, m: &Member) {
    let code = match &m.status_code {
        Text::Value(text) => {
            let code = parse_status_code(text);
            if code.is_none() {
                s.warn(
                    ENDPOINT,
                    format!("members[{i}].status-code"),
                    format!(
                        "not a hex or decimal status code: \"{}\"",
                        crate::json::clip(text, 40)
                    ),
                );
            }
            code
        }
        Text::Missing => None,
        Text::Invalid(why) => {
            s.warn(ENDPOINT, format!("members[{i}].status-code"), why.clone());
            None
        }
    };
    let notes = m.notes.as_str().unwrap_or("").to_ascii_lowercase();
    let labels = [("member", name)];
    let enabled = match &m.enabled {
        Flag::Value(v) => Some(*v),
        Flag::Invalid(why) => {
            s.warn(ENDPOINT, format!("members[{i}].enabled"), why.clone());
            None
        }
        Flag::Missing => code
            .filter(|c| c & (ENABLED_BIT | DISABLED) != 0)
            .map(|c| c & ENABLED_BIT != 0),
    };
    if let Some(enabled) = enabled {
        s.push(&ENABLED, &labels, enabled);
    }
    let reachable = match code {
        Some(c) => Some(c & UNREACHABLE == 0),
        None if !notes.is_empty() => Some(!notes.contains("unreachable")),
        None => None,
    };
    if let Some(reachable) = reachable {
        s.push(&REACHABLE, &labels, reachable);
    }
    let leader = code.is_some_and(|c| c & LEADER_BIT != 0) || notes.contains("leader");
    s.push(&LEADER, &labels, leader);
    if let Some(code) = code {
        s.push(&STATUS_CODE, &labels, code);
        for (flag, bit) in STATUS_BITS {
            s.push(
                &STATUS_FLAG,
                &[("member", name), ("flag", flag)],
                code & bit != 0,
            );
        }
        for bit in undocumented_bits(code) {
            let flag = format!("bit_{bit:#x}");
            s.push(&STATUS_FLAG, &[("member", name), ("flag", &flag)], 1_i64);
        }
    }
}

/// The set bits of a status code that the document does not name, lowest
/// first (at most 64, so the series they add are bounded).
fn undocumented_bits(code: u64) -> impl Iterator<Item = u64> {
    let documented = STATUS_BITS.iter().fold(0, |all, (_, bit)| all | bit);
    let rest = code & !documented;
    (0..u64::BITS)
        .map(|i| 1_u64 << i)
        .filter(move |bit| rest & bit != 0)
}

/// The collector: [`fetch`], then [`encode`] (off the worker when large).
pub async fn collect(ctx: &Context<'_, Options, SharedState>) -> Result<Samples, CollectError> {
    let snapshot = fetch(&Gateway::new(ctx)?).await?;
    let rows = snapshot.rows();
    Ok(offload::encode(ENDPOINT, rows, move || encode(&snapshot)).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appliances::connect_secure::testing::{check, exposition};
    use crate::json;
    use crate::simulator::connect_secure as sim;

    fn clustered(body: &str) -> Cluster {
        Cluster::Clustered(json::decode(ENDPOINT, body.as_bytes()).unwrap())
    }

    #[test]
    fn active_active_sample() {
        check(
            encode(&clustered(sim::CLUSTER_ACTIVE_ACTIVE)),
            "cluster_active_active.prom",
        );
    }

    #[test]
    fn active_passive_sample_with_vip_owners() {
        check(
            encode(&clustered(sim::CLUSTER_ACTIVE_PASSIVE)),
            "cluster_active_passive.prom",
        );
    }

    #[test]
    fn status_codes() {
        assert_eq!(parse_status_code("0x19004"), Some(0x19004));
        assert_eq!(parse_status_code(" 0X18 "), Some(0x18));
        assert_eq!(parse_status_code("24"), Some(24));
        assert_eq!(parse_status_code("0xZZ"), None);
        assert_eq!(parse_status_code(""), None);
    }

    #[test]
    fn every_set_bit_stays_visible() {
        assert_eq!(undocumented_bits(0x18).collect::<Vec<_>>(), [0x10]);
        assert_eq!(undocumented_bits(0x19004).count(), 0);
        assert_eq!(
            undocumented_bits(0x8000_0000_0002_0010).collect::<Vec<_>>(),
            [0x10, 0x2_0000, 0x8000_0000_0000_0000]
        );
    }

    #[test]
    fn standalone_has_no_series() {
        let (out, warnings) = exposition(encode(&Cluster::Standalone));
        assert_eq!(out, "");
        assert!(warnings.is_empty());
    }

    #[test]
    fn leader_from_notes_and_enabled_from_bits_when_fields_are_missing() {
        let (out, warnings) = exposition(encode(&clustered(
            r#"{"name": "c", "mode": "Active/Active", "members": {"name": "a", "notes": "Leader", "status-code": 20}}"#,
        )));
        assert!(warnings.is_empty(), "{warnings:?}");
        // 20 = 0x14: enabled, no leader bit; the notes make it the leader.
        assert!(
            out.contains("ics_cluster_member_leader{target=\"ics\",member=\"a\"} 1\n"),
            "{out}"
        );
        assert!(
            out.contains("ics_cluster_member_enabled{target=\"ics\",member=\"a\"} 1\n"),
            "{out}"
        );
        assert!(
            out.contains(
                "ics_cluster_member_status_flag{target=\"ics\",member=\"a\",flag=\"leader\"} 0\n"
            ),
            "{out}"
        );
    }

    #[test]
    fn a_bad_status_code_drops_only_the_series_it_feeds() {
        let (out, warnings) = exposition(encode(&clustered(
            r#"{"name": "c", "members": [{"name": "a", "enabled": true, "notes": "Enabled, Unreachable", "status-code": "0xnope"},
                                         {"name": "a", "status-code": "0x4"}, {"status-code": "0x4"}]}"#,
        )));
        assert!(
            out.contains("ics_cluster_member_enabled{target=\"ics\",member=\"a\"} 1\n"),
            "{out}"
        );
        assert!(
            out.contains("ics_cluster_member_reachable{target=\"ics\",member=\"a\"} 0\n"),
            "{out}"
        );
        assert!(!out.contains("ics_cluster_member_status_code{"), "{out}");
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(
            warnings[0].contains("members[0].status-code: not a hex or decimal status code"),
            "{warnings:?}"
        );
        assert!(
            warnings[1].contains("members[1].name: duplicate name a"),
            "{warnings:?}"
        );
        assert!(
            warnings[2].contains("members[2].name: missing"),
            "{warnings:?}"
        );
    }
}
