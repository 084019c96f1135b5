//! A module's ad-hoc probe policy (`modules.M.probe`): which hosts
//! `/probe?target=URL&module=M` may reach and which auths `&auth=` may pick.
//! Without it a module's credentials go only to its static targets.
//!
//! Hosts are matched against the URL's host as the URL parser writes it
//! (lower case, IPv4 in dotted form, IPv6 without brackets); nothing is
//! resolved, so a name matches only name patterns and an address only
//! address patterns.

use std::fmt;
use std::net::IpAddr;

use serde::Deserialize;

use super::raw::At;

/// `probe:` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProbe {
    pub allowed_hosts: At<Vec<At<String>>>,
    #[serde(default)]
    pub allowed_auths: Vec<At<String>>,
}

/// Where ad-hoc probes of a module may go, and with which auths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbePolicy {
    /// Hosts an ad-hoc target's URL may name.
    pub allowed_hosts: Vec<HostPattern>,
    /// Auths that `&auth=` may pick (the module's own auth is always usable).
    pub allowed_auths: Vec<String>,
}

impl ProbePolicy {
    /// Whether `url`'s host matches one of the allowed hosts.
    pub fn allows_host(&self, url: &url::Url) -> bool {
        url.host()
            .is_some_and(|host| self.allowed_hosts.iter().any(|p| p.matches(&host)))
    }

    /// Whether `&auth=name` may be used.
    pub fn allows_auth(&self, name: &str) -> bool {
        self.allowed_auths.iter().any(|a| a == name)
    }
}

/// One entry of `allowed_hosts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    /// A host name, compared without regard to case.
    Name(String),
    /// A name whose leftmost label has one `*` (`*.example.com`,
    /// `vpn-*.example.com`): the `*` stands for any characters within that
    /// one label, as in a certificate's wildcard.
    Wildcard {
        /// The leftmost label's text before the `*`.
        prefix: String,
        /// The leftmost label's text after the `*`.
        suffix: String,
        /// The labels after the leftmost, with their leading dot.
        rest: String,
    },
    /// Addresses in a CIDR range; a single address is a range of its full
    /// length.
    Range {
        /// The network address.
        network: IpAddr,
        /// Prefix length in bits.
        prefix: u8,
    },
}

impl HostPattern {
    /// Parses an `allowed_hosts` entry.
    pub fn parse(text: &str) -> Result<HostPattern, String> {
        let t = text.trim();
        if t.is_empty() {
            return Err("must not be empty".to_owned());
        }
        if let Ok(url) = url::Url::parse(t)
            && let Some(host) = url.host_str()
        {
            return Err(format!("\"{t}\" is a URL; write only its host ({host})"));
        }
        if let Some((addr, bits)) = t.split_once('/') {
            return parse_range(addr, bits);
        }
        let unbracketed = t.strip_prefix('[').and_then(|s| s.strip_suffix(']'));
        if let Ok(ip) = unbracketed.unwrap_or(t).parse::<IpAddr>() {
            return Ok(HostPattern::Range {
                network: ip,
                prefix: full_length(ip),
            });
        }
        let lower = t.to_ascii_lowercase();
        let invalid =
            || format!("\"{t}\" is not a host name, a *.-wildcard, an IP address or a CIDR range");
        let valid_chars = |s: &str| {
            !s.is_empty()
                && s.split('.').all(|label| {
                    !label.is_empty()
                        && label
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                })
        };
        let Some((first, rest)) = lower.split_once('.').map(|(f, r)| (f, format!(".{r}"))) else {
            return match (lower.contains('*'), valid_chars(&lower)) {
                (true, _) => Err(format!(
                    "\"{t}\": a wildcard needs a domain after it (e.g. *.example.com)"
                )),
                (false, true) => Ok(HostPattern::Name(lower)),
                (false, false) => Err(invalid()),
            };
        };
        if rest.contains('*') {
            return Err(format!(
                "\"{t}\": a * is allowed only in the leftmost label"
            ));
        }
        if !valid_chars(&rest[1..]) {
            return Err(invalid());
        }
        match first.split_once('*') {
            None if valid_chars(first) => Ok(HostPattern::Name(lower)),
            None => Err(invalid()),
            Some((_, after)) if after.contains('*') => {
                Err(format!("\"{t}\": a * is allowed only once"))
            }
            Some((prefix, suffix)) => {
                let ok = |s: &str| s.is_empty() || valid_chars(s);
                if !ok(prefix) || !ok(suffix) {
                    return Err(invalid());
                }
                Ok(HostPattern::Wildcard {
                    prefix: prefix.to_owned(),
                    suffix: suffix.to_owned(),
                    rest,
                })
            }
        }
    }

    /// Whether `host` (of a parsed URL) matches.
    pub fn matches(&self, host: &url::Host<&str>) -> bool {
        match (self, host) {
            (HostPattern::Name(name), url::Host::Domain(d)) => name.eq_ignore_ascii_case(d),
            (
                HostPattern::Wildcard {
                    prefix,
                    suffix,
                    rest,
                },
                url::Host::Domain(d),
            ) => {
                let d = d.to_ascii_lowercase();
                let Some(first) = d.strip_suffix(rest.as_str()) else {
                    return false;
                };
                !first.is_empty()
                    && !first.contains('.')
                    && first.len() >= prefix.len() + suffix.len()
                    && first.starts_with(prefix.as_str())
                    && first.ends_with(suffix.as_str())
            }
            (HostPattern::Range { network, prefix }, url::Host::Ipv4(ip)) => {
                in_range(*network, *prefix, IpAddr::V4(*ip))
            }
            (HostPattern::Range { network, prefix }, url::Host::Ipv6(ip)) => {
                in_range(*network, *prefix, IpAddr::V6(*ip))
            }
            _ => false,
        }
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostPattern::Name(n) => f.write_str(n),
            HostPattern::Wildcard {
                prefix,
                suffix,
                rest,
            } => write!(f, "{prefix}*{suffix}{rest}"),
            HostPattern::Range { network, prefix } if *prefix == full_length(*network) => {
                write!(f, "{network}")
            }
            HostPattern::Range { network, prefix } => write!(f, "{network}/{prefix}"),
        }
    }
}

fn full_length(ip: IpAddr) -> u8 {
    match ip {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

fn parse_range(addr: &str, bits: &str) -> Result<HostPattern, String> {
    let network: IpAddr = addr
        .parse()
        .map_err(|_| format!("\"{addr}/{bits}\": \"{addr}\" is not an IP address"))?;
    let max = full_length(network);
    let prefix: u8 = bits.parse().ok().filter(|b| *b <= max).ok_or_else(|| {
        format!("\"{addr}/{bits}\": the prefix length must be a number from 0 to {max}")
    })?;
    if mask(network, prefix) != network {
        return Err(format!(
            "\"{addr}/{bits}\": host bits are set (the range starts at {}/{prefix})",
            mask(network, prefix)
        ));
    }
    Ok(HostPattern::Range { network, prefix })
}

/// `ip` with every bit after the first `prefix` cleared.
fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    let (bits, width) = match ip {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
        IpAddr::V6(v6) => (u128::from(v6), 128),
    };
    let cleared = width - u32::from(prefix);
    let kept = bits
        .checked_shr(cleared)
        .and_then(|b| b.checked_shl(cleared))
        .unwrap_or(0);
    match ip {
        IpAddr::V4(_) => IpAddr::V4(u32::try_from(kept).unwrap_or(0).into()),
        IpAddr::V6(_) => IpAddr::V6(kept.into()),
    }
}

fn in_range(network: IpAddr, prefix: u8, ip: IpAddr) -> bool {
    network.is_ipv4() == ip.is_ipv4() && mask(ip, prefix) == network
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(pattern: &str, url: &str) -> bool {
        let p = HostPattern::parse(pattern).unwrap();
        let u = url::Url::parse(url).unwrap();
        p.matches(&u.host().unwrap())
    }

    #[test]
    fn names_match_exactly_without_case() {
        assert!(allows("vpn.example.org", "https://VPN.Example.org:8443"));
        assert!(!allows(
            "vpn.example.org",
            "https://vpn.example.org.evil.com"
        ));
        assert!(!allows("vpn.example.org", "https://xvpn.example.org"));
        assert!(allows("localhost", "http://localhost:1"));
    }

    #[test]
    fn wildcards_cover_one_label() {
        assert!(allows("*.example.com", "https://a.example.com"));
        assert!(!allows("*.example.com", "https://a.b.example.com"));
        assert!(!allows("*.example.com", "https://example.com"));
        assert!(!allows("*.example.com", "https://a.example.com.evil.net"));
        assert!(allows("vpn-*.example.com", "https://vpn-1.example.com"));
        assert!(allows("vpn-*.example.com", "https://vpn-.example.com"));
        assert!(!allows("vpn-*.example.com", "https://vpn.example.com"));
        assert!(!allows("vpn-*.example.com", "https://web-1.example.com"));
        assert!(allows("*-gw.example.com", "https://east-gw.example.com"));
    }

    #[test]
    fn addresses_and_ranges_including_ipv6() {
        assert!(allows("10.20.0.0/16", "https://10.20.255.1"));
        assert!(!allows("10.20.0.0/16", "https://10.21.0.1"));
        assert!(allows("127.0.0.1", "http://127.0.0.1:9"));
        assert!(!allows("127.0.0.1", "http://127.0.0.2:9"));
        assert!(allows("0.0.0.0/0", "http://192.0.2.7"));
        assert!(!allows("0.0.0.0/0", "http://[::1]"));
        assert!(allows("::1", "http://[::1]:9"));
        assert!(allows("[::1]", "http://[::1]:9"));
        assert!(allows("fd00::/8", "http://[fd12:3456::1]"));
        assert!(!allows("fd00::/8", "http://[fe80::1]"));
        // Names never match addresses, nor the reverse: nothing is resolved.
        assert!(!allows("localhost", "http://127.0.0.1"));
        assert!(!allows("127.0.0.0/8", "http://localhost"));
    }

    #[test]
    fn bad_entries_say_why() {
        let cases = [
            ("", "must not be empty"),
            ("*", "a wildcard needs a domain after it"),
            ("a.*.com", "a * is allowed only in the leftmost label"),
            ("**.example.com", "a * is allowed only once"),
            (
                "10.0.0.1/8",
                "host bits are set (the range starts at 10.0.0.0/8)",
            ),
            (
                "10.0.0.0/33",
                "the prefix length must be a number from 0 to 32",
            ),
            ("nope/8", "\"nope\" is not an IP address"),
            (
                "https://vpn.example.com",
                "is a URL; write only its host (vpn.example.com)",
            ),
            ("vpn.example.com:8443", "is not a host name"),
            ("vpn..example.com", "is not a host name"),
        ];
        for (entry, why) in cases {
            let err = HostPattern::parse(entry).unwrap_err();
            assert!(err.contains(why), "{entry}: {err}");
        }
    }

    #[test]
    fn patterns_print_as_written() {
        for p in [
            "vpn-*.example.com",
            "vpn.example.org",
            "10.20.0.0/16",
            "::1",
            "10.0.0.1",
        ] {
            assert_eq!(HostPattern::parse(p).unwrap().to_string(), p);
        }
    }
}
