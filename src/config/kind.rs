//! The appliance families a module can be of, and the collectors each
//! offers: what the configuration needs to know of a family to check a
//! module. How a family is collected lives with its collectors, reached
//! through `crate::appliances`.

/// The appliance families.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Ground Labs Enterprise Recon master server.
    EnterpriseRecon,
    /// Ivanti Connect Secure / Policy Secure gateway or cluster.
    ConnectSecure,
    /// Sectona PAM.
    Sectona,
}

impl Kind {
    /// The name used in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::EnterpriseRecon => "enterprise_recon",
            Kind::ConnectSecure => "connect_secure",
            Kind::Sectona => "sectona",
        }
    }

    /// Every collector of the family, in their default order.
    pub const fn collectors(self) -> &'static [&'static str] {
        match self {
            Kind::EnterpriseRecon => &["licenses", "risk", "server"],
            Kind::ConnectSecure => &[
                "healthcheck",
                "cluster",
                "active_users",
                "leases",
                "system",
                "named_users",
            ],
            Kind::Sectona => &["entitlements"],
        }
    }
}
