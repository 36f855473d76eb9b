//! The `models` section: `mode`, `providers.<id>` and their model rows, with OpenClaw's field
//! names. Fields are `Option` here (what the file says); defaults are applied when the
//! registry is built, because a config row overrides only the fields it sets.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::decode::{Decode, Decoder, ObjectReader, describe, in_range, positive, string_enum};
use crate::diagnostic::JsonPath;
use crate::refs::normalize_provider_id;
use crate::schema::engine::EngineParams;
use crate::schema::secrets::SecretInput;
use crate::source::{Node, Pos};

string_enum! {
    /// `models.mode`.
    pub enum ModelsMode { Merge = "merge", Replace = "replace" }
}

string_enum! {
    /// Wire adapter. clawgate implements the first five; the rest are OpenClaw values that load
    /// but are marked unsupported.
    pub enum ApiKind {
        OpenAiCompletions = "openai-completions",
        OpenAiResponses = "openai-responses",
        AnthropicMessages = "anthropic-messages",
        Ollama = "ollama",
        LlamaCpp = "llama-cpp",
        OpenAiCodexResponses = "openai-codex-responses",
        GoogleGenerativeAi = "google-generative-ai",
        GithubCopilot = "github-copilot",
        BedrockConverseStream = "bedrock-converse-stream",
        AzureOpenAiResponses = "azure-openai-responses",
        GoogleVertex = "google-vertex",
        GoogleGeminiCli = "google-gemini-cli",
        OpenAiChatgptResponses = "openai-chatgpt-responses",
        PiMessages = "pi-messages",
    }
}

impl std::fmt::Display for ApiKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ApiKind {
    /// The apis clawgate has an adapter for (the in-process engine counts).
    pub fn is_supported(self) -> bool {
        matches!(
            self,
            Self::OpenAiCompletions
                | Self::OpenAiResponses
                | Self::AnthropicMessages
                | Self::Ollama
                | Self::LlamaCpp
        )
    }
}

string_enum! {
    /// Model input modality.
    pub enum InputKind { Text = "text", Image = "image" }
}

string_enum! {
    pub enum MaxTokensField { MaxTokens = "max_tokens", MaxCompletionTokens = "max_completion_tokens" }
}

string_enum! {
    pub enum ThinkingFormat {
        OpenAi = "openai",
        OpenRouter = "openrouter",
        Zai = "zai",
        Qwen = "qwen",
        QwenChatTemplate = "qwen-chat-template",
        Together = "together",
        DeepSeek = "deepseek",
    }
}

string_enum! {
    pub enum ToolSchemaProfile { LlamaCpp = "llamacpp", Gemini = "gemini", Xai = "xai" }
}

string_enum! {
    pub enum ToolCallArgumentsEncoding { HtmlEntities = "html-entities" }
}

/// Router timeouts per provider (used by the router; accepted now so configs can carry them).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderTimeouts {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_event_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_ms: Option<u64>,
}

impl Decode for ProviderTimeouts {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let mut o = ObjectReader::new(node, path, cx)?;
        let t = Self {
            connect_ms: o.field_with("connectMs", cx, positive),
            first_event_ms: o.field_with("firstEventMs", cx, positive),
            idle_ms: o.field_with("idleMs", cx, positive),
            total_ms: o.field_with("totalMs", cx, positive),
        };
        o.finish(cx);
        Some(t)
    }
}

/// USD per million tokens.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CostConfig {
    pub input: Option<f64>,
    pub output: Option<f64>,
    pub cache_read: Option<f64>,
    pub cache_write: Option<f64>,
}

fn non_negative(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<f64> {
    let v = f64::decode(node, path, cx)?;
    if v < 0.0 {
        cx.expected(node, path, "a number ≥ 0");
        return None;
    }
    Some(v)
}

impl Decode for CostConfig {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let mut o = ObjectReader::new(node, path, cx)?;
        let c = Self {
            input: o.field_with("input", cx, non_negative),
            output: o.field_with("output", cx, non_negative),
            cache_read: o.field_with("cacheRead", cx, non_negative),
            cache_write: o.field_with("cacheWrite", cx, non_negative),
        };
        o.finish(cx);
        Some(c)
    }
}

/// Per-model wire quirks (OpenClaw's `compat` flag names). What each does on the wire is the
/// providers crate's (`clawgate_providers::compat`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(clippy::struct_excessive_bools)]
pub struct ModelCompat {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supports_store: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supports_developer_role: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supports_reasoning_effort: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supports_usage_in_streaming: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supports_tools: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supports_strict_mode: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supports_temperature: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supports_instructions: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens_field: Option<MaxTokensField>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking_format: Option<ThinkingFormat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supported_reasoning_efforts: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_effort_map: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requires_tool_result_name: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requires_assistant_after_tool_result: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requires_thinking_as_text: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requires_reasoning_content_on_assistant_messages: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requires_string_content: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strict_message_keys: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requires_mistral_tool_ids: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requires_open_ai_anthropic_tool_payload: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_schema_profile: Option<ToolSchemaProfile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsupported_tool_schema_keywords: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_call_arguments_encoding: Option<ToolCallArgumentsEncoding>,
}

impl Decode for ModelCompat {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let mut o = ObjectReader::new(node, path, cx)?;
        let c = Self {
            supports_store: o.field("supportsStore", cx),
            supports_developer_role: o.field("supportsDeveloperRole", cx),
            supports_reasoning_effort: o.field("supportsReasoningEffort", cx),
            supports_usage_in_streaming: o.field("supportsUsageInStreaming", cx),
            supports_tools: o.field("supportsTools", cx),
            supports_strict_mode: o.field("supportsStrictMode", cx),
            supports_temperature: o.field("supportsTemperature", cx),
            supports_instructions: o.field("supportsInstructions", cx),
            max_tokens_field: o.field("maxTokensField", cx),
            thinking_format: o.field("thinkingFormat", cx),
            supported_reasoning_efforts: o.field("supportedReasoningEfforts", cx),
            reasoning_effort_map: o.field("reasoningEffortMap", cx),
            requires_tool_result_name: o.field("requiresToolResultName", cx),
            requires_assistant_after_tool_result: o.field("requiresAssistantAfterToolResult", cx),
            requires_thinking_as_text: o.field("requiresThinkingAsText", cx),
            requires_reasoning_content_on_assistant_messages: o
                .field("requiresReasoningContentOnAssistantMessages", cx),
            requires_string_content: o.field("requiresStringContent", cx),
            strict_message_keys: o.field("strictMessageKeys", cx),
            requires_mistral_tool_ids: o.field("requiresMistralToolIds", cx),
            requires_open_ai_anthropic_tool_payload: o
                .field("requiresOpenAiAnthropicToolPayload", cx),
            tool_schema_profile: o.field("toolSchemaProfile", cx),
            unsupported_tool_schema_keywords: o.field("unsupportedToolSchemaKeywords", cx),
            tool_call_arguments_encoding: o.field("toolCallArgumentsEncoding", cx),
        };
        // OpenClaw agent-runtime hints with nothing to act on in clawgate: no built-in
        // web_search tool to hide, no runtime-context injection, no OpenRouter
        // `reasoning_details` rendering.
        o.ignore(
            &[
                "nativeWebSearchTool",
                "appendOnlyRuntimeContext",
                "visibleReasoningDetailTypes",
            ],
            cx,
        );
        o.finish(cx);
        Some(c)
    }
}

/// One `models[]` row as written in the file.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelConfig {
    pub id: String,
    pub name: Option<String>,
    pub api: Option<ApiKind>,
    pub reasoning: Option<bool>,
    pub input: Option<Vec<InputKind>>,
    pub cost: Option<CostConfig>,
    pub context_window: Option<u64>,
    pub context_tokens: Option<u64>,
    pub max_tokens: Option<u64>,
    pub headers: Option<BTreeMap<String, SecretInput>>,
    pub compat: Option<ModelCompat>,
    /// llama-cpp: a GGUF file (relative to the provider's `modelDir`).
    pub path: Option<PathBuf>,
    /// llama-cpp: engine settings (threads, context size, sampling defaults, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub params: Option<EngineParams>,
    #[serde(skip)]
    pub pos: Option<Pos>,
    #[serde(skip)]
    pub params_pos: Option<Pos>,
}

impl Decode for ModelConfig {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let mut o = ObjectReader::new(node, path, cx)?;
        let id = o.required::<String>("id", cx);
        if let (Some(id), Some((n, p))) = (&id, o.node("id"))
            && id.trim().is_empty()
        {
            cx.error(
                &p,
                &n.pos,
                "expected a non-empty model id, found string \"\"",
            );
        }
        let row = Self {
            id: id.clone().unwrap_or_default(),
            name: o.field("name", cx),
            api: decode_api(&mut o, cx),
            reasoning: o.field("reasoning", cx),
            input: o.field("input", cx),
            cost: o.field("cost", cx),
            context_window: o.field_with("contextWindow", cx, positive),
            context_tokens: o.field_with("contextTokens", cx, positive),
            max_tokens: o.field_with("maxTokens", cx, positive),
            headers: o.field("headers", cx),
            compat: o.field("compat", cx),
            path: o.field::<String>("path", cx).map(PathBuf::from),
            params: o.field("params", cx),
            pos: Some(node.pos.clone()),
            params_pos: node.get("params").map(|n| n.pos.clone()),
        };
        o.finish(cx);
        id.filter(|i| !i.trim().is_empty()).map(|_| row)
    }
}

fn decode_api(o: &mut ObjectReader<'_>, cx: &mut Decoder) -> Option<ApiKind> {
    let (node, path) = o.node("api")?;
    let api = ApiKind::decode(node, &path, cx)?;
    if !api.is_supported() {
        cx.warn(
            &path,
            &node.pos,
            format!(
                "api \"{}\" is not supported by clawgate; models using it cannot be called",
                api.as_str()
            ),
        );
    }
    Some(api)
}

fn serialize_base_url<S: serde::Serializer>(url: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    url.as_deref().map(crate::decode::redact_url).serialize(s)
}

/// One `models.providers.<id>` entry as written in the file.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderConfig {
    /// Serialised with credentials masked (`config show --resolved`).
    #[serde(serialize_with = "serialize_base_url")]
    pub base_url: Option<String>,
    pub api_key: Option<SecretInput>,
    pub api_keys: Option<Vec<SecretInput>>,
    pub api: Option<ApiKind>,
    pub auth_header: Option<bool>,
    pub headers: Option<BTreeMap<String, SecretInput>>,
    pub timeout_seconds: Option<u64>,
    pub timeouts: Option<ProviderTimeouts>,
    pub inject_num_ctx_for_openai_compat: Option<bool>,
    pub context_window: Option<u64>,
    pub context_tokens: Option<u64>,
    pub max_tokens: Option<u64>,
    pub params: Option<crate::schema::params::ModelParams>,
    /// llama-cpp: `params` read as engine settings, the defaults of this provider's rows.
    #[serde(skip)]
    pub engine_params: Option<EngineParams>,
    /// llama-cpp: where GGUF files live.
    pub model_dir: Option<PathBuf>,
    /// Ask the server which models it serves, at start, reload and `models list --probe`
    /// (default: true for the implicit local provider ids, false otherwise).
    pub discover: Option<bool>,
    pub models: Option<Vec<ModelConfig>>,
    #[serde(skip)]
    pub pos: Option<Pos>,
    /// `baseUrl` was written (even if invalid): no second "missing baseUrl" error.
    #[serde(skip)]
    pub base_url_given: bool,
}

impl Decode for ProviderConfig {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let mut o = ObjectReader::new(node, path, cx)?;
        let base_url = o.field_with("baseUrl", cx, |n, p, cx| {
            let s = String::decode(n, p, cx)?;
            // A string still holding `${VAR}` failed substitution, which is already reported.
            if !s.is_empty() && !s.contains("${") && url::Url::parse(&s).is_err() {
                cx.error(
                    p,
                    &n.pos,
                    format!(
                        "expected an absolute URL like \"http://127.0.0.1:8000/v1\", found {}",
                        describe(n, p)
                    ),
                );
                return None;
            }
            Some(s)
        });
        let api = decode_api(&mut o, cx);
        // A llama-cpp provider (said so, or only a `modelDir`): `params` are engine settings.
        let in_process = api == Some(ApiKind::LlamaCpp)
            || (api.is_none() && node.get("baseUrl").is_none() && node.get("modelDir").is_some());
        // Either kind, never both: each decoder lists the keys it does not know as ignored.
        let (params, engine_params) = match o.node("params") {
            Some((pnode, ppath)) if in_process => (None, EngineParams::decode(pnode, &ppath, cx)),
            Some((pnode, ppath)) => (
                crate::schema::params::ModelParams::decode(pnode, &ppath, cx),
                None,
            ),
            None => (None, None),
        };
        let p = Self {
            base_url,
            api_key: o.field("apiKey", cx),
            api_keys: o.field("apiKeys", cx),
            api,
            auth_header: o.field("authHeader", cx),
            headers: o.field("headers", cx),
            timeout_seconds: o.field_with("timeoutSeconds", cx, |n, p, cx| {
                in_range(n, p, cx, 1, 86_400)
            }),
            timeouts: o.field("timeouts", cx),
            inject_num_ctx_for_openai_compat: o.field("injectNumCtxForOpenAICompat", cx),
            context_window: o.field_with("contextWindow", cx, positive),
            context_tokens: o.field_with("contextTokens", cx, positive),
            max_tokens: o.field_with("maxTokens", cx, positive),
            params,
            engine_params,
            model_dir: o.field::<String>("modelDir", cx).map(PathBuf::from),
            discover: o.field("discover", cx),
            models: o.field("models", cx),
            pos: Some(node.pos.clone()),
            base_url_given: node.get("baseUrl").is_some(),
        };
        // `auth` (OpenClaw's api-key/token/oauth/aws-sdk) changes nothing here: a key is
        // sent in the dialect's own header, `authHeader` forces a bearer token.
        o.ignore(&["request", "auth"], cx);
        o.finish(cx);
        if let Some(rows) = &p.models {
            let mut seen = std::collections::BTreeSet::new();
            for (i, row) in rows.iter().enumerate() {
                let row_in_process = match row.api {
                    Some(api) => api == ApiKind::LlamaCpp,
                    None => in_process,
                };
                if let (Some(_), Some(pos), false) = (&row.params, &row.params_pos, row_in_process)
                {
                    cx.warn(
                        &path.key("models").index(i).key("params"),
                        pos,
                        "params of a model row are engine settings for llama-cpp models; this \
                         row is served over HTTP, so they are ignored",
                    );
                }
                // Routing calls a row through its provider's api; only `clawgate models test`
                // honours a row's own.
                if let (Some(row_api), Some(provider_api), Some(pos)) = (row.api, p.api, &row.pos)
                    && row_api != provider_api
                {
                    cx.warn(
                        &path.key("models").index(i).key("api"),
                        pos,
                        format!(
                            "this row's api \"{}\" differs from its provider's \"{}\": routing \
                             uses the provider's api (only `clawgate models test` honours the \
                             row's); put such models under a provider of their own",
                            row_api.as_str(),
                            provider_api.as_str()
                        ),
                    );
                }
                if !seen.insert(row.id.as_str())
                    && let Some(pos) = &row.pos
                {
                    cx.error(
                        &path.key("models").index(i),
                        pos,
                        format!("duplicate model id \"{}\" in this provider", row.id),
                    );
                }
            }
        }
        Some(p)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelsConfig {
    pub mode: Option<ModelsMode>,
    /// In file order; ids normalised (trimmed, lower-cased, aliases mapped).
    #[serde(serialize_with = "crate::schema::pairs_as_map")]
    pub providers: Vec<(String, ProviderConfig)>,
}

impl ModelsConfig {
    pub fn mode(&self) -> ModelsMode {
        self.mode.unwrap_or(ModelsMode::Merge)
    }

    pub fn provider(&self, id: &str) -> Option<&ProviderConfig> {
        self.providers.iter().find(|(k, _)| k == id).map(|(_, p)| p)
    }
}

impl Decode for ModelsConfig {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let mut o = ObjectReader::new(node, path, cx)?;
        let mode = o.field("mode", cx);
        let mut providers = Vec::new();
        if let Some((pnode, ppath)) = o.node("providers") {
            if let Some(props) = pnode.object() {
                for prop in props {
                    let id = normalize_provider_id(&prop.key);
                    if id.is_empty() || id.contains('/') {
                        cx.error(
                            &ppath,
                            &prop.key_pos,
                            format!(
                                "invalid provider id \"{}\" (must be non-empty, without \"/\")",
                                prop.key
                            ),
                        );
                        continue;
                    }
                    if providers.iter().any(|(k, _)| *k == id) {
                        cx.error(&ppath, &prop.key_pos, format!("provider \"{}\" is declared twice (ids are compared after normalisation to \"{id}\")", prop.key));
                        continue;
                    }
                    if let Some(p) = ProviderConfig::decode(&prop.value, &ppath.key(&prop.key), cx)
                    {
                        providers.push((id, p));
                    }
                }
            } else {
                cx.expected(pnode, &ppath, "an object");
            }
        }
        o.ignore(&["bedrockDiscovery", "copilot"], cx);
        o.finish(cx);
        Some(Self { mode, providers })
    }
}
