//! `ProviderSpec`: everything an adapter needs to talk to one upstream, as plain data. The
//! config crate's registry converts into it (`spec_from_config`), tests build it by hand, so
//! this crate never depends on how config is loaded or merged.
//!
//! Compat flags keep OpenClaw's names (serde `camelCase`) and are all optional: `None` means
//! "use the per-server default" (see `compat::resolve_encode_options`). Request parameters are
//! the config schema's plain [`ModelParams`] (one definition of the keys; applied by
//! `request_params`).

use std::collections::BTreeMap;
use std::path::PathBuf;

pub use clawgate_config::schema::ModelParams;
use serde::{Deserialize, Serialize};

use crate::secret::Secret;

/// The wire dialect of a provider: the config schema's one `ApiKind` (OpenClaw's `api`
/// values). A `ProviderSpec` built from config only ever holds one clawgate implements
/// (`ApiKind::is_supported`; [`crate::from_config::api_from_config`] refuses the rest).
pub use clawgate_config::ApiKind;

/// Which field carries the output cap on chat completions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MaxTokensField {
    #[serde(rename = "max_tokens")]
    MaxTokens,
    #[serde(rename = "max_completion_tokens")]
    MaxCompletionTokens,
}

/// `compat.thinkingFormat`: how a chat-completions server is told to think (models marked
/// `reasoning` only; see `chat_compat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ThinkingFormat {
    /// `reasoning_effort` (the default).
    #[serde(rename = "openai")]
    OpenAi,
    /// `reasoning: {effort}` (`{effort: "none"}` when the request asks for none).
    #[serde(rename = "openrouter")]
    OpenRouter,
    /// Top-level `enable_thinking` (Z.AI).
    Zai,
    /// Top-level `enable_thinking` (Qwen on DashScope-style servers).
    Qwen,
    /// `chat_template_kwargs.enable_thinking` (Qwen on vLLM, SGLang, llama.cpp).
    QwenChatTemplate,
    /// `reasoning: {enabled}` (+ `reasoning_effort`).
    Together,
    /// `thinking: {type: "enabled" | "disabled"}` (+ `reasoning_effort`).
    #[serde(rename = "deepseek")]
    DeepSeek,
}

/// `compat.toolSchemaProfile`: a known set of JSON-Schema rewrites for a server family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ToolSchemaProfile {
    /// llama.cpp's grammar compiler: no `pattern`, no `maxLength` of 2000 or more.
    #[serde(rename = "llamacpp")]
    LlamaCpp,
    /// Gemini's OpenAPI subset.
    Gemini,
    /// xAI: no length, item-count or contains-count bounds.
    Xai,
}

/// `compat.toolCallArgumentsEncoding`: how a server encodes strings in tool-call arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ToolCallArgumentsEncoding {
    /// `&quot;`, `&amp;`, `&#39;`, … inside argument strings (Grok): decoded.
    HtmlEntities,
}

/// OpenClaw's `compat` flags that change what goes on the wire. `None` = server default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompatFlags {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens_field: Option<MaxTokensField>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supports_developer_role: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supports_usage_in_streaming: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supports_tools: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_string_content: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supports_store: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supports_instructions: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supports_reasoning_effort: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supports_temperature: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supports_strict_mode: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking_format: Option<ThinkingFormat>,
    /// Effort level (`minimal` … `xhigh`, `off`) → the value the server expects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort_map: Option<BTreeMap<String, String>>,
    /// The effort levels the model takes; others are moved to the nearest one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supported_reasoning_efforts: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_tool_result_name: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_assistant_after_tool_result: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_thinking_as_text: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_reasoning_content_on_assistant_messages: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict_message_keys: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_mistral_tool_ids: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_open_ai_anthropic_tool_payload: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_schema_profile: Option<ToolSchemaProfile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsupported_tool_schema_keywords: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_arguments_encoding: Option<ToolCallArgumentsEncoding>,
}

impl CompatFlags {
    /// `self` with every flag `other` sets taken from `other` (model rows override the
    /// provider's flags field by field).
    pub fn overridden_by(&self, other: &CompatFlags) -> CompatFlags {
        CompatFlags {
            max_tokens_field: other.max_tokens_field.or(self.max_tokens_field),
            supports_developer_role: other
                .supports_developer_role
                .or(self.supports_developer_role),
            supports_usage_in_streaming: other
                .supports_usage_in_streaming
                .or(self.supports_usage_in_streaming),
            supports_tools: other.supports_tools.or(self.supports_tools),
            requires_string_content: other
                .requires_string_content
                .or(self.requires_string_content),
            supports_store: other.supports_store.or(self.supports_store),
            supports_instructions: other.supports_instructions.or(self.supports_instructions),
            supports_reasoning_effort: other
                .supports_reasoning_effort
                .or(self.supports_reasoning_effort),
            supports_temperature: other.supports_temperature.or(self.supports_temperature),
            supports_strict_mode: other.supports_strict_mode.or(self.supports_strict_mode),
            thinking_format: other.thinking_format.or(self.thinking_format),
            reasoning_effort_map: other
                .reasoning_effort_map
                .clone()
                .or_else(|| self.reasoning_effort_map.clone()),
            supported_reasoning_efforts: other
                .supported_reasoning_efforts
                .clone()
                .or_else(|| self.supported_reasoning_efforts.clone()),
            requires_tool_result_name: other
                .requires_tool_result_name
                .or(self.requires_tool_result_name),
            requires_assistant_after_tool_result: other
                .requires_assistant_after_tool_result
                .or(self.requires_assistant_after_tool_result),
            requires_thinking_as_text: other
                .requires_thinking_as_text
                .or(self.requires_thinking_as_text),
            requires_reasoning_content_on_assistant_messages: other
                .requires_reasoning_content_on_assistant_messages
                .or(self.requires_reasoning_content_on_assistant_messages),
            strict_message_keys: other.strict_message_keys.or(self.strict_message_keys),
            requires_mistral_tool_ids: other
                .requires_mistral_tool_ids
                .or(self.requires_mistral_tool_ids),
            requires_open_ai_anthropic_tool_payload: other
                .requires_open_ai_anthropic_tool_payload
                .or(self.requires_open_ai_anthropic_tool_payload),
            tool_schema_profile: other.tool_schema_profile.or(self.tool_schema_profile),
            unsupported_tool_schema_keywords: other
                .unsupported_tool_schema_keywords
                .clone()
                .or_else(|| self.unsupported_tool_schema_keywords.clone()),
            tool_call_arguments_encoding: other
                .tool_call_arguments_encoding
                .or(self.tool_call_arguments_encoding),
        }
    }
}

/// What the registry knows about one model of a provider.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelInfo {
    /// Model id as the upstream knows it.
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_window: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(default)]
    pub reasoning: bool,
    /// Per-model extra headers (added after the provider's).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Per-model compat overrides (win over the provider's, flag by flag).
    #[serde(default)]
    pub compat: CompatFlags,
    /// Request parameters for this model: the provider's `params` with the model's
    /// (`agents.defaults.models[ref].params`) on top.
    #[serde(default, skip_serializing_if = "ModelParams::is_empty")]
    pub params: ModelParams,
    /// GGUF file of an in-process (`llama-cpp`) model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    /// Engine settings of an in-process (`llama-cpp`) model (the config type: plain data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<clawgate_config::EngineParams>,
}

/// One upstream, as plain data.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderSpec {
    /// Provider id from config (`lmstudio`, `anthropic`, ...).
    pub id: String,
    pub api: ApiKind,
    /// As configured (`http://127.0.0.1:1234/v1`, `https://api.anthropic.com`, ...). Empty for
    /// `openai-*` means api.openai.com.
    pub base_url: String,
    /// API keys in rotation order; `CallContext::key_index` picks one. May be empty.
    pub keys: Vec<Secret>,
    /// Static extra headers for every request.
    pub headers: BTreeMap<String, String>,
    /// OpenClaw `authHeader`: send `Authorization: Bearer` even where the dialect has its own
    /// header (Anthropic `x-api-key`).
    pub auth_header: bool,
    pub compat: CompatFlags,
    /// The provider's `params`, for models without a row (a row's own include them).
    pub params: ModelParams,
    /// OpenClaw `injectNumCtxForOpenAICompat` (default true): an Ollama server reached through
    /// `openai-completions` gets `options.num_ctx` = the model's context window.
    pub inject_num_ctx_for_openai_compat: bool,
    /// Folder of GGUF files for an in-process (`llama-cpp`) provider.
    pub model_dir: Option<PathBuf>,
    pub models: Vec<ModelInfo>,
}

impl ProviderSpec {
    /// A spec with no keys, headers, compat or models.
    pub fn new(id: impl Into<String>, api: ApiKind, base_url: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            api,
            base_url: base_url.into(),
            keys: Vec::new(),
            headers: BTreeMap::new(),
            auth_header: false,
            compat: CompatFlags::default(),
            params: ModelParams::default(),
            inject_num_ctx_for_openai_compat: true,
            model_dir: None,
            models: Vec::new(),
        }
    }

    pub fn with_key(mut self, key: impl Into<Secret>) -> Self {
        self.keys.push(key.into());
        self
    }

    pub fn with_model(mut self, model: ModelInfo) -> Self {
        self.models.push(model);
        self
    }

    pub fn model(&self, id: &str) -> Option<&ModelInfo> {
        self.models.iter().find(|m| m.id == id)
    }

    /// The provider's compat flags with the model row's overrides applied.
    pub fn compat_for(&self, model: &str) -> CompatFlags {
        match self.model(model) {
            Some(m) => self.compat.overridden_by(&m.compat),
            None => self.compat.clone(),
        }
    }

    /// The request parameters for `model`: its row's, else the provider's.
    pub fn params_for(&self, model: &str) -> &ModelParams {
        self.model(model).map_or(&self.params, |m| &m.params)
    }

    /// The key for an attempt; wraps around when `index` is past the end.
    pub fn key(&self, index: usize) -> Option<&Secret> {
        if self.keys.is_empty() {
            return None;
        }
        self.keys.get(index % self.keys.len())
    }

    /// Everything of this provider that must never show in an error or a log: its keys, the
    /// values of its own and its model rows' extra `headers` (Azure's `api-key`, a proxy's
    /// token), and the credentials written into its base URL (user-info, query values). An
    /// upstream may echo any of them; [`crate::secret::redact_secrets`] scrubs them.
    pub fn secrets(&self) -> Vec<Secret> {
        let mut secrets = self.keys.clone();
        let headers = self
            .headers
            .values()
            .chain(self.models.iter().flat_map(|m| m.headers.values()));
        secrets.extend(headers.map(|v| Secret::new(v.trim())));
        if let Ok(url) = reqwest::Url::parse(self.base_url.trim()) {
            secrets.extend(url.password().map(Secret::new));
            if !url.username().is_empty() {
                secrets.push(Secret::new(url.username()));
            }
            secrets.extend(url.query_pairs().map(|(_, v)| Secret::new(v.into_owned())));
        }
        secrets.retain(|s| !s.is_empty());
        secrets.dedup();
        secrets
    }
}

impl ModelInfo {
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            ..Self::default()
        }
    }

    pub fn with_context_window(mut self, tokens: u64) -> Self {
        self.context_window = Some(tokens);
        self
    }
}
