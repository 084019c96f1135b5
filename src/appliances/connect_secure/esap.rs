//! ICS `esap` collector: `GET
//! /api/v1/configuration/authentication/endpoint/host-checker/esaps`, the
//! host checker's Endpoint Security Assessment Plug-in packages: which one
//! is active, whether a newer one was uploaded but never activated (host
//! checks then judge endpoints against stale definitions), and when the
//! active one was activated.

use std::str::FromStr;

use serde::Deserialize;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{PrimitiveDateTime, UtcOffset};

use super::options::Options;
use super::{Gateway, SharedState};
use crate::collector::{CollectError, Context};
use crate::exposition::{Desc, Samples};
use crate::json::{OneOrMany, Text, clip};
use crate::upstream::UpstreamError;

/// The endpoint, as logged and labelled.
pub const ENDPOINT: &str = "/api/v1/configuration/authentication/endpoint/host-checker/esaps";
/// The request as the document writes it: expanded, without the packages
/// Ivanti bundles with the gateway.
const PATH: &str =
    "/api/v1/configuration/authentication/endpoint/host-checker/esaps?expand&&excludePulsePackages";

static INFO: Desc = Desc::gauge(
    "ics_esap_info",
    "Active and default ESAP (host checker) package versions and the OPSWAT SDK version; always 1",
);
static PACKAGES: Desc = Desc::gauge(
    "ics_esap_packages",
    "ESAP (host checker) packages uploaded to the Connect Secure gateway",
);
static NEWER_AVAILABLE: Desc = Desc::gauge(
    "ics_esap_newer_package_available",
    "1 when an uploaded ESAP package has a higher version than the active one",
);
static ACTIVATED: Desc = Desc::gauge(
    "ics_esap_active_activated_timestamp_seconds",
    "When the active ESAP package was last activated, in seconds since the epoch",
);

/// The answer of the ESAP endpoint.
#[derive(Debug, Default, Deserialize)]
pub struct Esaps {
    /// The version host checks use.
    #[serde(default, rename = "active-version")]
    pub active_version: Text,
    /// The version the gateway falls back to.
    #[serde(default, rename = "default-version")]
    pub default_version: Text,
    /// The OPSWAT SDK the packages are built on.
    #[serde(default, rename = "opswat-sdk-version")]
    pub opswat_sdk_version: Text,
    /// The uploaded packages (one object when only one is uploaded).
    #[serde(default)]
    pub esap: OneOrMany<Package>,
}

/// One uploaded package.
#[derive(Debug, Default, Deserialize)]
pub struct Package {
    /// e.g. 3.3.5.
    #[serde(default, rename = "esap-version")]
    pub version: Text,
    /// e.g. "Sun 17 Mar 2019 23:54:12 PDT", or "Never".
    #[serde(default, rename = "last-activated-time")]
    pub last_activated: Text,
}

/// A dotted package version, compared numerically per component (3.3.10
/// is above 3.3.9); trailing zero components do not count (3.3 = 3.3.0).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(Vec<u64>);

impl FromStr for Version {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let mut parts = s
            .trim()
            .split('.')
            .map(|p| p.parse::<u64>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| format!("\"{}\" is not a dotted version", clip(s, 40)))?;
        while parts.last() == Some(&0) {
            parts.pop();
        }
        Ok(Version(parts))
    }
}

/// "Sun 17 Mar 2019 23:54:12" (the day of the week may be left out; it is
/// read, not checked against the date).
const DATE_TIME: &[BorrowedFormatItem<'_>] = format_description!(
    "[optional [[weekday repr:short] ]][day padding:none] [month repr:short] [year] [hour]:[minute]:[second]"
);

/// Seconds since the epoch of a time as the gateway writes it: "Sun 17
/// Mar 2019 23:54:12 PDT", with a zone of UTC, GMT, a US zone or a numeric
/// offset (+0530, -07:00).
pub fn parse_time(text: &str) -> Result<i64, String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let Some((zone, date_time)) = words.split_last() else {
        return Err("empty".to_owned());
    };
    let offset = zone_offset(zone)?;
    let at = PrimitiveDateTime::parse(&date_time.join(" "), DATE_TIME).map_err(|e| {
        format!(
            "\"{}\" is not a time like \"Sun 17 Mar 2019 23:54:12 PDT\": {e}",
            clip(text, 60)
        )
    })?;
    Ok(at.assume_offset(offset).unix_timestamp())
}

/// The offset of a zone abbreviation or a numeric offset.
fn zone_offset(zone: &str) -> Result<UtcOffset, String> {
    let hours: i8 = match zone.to_ascii_uppercase().as_str() {
        "UTC" | "GMT" | "Z" => 0,
        "EDT" => -4,
        "EST" | "CDT" => -5,
        "CST" | "MDT" => -6,
        "MST" | "PDT" => -7,
        "PST" => -8,
        _ => return numeric_offset(zone),
    };
    UtcOffset::from_hms(hours, 0, 0).map_err(|e| e.to_string())
}

/// +HH, +HHMM or +HH:MM (or with `-`).
fn numeric_offset(zone: &str) -> Result<UtcOffset, String> {
    let unknown = || format!("unknown time zone \"{}\"", clip(zone, 20));
    let (sign, rest) = match zone.as_bytes().first() {
        Some(b'+') => (1, &zone[1..]),
        Some(b'-') => (-1, &zone[1..]),
        _ => return Err(unknown()),
    };
    let digits = rest.replacen(':', "", 1);
    if !matches!(digits.len(), 2 | 4) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(unknown());
    }
    let hours: i8 = digits[..2].parse().map_err(|_| unknown())?;
    let minutes: i8 = digits[2..].parse().unwrap_or(0);
    UtcOffset::from_hms(sign * hours, sign * minutes, 0).map_err(|_| unknown())
}

/// Fetches the ESAP packages.
pub async fn fetch(gateway: &Gateway<'_>) -> Result<Esaps, UpstreamError> {
    gateway.get_json(ENDPOINT, PATH).await
}

/// The text of a field, `""` when missing, or `""` with a warning when it
/// is a list or an object.
fn label<'a>(s: &mut Samples, t: &'a Text, field: &str) -> &'a str {
    if let Text::Invalid(why) = t {
        s.warn(ENDPOINT, field, why.clone());
    }
    t.as_str().unwrap_or("")
}

/// The version of a field, or `None` with a warning.
fn version(s: &mut Samples, t: &Text, field: &str) -> Option<Version> {
    let parsed = match t {
        Text::Value(v) => v.parse(),
        Text::Missing => Err("missing".to_owned()),
        Text::Invalid(why) => Err(why.clone()),
    };
    parsed.map_err(|why| s.warn(ENDPOINT, field, why)).ok()
}

/// Encodes an ESAP snapshot.
pub fn encode(e: &Esaps) -> Samples {
    let mut s = Samples::new();
    // The active version's problems are reported where it is compared.
    let labels = [
        ("active_version", e.active_version.as_str().unwrap_or("")),
        (
            "default_version",
            label(&mut s, &e.default_version, "default-version"),
        ),
        (
            "opswat_sdk_version",
            label(&mut s, &e.opswat_sdk_version, "opswat-sdk-version"),
        ),
    ];
    s.push(&INFO, &labels, 1_i64);
    let packages = &e.esap.0;
    s.push_plain(&PACKAGES, packages.len() as u64);
    let Some(active) = version(&mut s, &e.active_version, "active-version") else {
        return s;
    };
    let versions: Vec<Option<Version>> = packages
        .iter()
        .enumerate()
        .map(|(i, p)| version(&mut s, &p.version, &format!("esap[{i}].esap-version")))
        .collect();
    let newer = versions.iter().flatten().any(|v| *v > active);
    s.push_plain(&NEWER_AVAILABLE, i64::from(newer));
    match versions.iter().position(|v| v.as_ref() == Some(&active)) {
        Some(i) => activated(&mut s, &packages[i], i),
        None => s.warn(
            ENDPOINT,
            "esap",
            "no uploaded package has the active version",
        ),
    }
    s
}

/// The activation time of the active package, the `i`-th.
fn activated(s: &mut Samples, active: &Package, i: usize) {
    let field = format!("esap[{i}].last-activated-time");
    let parsed = match &active.last_activated {
        Text::Value(t) if t.trim().eq_ignore_ascii_case("never") => {
            Err("the active package was never activated".to_owned())
        }
        Text::Value(t) => parse_time(t),
        Text::Missing => Err("missing".to_owned()),
        Text::Invalid(why) => Err(why.clone()),
    };
    match parsed {
        Ok(at) => s.push_plain(&ACTIVATED, at),
        Err(why) => s.warn(ENDPOINT, field, why),
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

    fn decode(body: &str) -> Esaps {
        json::decode(ENDPOINT, body.as_bytes()).unwrap()
    }

    /// The exposition and warnings of `body`.
    fn read(body: &str) -> (String, Vec<String>) {
        exposition(encode(&decode(body)))
    }

    /// Asserts that `out` has the line `ics_esap_<line>`.
    fn has(out: &str, line: &str) {
        assert!(out.contains(&format!("ics_esap_{line}\n")), "{line}: {out}");
    }

    #[test]
    fn document_sample() {
        check(encode(&decode(sim::ESAPS)), "esap.prom");
    }

    fn v(s: &str) -> Version {
        s.parse().unwrap()
    }

    #[test]
    fn versions_compare_numerically() {
        assert!(v("3.3.10") > v("3.3.9"));
        assert!(v("4") > v("3.99.99"));
        assert!(v("3.3.1") > v("3.3"));
        assert_eq!(v("3.3.0"), v("3.3"));
        assert_eq!(v(" 3.3.5 "), v("3.3.5"));
        for bad in ["", "3.3.x", "3..3", "v3.3", "3.3.5-beta"] {
            assert!(bad.parse::<Version>().is_err(), "{bad}");
        }
    }

    #[test]
    fn times_with_zones_and_offsets() {
        // 2019-03-18T06:54:12Z.
        let utc = 1_552_892_052;
        for text in [
            "Sun 17 Mar 2019 23:54:12 PDT",
            "Mon 18 Mar 2019 06:54:12 UTC",
            "18 Mar 2019 06:54:12 gmt",
            "Sun 17 Mar 2019 22:54:12 PST",
            "Mon 18 Mar 2019 02:54:12 EDT",
            "Mon 18 Mar 2019 01:54:12 EST",
            "Mon 18 Mar 2019 01:54:12 CDT",
            "Mon 18 Mar 2019 00:54:12 CST",
            "Mon 18 Mar 2019 00:54:12 MDT",
            "Sun 17 Mar 2019 23:54:12 MST",
            "Mon 18 Mar 2019 12:24:12 +0530",
            "Sun  17 Mar 2019 23:54:12 -07:00",
            "Mon 18 Mar 2019 08:54:12 +02",
        ] {
            assert_eq!(parse_time(text), Ok(utc), "{text}");
        }
        assert_eq!(parse_time("Fri 1 Mar 2019 00:00:00 UTC"), Ok(1_551_398_400));
    }

    #[test]
    fn times_that_do_not_parse() {
        for (text, why) in [
            ("Sun 17 Mar 2019 23:54:12 CET", "unknown time zone \"CET\""),
            ("Sun 17 Mar 2019 23:54:12", "unknown time zone \"23:54:12\""),
            ("Sun 31 Feb 2019 23:54:12 PDT", "is not a time like"),
            ("2019-03-17 23:54:12 PDT", "is not a time like"),
            ("", "empty"),
        ] {
            let err = parse_time(text).unwrap_err();
            assert!(err.contains(why), "{text}: {err}");
        }
    }

    #[test]
    fn a_single_package_as_an_object_with_numbers() {
        let e = decode(
            r#"{"active-version": 4, "default-version": "4", "opswat-sdk-version": 4,
                "esap": {"esap-version": 4, "last-activated-time": "Tue 02 Jan 2024 10:00:00 UTC"}}"#,
        );
        let (out, warnings) = exposition(encode(&e));
        assert!(warnings.is_empty(), "{warnings:?}");
        has(
            &out,
            "info{target=\"ics\",active_version=\"4\",default_version=\"4\",opswat_sdk_version=\"4\"} 1",
        );
        has(&out, "packages{target=\"ics\"} 1");
        has(&out, "newer_package_available{target=\"ics\"} 0");
        has(
            &out,
            "active_activated_timestamp_seconds{target=\"ics\"} 1704189600",
        );
    }

    #[test]
    fn newer_is_numeric_not_textual() {
        let e = decode(
            r#"{"active-version": "3.3.9", "esap": [
                {"esap-version": "3.3.10", "last-activated-time": "Never"},
                {"esap-version": "3.3.9", "last-activated-time": "Never"}]}"#,
        );
        let (out, warnings) = exposition(encode(&e));
        has(&out, "newer_package_available{target=\"ics\"} 1");
        // The active package never activated: no timestamp, one warning.
        assert!(!out.contains("ics_esap_active_activated"), "{out}");
        assert_eq!(
            warnings,
            [format!(
                "{ENDPOINT} esap[1].last-activated-time: the active package was never activated"
            )]
        );
        let older = decode(
            r#"{"active-version": "3.3.10", "esap": [{"esap-version": "3.3.9"},
                {"esap-version": "3.3.10", "last-activated-time": "Mon 18 Mar 2019 21:46:12 PDT"}]}"#,
        );
        let (out, warnings) = exposition(encode(&older));
        assert!(warnings.is_empty(), "{warnings:?}");
        has(&out, "newer_package_available{target=\"ics\"} 0");
    }

    #[test]
    fn missing_and_malformed_fields_drop_only_their_series() {
        let (out, warnings) =
            read(r#"{"default-version": "3.3.5", "esap": [{"esap-version": "3.3.6"}]}"#);
        has(
            &out,
            "info{target=\"ics\",active_version=\"\",default_version=\"3.3.5\",opswat_sdk_version=\"\"} 1",
        );
        has(&out, "packages{target=\"ics\"} 1");
        assert!(!out.contains("ics_esap_newer"), "{out}");
        assert_eq!(warnings, [format!("{ENDPOINT} active-version: missing")]);

        let (out, warnings) = read(
            r#"{"active-version": "3.3.5", "opswat-sdk-version": ["4"], "esap": [
                {"esap-version": "beta"}, {"esap-version": "3.3.5", "last-activated-time": "Sun 17 Mar 2019 23:54:12 CET"},
                {"last-activated-time": "Never"}]}"#,
        );
        has(&out, "packages{target=\"ics\"} 3");
        has(&out, "newer_package_available{target=\"ics\"} 0");
        assert!(!out.contains("ics_esap_active_activated"), "{out}");
        assert_eq!(
            warnings,
            [
                format!("{ENDPOINT} opswat-sdk-version: expected text, got a list"),
                format!("{ENDPOINT} esap[0].esap-version: \"beta\" is not a dotted version"),
                format!("{ENDPOINT} esap[2].esap-version: missing"),
                format!("{ENDPOINT} esap[1].last-activated-time: unknown time zone \"CET\""),
            ]
        );

        let (out, warnings) =
            read(r#"{"active-version": "3.3.8", "esap": [{"esap-version": "3.3.5"}]}"#);
        has(&out, "newer_package_available{target=\"ics\"} 0");
        assert_eq!(
            warnings,
            [format!(
                "{ENDPOINT} esap: no uploaded package has the active version"
            )]
        );
    }

    #[test]
    fn a_body_that_is_not_the_answer_fails() {
        for body in [
            "<html>Maintenance</html>",
            r#"{"esap": "3.3.5"}"#,
            r#""3.3.5""#,
            r#"{"esap": [1, 2]}"#,
        ] {
            assert!(
                json::decode::<Esaps>(ENDPOINT, body.as_bytes()).is_err(),
                "{body}"
            );
        }
    }
}
