//! ER2 `risk` collector (PRO edition): risk levels, risk profiles and data
//! type rules. Without a PRO licence the API answers 403 with a message
//! naming the PRO edition; that is reported as the feature being
//! unavailable, not as a failure. Each of the three endpoints also answers
//! 403 "Access denied." to an API user without the Global Admin or Risk
//! Admin permission: only that endpoint's series go, with a warning and
//! `er2_feature_available{feature="<endpoint's part>"} 0`.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::options::Options;
use crate::collector::{CollectError, Context, basic_auth, offload};
use crate::exposition::{Desc, Samples};
use crate::json::{self, Flag, Text};
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

/// One list of the inventory, or the 403 that kept it from the API user.
#[derive(Debug)]
pub enum Part<T> {
    /// The list as the appliance sent it.
    Read(Vec<T>),
    /// 403 without the PRO-edition message: the API user lacks the
    /// permission (the appliance's message, clipped, for the log).
    Denied(String),
}

impl<T> Part<T> {
    /// Rows read (none when denied).
    pub fn rows(&self) -> usize {
        match self {
            Part::Read(list) => list.len(),
            Part::Denied(_) => 0,
        }
    }
}

/// What the risk endpoints said.
#[derive(Debug)]
pub enum Risk {
    /// The edition has no risk scoring (403 naming the PRO edition).
    Unavailable,
    /// The inventory.
    Available {
        /// Risk levels.
        levels: Part<Level>,
        /// Risk profiles.
        profiles: Part<Profile>,
        /// Data type rules.
        rules: Part<Rule>,
    },
}

/// The `feature` label value of each endpoint's part of the inventory.
const PART_FEATURES: [(&str, &str); 3] = [
    (LEVELS, "risk_levels"),
    (PROFILES, "risk_profiles"),
    (RULES, "datatype_rules"),
];

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
        levels: decode_part(levels).await?,
        profiles: decode_part(profiles).await?,
        rules: decode_part(rules).await?,
    })
}

/// A list, or the permission refusal that stands for it (any 403 that is
/// not the PRO-edition one).
async fn decode_part<T: serde::de::DeserializeOwned + Send + 'static>(
    reply: Reply,
) -> Result<Part<T>, UpstreamError> {
    if reply.status == reqwest::StatusCode::FORBIDDEN {
        let message = json::error_message(&reply.body).unwrap_or_default();
        return Ok(Part::Denied(json::clip(&message, 80)));
    }
    let reply = reply.require_success()?;
    let list: json::OneOrMany<T> = offload::decode(reply.endpoint, &reply.body).await?;
    Ok(Part::Read(list.0))
}

/// The part's list, or `None` after saying that it was denied.
fn read_part<'a, T>(s: &mut Samples, endpoint: &'static str, part: &'a Part<T>) -> Option<&'a [T]> {
    let feature = PART_FEATURES
        .iter()
        .find(|(e, _)| *e == endpoint)
        .map_or(endpoint, |(_, f)| f);
    match part {
        Part::Read(list) => {
            s.push(&FEATURE, &[("feature", feature)], 1_i64);
            Some(list)
        }
        Part::Denied(message) => {
            s.push(&FEATURE, &[("feature", feature)], 0_i64);
            s.warn(
                endpoint,
                "",
                format!(
                    "access denied (HTTP 403 \"{message}\"): the API user needs the Global Admin or Risk Admin permission; this endpoint's series are left out"
                ),
            );
            None
        }
    }
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
            } => levels.rows() + profiles.rows() + rules.rows(),
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
    let levels = read_part(&mut s, LEVELS, levels);
    let profiles = read_part(&mut s, PROFILES, profiles);
    let rules = read_part(&mut s, RULES, rules);

    let mut label_of: BTreeMap<&str, &str> = BTreeMap::new();
    let mut by_label: BTreeMap<&str, i64> = BTreeMap::new();
    if let Some(levels) = levels {
        s.push_plain(&LEVEL_COUNT, levels.len());
    }
    for (i, level) in levels.unwrap_or_default().iter().enumerate() {
        let (Some(id), Some(label)) = (level.level_id.as_str(), level.label.as_str()) else {
            s.warn(LEVELS, format!("[{i}]"), "level without level_id or label");
            continue;
        };
        label_of.insert(id, label);
        by_label.entry(label).or_default();
    }
    let Some(profiles) = profiles else {
        encode_rules(&mut s, rules);
        return s;
    };
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
    encode_rules(&mut s, rules);
    s
}

fn encode_rules(s: &mut Samples, rules: Option<&[Rule]>) {
    let Some(rules) = rules else {
        return;
    };
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
}

/// The collector: [`fetch`], then [`encode`] (off the worker when large).
pub async fn collect(ctx: &Context<'_, Options>) -> Result<Samples, CollectError> {
    let snapshot = fetch(ctx.upstream, &basic_auth(ctx)?).await?;
    let rows = snapshot.rows();
    Ok(offload::encode(PROFILES, rows, move || encode(&snapshot)).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exposition::{Format, render_samples};
    use crate::simulator::enterprise_recon as sim;

    fn available() -> Risk {
        Risk::Available {
            levels: Part::Read(
                json::decode::<json::OneOrMany<Level>>(LEVELS, sim::RISK_LEVELS.as_bytes())
                    .unwrap()
                    .0,
            ),
            profiles: Part::Read(
                json::decode::<json::OneOrMany<Profile>>(PROFILES, sim::RISK_PROFILES.as_bytes())
                    .unwrap()
                    .0,
            ),
            rules: Part::Read(
                json::decode::<json::OneOrMany<Rule>>(RULES, sim::DATATYPE_RULES.as_bytes())
                    .unwrap()
                    .0,
            ),
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
                "er2_feature_available{target=\"er2\",feature=\"risk_levels\"} 1",
                "er2_feature_available{target=\"er2\",feature=\"risk_profiles\"} 1",
                "er2_feature_available{target=\"er2\",feature=\"datatype_rules\"} 1",
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
            levels: Part::Read(Vec::new()),
            profiles: Part::Read(vec![Profile {
                level_id: Text::Value("42".into()),
            }]),
            rules: Part::Read(Vec::new()),
        };
        let out = render_samples(None, encode(&risk), Format::Text004).unwrap();
        assert!(
            out.contains("er2_risk_profiles{level=\"unknown\"} 1\n"),
            "{out}"
        );
    }

    #[test]
    fn a_denied_endpoint_drops_only_its_own_series() {
        let Risk::Available {
            levels, profiles, ..
        } = available()
        else {
            unreachable!()
        };
        let risk = Risk::Available {
            levels,
            profiles,
            rules: Part::Denied("Access denied.".into()),
        };
        let samples = encode(&risk);
        let warnings: Vec<String> = samples.warnings.iter().map(|w| w.to_string()).collect();
        assert_eq!(
            warnings,
            [
                "/v1/datatypes/rules : access denied (HTTP 403 \"Access denied.\"): the API user needs the Global Admin or Risk Admin permission; this endpoint's series are left out"
            ]
        );
        let out = render_samples(Some("er2"), samples, Format::Text004).unwrap();
        let series: Vec<&str> = out.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            series,
            [
                "er2_feature_available{target=\"er2\",feature=\"risk\"} 1",
                "er2_feature_available{target=\"er2\",feature=\"risk_levels\"} 1",
                "er2_feature_available{target=\"er2\",feature=\"risk_profiles\"} 1",
                "er2_feature_available{target=\"er2\",feature=\"datatype_rules\"} 0",
                "er2_risk_levels{target=\"er2\"} 3",
                "er2_risk_profiles{target=\"er2\",level=\"High\"} 1",
                "er2_risk_profiles{target=\"er2\",level=\"Low\"} 0",
                "er2_risk_profiles{target=\"er2\",level=\"Medium\"} 0",
            ]
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
