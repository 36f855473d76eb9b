//! The typed config: the sections clawgate implements, with OpenClaw's names and defaults.
//! Sections OpenClaw has and clawgate does not implement load without error and are listed
//! once as ignored; an unknown top-level key is an error with a "did you mean" hint.

pub mod agent_tools;
pub mod agents;
pub mod auth;
pub mod engine;
pub mod gateway;
pub mod key_paths;
pub mod models;
pub mod params;
pub mod secrets;
pub mod session;
pub mod state;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::decode::{Decode, Decoder, ObjectReader};
use crate::diagnostic::JsonPath;
use crate::source::{Node, NodeKind};

pub use agent_tools::{
    ExecAskMode, ExecSecurityLevel, ExecToolConfig, SandboxConfig, SandboxModeSetting,
    SandboxNetwork, SsrfPolicyConfig, WebFetchConfig, WebToolsConfig,
};
pub use agents::{
    AgentConfig, AgentDefaults, AgentsConfig, CompactionConfig, CompactionMode, IdentifierPolicy,
    MemoryFlushConfig, ModelPolicyEntry, ModelSelection, QualityGuardConfig, ReasoningStreamMode,
};
pub use auth::{AuthConfig, CooldownsConfig};
pub use engine::{ChatTemplateConfig, EngineParams, FlashAttentionConfig};
pub use gateway::{
    GatewayAuth, GatewayAuthMode, GatewayBind, GatewayConfig, MAX_TOOL_ROUNDS, ToolProfile,
    ToolsConfig, TrustedProxyConfig,
};
pub use models::{
    ApiKind, CostConfig, InputKind, ModelCompat, ModelConfig, ModelsConfig, ModelsMode,
    ProviderConfig, ProviderTimeouts,
};
pub use params::ModelParams;
pub use secrets::{SecretInput, SecretRef, SecretSource, SecretsConfig};
pub use session::{
    MaintenanceMode, ResetMode, SessionConfig, SessionMaintenanceConfig, SessionResetConfig,
};
pub use state::{StateBackend, StateConfig};

/// Serialises `[(key, value)]` (kept in file order) as a JSON object.
pub(crate) fn pairs_as_map<S: serde::Serializer, T: Serialize>(
    pairs: &[(String, T)],
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(pairs.len()))?;
    for (k, v) in pairs {
        map.serialize_entry(k, v)?;
    }
    map.end()
}

/// OpenClaw top-level sections that clawgate accepts and ignores.
pub const IGNORED_SECTIONS: &[&str] = &[
    "$schema",
    "meta",
    "wizard",
    "channels",
    "plugins",
    "hooks",
    "messages",
    "commands",
    "skills",
    "browser",
    "ui",
    "talk",
    "web",
    "logging",
    "cron",
    "memory",
    "discovery",
    "canvasHost",
    "bindings",
    "broadcast",
    "audio",
    "media",
    "diagnostics",
    "update",
    "approvals",
    "nodeHost",
    "acp",
    "mcp",
    "identity",
];

/// The config's `env` block: `{KEY: "value", vars: {KEY: "value"}}`.
#[derive(Clone, Default, PartialEq)]
pub struct EnvConfig {
    pub vars: BTreeMap<String, String>,
}

impl std::fmt::Debug for EnvConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.vars.keys()).finish()
    }
}

impl Serialize for EnvConfig {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Values may be secrets: only names are shown.
        let redacted: BTreeMap<&str, &str> =
            self.vars.keys().map(|k| (k.as_str(), "***")).collect();
        redacted.serialize(s)
    }
}

impl Decode for EnvConfig {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let NodeKind::Object(props) = &node.kind else {
            cx.expected(node, path, "an object");
            return None;
        };
        let mut vars = BTreeMap::new();
        for prop in props {
            let child = path.key(&prop.key);
            match prop.key.as_str() {
                "vars" => {
                    let inner: Option<BTreeMap<String, String>> =
                        Decode::decode(&prop.value, &child, cx);
                    vars.extend(inner.unwrap_or_default());
                }
                "shellEnv" => cx.ignored.push(child.as_str().to_string()),
                _ => {
                    if let Some(v) = String::decode(&prop.value, &child, cx) {
                        vars.insert(prop.key.clone(), v);
                    }
                }
            }
        }
        Some(Self { vars })
    }
}

/// The whole typed config with defaults applied where OpenClaw has them.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ClawgateConfig {
    pub models: ModelsConfig,
    pub agents: AgentsConfig,
    pub gateway: GatewayConfig,
    pub tools: ToolsConfig,
    pub auth: AuthConfig,
    pub session: SessionConfig,
    pub env: EnvConfig,
    /// `<state>/exec-approvals.json`, loaded beside the config (not part of its file).
    #[serde(skip)]
    pub exec_approvals: crate::exec_approvals::ExecApprovalsFile,
    pub secrets: SecretsConfig,
    /// `state`: where sessions and cooldowns are shared (files or PostgreSQL).
    pub state: StateConfig,
    /// `meta.migrations.modelPolicyAllowlist`: OpenClaw moved the `agents.defaults.models`
    /// allowlist into `modelPolicy.allow` and marked the file; the map no longer restricts.
    pub model_policy_migrated: bool,
}

impl ClawgateConfig {
    /// Decodes the root node; diagnostics and ignored paths go to `cx`.
    pub fn decode_root(node: &Node, cx: &mut Decoder) -> Self {
        let root = JsonPath::root();
        let Some(mut o) = ObjectReader::new(node, &root, cx) else {
            return Self::default();
        };
        let cfg = Self {
            models: o.field("models", cx).unwrap_or_default(),
            agents: o.field("agents", cx).unwrap_or_default(),
            gateway: o.field("gateway", cx).unwrap_or_default(),
            tools: o.field("tools", cx).unwrap_or_default(),
            auth: o.field("auth", cx).unwrap_or_default(),
            session: o.field("session", cx).unwrap_or_default(),
            env: o.field("env", cx).unwrap_or_default(),
            exec_approvals: Default::default(),
            secrets: o.field("secrets", cx).unwrap_or_default(),
            state: o.field("state", cx).unwrap_or_default(),
            model_policy_migrated: node
                .get("meta")
                .and_then(|m| m.get("migrations"))
                .and_then(|m| m.get("modelPolicyAllowlist"))
                .is_some_and(|n| matches!(n.kind, NodeKind::Bool(true))),
        };
        o.ignore(IGNORED_SECTIONS, cx);
        o.finish(cx);
        cfg
    }
}
