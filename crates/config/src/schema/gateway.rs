//! The `gateway` and `tools` sections (the parts clawgate implements; the rest of OpenClaw's
//! keys there are accepted and reported as ignored).

use serde::Serialize;

use crate::decode::{Decode, Decoder, ObjectReader, describe, in_range, string_enum};
use crate::diagnostic::JsonPath;
use crate::schema::agent_tools::{ExecToolConfig, WebToolsConfig};
use crate::schema::secrets::SecretInput;
use crate::source::{Node, NodeKind};

/// `gateway.bind`: `"loopback"`, `"lan"` or an explicit IP address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayBind {
    Loopback,
    Lan,
    Address(std::net::IpAddr),
}

impl Serialize for GatewayBind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Loopback => s.serialize_str("loopback"),
            Self::Lan => s.serialize_str("lan"),
            Self::Address(a) => s.serialize_str(&a.to_string()),
        }
    }
}

impl Decode for GatewayBind {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let s = String::decode(node, path, cx)?;
        match s.as_str() {
            "loopback" => Some(Self::Loopback),
            "lan" => Some(Self::Lan),
            other => match other.parse() {
                Ok(ip) => Some(Self::Address(ip)),
                Err(_) => {
                    cx.expected(node, path, "\"loopback\", \"lan\" or an IP address");
                    None
                }
            },
        }
    }
}

string_enum! {
    pub enum GatewayAuthMode {
        None = "none",
        Token = "token",
        Password = "password",
        TrustedProxy = "trusted-proxy",
    }
}

/// `gateway.auth.trustedProxy`: how `mode: "trusted-proxy"` reads the identity a reverse proxy
/// vouches for (OpenClaw's keys). Header names are lower-cased.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrustedProxyConfig {
    /// The header holding the authenticated user.
    pub user_header: String,
    /// Headers that must also be present and non-blank.
    pub required_headers: Vec<String>,
    /// When non-empty, only these users.
    pub allow_users: Vec<String>,
    /// Trust a proxy connecting from a loopback address (a same-host proxy).
    pub allow_loopback: bool,
}

fn header_name(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<String> {
    let s = String::decode(node, path, cx)?;
    let valid = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !valid {
        cx.expected(node, path, "an HTTP header name");
        return None;
    }
    Some(s.to_ascii_lowercase())
}

impl Decode for TrustedProxyConfig {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let mut o = ObjectReader::new(node, path, cx)?;
        let user_header = match o.node("userHeader") {
            Some((n, p)) => header_name(n, &p, cx),
            None => {
                cx.error(path, &node.pos, "missing required key \"userHeader\"");
                None
            }
        };
        let required_headers = match o.node("requiredHeaders") {
            Some((n, p)) => match &n.kind {
                crate::source::NodeKind::Array(items) => items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, item)| header_name(item, &p.index(i), cx))
                    .collect(),
                _ => {
                    cx.expected(n, &p, "a list of HTTP header names");
                    Vec::new()
                }
            },
            None => Vec::new(),
        };
        let t = Self {
            user_header: user_header.unwrap_or_default(),
            required_headers,
            allow_users: o.field("allowUsers", cx).unwrap_or_default(),
            allow_loopback: o.field("allowLoopback", cx).unwrap_or(false),
        };
        o.finish(cx);
        Some(t)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayAuth {
    pub mode: GatewayAuthMode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<SecretInput>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<SecretInput>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trusted_proxy: Option<TrustedProxyConfig>,
}

impl Default for GatewayAuth {
    fn default() -> Self {
        Self {
            mode: GatewayAuthMode::Token,
            token: None,
            password: None,
            trusted_proxy: None,
        }
    }
}

impl Decode for GatewayAuth {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let mut o = ObjectReader::new(node, path, cx)?;
        let a = Self {
            mode: o.field("mode", cx).unwrap_or(GatewayAuthMode::Token),
            token: o.field("token", cx),
            password: o.field("password", cx),
            trusted_proxy: o.field("trustedProxy", cx),
        };
        if a.mode == GatewayAuthMode::TrustedProxy && node.get("trustedProxy").is_none() {
            let pos = node
                .get("mode")
                .map_or_else(|| node.pos.clone(), |n| n.pos.clone());
            cx.error(
                &path.key("mode"),
                &pos,
                "mode \"trusted-proxy\" needs gateway.auth.trustedProxy.userHeader (the header \
                 the proxy puts the user in)",
            );
        }
        o.ignore(&["rateLimit", "allowTailscale"], cx);
        o.finish(cx);
        Some(a)
    }
}

/// `gateway.controlUi`: only `allowedOrigins` is implemented (the browser origins the gateway
/// answers, CORS included); the rest of OpenClaw's Control UI keys are accepted and ignored.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ControlUiConfig {
    #[serde(rename = "allowedOrigins")]
    pub allowed_origins: Vec<String>,
}

/// One `allowedOrigins` entry: `*`, or an origin `scheme://host[:port]` (http or https, no
/// path, query or credentials), kept lower-cased and without a trailing `/`.
fn decode_origin(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<String> {
    let text = String::decode(node, path, cx)?;
    let trimmed = text.trim().trim_end_matches('/');
    if trimmed == "*" {
        return Some(trimmed.to_string());
    }
    let origin = url::Url::parse(trimmed).ok().filter(|u| {
        matches!(u.scheme(), "http" | "https")
            && u.host_str().is_some()
            && u.path() == "/"
            && u.query().is_none()
            && u.username().is_empty()
            && u.password().is_none()
            && !trimmed.ends_with('#')
    });
    match origin {
        Some(url) => Some(url.origin().ascii_serialization()),
        None => {
            cx.expected(
                node,
                path,
                "an origin like \"https://app.example.com\" (scheme://host[:port], no path) or \"*\"",
            );
            None
        }
    }
}

/// One `allowedHosts` entry: a host name or address, optionally with `:port`.
fn decode_host(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<String> {
    let text = String::decode(node, path, cx)?;
    let host = text.trim().to_ascii_lowercase();
    let valid = !host.is_empty()
        && !host.contains("://")
        && !host.contains(['/', '?', '#', '@', ' '])
        && url::Url::parse(&format!("http://{host}/")).is_ok_and(|u| u.host_str().is_some());
    if valid {
        Some(host)
    } else {
        cx.expected(
            node,
            path,
            "a host name like \"clawgate.example.com\" or \"clawgate.example.com:8443\"",
        );
        None
    }
}

fn list_of<T>(
    decode_one: fn(&Node, &JsonPath, &mut Decoder) -> Option<T>,
) -> impl Fn(&Node, &JsonPath, &mut Decoder) -> Option<Vec<T>> {
    move |node, path, cx| {
        let NodeKind::Array(items) = &node.kind else {
            cx.expected(node, path, "an array");
            return None;
        };
        let decoded: Vec<Option<T>> = items
            .iter()
            .enumerate()
            .map(|(i, item)| decode_one(item, &path.index(i), cx))
            .collect();
        decoded.into_iter().collect()
    }
}

impl Decode for ControlUiConfig {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let mut o = ObjectReader::new(node, path, cx)?;
        let c = Self {
            allowed_origins: o
                .field_with("allowedOrigins", cx, list_of(decode_origin))
                .unwrap_or_default(),
        };
        o.ignore(
            &[
                "enabled",
                "basePath",
                "root",
                "toolTitles",
                "embedSandbox",
                "allowExternalEmbedUrls",
                "automaticallyFetchFavicons",
                "chatMessageMaxWidth",
                "dangerouslyAllowHostHeaderOriginFallback",
                "allowInsecureAuth",
                "dangerouslyDisableDeviceAuth",
            ],
            cx,
        );
        o.finish(cx);
        Some(c)
    }
}

/// An IP address (a single-host range) or a CIDR range.
fn ip_range(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<ipnet::IpNet> {
    let s = String::decode(node, path, cx)?;
    let text = s.trim();
    if let Ok(net) = text.parse::<ipnet::IpNet>() {
        return Some(net.trunc());
    }
    if let Ok(ip) = text.parse::<std::net::IpAddr>() {
        return Some(ipnet::IpNet::from(ip));
    }
    cx.expected(node, path, "an IP address or a CIDR range (\"10.0.0.0/8\")");
    None
}

fn ranges_as_strings<S: serde::Serializer>(
    ranges: &[ipnet::IpNet],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(ranges.iter().map(ToString::to_string))
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayConfig {
    pub port: u16,
    pub bind: GatewayBind,
    pub auth: GatewayAuth,
    #[serde(rename = "controlUi")]
    pub control_ui: ControlUiConfig,
    /// clawgate's key: `Host` names accepted besides the loopback ones (a reverse proxy's
    /// public name). Checked on a loopback bind, and on any bind once set.
    #[serde(rename = "allowedHosts")]
    pub allowed_hosts: Vec<String>,
    /// Reverse proxies whose forwarded headers are believed (OpenClaw's `gateway.trustedProxies`).
    #[serde(serialize_with = "ranges_as_strings")]
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            port: 18_789,
            bind: GatewayBind::Loopback,
            auth: GatewayAuth::default(),
            control_ui: ControlUiConfig::default(),
            allowed_hosts: Vec::new(),
            trusted_proxies: Vec::new(),
        }
    }
}

impl Decode for GatewayConfig {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let mut o = ObjectReader::new(node, path, cx)?;
        let d = Self::default();
        let g = Self {
            port: o
                .field_with("port", cx, |n, p, cx| in_range(n, p, cx, 1, 65_535))
                .map_or(d.port, |v| v as u16),
            bind: o.field("bind", cx).unwrap_or(d.bind),
            auth: o.field("auth", cx).unwrap_or_default(),
            control_ui: o.field("controlUi", cx).unwrap_or_default(),
            allowed_hosts: o
                .field_with("allowedHosts", cx, list_of(decode_host))
                .unwrap_or_default(),
            trusted_proxies: o
                .field_with("trustedProxies", cx, list_of(ip_range))
                .unwrap_or_default(),
        };
        // A list with bad entries has its own errors already.
        let listed = node
            .get("trustedProxies")
            .is_some_and(|n| !matches!(&n.kind, NodeKind::Array(items) if items.is_empty()));
        if g.auth.mode == GatewayAuthMode::TrustedProxy && !listed {
            let pos = node
                .get("auth")
                .map_or_else(|| node.pos.clone(), |n| n.pos.clone());
            cx.error(
                &path.key("trustedProxies"),
                &pos,
                "gateway.auth.mode \"trusted-proxy\" needs gateway.trustedProxies (the addresses \
                 of the proxies that set the user header)",
            );
        }
        o.ignore(
            &[
                "mode",
                "remote",
                "reload",
                "tls",
                "http",
                "tailscale",
                "nodes",
                "customBindHost",
                "push",
                "channelHealthCheckMinutes",
            ],
            cx,
        );
        o.finish(cx);
        Some(g)
    }
}

string_enum! {
    pub enum ToolProfile { Minimal = "minimal", Coding = "coding", Messaging = "messaging", Full = "full" }
}

/// `tools` (top level or per agent). `maxRounds` is clawgate's key (the tool loop's cap); per
/// agent it replaces the global value.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolsConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<ToolProfile>,
    pub allow: Vec<String>,
    /// Added to the profile's list (OpenClaw's `alsoAllow`).
    pub also_allow: Vec<String>,
    pub deny: Vec<String>,
    /// `tools.exec`: approval levels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exec: Option<ExecToolConfig>,
    /// `tools.web` (only `fetch` is read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web: Option<WebToolsConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_rounds: Option<u32>,
}

/// Most model calls a turn's tool loop may make (`tools.maxRounds`).
pub const MAX_TOOL_ROUNDS: u64 = 1000;

impl Decode for ToolsConfig {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let mut o = ObjectReader::new(node, path, cx)?;
        let non_empty = |n: &Node, p: &JsonPath, cx: &mut Decoder| {
            let list = Vec::<String>::decode(n, p, cx)?;
            if let Some(i) = list.iter().position(|s| s.trim().is_empty()) {
                let item = match &n.kind {
                    crate::source::NodeKind::Array(items) => &items[i],
                    _ => n,
                };
                let found = describe(item, &p.index(i));
                cx.error(
                    &p.index(i),
                    &item.pos,
                    format!("expected a tool name or group, found {found}"),
                );
                return None;
            }
            Some(list)
        };
        let t = Self {
            profile: o.field("profile", cx),
            allow: o.field_with("allow", cx, non_empty).unwrap_or_default(),
            also_allow: o.field_with("alsoAllow", cx, non_empty).unwrap_or_default(),
            deny: o.field_with("deny", cx, non_empty).unwrap_or_default(),
            exec: o.field("exec", cx),
            web: o.field("web", cx),
            max_rounds: o
                .field_with("maxRounds", cx, |n, p, cx| {
                    in_range(n, p, cx, 1, MAX_TOOL_ROUNDS)
                })
                .map(|v| v as u32),
        };
        o.ignore(
            &[
                "byProvider",
                "media",
                "links",
                "elevated",
                "agentToAgent",
                "sandbox",
                "subagents",
                "message",
                "fs",
                "loopDetection",
            ],
            cx,
        );
        o.finish(cx);
        Some(t)
    }
}
