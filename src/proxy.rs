//! Which address a request comes from, for rate limits: the TCP peer, unless that peer is a
//! trusted proxy (`server.trusted_proxies`), in which case the right-most address of
//! `X-Forwarded-For` / `Forwarded` that is not itself a trusted proxy.

use std::net::IpAddr;
use std::str::FromStr;

/// An address block such as `10.0.0.0/8` or `fd00::/8` (a bare address is a /32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Cidr, String> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let network: IpAddr = addr
            .parse()
            .map_err(|_| format!("'{s}' is not an address or a CIDR such as 10.0.0.0/8"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("'{s}': the prefix length must be 0 to {max}"))?,
        };
        Ok(Cidr { network, prefix })
    }
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.network, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                masked(u128::from(u32::from(n)), 32, self.prefix)
                    == masked(u128::from(u32::from(a)), 32, self.prefix)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                masked(u128::from(n), 128, self.prefix) == masked(u128::from(a), 128, self.prefix)
            }
            _ => false,
        }
    }
}

fn masked(bits: u128, width: u8, prefix: u8) -> u128 {
    if prefix == 0 {
        return 0;
    }
    bits >> (width - prefix)
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) compare as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// The client's address: `peer` itself unless it is trusted, else the right-most forwarded
/// address that is not trusted (or the left-most one when every hop is trusted). `forwarded`
/// holds the `Forwarded` header values and `x_forwarded_for` the `X-Forwarded-For` ones, in the
/// order received; `Forwarded` wins when both are present.
pub fn client_address(
    peer: IpAddr,
    trusted: &[Cidr],
    forwarded: &[&str],
    x_forwarded_for: &[&str],
) -> IpAddr {
    let peer = canonical(peer);
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let chain: Vec<IpAddr> = if forwarded.is_empty() {
        x_forwarded_for
            .iter()
            .flat_map(|h| h.split(','))
            .filter_map(|a| parse_hop(a.trim()))
            .collect()
    } else {
        forwarded
            .iter()
            .flat_map(|h| h.split(','))
            .filter_map(|element| {
                element.split(';').find_map(|pair| {
                    let (k, v) = pair.split_once('=')?;
                    k.trim()
                        .eq_ignore_ascii_case("for")
                        .then(|| parse_hop(v.trim().trim_matches('"')))
                        .flatten()
                })
            })
            .collect()
    };
    chain
        .iter()
        .rev()
        .copied()
        .map(canonical)
        .find(|ip| !is_trusted(*ip))
        .or_else(|| chain.first().copied().map(canonical))
        .unwrap_or(peer)
}

/// One hop: `1.2.3.4`, `1.2.3.4:5678`, `[2001:db8::1]`, `[2001:db8::1]:443` or `2001:db8::1`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse() {
        return Some(ip);
    }
    if let Some(rest) = hop.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    hop.rsplit_once(':')?.0.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    fn cidrs(list: &[&str]) -> Vec<Cidr> {
        list.iter().map(|c| c.parse().expect("cidr")).collect()
    }

    #[test]
    fn cidrs_parse_and_match() {
        let c: Cidr = "10.0.0.0/8".parse().expect("cidr");
        assert!(c.contains(ip("10.1.2.3")) && !c.contains(ip("11.0.0.1")));
        assert!(c.contains(ip("::ffff:10.9.9.9")), "mapped IPv4");
        let v6: Cidr = "fd00::/8".parse().expect("cidr");
        assert!(v6.contains(ip("fd12::1")) && !v6.contains(ip("fe80::1")));
        let all: Cidr = "0.0.0.0/0".parse().expect("cidr");
        assert!(all.contains(ip("8.8.8.8")));
        let one: Cidr = "192.0.2.7".parse().expect("cidr");
        assert!(one.contains(ip("192.0.2.7")) && !one.contains(ip("192.0.2.8")));
        for bad in ["10.0.0.0/33", "nonsense", "10.0.0.0/x", "::/129"] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarded_headers_count_only_behind_a_trusted_peer() {
        let trusted = cidrs(&["10.0.0.0/8"]);
        // Not a proxy: the headers are whatever the client made up.
        assert_eq!(
            client_address(ip("203.0.113.9"), &trusted, &[], &["1.1.1.1"]),
            ip("203.0.113.9")
        );
        // Behind the proxy: the right-most hop that is not a proxy; a spoofed left part is ignored.
        assert_eq!(
            client_address(
                ip("10.0.0.2"),
                &trusted,
                &[],
                &["6.6.6.6, 198.51.100.4, 10.0.0.9"]
            ),
            ip("198.51.100.4")
        );
        assert_eq!(
            client_address(
                ip("10.0.0.2"),
                &trusted,
                &["for=6.6.6.6, for=\"[2001:db8::5]:443\";proto=https"],
                &["9.9.9.9"]
            ),
            ip("2001:db8::5")
        );
        assert_eq!(
            client_address(ip("10.0.0.2"), &trusted, &[], &["198.51.100.4:5555"]),
            ip("198.51.100.4")
        );
        // A trusted peer without headers is the client itself.
        assert_eq!(
            client_address(ip("10.0.0.2"), &trusted, &[], &[]),
            ip("10.0.0.2")
        );
        // Nothing trusted: headers never count.
        assert_eq!(
            client_address(ip("10.0.0.2"), &[], &[], &["198.51.100.4"]),
            ip("10.0.0.2")
        );
    }
}
