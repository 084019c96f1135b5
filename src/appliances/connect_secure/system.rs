//! ICS `system` collector: `GET /api/v1/system/system-information` as the
//! hardware and software inventory (`_info` series).

use serde::Deserialize;

use super::options::Options;
use super::{Gateway, SharedState};
use crate::collector::{CollectError, Context};
use crate::exposition::{Desc, Samples};
use crate::json::{OneOrMany, Text};
use crate::upstream::UpstreamError;

/// The endpoint, as logged and labelled.
pub const ENDPOINT: &str = "/api/v1/system/system-information";

static SYSTEM_INFO: Desc = Desc::gauge(
    "ics_system_info",
    "Connect Secure gateway hardware model, host name, OS, serial number and machine id; always 1",
);
static SOFTWARE_INFO: Desc = Desc::gauge(
    "ics_software_info",
    "Software installed on the Connect Secure gateway, with version and build; always 1",
);
static ROLLBACK_INFO: Desc = Desc::gauge(
    "ics_rollback_info",
    "The OS in the rollback partition of the Connect Secure gateway; always 1",
);

/// The answer of the system information endpoint.
#[derive(Debug, Default, Deserialize)]
pub struct SystemInformation {
    /// The appliance.
    #[serde(default, rename = "system-information")]
    pub system: Option<System>,
    /// The installed software.
    #[serde(default, rename = "software-inventory")]
    pub software_inventory: Option<SoftwareInventory>,
    /// The rollback partition.
    #[serde(default, rename = "rollback-partition-information")]
    pub rollback: Option<Rollback>,
}

/// `system-information`.
#[derive(Debug, Default, Deserialize)]
pub struct System {
    /// e.g. ISA4000-V.
    #[serde(default, rename = "hardware-model")]
    pub hardware_model: Text,
    /// Host name.
    #[serde(default, rename = "host-name")]
    pub host_name: Text,
    /// e.g. ive-sa.
    #[serde(default, rename = "os-name")]
    pub os_name: Text,
    /// e.g. 9.1R4.
    #[serde(default, rename = "os-version")]
    pub os_version: Text,
    /// Serial number.
    #[serde(default, rename = "serial-number")]
    pub serial_number: Text,
    /// Machine id (newer releases).
    #[serde(default, rename = "machine-id")]
    pub machine_id: Text,
}

/// `software-inventory`: one `software` object or a list of them.
#[derive(Debug, Default, Deserialize)]
pub struct SoftwareInventory {
    /// The packages.
    #[serde(default)]
    pub software: OneOrMany<Software>,
}

/// One installed package.
#[derive(Debug, Default, Deserialize)]
pub struct Software {
    /// e.g. IVE-OS.
    #[serde(default)]
    pub name: Text,
    /// e.g. 9.1R4.
    #[serde(default)]
    pub version: Text,
    /// Build number.
    #[serde(default)]
    pub build: Text,
}

/// `rollback-partition-information`.
#[derive(Debug, Default, Deserialize)]
pub struct Rollback {
    /// Build number.
    #[serde(default)]
    pub build: Text,
    /// e.g. ive-sa.
    #[serde(default, rename = "os-name")]
    pub os_name: Text,
    /// e.g. 9.1R2.
    #[serde(default, rename = "os-version")]
    pub os_version: Text,
}

/// Fetches the system information.
pub async fn fetch(gateway: &Gateway<'_>) -> Result<SystemInformation, UpstreamError> {
    gateway.get_json(ENDPOINT, ENDPOINT).await
}

fn text(t: &Text) -> &str {
    t.as_str().unwrap_or("")
}

/// Encodes a system information snapshot.
pub fn encode(info: &SystemInformation) -> Samples {
    let mut s = Samples::new();
    match &info.system {
        Some(sys) => s.push(
            &SYSTEM_INFO,
            &[
                ("hardware_model", text(&sys.hardware_model)),
                ("host_name", text(&sys.host_name)),
                ("os_name", text(&sys.os_name)),
                ("os_version", text(&sys.os_version)),
                ("serial_number", text(&sys.serial_number)),
                ("machine_id", text(&sys.machine_id)),
            ],
            1_i64,
        ),
        None => s.warn(ENDPOINT, "system-information", "missing"),
    }
    let packages = info.software_inventory.iter().flat_map(|i| &i.software.0);
    for sw in packages {
        s.push(
            &SOFTWARE_INFO,
            &[
                ("name", text(&sw.name)),
                ("version", text(&sw.version)),
                ("build", text(&sw.build)),
            ],
            1_i64,
        );
    }
    if let Some(r) = &info.rollback {
        s.push(
            &ROLLBACK_INFO,
            &[
                ("os_name", text(&r.os_name)),
                ("os_version", text(&r.os_version)),
                ("build", text(&r.build)),
            ],
            1_i64,
        );
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
    use crate::appliances::connect_secure::testing::{check, exposition};
    use crate::json;
    use crate::simulator::connect_secure as sim;

    fn decode(body: &str) -> SystemInformation {
        json::decode(ENDPOINT, body.as_bytes()).unwrap()
    }

    #[test]
    fn document_sample() {
        check(
            encode(&decode(sim::SYSTEM_INFORMATION)),
            "system_information.prom",
        );
    }

    #[test]
    fn document_sample_with_machine_id() {
        check(
            encode(&decode(sim::SYSTEM_INFORMATION_MACHINE_ID)),
            "system_information_machine_id.prom",
        );
    }

    #[test]
    fn software_as_a_list() {
        let info = decode(
            r#"{"system-information": {"host-name": "h"}, "software-inventory": {"software": [
                {"name": "IVE-OS", "version": "22.7R2", "build": 1234},
                {"name": "ESAP", "version": "4.3.1", "build": "21"}]}}"#,
        );
        let (out, warnings) = exposition(encode(&info));
        assert!(warnings.is_empty(), "{warnings:?}");
        assert!(out.contains("ics_software_info{target=\"ics\",name=\"IVE-OS\",version=\"22.7R2\",build=\"1234\"} 1\n"), "{out}");
        assert!(
            out.contains(
                "ics_software_info{target=\"ics\",name=\"ESAP\",version=\"4.3.1\",build=\"21\"} 1\n"
            ),
            "{out}"
        );
        assert!(!out.contains("ics_rollback_info{"), "{out}");
    }
}
