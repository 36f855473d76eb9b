//! `gateway.auth.mode: "trusted-proxy"` and `gateway.trustedProxies`, as OpenClaw has them: a
//! request from a configured proxy address is authenticated by the identity that proxy puts in
//! `trustedProxy.userHeader` (with `requiredHeaders` present and the user in `allowUsers` when
//! that is set); a loopback proxy counts only with `allowLoopback`. Requests from any other
//! address are direct clients and need the gateway token (or password). The proxy list also
//! tells whose `X-Forwarded-For` to believe, so the failed-auth lockout counts the real client
//! behind a proxy instead of the proxy itself.

use std::fmt;
use std::net::IpAddr;

use axum::http::HeaderMap;
use clawgate_config::schema::{GatewayAuthMode, GatewayConfig, TrustedProxyConfig};
use ipnet::IpNet;

/// Why a request did not get a proxy identity (OpenClaw's reason codes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyRejection {
    /// Not from an address in `gateway.trustedProxies`: a direct client.
    UntrustedSource,
    /// From a loopback address without `allowLoopback`: treated as a direct client.
    LoopbackSource,
    MissingHeader(String),
    UserMissing,
    UserNotAllowed,
}

impl ProxyRejection {
    /// The request came from a trusted proxy (so a token is no way around the identity).
    pub fn from_proxy(&self) -> bool {
        !matches!(
            self,
            ProxyRejection::UntrustedSource | ProxyRejection::LoopbackSource
        )
    }
}

impl fmt::Display for ProxyRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxyRejection::UntrustedSource => f.write_str(
                "trusted_proxy_untrusted_source: the request did not come from an address in \
                 gateway.trustedProxies",
            ),
            ProxyRejection::LoopbackSource => f.write_str(
                "trusted_proxy_loopback_source: a loopback proxy needs \
                 gateway.auth.trustedProxy.allowLoopback",
            ),
            ProxyRejection::MissingHeader(name) => write!(
                f,
                "trusted_proxy_missing_header_{name}: the proxy did not send the required \
                 header {name}"
            ),
            ProxyRejection::UserMissing => f.write_str(
                "trusted_proxy_user_missing: the proxy sent no user in the \
                 gateway.auth.trustedProxy.userHeader header",
            ),
            ProxyRejection::UserNotAllowed => f.write_str(
                "trusted_proxy_user_not_allowed: the user is not in \
                 gateway.auth.trustedProxy.allowUsers",
            ),
        }
    }
}

fn trusted(ranges: &[IpNet], ip: IpAddr) -> bool {
    let ip = ip.to_canonical();
    ranges.iter().any(|r| r.contains(&ip))
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The trusted-proxy settings when the gateway runs in that mode.
pub fn proxy_auth(gateway: &GatewayConfig) -> Option<&TrustedProxyConfig> {
    match gateway.auth.mode {
        GatewayAuthMode::TrustedProxy => gateway.auth.trusted_proxy.as_ref(),
        _ => None,
    }
}

/// The user a trusted proxy vouches for, checked in OpenClaw's order: source address,
/// loopback, required headers, user header, allow list.
pub fn identity(
    config: &TrustedProxyConfig,
    proxies: &[IpNet],
    peer: IpAddr,
    headers: &HeaderMap,
) -> Result<String, ProxyRejection> {
    if !trusted(proxies, peer) {
        return Err(ProxyRejection::UntrustedSource);
    }
    if peer.to_canonical().is_loopback() && !config.allow_loopback {
        return Err(ProxyRejection::LoopbackSource);
    }
    if let Some(missing) = config
        .required_headers
        .iter()
        .find(|name| header(headers, name).is_none())
    {
        return Err(ProxyRejection::MissingHeader(missing.clone()));
    }
    let user = header(headers, &config.user_header).ok_or(ProxyRejection::UserMissing)?;
    if !config.allow_users.is_empty() && !config.allow_users.iter().any(|u| u == user) {
        return Err(ProxyRejection::UserNotAllowed);
    }
    Ok(user.to_string())
}

/// The address a request comes from: the peer, or, when the peer is a trusted proxy, the
/// nearest address in `X-Forwarded-For` that is not one (read right to left, as each proxy
/// appends the address it saw). A header from anyone else is ignored.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, proxies: &[IpNet]) -> IpAddr {
    if !trusted(proxies, peer) {
        return peer;
    }
    let mut client = peer;
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect::<Vec<_>>();
    for hop in hops.iter().rev() {
        let Ok(ip) = hop.trim().parse::<IpAddr>() else {
            break;
        };
        client = ip;
        if !trusted(proxies, ip) {
            break;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn config() -> TrustedProxyConfig {
        TrustedProxyConfig {
            user_header: "x-forwarded-user".into(),
            required_headers: vec!["x-forwarded-proto".into()],
            allow_users: vec!["alice@example.com".into()],
            allow_loopback: false,
        }
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn checks_in_openclaws_order() {
        let proxies: Vec<IpNet> = vec![
            "10.0.0.0/8".parse().unwrap(),
            "127.0.0.2/32".parse().unwrap(),
        ];
        let good = headers(&[
            ("x-forwarded-user", "alice@example.com"),
            ("x-forwarded-proto", "https"),
        ]);
        let c = config();
        assert_eq!(
            identity(&c, &proxies, ip("10.1.2.3"), &good),
            Ok("alice@example.com".into())
        );
        assert_eq!(
            identity(&c, &proxies, ip("::ffff:10.1.2.3"), &good),
            Ok("alice@example.com".into()),
            "an IPv4-mapped peer is the IPv4 address"
        );
        assert_eq!(
            identity(&c, &proxies, ip("192.168.1.1"), &good),
            Err(ProxyRejection::UntrustedSource)
        );
        assert_eq!(
            identity(&c, &proxies, ip("127.0.0.2"), &good),
            Err(ProxyRejection::LoopbackSource)
        );
        let loopback_ok = TrustedProxyConfig {
            allow_loopback: true,
            ..config()
        };
        assert!(identity(&loopback_ok, &proxies, ip("127.0.0.2"), &good).is_ok());
        let no_proto = headers(&[("x-forwarded-user", "alice@example.com")]);
        assert_eq!(
            identity(&c, &proxies, ip("10.0.0.1"), &no_proto),
            Err(ProxyRejection::MissingHeader("x-forwarded-proto".into()))
        );
        let blank_user = headers(&[("x-forwarded-user", "  "), ("x-forwarded-proto", "https")]);
        assert_eq!(
            identity(&c, &proxies, ip("10.0.0.1"), &blank_user),
            Err(ProxyRejection::UserMissing)
        );
        let mallory = headers(&[
            ("x-forwarded-user", "mallory"),
            ("x-forwarded-proto", "https"),
        ]);
        assert_eq!(
            identity(&c, &proxies, ip("10.0.0.1"), &mallory),
            Err(ProxyRejection::UserNotAllowed)
        );
        assert!(!ProxyRejection::UntrustedSource.from_proxy());
        assert!(ProxyRejection::UserMissing.from_proxy());
    }

    #[test]
    fn the_client_behind_a_trusted_proxy_is_the_first_untrusted_hop() {
        let proxies: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let xff = headers(&[("x-forwarded-for", "203.0.113.9, 198.51.100.7, 10.0.0.2")]);
        assert_eq!(
            client_ip(ip("10.0.0.1"), &xff, &proxies),
            ip("198.51.100.7")
        );
        // From anyone else the header is ignored.
        assert_eq!(client_ip(ip("192.0.2.1"), &xff, &proxies), ip("192.0.2.1"));
        // No header, or garbage: the proxy itself.
        assert_eq!(
            client_ip(ip("10.0.0.1"), &HeaderMap::new(), &proxies),
            ip("10.0.0.1")
        );
        let bad = headers(&[("x-forwarded-for", "not-an-ip")]);
        assert_eq!(client_ip(ip("10.0.0.1"), &bad, &proxies), ip("10.0.0.1"));
        // Several headers read as one list.
        let split = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("x-forwarded-for", "10.0.0.3"),
        ]);
        assert_eq!(
            client_ip(ip("10.0.0.1"), &split, &proxies),
            ip("203.0.113.9")
        );
    }
}
