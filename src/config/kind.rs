//! The appliance families a module can be of, listed once (`families!`),
//! and what the configuration knows of each: its name, its collectors'
//! names, the credentials it takes, and its sections of a module, turned
//! into its options by the family's own rules. All of it is read from the
//! family's `options.rs`; how a family is collected lives with its
//! collectors, reached through `crate::appliances`, whose registry is built
//! from the same list.

use serde::Deserialize;
use serde_saphyr::Location;

use super::raw::RawModule;

/// The appliance families, one a line: the `Kind` variant, the family's
/// folder under `src/appliances/` (and its name in the configuration), and
/// the module sections only it takes, each with its type as written in the
/// family's `options.rs` (fields of `config::raw::RawModule`, handed to the
/// family's `options::options`). Handed to `$then!`: this module makes
/// [`Kind`] and [`FamilyOptions`] of it, `config::raw` the module's keys,
/// `crate::appliances` the registry.
macro_rules! families {
    ($($then:ident)::+) => {
        $($then)::+! {
            /// Ground Labs Enterprise Recon master server.
            EnterpriseRecon enterprise_recon { licenses: RawLicenses }
            /// Ivanti Connect Secure / Policy Secure gateway or cluster.
            ConnectSecure connect_secure { active_users: RawActiveUsers leases: RawLeases }
            /// Sectona PAM.
            Sectona sectona { instance: RawInstance entitlements: RawEntitlements }
        }
    };
}
pub(crate) use families;

/// The names a family's list of collectors holds (`options::collectors!`).
macro_rules! names {
    ($($collector:ident)*) => {
        &[$(stringify!($collector)),*]
    };
}

/// [`Kind`], [`FamilyOptions`] and what the configuration asks of a family.
macro_rules! kinds {
    ($($(#[$doc:meta])* $kind:ident $family:ident { $($section:ident: $raw:ident)* })*) => {
        /// The appliance families.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Kind {
            $($(#[$doc])* $kind,)*
        }

        /// The options of a module, of its family's shape.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum FamilyOptions {
            $($(#[$doc])* $kind(crate::appliances::$family::options::Options),)*
        }

        impl Kind {
            /// Every family, in the order of the list.
            pub const ALL: &[Kind] = &[$(Kind::$kind),*];

            /// The name used in the configuration.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Kind::$kind => stringify!($family),)*
                }
            }

            /// Every collector of the family, in their default order.
            pub const fn collectors(self) -> &'static [&'static str] {
                match self {
                    $(Kind::$kind => crate::appliances::$family::options::collectors!(names),)*
                }
            }

            /// The shapes of `auths` entries the family takes
            /// (`Credentials::shape`), and what a module is told of another.
            pub fn credentials(self) -> (&'static [&'static str], &'static str) {
                match self {
                    $(Kind::$kind => (
                        crate::appliances::$family::options::CREDENTIALS,
                        crate::appliances::$family::options::NEEDS,
                    ),)*
                }
            }

            /// The module's options, by the family's rules, from its
            /// sections, the collectors it runs and where it is written; a
            /// refusal says where, the key under the module, and why.
            pub(super) fn options(
                self,
                module: &RawModule,
                collectors: &[&str],
                module_at: &Location,
            ) -> Result<FamilyOptions, (Location, String, String)> {
                match self {
                    $(Kind::$kind => crate::appliances::$family::options::options(
                        crate::appliances::$family::options::Sections {
                            $($section: module.$section.as_ref(),)*
                        },
                        collectors,
                        module_at,
                    ).map(FamilyOptions::$kind),)*
                }
            }

            /// The module's sections of this family that are written, with
            /// where (for the check that no module has another family's).
            pub(super) fn written(self, module: &RawModule) -> Vec<(&'static str, Location)> {
                match self {
                    $(Kind::$kind => [$((
                        stringify!($section),
                        module.$section.as_ref().map(|s| s.referenced),
                    )),*].into_iter().filter_map(|(name, at)| Some((name, at?))).collect(),)*
                }
            }
        }
    };
}

families!(kinds);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kind_is_read_by_its_name_in_the_configuration() {
        for kind in Kind::ALL {
            let read: Kind = serde_saphyr::from_str(kind.as_str()).unwrap();
            assert_eq!(read, *kind);
        }
    }
}
