//! The `gateway` and `tools` sections (the parts clawgate implements; the rest of OpenClaw's
//! keys there are accepted and reported as ignored).

use serde::Serialize;

use crate::decode::{Decode, Decoder, ObjectReader, describe, in_range, string_enum};
use crate::diagnostic::JsonPath;
use crate::schema::agent_tools::{ExecToolConfig, WebToolsConfig};
use crate::schema::secrets::SecretInput;
use crate::source::Node;

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

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GatewayAuth {
    pub mode: GatewayAuthMode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<SecretInput>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<SecretInput>,
}

impl Default for GatewayAuth {
    fn default() -> Self {
        Self {
            mode: GatewayAuthMode::Token,
            token: None,
            password: None,
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
        };
        o.ignore(&["rateLimit", "trustedProxy", "allowTailscale"], cx);
        o.finish(cx);
        Some(a)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GatewayConfig {
    pub port: u16,
    pub bind: GatewayBind,
    pub auth: GatewayAuth,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            port: 18_789,
            bind: GatewayBind::Loopback,
            auth: GatewayAuth::default(),
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
        };
        o.ignore(
            &[
                "mode",
                "controlUi",
                "remote",
                "reload",
                "tls",
                "http",
                "trustedProxies",
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

/// `tools` (top level or per agent).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ToolsConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<ToolProfile>,
    pub allow: Vec<String>,
    pub deny: Vec<String>,
    /// `tools.exec`: approval levels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exec: Option<ExecToolConfig>,
    /// `tools.web` (only `fetch` is read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web: Option<WebToolsConfig>,
}

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
            deny: o.field_with("deny", cx, non_empty).unwrap_or_default(),
            exec: o.field("exec", cx),
            web: o.field("web", cx),
        };
        o.ignore(
            &[
                "alsoAllow",
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
