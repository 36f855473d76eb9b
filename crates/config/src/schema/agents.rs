//! The `agents` section: `defaults` (model selection, aliases, context limits, compaction) and
//! `list[]` (per-agent overrides). OpenClaw keys that clawgate does not implement are accepted
//! and reported as ignored, so a real `openclaw.json` loads.

use serde::Serialize;

use crate::decode::{Decode, Decoder, ObjectReader, in_range, positive, string_enum};
use crate::diagnostic::JsonPath;
use crate::schema::agent_tools::SandboxConfig;
use crate::schema::gateway::ToolsConfig;
use crate::source::{Node, NodeKind, Pos};

/// `model` / `imageModel`: a string (primary only) or `{primary, fallbacks}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ModelSelection {
    pub primary: Option<String>,
    /// `None` = not given (inherit); `Some([])` = explicitly none.
    pub fallbacks: Option<Vec<String>>,
    /// Whether the file used the string form.
    #[serde(skip)]
    pub string_form: bool,
    #[serde(skip)]
    pub primary_pos: Option<Pos>,
    #[serde(skip)]
    pub fallback_pos: Vec<Pos>,
}

impl Decode for ModelSelection {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        match &node.kind {
            NodeKind::String(s) => Some(Self {
                primary: Some(s.clone()),
                fallbacks: None,
                string_form: true,
                primary_pos: Some(node.pos.clone()),
                fallback_pos: Vec::new(),
            }),
            NodeKind::Object(_) => {
                let mut o = ObjectReader::new(node, path, cx)?;
                let primary_pos = node.get("primary").map(|n| n.pos.clone());
                let fallback_pos = match node.get("fallbacks").map(|n| &n.kind) {
                    Some(NodeKind::Array(items)) => items.iter().map(|n| n.pos.clone()).collect(),
                    _ => Vec::new(),
                };
                let sel = Self {
                    primary: o.field("primary", cx),
                    fallbacks: o.field("fallbacks", cx),
                    string_form: false,
                    primary_pos,
                    fallback_pos,
                };
                o.finish(cx);
                Some(sel)
            }
            _ => {
                cx.expected(node, path, "a model ref string or {primary, fallbacks}");
                None
            }
        }
    }
}

string_enum! {
    /// `params.reasoningStream` of a model: how its reasoning travels before the answer
    /// starts (`hold`: held back with the uncommitted stream, so a model that only reasons and
    /// then fails still fails over; `immediate`: forwarded at once, committing the stream).
    pub enum ReasoningStreamMode { Hold = "hold", Immediate = "immediate" }
}

/// `agents.defaults.models["provider/model"]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ModelPolicyEntry {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub params: Option<crate::schema::params::ModelParams>,
    #[serde(skip)]
    pub key_pos: Option<Pos>,
    #[serde(skip)]
    pub alias_pos: Option<Pos>,
}

impl Decode for ModelPolicyEntry {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let mut o = ObjectReader::new(node, path, cx)?;
        let e = Self {
            alias: o.field("alias", cx),
            params: o.field("params", cx),
            key_pos: None,
            alias_pos: node.get("alias").map(|n| n.pos.clone()),
        };
        o.ignore(&["streaming"], cx);
        o.finish(cx);
        Some(e)
    }
}

/// `modelPolicy` (defaults or per agent): `allow` lists the models a session, `/model` or a
/// request may pick: refs, aliases and `provider/*` (or `provider/prefix/*`) wildcards.
/// `allow` absent = inherit (per agent) or no policy; `[]` = allow any.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ModelPolicy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow: Option<Vec<String>>,
    #[serde(skip)]
    pub allow_pos: Vec<Pos>,
}

impl Decode for ModelPolicy {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let mut o = ObjectReader::new(node, path, cx)?;
        let allow_pos = match node.get("allow").map(|n| &n.kind) {
            Some(NodeKind::Array(items)) => items.iter().map(|n| n.pos.clone()).collect(),
            _ => Vec::new(),
        };
        let allow: Option<Vec<String>> = o.field("allow", cx);
        if let Some(list) = &allow {
            for (i, entry) in list.iter().enumerate() {
                if entry.trim().is_empty()
                    && let Some(pos) = allow_pos.get(i)
                {
                    cx.error(
                        &path.key("allow").index(i),
                        pos,
                        "expected a model ref, alias or provider/* wildcard, found string \"\"",
                    );
                }
            }
        }
        o.finish(cx);
        Some(Self { allow, allow_pos })
    }
}

string_enum! {
    pub enum CompactionMode { Default = "default", Safeguard = "safeguard" }
}

/// A string with something in it (prompts, policy texts).
fn non_blank(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<String> {
    let s = String::decode(node, path, cx)?;
    if s.trim().is_empty() {
        cx.expected(node, path, "a non-empty string");
        return None;
    }
    Some(s)
}

string_enum! {
    pub enum IdentifierPolicy { Strict = "strict", Off = "off", Custom = "custom" }
}

/// `compaction.memoryFlush`: the silent pre-compaction turn. `prompt` / `systemPrompt` replace
/// the built-in ones (`None` = built-in).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemoryFlushConfig {
    pub enabled: bool,
    pub soft_threshold_tokens: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
}

impl Default for MemoryFlushConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            soft_threshold_tokens: 4000,
            prompt: None,
            system_prompt: None,
        }
    }
}

/// `compaction.qualityGuard` (safeguard mode): check each summary, retry with the problems
/// named, fail the compaction when no attempt passes.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QualityGuardConfig {
    pub enabled: bool,
    pub max_retries: u32,
}

impl Default for QualityGuardConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            max_retries: 1,
        }
    }
}

impl Decode for QualityGuardConfig {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let mut o = ObjectReader::new(node, path, cx)?;
        let d = Self::default();
        let q = Self {
            enabled: o.field("enabled", cx).unwrap_or(d.enabled),
            max_retries: o
                .field_with("maxRetries", cx, |n, p, cx| in_range(n, p, cx, 0, 5))
                .map_or(d.max_retries, |v| v as u32),
        };
        o.finish(cx);
        Some(q)
    }
}

impl Decode for MemoryFlushConfig {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let mut o = ObjectReader::new(node, path, cx)?;
        let d = Self::default();
        let m = Self {
            enabled: o.field("enabled", cx).unwrap_or(d.enabled),
            soft_threshold_tokens: o
                .field("softThresholdTokens", cx)
                .unwrap_or(d.soft_threshold_tokens),
            prompt: o.field_with("prompt", cx, non_blank),
            system_prompt: o.field_with("systemPrompt", cx, non_blank),
        };
        o.ignore(&["model", "forceFlushTranscriptBytes"], cx);
        o.finish(cx);
        Some(m)
    }
}

/// `agents.defaults.compaction` with OpenClaw's defaults.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CompactionConfig {
    pub enabled: bool,
    pub mode: CompactionMode,
    pub reserve_tokens: u64,
    pub reserve_tokens_floor: u64,
    pub keep_recent_tokens: u64,
    pub model: Option<String>,
    pub timeout_seconds: u64,
    pub identifier_policy: IdentifierPolicy,
    /// The policy text of `identifierPolicy: "custom"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identifier_instructions: Option<String>,
    pub quality_guard: QualityGuardConfig,
    pub memory_flush: MemoryFlushConfig,
}

impl Default for CompactionConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            mode: CompactionMode::Default,
            reserve_tokens: 16_384,
            reserve_tokens_floor: 20_000,
            keep_recent_tokens: 20_000,
            model: None,
            timeout_seconds: 180,
            identifier_policy: IdentifierPolicy::Strict,
            identifier_instructions: None,
            quality_guard: QualityGuardConfig::default(),
            memory_flush: MemoryFlushConfig::default(),
        }
    }
}

impl Decode for CompactionConfig {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let mut o = ObjectReader::new(node, path, cx)?;
        let d = Self::default();
        let c = Self {
            enabled: o.field("enabled", cx).unwrap_or(d.enabled),
            mode: o.field("mode", cx).unwrap_or(d.mode),
            reserve_tokens: o.field("reserveTokens", cx).unwrap_or(d.reserve_tokens),
            reserve_tokens_floor: o
                .field("reserveTokensFloor", cx)
                .unwrap_or(d.reserve_tokens_floor),
            keep_recent_tokens: o
                .field_with("keepRecentTokens", cx, positive)
                .unwrap_or(d.keep_recent_tokens),
            model: o.field("model", cx),
            timeout_seconds: o
                .field_with("timeoutSeconds", cx, |n, p, cx| {
                    in_range(n, p, cx, 1, 86_400)
                })
                .unwrap_or(d.timeout_seconds),
            identifier_policy: o
                .field("identifierPolicy", cx)
                .unwrap_or(d.identifier_policy),
            identifier_instructions: o.field_with("identifierInstructions", cx, non_blank),
            quality_guard: o.field("qualityGuard", cx).unwrap_or_default(),
            memory_flush: o.field("memoryFlush", cx).unwrap_or(d.memory_flush),
        };
        if c.identifier_policy == IdentifierPolicy::Custom && c.identifier_instructions.is_none() {
            let pos = node
                .get("identifierPolicy")
                .map_or_else(|| node.pos.clone(), |n| n.pos.clone());
            cx.error(
                &path.key("identifierPolicy"),
                &pos,
                "identifierPolicy \"custom\" needs compaction.identifierInstructions (the policy text)",
            );
        }
        o.ignore(
            &[
                "thinkingLevel",
                "maxHistoryShare",
                "recentTurnsPreserve",
                "provider",
                "notifyUser",
                "notifyOnStart",
                "postCompactionSections",
                "truncateAfterCompaction",
                "midTurnPrecheck",
                "maxActiveTranscriptBytes",
                "customInstructions",
            ],
            cx,
        );
        o.finish(cx);
        Some(c)
    }
}

/// OpenClaw `agents.defaults` keys clawgate accepts but does not implement.
const IGNORED_DEFAULTS: &[&str] = &[
    "params",
    "pdfModel",
    "mediaModels",
    "imageGenerationModel",
    "utilityModel",
    "modelSelectionScope",
    "heartbeat",
    "subagents",
    "contextPruning",
    "thinkingDefault",
    "verboseDefault",
    "elevatedDefault",
    "reasoningDefault",
    "blockStreamingDefault",
    "blockStreamingBreak",
    "blockStreamingChunk",
    "blockStreamingCoalesce",
    "humanDelay",
    "typingMode",
    "typingIntervalSeconds",
    "maxConcurrent",
    "userTimezone",
    "timeFormat",
    "skipBootstrap",
    "bootstrapMaxChars",
    "bootstrapTotalMaxChars",
    "repoRoot",
    "memorySearch",
    "cliBackends",
    "envelopeTimezone",
    "envelopeTimestamp",
    "envelopeElapsed",
    "mediaMaxMb",
    "imageMaxDimensionPx",
    "embeddedPi",
];

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentDefaults {
    pub model: Option<ModelSelection>,
    pub image_model: Option<ModelSelection>,
    /// Keyed by model ref, in file order.
    #[serde(serialize_with = "crate::schema::pairs_as_map")]
    pub models: Vec<(String, ModelPolicyEntry)>,
    pub context_tokens: Option<u64>,
    pub min_context_window: u64,
    pub timeout_seconds: u64,
    pub compaction: CompactionConfig,
    pub workspace: Option<String>,
    /// `agents.defaults.sandbox` (how `exec` is sandboxed).
    pub sandbox: SandboxConfig,
    pub model_policy: Option<ModelPolicy>,
}

impl Default for AgentDefaults {
    fn default() -> Self {
        Self {
            model: None,
            image_model: None,
            models: Vec::new(),
            context_tokens: None,
            min_context_window: 16_000,
            timeout_seconds: 600,
            compaction: CompactionConfig::default(),
            workspace: None,
            sandbox: SandboxConfig::default(),
            model_policy: None,
        }
    }
}

impl Decode for AgentDefaults {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let mut o = ObjectReader::new(node, path, cx)?;
        let d = Self::default();
        let mut entries = Vec::new();
        if let Some((mnode, mpath)) = o.node("models") {
            if let Some(props) = mnode.object() {
                for prop in props {
                    if let Some(mut e) =
                        ModelPolicyEntry::decode(&prop.value, &mpath.key(&prop.key), cx)
                    {
                        e.key_pos = Some(prop.key_pos.clone());
                        entries.push((prop.key.clone(), e));
                    }
                }
            } else {
                cx.expected(mnode, &mpath, "an object keyed by model ref");
            }
        }
        let a = Self {
            model: o.field("model", cx),
            image_model: o.field("imageModel", cx),
            models: entries,
            context_tokens: o.field_with("contextTokens", cx, positive),
            min_context_window: o
                .field_with("minContextWindow", cx, positive)
                .unwrap_or(d.min_context_window),
            timeout_seconds: o
                .field_with("timeoutSeconds", cx, |n, p, cx| {
                    in_range(n, p, cx, 1, 86_400)
                })
                .unwrap_or(d.timeout_seconds),
            compaction: o.field("compaction", cx).unwrap_or_default(),
            workspace: o.field("workspace", cx),
            sandbox: o.field("sandbox", cx).unwrap_or_default(),
            model_policy: o.field("modelPolicy", cx),
        };
        o.ignore(IGNORED_DEFAULTS, cx);
        o.finish(cx);
        Some(a)
    }
}

/// One `agents.list[]` entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentConfig {
    pub id: String,
    pub default: bool,
    pub model: Option<ModelSelection>,
    pub tools: Option<ToolsConfig>,
    pub workspace: Option<String>,
    /// The agent's own `sandbox` keys (over `agents.defaults.sandbox`).
    pub sandbox: Option<SandboxConfig>,
    pub model_policy: Option<ModelPolicy>,
}

impl Decode for AgentConfig {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let mut o = ObjectReader::new(node, path, cx)?;
        let id: Option<String> = o.required("id", cx);
        let a = AgentConfig {
            id: id.clone().unwrap_or_default(),
            default: o.field("default", cx).unwrap_or(false),
            model: o.field("model", cx),
            tools: o.field("tools", cx),
            workspace: o.field("workspace", cx),
            sandbox: o.field("sandbox", cx),
            model_policy: o.field("modelPolicy", cx),
        };
        // `name` is OpenClaw's display name for chat channels, which clawgate does not have.
        o.ignore(
            &[
                "name",
                "agentDir",
                "identity",
                "groupChat",
                "subagents",
                "heartbeat",
                "params",
                "skills",
                "humanDelay",
                "memorySearch",
                "thinkingDefault",
                "reasoningDefault",
            ],
            cx,
        );
        o.finish(cx);
        id.map(|_| a)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AgentsConfig {
    pub defaults: AgentDefaults,
    pub list: Vec<AgentConfig>,
}

impl Decode for AgentsConfig {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let mut o = ObjectReader::new(node, path, cx)?;
        let defaults = o.field("defaults", cx).unwrap_or_default();
        let list: Vec<AgentConfig> = o.field("list", cx).unwrap_or_default();
        if let Some((lnode, lpath)) = o.node("list")
            && let NodeKind::Array(items) = &lnode.kind
        {
            let mut seen = std::collections::BTreeSet::new();
            for (i, item) in items.iter().enumerate() {
                if let Some(id) = item.get("id").and_then(Node::as_str)
                    && !seen.insert(id.to_string())
                {
                    cx.error(
                        &lpath.index(i),
                        &item.pos,
                        format!("duplicate agent id \"{id}\""),
                    );
                }
            }
        }
        o.ignore(&["entries"], cx);
        o.finish(cx);
        Some(Self { defaults, list })
    }
}
