//! Who a request comes from, as the per-address limits count it: the client's address,
//! taken from `X-Forwarded-For` only when the connection comes from one of the
//! `trusted_proxies` (otherwise any client could claim any address), and keyed by network
//! for IPv6, where one subscriber holds a /64 or more and could otherwise walk around every
//! per-address limit.
//!
//! Pure: strings in, keys out. The store keeps only a salted hash of a key.

use std::net::IpAddr;

use crate::error::{Error, Result};

/// A network in `trusted_proxies`: an address and how many leading bits must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    address: IpAddr,
    prefix: u8,
}

/// The key of one client for the per-address limits: an IPv4 address, or an IPv6 /64.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressKey(String);

/// What a request says about where it comes from, before the proxies are considered.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientOrigin {
    /// REMOTE_ADDR: the other end of the connection.
    pub remote: String,
    /// X-Forwarded-For, if any.
    pub forwarded_for: Option<String>,
}

impl Network {
    /// `203.0.113.7`, `203.0.113.0/24`, `2001:db8::/32`.
    pub fn parse(text: &str) -> Result<Network> {
        let invalid = || {
            Error::Settings(
                "trusted_proxies holds an entry that is not an address or a network like 203.0.113.0/24"
                    .to_string(),
            )
        };
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr = address.parse().map_err(|_| invalid())?;
        let bits = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(prefix) => prefix.parse::<u8>().map_err(|_| invalid())?,
            None => bits,
        };
        if prefix > bits {
            return Err(invalid());
        }
        Ok(Network { address, prefix })
    }

    /// Whether `address` (text, as in REMOTE_ADDR) lies in any of `networks`.
    pub fn any_contains(networks: &[Network], address: &str) -> bool {
        address
            .trim()
            .parse::<IpAddr>()
            .is_ok_and(|address| networks.iter().any(|network| network.contains(&address)))
    }

    fn contains(&self, address: &IpAddr) -> bool {
        match (self.address, canonical(*address)) {
            (IpAddr::V4(network), IpAddr::V4(address)) => {
                leading_bits_match(&network.octets(), &address.octets(), self.prefix)
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                leading_bits_match(&network.octets(), &address.octets(), self.prefix)
            }
            _ => false,
        }
    }
}

fn leading_bits_match(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let whole = usize::from(prefix / 8);
    let rest = prefix % 8;
    if a.get(..whole) != b.get(..whole) {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    match (a.get(whole), b.get(whole)) {
        (Some(x), Some(y)) => x & mask == y & mask,
        _ => false,
    }
}

/// An IPv4 address written as IPv6 (`::ffff:192.0.2.1`, as dual-stack servers report it)
/// is that IPv4 address.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

impl ClientOrigin {
    /// The client's key: REMOTE_ADDR, unless it is a trusted proxy, in which case the last
    /// address in X-Forwarded-For that is not one of the trusted proxies (each proxy appends
    /// the address it saw, so the entries before are the client's own claims).
    pub fn key(&self, trusted_proxies: &[Network]) -> AddressKey {
        let trusted = |address: &IpAddr| {
            trusted_proxies
                .iter()
                .any(|network| network.contains(address))
        };
        let Ok(remote) = self.remote.trim().parse::<IpAddr>() else {
            return AddressKey(format!(
                "other {}",
                self.remote.chars().take(64).collect::<String>()
            ));
        };
        let mut client = remote;
        if trusted(&remote) {
            if let Some(forwarded) = &self.forwarded_for {
                for entry in forwarded.rsplit(',') {
                    let Ok(address) = entry.trim().parse::<IpAddr>() else {
                        break;
                    };
                    client = address;
                    if !trusted(&address) {
                        break;
                    }
                }
            }
        }
        AddressKey::of(client)
    }
}

impl AddressKey {
    fn of(address: IpAddr) -> AddressKey {
        match canonical(address) {
            IpAddr::V4(v4) => AddressKey(v4.to_string()),
            IpAddr::V6(v6) => {
                let segments = v6.segments();
                AddressKey(format!(
                    "{:x}:{:x}:{:x}:{:x}::/64",
                    segments[0], segments[1], segments[2], segments[3]
                ))
            }
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(remote: &str, forwarded: Option<&str>, trusted: &[&str]) -> String {
        let trusted: Vec<Network> = trusted
            .iter()
            .map(|text| Network::parse(text).unwrap())
            .collect();
        ClientOrigin {
            remote: remote.to_string(),
            forwarded_for: forwarded.map(str::to_string),
        }
        .key(&trusted)
        .as_str()
        .to_string()
    }

    #[test]
    fn ipv6_is_keyed_by_its_64() {
        assert_eq!(key("2001:db8:1:2:aaaa::1", None, &[]), "2001:db8:1:2::/64");
        assert_eq!(
            key("2001:db8:1:2:ffff:1:2:3", None, &[]),
            "2001:db8:1:2::/64"
        );
        assert_ne!(key("2001:db8:1:3::1", None, &[]), "2001:db8:1:2::/64");
        assert_eq!(key("::ffff:192.0.2.1", None, &[]), "192.0.2.1");
        assert_eq!(key("192.0.2.1", None, &[]), "192.0.2.1");
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let forwarded = Some("198.51.100.9, 203.0.113.5");
        assert_eq!(key("192.0.2.1", forwarded, &[]), "192.0.2.1");
        assert_eq!(
            key("192.0.2.1", forwarded, &["192.0.2.0/24"]),
            "203.0.113.5"
        );
        assert_eq!(
            key("192.0.2.1", forwarded, &["192.0.2.0/24", "203.0.113.5"]),
            "198.51.100.9"
        );
        assert_eq!(key("192.0.2.1", Some("junk"), &["192.0.2.1"]), "192.0.2.1");
        assert_eq!(
            key("2606:4700::1", Some("2001:db8:5:6::7"), &["2606:4700::/32"]),
            "2001:db8:5:6::/64"
        );
    }

    #[test]
    fn networks_parse_or_say_what_is_expected() {
        assert!(Network::parse("203.0.113.0/24").is_ok());
        assert!(Network::parse("2001:db8::/32").is_ok());
        for bad in ["", "300.1.1.1", "10.0.0.0/33", "example.org", "::/129"] {
            assert!(Network::parse(bad).is_err(), "{bad}");
        }
        assert!(Network::parse("10.0.0.0/8")
            .unwrap()
            .contains(&"10.200.1.1".parse().unwrap()));
        assert!(!Network::parse("10.0.0.0/9")
            .unwrap()
            .contains(&"10.200.1.1".parse().unwrap()));
    }
}
