//! Where a request comes from and whether it reached the platform over HTTPS.
//!
//! The address recorded in the audit trail and used for throttling is the socket's: a header
//! any caller can write is believed only when the socket is one of the configured trusted
//! proxies, and then only as far as the chain of trusted proxies reaches (the right-most
//! address that is not a trusted proxy is the client).

use std::net::IpAddr;

use axum::http::HeaderMap;
use ipnet::IpNet;

/// What the platform knows of the caller's connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo {
    pub addr: IpAddr,
    /// The request reached the platform over HTTPS (directly, or at a trusted proxy).
    pub https: bool,
}

fn trusted(addr: &IpAddr, proxies: &[IpNet]) -> bool {
    // An IPv4 peer may be seen as an IPv4-mapped IPv6 address on a dual-stack socket.
    let addr = match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(*addr),
        v4 => *v4,
    };
    proxies.iter().any(|net| net.contains(&addr))
}

/// The client's address: `peer` unless it is a trusted proxy, in which case the
/// `X-Forwarded-For` chain is walked from the right past every trusted proxy. A hop that is not
/// an address stops the walk at the last address known good.
pub fn client_addr(peer: IpAddr, headers: &HeaderMap, proxies: &[IpNet]) -> IpAddr {
    if !trusted(&peer, proxies) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop.trim().parse::<IpAddr>() {
            Ok(addr) => {
                client = addr;
                if !trusted(&addr, proxies) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    client
}

/// Resolves the caller's address and scheme. `public_https` is true when the platform's
/// public URL is https: then every cookie is `Secure` whatever the last hop said.
pub fn resolve(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    proxies: &[IpNet],
    public_https: bool,
) -> Option<ClientInfo> {
    let peer = peer?;
    let from_proxy = trusted(&peer, proxies);
    let forwarded_https = from_proxy
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next_back())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    Some(ClientInfo {
        addr: client_addr(peer, headers, proxies),
        https: public_https || forwarded_https,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let h = headers(&["1.2.3.4"]);
        assert_eq!(client_addr(ip("203.0.113.9"), &h, &[]), ip("203.0.113.9"));
        let proxies = nets(&["10.0.0.0/8"]);
        assert_eq!(
            client_addr(ip("203.0.113.9"), &h, &proxies),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client() {
        let proxies = nets(&["10.0.0.0/8", "192.0.2.1/32"]);
        // The caller forged "6.6.6.6"; the proxies appended what they saw.
        let h = headers(&["6.6.6.6, 198.51.100.7", "192.0.2.1"]);
        assert_eq!(
            client_addr(ip("10.1.1.1"), &h, &proxies),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn garbage_in_the_chain_stops_at_the_last_good_hop() {
        let proxies = nets(&["10.0.0.0/8"]);
        let h = headers(&["198.51.100.7, not-an-ip"]);
        assert_eq!(client_addr(ip("10.0.0.2"), &h, &proxies), ip("10.0.0.2"));
        let h = headers(&["not-an-ip, 10.0.0.3"]);
        assert_eq!(client_addr(ip("10.0.0.2"), &h, &proxies), ip("10.0.0.3"));
    }

    #[test]
    fn a_mapped_ipv4_peer_matches_an_ipv4_proxy() {
        let proxies = nets(&["127.0.0.1/32"]);
        let h = headers(&["198.51.100.7"]);
        assert_eq!(
            client_addr(ip("::ffff:127.0.0.1"), &h, &proxies),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn https_is_believed_from_a_trusted_proxy_or_the_public_url_only() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-proto", "https".parse().unwrap());
        let proxies = nets(&["10.0.0.0/8"]);
        let direct = resolve(Some(ip("203.0.113.9")), &h, &proxies, false).unwrap();
        assert!(!direct.https);
        let proxied = resolve(Some(ip("10.0.0.9")), &h, &proxies, false).unwrap();
        assert!(proxied.https);
        let public = resolve(Some(ip("203.0.113.9")), &HeaderMap::new(), &[], true).unwrap();
        assert!(public.https);
    }
}
