//! The parts of `tools` that shape the agent's dangerous tools, with OpenClaw's names:
//! `tools.exec` (`security`, `ask`), `tools.web.fetch` (`maxRedirects`, `ssrfPolicy`) and the
//! sandbox block `agents.defaults.sandbox` / `agents.list[].sandbox` (`mode`, `backend`,
//! `docker.network`, `docker.pidsLimit`). Keys OpenClaw has there that clawgate does not
//! implement are accepted and listed as ignored.

use serde::Serialize;

use crate::decode::{Decode, Decoder, ObjectReader, string_enum};
use crate::diagnostic::JsonPath;
use crate::source::{Node, NodeKind};

string_enum! {
    /// `tools.exec.security` and `askFallback`.
    pub enum ExecSecurityLevel { Deny = "deny", Allowlist = "allowlist", Full = "full" }
}

string_enum! {
    /// `tools.exec.ask`.
    pub enum ExecAskMode { Off = "off", OnMiss = "on-miss", Always = "always" }
}

string_enum! {
    /// `sandbox.mode`.
    pub enum SandboxModeSetting { Off = "off", NonMain = "non-main", All = "all" }
}

string_enum! {
    /// `sandbox.docker.network`, as far as a bubblewrap sandbox can honour it: no network, or
    /// the host's.
    pub enum SandboxNetwork { None = "none", Bridge = "bridge", Host = "host" }
}

/// `tools.exec` (global or per agent).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ExecToolConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security: Option<ExecSecurityLevel>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ask: Option<ExecAskMode>,
}

impl Decode for ExecToolConfig {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let mut o = ObjectReader::new(node, path, cx)?;
        let e = Self {
            security: o.field("security", cx),
            ask: o.field("ask", cx),
        };
        o.ignore(
            &[
                "host",
                "node",
                "pathPrepend",
                "safeBins",
                "safeBinTrustedDirs",
                "safeBinProfiles",
                "backgroundMs",
                "timeoutSec",
                "approvalRunningNoticeMs",
                "cleanupMs",
                "notifyOnExit",
                "notifyOnExitEmptySuccess",
                "applyPatch",
                "strictInlineEval",
                "remote",
            ],
            cx,
        );
        o.finish(cx);
        Some(e)
    }
}

/// `tools.web.fetch.ssrfPolicy`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SsrfPolicyConfig {
    pub dangerously_allow_private_network: bool,
    pub allow_rfc2544_benchmark_range: bool,
    pub allow_ipv6_unique_local_range: bool,
    pub allowed_hostnames: Vec<String>,
    pub blocked_hostnames: Vec<String>,
}

impl Decode for SsrfPolicyConfig {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let mut o = ObjectReader::new(node, path, cx)?;
        let p = Self {
            dangerously_allow_private_network: o
                .field("dangerouslyAllowPrivateNetwork", cx)
                .unwrap_or(false),
            allow_rfc2544_benchmark_range: o
                .field("allowRfc2544BenchmarkRange", cx)
                .unwrap_or(false),
            allow_ipv6_unique_local_range: o
                .field("allowIpv6UniqueLocalRange", cx)
                .unwrap_or(false),
            allowed_hostnames: o.field("allowedHostnames", cx).unwrap_or_default(),
            blocked_hostnames: o.field("blockedHostnames", cx).unwrap_or_default(),
        };
        o.finish(cx);
        Some(p)
    }
}

/// `tools.web.fetch`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebFetchConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_redirects: Option<u64>,
    pub ssrf_policy: SsrfPolicyConfig,
}

impl Decode for WebFetchConfig {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let mut o = ObjectReader::new(node, path, cx)?;
        let f = Self {
            max_redirects: o.field_with("maxRedirects", cx, |n, p, cx| {
                crate::decode::in_range(n, p, cx, 0, 20)
            }),
            ssrf_policy: o.field("ssrfPolicy", cx).unwrap_or_default(),
        };
        o.ignore(
            &[
                "enabled",
                "provider",
                "maxChars",
                "maxCharsCap",
                "maxResponseBytes",
                "timeoutSeconds",
                "cacheTtlMinutes",
                "userAgent",
                "headers",
                "readability",
                "useTrustedEnvProxy",
                "firecrawl",
            ],
            cx,
        );
        o.finish(cx);
        Some(f)
    }
}

/// `tools.web`: only `fetch` is read; `search` and the rest are OpenClaw's and ignored.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WebToolsConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fetch: Option<WebFetchConfig>,
}

impl Decode for WebToolsConfig {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let NodeKind::Object(props) = &node.kind else {
            cx.expected(node, path, "an object");
            return None;
        };
        // Hand-read (the rest of `tools.web` is open), so the one key it reads is recorded
        // here for the schema's key list.
        cx.record_key(path, "fetch", false);
        let mut fetch = None;
        for prop in props {
            let child = path.key(&prop.key);
            if prop.key == "fetch" {
                fetch = WebFetchConfig::decode(&prop.value, &child, cx);
            } else {
                cx.ignored.push(child.as_str().to_string());
            }
        }
        Some(Self { fetch })
    }
}

/// `agents.defaults.sandbox` / `agents.list[].sandbox`: every field optional, so an agent's
/// block overrides the defaults key by key.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SandboxConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<SandboxModeSetting>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    /// `docker.network`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<SandboxNetwork>,
    /// `docker.pidsLimit` (0 = the default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pids_limit: Option<u64>,
}

impl SandboxConfig {
    /// `self` over `base`, key by key.
    pub fn over(&self, base: &SandboxConfig) -> SandboxConfig {
        SandboxConfig {
            mode: self.mode.or(base.mode),
            backend: self.backend.clone().or_else(|| base.backend.clone()),
            network: self.network.or(base.network),
            pids_limit: self.pids_limit.or(base.pids_limit),
        }
    }
}

impl Decode for SandboxConfig {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let mut o = ObjectReader::new(node, path, cx)?;
        let mode = o.field("mode", cx);
        let backend: Option<String> = o.field("backend", cx);
        if let Some(b) = &backend
            && !matches!(b.as_str(), "bwrap" | "bubblewrap")
            && let Some((n, p)) = o.node("backend")
        {
            cx.warn(
                &p,
                &n.pos,
                format!(
                    "clawgate sandboxes commands with bubblewrap, not \"{b}\"; the sandbox is \
                     bubblewrap's (set backend to \"bwrap\" to silence this)"
                ),
            );
        }
        let (mut network, mut pids_limit) = (None, None);
        if let Some((dnode, dpath)) = o.node("docker") {
            let mut d = ObjectReader::new(dnode, &dpath, cx)?;
            network = d.field("network", cx);
            pids_limit = d.field_with("pidsLimit", cx, |n, p, cx| {
                crate::decode::in_range(n, p, cx, 0, 1_000_000)
            });
            d.ignore(
                &[
                    "image",
                    "containerPrefix",
                    "workdir",
                    "readOnlyRoot",
                    "tmpfs",
                    "user",
                    "capDrop",
                    "env",
                    "setupCommand",
                    "memory",
                    "memorySwap",
                    "cpus",
                    "ulimits",
                    "seccompProfile",
                    "apparmorProfile",
                    "dns",
                    "extraHosts",
                    "binds",
                    "dangerouslyAllowReservedContainerTargets",
                    "dangerouslyAllowExternalBindSources",
                    "dangerouslyAllowContainerNamespaceJoin",
                    "workspaceMountPropagation",
                ],
                cx,
            );
            d.finish(cx);
        }
        o.ignore(
            &[
                "workspaceAccess",
                "sessionToolsVisibility",
                "scope",
                "perSession",
                "workspaceRoot",
                "ssh",
                "browser",
                "prune",
            ],
            cx,
        );
        o.finish(cx);
        Some(Self {
            mode,
            backend,
            network,
            pids_limit,
        })
    }
}
