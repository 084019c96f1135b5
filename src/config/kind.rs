//! The appliance families a module can be of. What the configuration
//! needs to know of a family to check a module (its collectors' names, its
//! options) it reads from the family's `options.rs`; how a family is
//! collected lives with its collectors, reached through `crate::appliances`.

use crate::appliances::connect_secure::options as connect_secure;
use crate::appliances::enterprise_recon::options as enterprise_recon;
use crate::appliances::sectona::options as sectona;

/// The names a family's list of collectors holds (`options::collectors!`).
macro_rules! names {
    ($($collector:ident)*) => {
        &[$(stringify!($collector)),*]
    };
}

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
            Kind::EnterpriseRecon => enterprise_recon::collectors!(names),
            Kind::ConnectSecure => connect_secure::collectors!(names),
            Kind::Sectona => sectona::collectors!(names),
        }
    }
}
