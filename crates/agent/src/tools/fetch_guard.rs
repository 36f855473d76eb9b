//! The address guard of `web_fetch`, so a fetched URL cannot be turned against the host or its
//! network (SSRF): after OpenClaw's `tools.web.fetch.ssrfPolicy`.
//!
//! - Host names are resolved by clawgate (a [`HostResolver`]) inside the HTTP client's DNS
//!   hook, every resolved address is checked, and the connection goes to those checked
//!   addresses: a name cannot resolve to a public address for the check and a private one for
//!   the connection.
//! - Redirects are followed by hand, each target checked the same way (`maxRedirects`).
//! - Refused unless allowed: loopback, private (RFC 1918), link-local, carrier-grade NAT
//!   (100.64.0.0/10), cloud metadata (169.254.169.254, fd00:ec2::254, …), unique local IPv6,
//!   benchmarking, documentation, multicast, reserved and unspecified addresses, IPv6 forms that
//!   embed one of those IPv4 addresses, and the names `localhost` / `*.localhost` /
//!   `metadata.google.internal`.
//! - `allowedHostnames` lets exact names (or address literals) through whatever they resolve
//!   to; `dangerouslyAllowPrivateNetwork` lets private ranges through, never metadata.
//! - No proxy from the environment is used (a proxy would resolve names itself).
//!
//! The range table is hand-written: `IpAddr::is_global` is not stable, and refusals name the
//! range they hit.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use async_trait::async_trait;

/// OpenClaw's `tools.web.fetch.ssrfPolicy`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SsrfPolicy {
    pub dangerously_allow_private_network: bool,
    /// 198.18.0.0/15 (fake-IP proxies).
    pub allow_rfc2544_benchmark_range: bool,
    /// fc00::/7.
    pub allow_ipv6_unique_local_range: bool,
    /// Exact host names (or address literals) allowed whatever they resolve to.
    pub allowed_hostnames: Vec<String>,
    /// Extra host names refused.
    pub blocked_hostnames: Vec<String>,
}

/// `web_fetch`'s guard settings (`tools.web.fetch`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebFetchSettings {
    /// `maxRedirects` (OpenClaw's default 3).
    pub max_redirects: u32,
    pub ssrf: SsrfPolicy,
}

impl Default for WebFetchSettings {
    fn default() -> Self {
        WebFetchSettings {
            max_redirects: 3,
            ssrf: SsrfPolicy::default(),
        }
    }
}

/// A refused destination; the message says what was hit and how to allow it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Blocked(pub String);

/// The non-global range an address falls in, or `None` for a global address.
pub fn classify(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], bits: u32) -> bool {
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    (u32::from(ip) & mask) == (u32::from(Ipv4Addr::from(net)) & mask)
}

const METADATA_V4: &[[u8; 4]] = &[
    [169, 254, 169, 254],
    [169, 254, 170, 2],
    [100, 100, 100, 200],
];

fn classify_v4(ip: Ipv4Addr) -> Option<&'static str> {
    if METADATA_V4.iter().any(|m| ip.octets() == *m) {
        return Some("cloud metadata");
    }
    let table: &[([u8; 4], u32, &'static str)] = &[
        ([0, 0, 0, 0], 8, "unspecified (0.0.0.0/8)"),
        ([10, 0, 0, 0], 8, "private (10.0.0.0/8)"),
        ([100, 64, 0, 0], 10, "carrier-grade NAT (100.64.0.0/10)"),
        ([127, 0, 0, 0], 8, "loopback (127.0.0.0/8)"),
        ([169, 254, 0, 0], 16, "link-local (169.254.0.0/16)"),
        ([172, 16, 0, 0], 12, "private (172.16.0.0/12)"),
        (
            [192, 0, 0, 0],
            24,
            "IETF protocol assignments (192.0.0.0/24)",
        ),
        ([192, 0, 2, 0], 24, "documentation (192.0.2.0/24)"),
        ([192, 88, 99, 0], 24, "6to4 relay (192.88.99.0/24)"),
        ([192, 168, 0, 0], 16, "private (192.168.0.0/16)"),
        ([198, 18, 0, 0], 15, BENCHMARK),
        ([198, 51, 100, 0], 24, "documentation (198.51.100.0/24)"),
        ([203, 0, 113, 0], 24, "documentation (203.0.113.0/24)"),
        ([224, 0, 0, 0], 4, "multicast (224.0.0.0/4)"),
        ([240, 0, 0, 0], 4, "reserved (240.0.0.0/4)"),
    ];
    table
        .iter()
        .find(|(net, bits, _)| in_v4(ip, *net, *bits))
        .map(|(_, _, name)| *name)
}

const BENCHMARK: &str = "benchmarking (198.18.0.0/15)";
const UNIQUE_LOCAL: &str = "unique local (fc00::/7)";

fn classify_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    if ip == Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254) {
        return Some("cloud metadata");
    }
    if ip.is_unspecified() {
        return Some("unspecified (::)");
    }
    if ip.is_loopback() {
        return Some("loopback (::1)");
    }
    // Forms that carry an IPv4 address: judged by that address.
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    if s[..5] == [0, 0, 0, 0, 0] && s[5] == 0xffff {
        return classify_v4(embedded(s[6], s[7]));
    }
    if s[..6] == [0, 0, 0, 0, 0, 0] {
        return Some("IPv4-compatible (::/96, deprecated)");
    }
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return classify_v4(embedded(s[6], s[7]));
    }
    if s[0] == 0x2002 {
        return classify_v4(embedded(s[1], s[2]));
    }
    let table: &[(u16, u16, &'static str)] = &[
        // (prefix of the first segment, mask, name)
        (0xfc00, 0xfe00, UNIQUE_LOCAL),
        (0xfe80, 0xffc0, "link-local (fe80::/10)"),
        (0xfec0, 0xffc0, "site-local (fec0::/10, deprecated)"),
        (0xff00, 0xff00, "multicast (ff00::/8)"),
    ];
    if let Some((_, _, name)) = table.iter().find(|(p, m, _)| s[0] & m == *p) {
        return Some(name);
    }
    if s[0] == 0x2001 && s[1] == 0x0db8 {
        return Some("documentation (2001:db8::/32)");
    }
    if s[0] == 0x3fff && s[1] & 0xf000 == 0 {
        return Some("documentation (3fff::/20)");
    }
    if s[0] == 0x2001 && s[1] < 0x0200 {
        return Some("IETF protocol assignments (2001::/23, Teredo)");
    }
    if s[0] == 0x0100 && s[1..4] == [0, 0, 0] {
        return Some("discard-only (100::/64)");
    }
    if s[0] == 0x0064 && s[1] == 0xff9b && s[2] == 1 {
        return Some("local-use IPv4/IPv6 translation (64:ff9b:1::/48)");
    }
    if s[0] == 0x5f00 {
        return Some("segment routing (5f00::/16)");
    }
    None
}

/// Names refused unless allowed by name.
const BLOCKED_NAMES: &[&str] = &["localhost", "metadata.google.internal", "metadata"];

impl SsrfPolicy {
    fn allowed_name(&self, host: &str) -> bool {
        let host = normalize(host);
        self.allowed_hostnames.iter().any(|h| normalize(h) == host)
    }

    /// Checks a host name (or literal) before anything is resolved or sent.
    pub fn check_host(&self, host: &str) -> Result<(), Blocked> {
        if self.allowed_name(host) {
            return Ok(());
        }
        let name = normalize(host);
        if let Ok(ip) = name.parse::<IpAddr>() {
            return self.check_ip(host, ip);
        }
        let blocked_builtin =
            BLOCKED_NAMES.contains(&name.as_str()) || name.ends_with(".localhost");
        let blocked_config = self.blocked_hostnames.iter().any(|h| normalize(h) == name);
        if blocked_config {
            return Err(Blocked(format!(
                "web_fetch refused {host}: the host name is in \
                 tools.web.fetch.ssrfPolicy.blockedHostnames"
            )));
        }
        if blocked_builtin {
            return Err(Blocked(format!(
                "web_fetch refused {host}: the name points at this machine or its cloud \
                 metadata service{ALLOW_HINT}"
            )));
        }
        Ok(())
    }

    /// Checks the addresses `host` resolved to: every one must pass.
    pub fn check_resolved(&self, host: &str, ips: &[IpAddr]) -> Result<(), Blocked> {
        if self.allowed_name(host) {
            return Ok(());
        }
        ips.iter().try_for_each(|ip| self.check_ip(host, *ip))
    }

    fn check_ip(&self, host: &str, ip: IpAddr) -> Result<(), Blocked> {
        let Some(range) = classify(ip) else {
            return Ok(());
        };
        let allowed = match range {
            BENCHMARK => {
                self.allow_rfc2544_benchmark_range || self.dangerously_allow_private_network
            }
            UNIQUE_LOCAL => {
                self.allow_ipv6_unique_local_range || self.dangerously_allow_private_network
            }
            "cloud metadata" => false,
            r if r.starts_with("link-local") => false,
            _ => self.dangerously_allow_private_network,
        };
        if allowed {
            return Ok(());
        }
        let what = if normalize(host) == ip.to_string() {
            format!("it is a {range} address")
        } else {
            format!("it resolves to {ip}, a {range} address")
        };
        Err(Blocked(format!(
            "web_fetch refused {host}: {what}{ALLOW_HINT}"
        )))
    }
}

const ALLOW_HINT: &str = "; only public addresses are fetched (to allow this host, add it to \
     tools.web.fetch.ssrfPolicy.allowedHostnames)";

/// Lower case, no trailing dot, no IPv6 brackets.
fn normalize(host: &str) -> String {
    host.trim()
        .trim_end_matches('.')
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase()
}

/// Name resolution, replaceable in tests (a hosts table instead of DNS).
#[async_trait]
pub trait HostResolver: Send + Sync {
    async fn lookup(&self, host: &str) -> std::io::Result<Vec<IpAddr>>;
}

/// The system resolver (`getaddrinfo` on tokio's blocking pool).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

#[async_trait]
impl HostResolver for SystemResolver {
    async fn lookup(&self, host: &str) -> std::io::Result<Vec<IpAddr>> {
        Ok(tokio::net::lookup_host((host, 0))
            .await?
            .map(|a| a.ip())
            .collect())
    }
}

/// A fixed hosts table: names not in it do not resolve.
#[derive(Debug, Clone, Default)]
pub struct StaticHosts(pub HashMap<String, Vec<IpAddr>>);

#[async_trait]
impl HostResolver for StaticHosts {
    async fn lookup(&self, host: &str) -> std::io::Result<Vec<IpAddr>> {
        self.0.get(&normalize(host)).cloned().ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{host}: no such host"),
            )
        })
    }
}

/// The HTTP client's DNS hook: resolve, check every address, hand the checked ones over.
struct GuardedResolver {
    policy: Arc<SsrfPolicy>,
    inner: Arc<dyn HostResolver>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        let inner = self.inner.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let ips = inner.lookup(&host).await?;
            policy.check_resolved(&host, &ips)?;
            // Port 0: the connector puts the URL's port in.
            let addrs: reqwest::dns::Addrs =
                Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

/// The one client `web_fetch` uses: guarded DNS, no automatic redirects, no proxy.
pub fn guarded_client(
    policy: Arc<SsrfPolicy>,
    resolver: Arc<dyn HostResolver>,
) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .dns_resolver(Arc::new(GuardedResolver {
            policy,
            inner: resolver,
        }))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(concat!("clawgate-web-fetch/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// The guard's refusal inside a client error, if that is what failed.
pub fn blocked_cause<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a Blocked> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(b) = e.downcast_ref::<Blocked>() {
            return Some(b);
        }
        current = e.source();
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ranges_are_classified() {
        for (addr, want) in [
            ("127.0.0.1", Some("loopback")),
            ("10.1.2.3", Some("private")),
            ("172.31.255.255", Some("private")),
            ("192.168.1.1", Some("private")),
            ("169.254.169.254", Some("cloud metadata")),
            ("169.254.1.1", Some("link-local")),
            ("100.64.0.1", Some("carrier-grade NAT")),
            ("100.127.255.255", Some("carrier-grade NAT")),
            ("0.0.0.0", Some("unspecified")),
            ("198.18.0.1", Some("benchmarking")),
            ("224.0.0.1", Some("multicast")),
            ("255.255.255.255", Some("reserved")),
            ("::1", Some("loopback")),
            ("::", Some("unspecified")),
            ("fd00:ec2::254", Some("cloud metadata")),
            ("fd12::1", Some("unique local")),
            ("fe80::1", Some("link-local")),
            ("::ffff:127.0.0.1", Some("loopback")),
            ("::ffff:169.254.169.254", Some("cloud metadata")),
            ("64:ff9b::a00:1", Some("private")),
            ("2002:7f00:1::", Some("loopback")),
            ("2001:db8::1", Some("documentation")),
            ("8.8.8.8", None),
            ("100.63.255.255", None),
            ("100.128.0.0", None),
            ("172.32.0.1", None),
            ("2606:4700:4700::1111", None),
            ("::ffff:8.8.8.8", None),
        ] {
            let got = classify(ip(addr));
            match want {
                Some(prefix) => assert!(
                    got.is_some_and(|g| g.starts_with(prefix)),
                    "{addr}: {got:?}"
                ),
                None => assert_eq!(got, None, "{addr}"),
            }
        }
    }

    #[test]
    fn policy_allows_by_name_and_by_flag() {
        let strict = SsrfPolicy::default();
        assert!(strict.check_host("localhost").is_err());
        assert!(strict.check_host("api.localhost").is_err());
        assert!(strict.check_host("[::1]").is_err());
        assert!(strict.check_host("example.com").is_ok());
        let err = strict
            .check_resolved("evil.test", &[ip("8.8.8.8"), ip("10.0.0.1")])
            .unwrap_err();
        assert!(
            err.0
                .contains("evil.test: it resolves to 10.0.0.1, a private"),
            "{}",
            err.0
        );
        assert!(err.0.contains("allowedHostnames"));
        let named = SsrfPolicy {
            allowed_hostnames: vec!["Intranet.Test.".into()],
            ..SsrfPolicy::default()
        };
        assert!(
            named
                .check_resolved("intranet.test", &[ip("10.0.0.1")])
                .is_ok()
        );
        let private = SsrfPolicy {
            dangerously_allow_private_network: true,
            ..SsrfPolicy::default()
        };
        assert!(private.check_resolved("a", &[ip("192.168.0.1")]).is_ok());
        assert!(
            private
                .check_resolved("a", &[ip("169.254.169.254")])
                .is_err()
        );
        let bench = SsrfPolicy {
            allow_rfc2544_benchmark_range: true,
            allow_ipv6_unique_local_range: true,
            ..SsrfPolicy::default()
        };
        assert!(
            bench
                .check_resolved("a", &[ip("198.18.1.1"), ip("fd12::1")])
                .is_ok()
        );
        assert!(bench.check_resolved("a", &[ip("fd00:ec2::254")]).is_err());
        let blocked = SsrfPolicy {
            blocked_hostnames: vec!["public.example".into()],
            ..SsrfPolicy::default()
        };
        assert!(
            blocked
                .check_host("PUBLIC.example")
                .unwrap_err()
                .0
                .contains("blockedHostnames")
        );
    }
}
