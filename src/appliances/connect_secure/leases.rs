//! ICS `leases` collector: `GET /api/v1/license/license-server-lease-information`
//! on a licence server, as licences per feature and leases per feature and
//! client, with the capacity the module configures per feature.

use std::collections::HashSet;

use serde::Deserialize;

use super::options::{LeasesOptions, Options};
use super::{Gateway, SharedState, unique_name};
use crate::collector::{CollectError, Context, offload};
use crate::exposition::{Desc, Samples};
use crate::json::{Num, OneOrMany, Text};
use crate::upstream::UpstreamError;

/// The endpoint, as logged and labelled.
pub const ENDPOINT: &str = "/api/v1/license/license-server-lease-information";

static FEATURE_LICENSES: Desc = Desc::gauge(
    "ics_license_feature_licenses",
    "Licences of a feature on the Connect Secure licence server (total-count)",
);
static LEASED: Desc = Desc::gauge(
    "ics_license_leased",
    "Licences of a feature leased to a licence client (leased-count)",
);
static CAPACITY: Desc = Desc::gauge(
    "ics_license_capacity",
    "Licence capacity of a feature, as configured in the module (leases.capacity)",
);

/// The answer of the lease information endpoint.
#[derive(Debug, Default, Deserialize)]
pub struct LeaseInformation {
    /// The counts.
    #[serde(default, rename = "leased-license-counts")]
    pub counts: Counts,
}

impl LeaseInformation {
    /// Features, which the encoding's work follows.
    pub fn rows(&self) -> usize {
        self.counts
            .features
            .as_ref()
            .map_or(0, |f| f.feature.0.len())
    }
}

/// `leased-license-counts` (only the part used).
#[derive(Debug, Default, Deserialize)]
pub struct Counts {
    /// The features (`null` when there are none).
    #[serde(default)]
    pub features: Option<Features>,
}

/// `features`: a list, or a single object, of `feature`.
#[derive(Debug, Default, Deserialize)]
pub struct Features {
    /// The features.
    #[serde(default)]
    pub feature: OneOrMany<Feature>,
}

/// One licensed feature.
#[derive(Debug, Default, Deserialize)]
pub struct Feature {
    /// Feature name, e.g. "Concurrent Users".
    #[serde(default)]
    pub name: Text,
    /// Licences of the feature.
    #[serde(default, rename = "total-count")]
    pub total_count: Num,
    /// The clients holding leases (`null` when there are none).
    #[serde(default)]
    pub clients: Option<Clients>,
}

/// `clients`: a list, or a single object, of `client-info`.
#[derive(Debug, Default, Deserialize)]
pub struct Clients {
    /// The clients.
    #[serde(default, rename = "client-info")]
    pub client_info: OneOrMany<Client>,
}

/// One licence client.
#[derive(Debug, Default, Deserialize)]
pub struct Client {
    /// Client name.
    #[serde(default)]
    pub name: Text,
    /// Licences leased to it.
    #[serde(default, rename = "leased-count")]
    pub leased_count: Num,
}

/// Fetches the lease information.
pub async fn fetch(gateway: &Gateway<'_>) -> Result<LeaseInformation, UpstreamError> {
    gateway.get_json(ENDPOINT, ENDPOINT).await
}

/// Encodes a lease snapshot and the configured capacities.
pub fn encode(l: &LeaseInformation, options: &LeasesOptions) -> Samples {
    let mut s = Samples::new();
    let mut features = HashSet::new();
    let listed = l.counts.features.iter().flat_map(|f| &f.feature.0);
    for (i, f) in listed.enumerate() {
        let field = format!("leased-license-counts.features.feature[{i}]");
        let name_field = format!("{field}.name");
        let Some(feature) = unique_name(&mut s, ENDPOINT, name_field, &f.name, &mut features)
        else {
            continue;
        };
        let labels = [("feature", feature)];
        if let Some(v) = f
            .total_count
            .read(&mut s, ENDPOINT, &format!("{field}.total-count"))
        {
            s.push(&FEATURE_LICENSES, &labels, v);
        }
        let mut clients = HashSet::new();
        let leases = f.clients.iter().flat_map(|c| &c.client_info.0);
        for (j, c) in leases.enumerate() {
            let cfield = format!("{field}.clients.client-info[{j}]");
            let name_field = format!("{cfield}.name");
            let Some(client) = unique_name(&mut s, ENDPOINT, name_field, &c.name, &mut clients)
            else {
                continue;
            };
            if let Some(v) =
                c.leased_count
                    .read(&mut s, ENDPOINT, &format!("{cfield}.leased-count"))
            {
                s.push(&LEASED, &[("feature", feature), ("client", client)], v);
            }
        }
    }
    for (feature, capacity) in &options.capacity {
        s.push(&CAPACITY, &[("feature", feature)], *capacity);
    }
    s
}

/// The collector: [`fetch`], then [`encode`] (off the worker when large).
pub async fn collect(ctx: &Context<'_, Options, SharedState>) -> Result<Samples, CollectError> {
    let snapshot = fetch(&Gateway::new(ctx)?).await?;
    let (rows, options) = (snapshot.rows(), ctx.options.leases.clone());
    Ok(offload::encode(ENDPOINT, rows, move || encode(&snapshot, &options)).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appliances::connect_secure::testing::{check, exposition};
    use crate::json;
    use crate::simulator::connect_secure as sim;

    fn decode(body: &str) -> LeaseInformation {
        json::decode(ENDPOINT, body.as_bytes()).unwrap()
    }

    #[test]
    fn document_sample_repaired_with_capacity() {
        let options = LeasesOptions {
            capacity: [("Concurrent Users".to_owned(), 250)].into(),
        };
        check(encode(&decode(sim::LEASES), &options), "leases.prom");
    }

    #[test]
    fn the_unrepaired_document_sample_fails_with_a_syntax_error() {
        let broken = sim::LEASES.replacen(
            "]\n},\n\"name\": \"Concurrent Users\"",
            "]\n],\n\"name\": \"Concurrent Users\"",
            1,
        );
        assert_ne!(broken, sim::LEASES);
        let err = json::decode::<LeaseInformation>(ENDPOINT, broken.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("invalid JSON"), "{err}");
    }

    #[test]
    fn single_objects_and_string_counts() {
        let l = decode(
            r#"{"leased-license-counts": {"features": {"feature":
                {"name": "Concurrent Users", "total-count": "200",
                 "clients": {"client-info": {"name": "client1", "leased-count": "150"}}}}}}"#,
        );
        let (out, warnings) = exposition(encode(&l, &LeasesOptions::default()));
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(
            out,
            "# HELP ics_license_feature_licenses Licences of a feature on the Connect Secure licence server (total-count)\n\
             # TYPE ics_license_feature_licenses gauge\n\
             ics_license_feature_licenses{target=\"ics\",feature=\"Concurrent Users\"} 200\n\
             # HELP ics_license_leased Licences of a feature leased to a licence client (leased-count)\n\
             # TYPE ics_license_leased gauge\n\
             ics_license_leased{target=\"ics\",feature=\"Concurrent Users\",client=\"client1\"} 150\n"
        );
    }

    #[test]
    fn a_bad_count_drops_only_its_series() {
        let l = decode(
            r#"{"leased-license-counts": {"features": {"feature": [
                {"name": "A", "total-count": "lots", "clients": {"client-info": [{"name": "c", "leased-count": 1}, {"leased-count": 2}]}}]}}}"#,
        );
        let (out, warnings) = exposition(encode(&l, &LeasesOptions::default()));
        assert!(!out.contains("ics_license_feature_licenses{"), "{out}");
        assert!(
            out.contains("ics_license_leased{target=\"ics\",feature=\"A\",client=\"c\"} 1\n"),
            "{out}"
        );
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(
            warnings[0].contains("feature[0].total-count: expected a number"),
            "{warnings:?}"
        );
        assert!(
            warnings[1].contains("feature[0].clients.client-info[1].name: missing"),
            "{warnings:?}"
        );
    }
}
