//! ER2 `risk` collector (PRO edition): risk levels, risk profiles and data
//! type rules. Without a PRO licence the API answers 403 with a message
//! naming the PRO edition; that is reported as the feature being
//! unavailable, not as a failure.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::collectors::json::{self, Flag, Text};
use crate::exposition::{Desc, Samples};
use crate::upstream::{BasicAuth, Reply, Request, Upstream, UpstreamError};

/// Risk levels endpoint.
pub const LEVELS: &str = "/v1/risk/levels";
/// Risk profiles endpoint.
pub const PROFILES: &str = "/v1/risk/profiles";
/// Data type rules endpoint.
pub const RULES: &str = "/v1/datatypes/rules";

static FEATURE: Desc = Desc::gauge(
    "er2_feature_available",
    "1 if an Enterprise Recon feature is licensed on this master server, 0 if it needs another edition",
);
static LEVEL_COUNT: Desc = Desc::gauge(
    "er2_risk_levels",
    "Risk levels defined on the Enterprise Recon master server",
);
static PROFILE_COUNT: Desc = Desc::gauge(
    "er2_risk_profiles",
    "Risk profiles by the label of their risk level (unknown when the level id matches none)",
);
static RULE_COUNT: Desc = Desc::gauge(
    "er2_datatype_rules",
    "Data type rules, by whether they are sealed (used by a risk profile)",
);

/// One risk level.
#[derive(Debug, Default, Deserialize)]
pub struct Level {
    /// Level id.
    #[serde(default)]
    pub level_id: Text,
    /// Low, Medium, High.
    #[serde(default)]
    pub label: Text,
}

/// One risk profile (only the field used).
#[derive(Debug, Default, Deserialize)]
pub struct Profile {
    /// The profile's risk level id.
    #[serde(default)]
    pub level_id: Text,
}

/// One data type rule (only the field used).
#[derive(Debug, Default, Deserialize)]
pub struct Rule {
    /// Whether a risk profile uses the rule.
    #[serde(default)]
    pub sealed: Flag,
}

/// What the risk endpoints said.
#[derive(Debug)]
pub enum Risk {
    /// The edition has no risk scoring (403 naming the PRO edition).
    Unavailable,
    /// The inventory.
    Available {
        /// Risk levels.
        levels: Vec<Level>,
        /// Risk profiles.
        profiles: Vec<Profile>,
        /// Data type rules.
        rules: Vec<Rule>,
    },
}

/// Whether a reply is the 403 that means "not the PRO edition".
pub fn is_pro_required(reply: &Reply) -> bool {
    reply.status.as_u16() == 403
        && json::error_message(&reply.body).is_some_and(|m| m.contains("PRO Edition"))
}

/// Fetches the three endpoints concurrently.
pub async fn fetch(upstream: &Upstream, auth: &BasicAuth) -> Result<Risk, UpstreamError> {
    let (levels, profiles, rules) = tokio::try_join!(
        upstream.send(Request::get(LEVELS, LEVELS, Some(auth))),
        upstream.send(Request::get(PROFILES, PROFILES, Some(auth))),
        upstream.send(Request::get(RULES, RULES, Some(auth))),
    )?;
    if [&levels, &profiles, &rules]
        .into_iter()
        .any(is_pro_required)
    {
        return Ok(Risk::Unavailable);
    }
    Ok(Risk::Available {
        levels: decode_list(levels).await?,
        profiles: decode_list(profiles).await?,
        rules: decode_list(rules).await?,
    })
}

async fn decode_list<T: serde::de::DeserializeOwned + Send + 'static>(
    reply: Reply,
) -> Result<Vec<T>, UpstreamError> {
    let reply = reply.require_success()?;
    let list: json::OneOrMany<T> =
        crate::collectors::offload::decode(reply.endpoint, &reply.body).await?;
    Ok(list.0)
}

impl Risk {
    /// Rows of every list, which the encoding's work follows.
    pub fn rows(&self) -> usize {
        match self {
            Risk::Unavailable => 0,
            Risk::Available {
                levels,
                profiles,
                rules,
            } => levels.len() + profiles.len() + rules.len(),
        }
    }
}

/// Encodes a risk snapshot.
pub fn encode(risk: &Risk) -> Samples {
    let mut s = Samples::new();
    let (levels, profiles, rules) = match risk {
        Risk::Unavailable => {
            s.push(&FEATURE, &[("feature", "risk")], 0_i64);
            return s;
        }
        Risk::Available {
            levels,
            profiles,
            rules,
        } => (levels, profiles, rules),
    };
    s.push(&FEATURE, &[("feature", "risk")], 1_i64);
    s.push_plain(&LEVEL_COUNT, levels.len());

    let mut label_of: BTreeMap<&str, &str> = BTreeMap::new();
    let mut by_label: BTreeMap<&str, i64> = BTreeMap::new();
    for (i, level) in levels.iter().enumerate() {
        let (Some(id), Some(label)) = (level.level_id.as_str(), level.label.as_str()) else {
            s.warn(LEVELS, format!("[{i}]"), "level without level_id or label");
            continue;
        };
        label_of.insert(id, label);
        by_label.entry(label).or_default();
    }
    for p in profiles {
        let label = p
            .level_id
            .as_str()
            .and_then(|id| label_of.get(id).copied())
            .unwrap_or("unknown");
        *by_label.entry(label).or_default() += 1;
    }
    for (label, n) in by_label {
        s.push(&PROFILE_COUNT, &[("level", label)], n);
    }

    let (mut sealed, mut open) = (0_i64, 0_i64);
    for (i, rule) in rules.iter().enumerate() {
        match &rule.sealed {
            Flag::Value(true) => sealed += 1,
            Flag::Value(false) => open += 1,
            Flag::Missing => s.warn(RULES, format!("[{i}].sealed"), "missing"),
            Flag::Invalid(why) => s.warn(RULES, format!("[{i}].sealed"), why.clone()),
        }
    }
    s.push(&RULE_COUNT, &[("sealed", "false")], open);
    s.push(&RULE_COUNT, &[("sealed", "true")], sealed);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exposition::{Format, render_samples};
    use crate::simulator::enterprise_recon as sim;

    fn available() -> Risk {
        Risk::Available {
            levels: json::decode::<json::OneOrMany<Level>>(LEVELS, sim::RISK_LEVELS.as_bytes())
                .unwrap()
                .0,
            profiles: json::decode::<json::OneOrMany<Profile>>(
                PROFILES,
                sim::RISK_PROFILES.as_bytes(),
            )
            .unwrap()
            .0,
            rules: json::decode::<json::OneOrMany<Rule>>(RULES, sim::DATATYPE_RULES.as_bytes())
                .unwrap()
                .0,
        }
    }

    #[test]
    fn document_samples() {
        let out = render_samples(Some("er2"), encode(&available()), Format::Text004).unwrap();
        let series: Vec<&str> = out.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            series,
            [
                "er2_feature_available{target=\"er2\",feature=\"risk\"} 1",
                "er2_risk_levels{target=\"er2\"} 3",
                "er2_risk_profiles{target=\"er2\",level=\"High\"} 1",
                "er2_risk_profiles{target=\"er2\",level=\"Low\"} 0",
                "er2_risk_profiles{target=\"er2\",level=\"Medium\"} 0",
                "er2_datatype_rules{target=\"er2\",sealed=\"false\"} 1",
                "er2_datatype_rules{target=\"er2\",sealed=\"true\"} 1",
            ]
        );
    }

    #[test]
    fn the_profile_sample_is_read_despite_its_trailing_commas() {
        assert!(serde_json::from_str::<serde_json::Value>(sim::RISK_PROFILES).is_err());
        let profiles =
            json::decode::<json::OneOrMany<Profile>>(PROFILES, sim::RISK_PROFILES.as_bytes())
                .unwrap();
        assert_eq!(
            profiles.0[0].level_id,
            Text::Value("1357066370714289807".into())
        );
    }

    #[test]
    fn unknown_level_id_counts_as_unknown() {
        let risk = Risk::Available {
            levels: Vec::new(),
            profiles: vec![Profile {
                level_id: Text::Value("42".into()),
            }],
            rules: Vec::new(),
        };
        let out = render_samples(None, encode(&risk), Format::Text004).unwrap();
        assert!(
            out.contains("er2_risk_profiles{level=\"unknown\"} 1\n"),
            "{out}"
        );
    }

    #[test]
    fn pro_edition_missing_is_not_a_failure() {
        let out = render_samples(Some("er2"), encode(&Risk::Unavailable), Format::Text004).unwrap();
        let series: Vec<&str> = out.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            series,
            ["er2_feature_available{target=\"er2\",feature=\"risk\"} 0"]
        );
    }

    #[test]
    fn only_the_pro_message_means_unavailable() {
        let reply = |status: u16, body: &'static str| Reply {
            endpoint: LEVELS,
            status: reqwest::StatusCode::from_u16(status).unwrap(),
            body: bytes::Bytes::from_static(body.as_bytes()),
        };
        assert!(is_pro_required(&reply(403, sim::PRO_EDITION_REQUIRED)));
        assert!(!is_pro_required(&reply(403, sim::ACCESS_DENIED)));
        assert!(!is_pro_required(&reply(200, sim::PRO_EDITION_REQUIRED)));
    }
}
