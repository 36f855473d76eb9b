//! Compat flags + per-server defaults → what the codec is told ([`EncodeOptions`]) and the few
//! body fixes a codec cannot know about (OpenAI-only fields). The defaults follow OpenClaw and
//! what local servers really do:
//!
//! | knob | default |
//! |---|---|
//! | output cap field | `max_completion_tokens` on api.openai.com only; `max_tokens` everywhere else (llama.cpp ignores `max_completion_tokens` and then generates until n_ctx is full) |
//! | system as `developer` | api.openai.com only (forced off elsewhere) |
//! | `stream_options.include_usage` | on for local servers and api.openai.com, off for unknown remotes |
//! | tools | on |
//! | string content | off |
//! | Responses `instructions` | api.openai.com only, else a leading system input item |
//! | Ollama `num_ctx` | the model's context window when known (unset otherwise: a guessed large window can OOM the server) |
//! | `store` | api.openai.com only (`store: false`); removed everywhere else |
//! | `top_k` | removed for api.openai.com (llama.cpp's, vLLM's and LM Studio's field) |
//! | assistant `content` beside `tool_calls` | `null` on api.openai.com; `""` elsewhere (llama-cpp-python answers `null` with a 500 validation error) |
//! | Ollama via `/v1` | `options.num_ctx` = context window (provider id `ollama` or port 11434; `injectNumCtxForOpenAICompat`) |
//! | Ollama `think` | model marked `reasoning`: `true`, or the request's effort as a level for gpt-oss; marked not reasoning: `false`; a model with no row: the request's effort, else unset |
//! | tools `strict: false` (`supportsStrictMode`) | api.openai.com only (OpenClaw forces it off for other endpoints: some reject the field) |
//!
//! Also here, on the canonical request: `supportedReasoningEfforts` (an effort the model does
//! not list moves to the nearest listed one), tool schemas (`tool_schema`), and on the
//! Anthropic body: `requiresOpenAiAnthropicToolPayload` (tools and `tool_choice` in OpenAI's
//! shape, for Anthropic-compatible endpoints that want them so). The chat-only history and
//! thinking flags are in `chat_compat`; `params` in `request_params`.

use clawgate_wire::{EncodeOptions, ReasoningEffort, Request, Think};
use serde_json::{Value, json};

use crate::chat_compat::{effort_name, mapped_effort};
use crate::endpoint::{is_local, is_openai_native};
use crate::request_params;
use crate::spec::{ApiKind, CompatFlags, MaxTokensField, ProviderSpec};
use crate::tool_schema::SchemaRewrite;

/// Fields only OpenAI's own API accepts; other servers may reject them.
const OPENAI_ONLY_FIELDS: &[&str] = &[
    "store",
    "service_tier",
    "prompt_cache_key",
    "safety_identifier",
    "prompt_cache_retention",
];

/// Anthropic requires an output cap; used when neither the request nor the model row has one.
pub const ANTHROPIC_DEFAULT_MAX_TOKENS: u32 = 4096;

/// Encode options for `model` on this provider.
pub fn resolve_encode_options(spec: &ProviderSpec, model: &str) -> EncodeOptions {
    let compat = spec.compat_for(model);
    let native = matches!(
        spec.api,
        ApiKind::OpenAiCompletions | ApiKind::OpenAiResponses
    ) && is_openai_native(&spec.base_url);
    let local = is_local(&spec.id, &spec.base_url);
    let use_max_completion_tokens = match compat.max_tokens_field {
        Some(field) => field == MaxTokensField::MaxCompletionTokens,
        None => native,
    };
    let num_ctx = match spec.api {
        ApiKind::Ollama => request_params::num_ctx(spec.params_for(model))
            .or_else(|| spec.model(model).and_then(|m| m.context_window))
            .map(|w| u32::try_from(w).unwrap_or(u32::MAX)),
        _ => None,
    };
    EncodeOptions {
        use_max_completion_tokens,
        developer_role: native && compat.supports_developer_role.unwrap_or(true),
        usage_in_streaming: compat
            .supports_usage_in_streaming
            .unwrap_or(local || native),
        tools: compat.supports_tools.unwrap_or(true),
        string_content: compat.requires_string_content.unwrap_or(false),
        instructions_field: compat.supports_instructions.unwrap_or(native),
        num_ctx,
        // Set per request by the Ollama adapter (`ollama_think`).
        think: None,
    }
}

/// The request as it should be sent to this provider: unset fields filled from `params`, the
/// output cap from the model row, fields the model does not support removed, the effort moved
/// to one the model lists, tool schemas cleaned.
pub fn prepare_request(spec: &ProviderSpec, mut request: Request) -> Request {
    let compat = spec.compat_for(&request.model);
    let info = spec.model(&request.model);
    request_params::fill_request(spec.params_for(&request.model), &mut request);
    if request.max_tokens.is_none() {
        request.max_tokens = info.and_then(|m| m.max_tokens);
    }
    if request.max_tokens.is_none() && spec.api == ApiKind::AnthropicMessages {
        request.max_tokens = Some(ANTHROPIC_DEFAULT_MAX_TOKENS);
    }
    if compat.supports_temperature == Some(false) {
        request.temperature = None;
    }
    if compat.supports_reasoning_effort == Some(false) {
        request.reasoning = None;
    }
    if let (Some(effort), Some(listed)) = (request.reasoning, &compat.supported_reasoning_efforts) {
        request.reasoning = nearest_effort(effort, listed);
    }
    if compat.supports_tools == Some(false) {
        request.tools.clear();
        request.tool_choice = clawgate_wire::ToolChoice::Auto;
    }
    if let Some(rewrite) = SchemaRewrite::from_compat(&compat) {
        for tool in &mut request.tools {
            rewrite.apply(&mut tool.parameters);
        }
    }
    request
}

/// Effort levels from least to most.
const EFFORTS: [ReasoningEffort; 4] = [
    ReasoningEffort::Minimal,
    ReasoningEffort::Low,
    ReasoningEffort::Medium,
    ReasoningEffort::High,
];

/// `effort` if listed, else the nearest listed level below it, else the nearest above;
/// `None` when the list names no effort level (`["none"]`). `xhigh` and `max` count as `high`.
pub fn nearest_effort(effort: ReasoningEffort, listed: &[String]) -> Option<ReasoningEffort> {
    let supported: Vec<ReasoningEffort> = EFFORTS
        .into_iter()
        .filter(|level| {
            listed.iter().any(|name| {
                let name = name.trim().to_ascii_lowercase();
                name == effort_name(*level)
                    || (*level == ReasoningEffort::High && matches!(name.as_str(), "xhigh" | "max"))
            })
        })
        .collect();
    let rank = |e: ReasoningEffort| EFFORTS.iter().position(|l| *l == e).unwrap_or(0);
    let wanted = rank(effort);
    supported
        .iter()
        .copied()
        .filter(|l| rank(*l) <= wanted)
        .max_by_key(|l| rank(*l))
        .or_else(|| supported.iter().copied().min_by_key(|l| rank(*l)))
}

/// Ollama's `think` for this request. Sent whenever the model's row says whether it
/// reasons: Ollama otherwise turns thinking on for every thinking-capable model (and can then
/// stream a whole reply as `thinking` with empty content), and answers 400 to `think: true`
/// for a model without thinking. gpt-oss takes a level (`low`/`medium`/`high`) and cannot be
/// switched off.
pub fn ollama_think(spec: &ProviderSpec, request: &Request) -> Option<Think> {
    let levels = request.model.to_ascii_lowercase().contains("gpt-oss");
    let on = |effort: Option<clawgate_wire::ReasoningEffort>| match effort {
        Some(effort) if levels => Think::Level(effort),
        _ => Think::On,
    };
    match spec.model(&request.model).map(|m| m.reasoning) {
        Some(true) => Some(on(request.reasoning)),
        Some(false) => Some(Think::Off),
        None => request.reasoning.map(|effort| on(Some(effort))),
    }
}

/// Fix up an encoded OpenAI-dialect body (`api`: the dialect it is in): OpenAI-only fields go
/// only to api.openai.com, and the output cap is in the field the server reads.
pub fn adjust_openai_body(
    spec: &ProviderSpec,
    api: ApiKind,
    model: &str,
    options: &EncodeOptions,
    body: &mut Value,
) {
    let Some(obj) = body.as_object_mut() else {
        return;
    };
    let native = is_openai_native(&spec.base_url);
    let compat = spec.compat_for(model);
    if compat.supports_strict_mode.unwrap_or(native) {
        mark_tools_not_strict(api, obj);
    }
    if api == ApiKind::OpenAiResponses
        && let Some(effort) = obj.get_mut("reasoning").and_then(|r| r.get_mut("effort"))
        && let Some(sent) = effort.as_str()
    {
        *effort = Value::from(mapped_effort(&compat, sent));
    }
    if native {
        // Local servers' sampling knob; OpenAI answers 400 to fields it does not know.
        obj.remove("top_k");
        if compat.supports_store.unwrap_or(true) {
            obj.insert("store".into(), Value::Bool(false));
        } else {
            obj.remove("store");
        }
    } else {
        for field in OPENAI_ONLY_FIELDS {
            obj.remove(*field);
        }
    }
    if api == ApiKind::OpenAiCompletions {
        let (want, other) = if options.use_max_completion_tokens {
            ("max_completion_tokens", "max_tokens")
        } else {
            ("max_tokens", "max_completion_tokens")
        };
        if let Some(v) = obj.remove(other) {
            obj.entry(want.to_string()).or_insert(v);
        }
        if !options.usage_in_streaming {
            obj.remove("stream_options");
        }
        if !options.tools {
            obj.remove("tools");
            obj.remove("tool_choice");
            obj.remove("parallel_tool_calls");
        }
        if !native && let Some(Value::Array(messages)) = obj.get_mut("messages") {
            for message in messages {
                if message["role"] == "assistant" && message.get("content") == Some(&Value::Null) {
                    message["content"] = Value::from("");
                }
            }
        }
        if spec.inject_num_ctx_for_openai_compat
            && is_ollama_server(spec)
            && let Some(window) = request_params::num_ctx(spec.params_for(model))
                .or_else(|| spec.model(model).and_then(|m| m.context_window))
        {
            let options = obj
                .entry("options".to_string())
                .or_insert_with(|| Value::Object(serde_json::Map::new()));
            if let Some(o) = options.as_object_mut() {
                o.insert("num_ctx".into(), Value::from(window));
            }
        }
    }
}

/// `strict: false` on every tool definition (OpenAI's schema for non-strict function tools).
fn mark_tools_not_strict(api: ApiKind, obj: &mut serde_json::Map<String, Value>) {
    let Some(Value::Array(tools)) = obj.get_mut("tools") else {
        return;
    };
    for tool in tools {
        let target = match api {
            ApiKind::OpenAiCompletions => tool.get_mut("function"),
            _ => Some(tool),
        };
        if let Some(Value::Object(def)) = target {
            def.entry("strict").or_insert(Value::Bool(false));
        }
    }
}

/// `requiresOpenAiAnthropicToolPayload` on an Anthropic body: tools as OpenAI function tools
/// and `tool_choice` as OpenAI's string modes, as OpenClaw sends them to Anthropic-compatible
/// endpoints that expect that shape (Kimi's coding endpoint).
pub fn adjust_anthropic_body(compat: &CompatFlags, body: &mut Value) {
    if compat.requires_open_ai_anthropic_tool_payload != Some(true) {
        return;
    }
    let Some(obj) = body.as_object_mut() else {
        return;
    };
    if let Some(Value::Array(tools)) = obj.get_mut("tools") {
        for tool in tools.iter_mut() {
            let mut function = serde_json::Map::new();
            function.insert("name".into(), tool["name"].clone());
            if let Some(description) = tool.get("description") {
                function.insert("description".into(), description.clone());
            }
            let parameters = tool
                .get("input_schema")
                .cloned()
                .unwrap_or_else(|| json!({"type": "object", "properties": {}}));
            function.insert("parameters".into(), parameters);
            *tool = json!({"type": "function", "function": function});
        }
    }
    if let Some(choice) = obj.get_mut("tool_choice") {
        let mode = match choice["type"].as_str() {
            Some("auto") => Some(Value::from("auto")),
            Some("none") => Some(Value::from("none")),
            Some("any" | "required") => Some(Value::from("required")),
            Some("tool") => choice["name"]
                .as_str()
                .map(|name| json!({"type": "function", "function": {"name": name}})),
            _ => None,
        };
        if let Some(mode) = mode {
            *choice = mode;
        }
    }
}

/// An Ollama server behind an OpenAI-compatible base URL: provider id `ollama` or Ollama's
/// default port.
pub(crate) fn is_ollama_server(spec: &ProviderSpec) -> bool {
    spec.id == "ollama"
        || crate::parsed_url::parse(spec.base_url.trim()).is_some_and(|u| u.port() == Some(11434))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::spec::{CompatFlags, ModelInfo};

    fn spec(api: ApiKind, id: &str, base: &str) -> ProviderSpec {
        ProviderSpec::new(id, api, base)
    }

    #[test]
    fn local_chat_defaults() {
        let s = spec(
            ApiKind::OpenAiCompletions,
            "local",
            "http://127.0.0.1:8011/v1",
        );
        let o = resolve_encode_options(&s, "m");
        assert!(!o.use_max_completion_tokens);
        assert!(!o.developer_role);
        assert!(o.usage_in_streaming);
        assert!(o.tools);
        assert!(!o.string_content);
        assert!(!o.instructions_field);
    }

    #[test]
    fn unknown_remote_gets_no_usage_in_streaming() {
        let s = spec(
            ApiKind::OpenAiCompletions,
            "or",
            "https://openrouter.ai/api/v1",
        );
        let o = resolve_encode_options(&s, "m");
        assert!(!o.usage_in_streaming);
        assert!(!o.developer_role);
        assert!(!o.use_max_completion_tokens);
    }

    #[test]
    fn openai_native_defaults() {
        let s = spec(
            ApiKind::OpenAiCompletions,
            "openai",
            "https://api.openai.com/v1",
        );
        let o = resolve_encode_options(&s, "gpt");
        assert!(o.use_max_completion_tokens);
        assert!(o.developer_role);
        assert!(o.usage_in_streaming);
        let r = spec(ApiKind::OpenAiResponses, "openai", "");
        assert!(resolve_encode_options(&r, "gpt").instructions_field);
    }

    #[test]
    fn developer_role_is_forced_off_off_openai() {
        let mut s = spec(ApiKind::OpenAiCompletions, "x", "http://127.0.0.1:1/v1");
        s.compat.supports_developer_role = Some(true);
        assert!(!resolve_encode_options(&s, "m").developer_role);
    }

    #[test]
    fn model_compat_overrides_provider_compat() {
        let mut s = spec(ApiKind::OpenAiCompletions, "x", "http://127.0.0.1:1/v1");
        s.compat.supports_tools = Some(false);
        s.compat.max_tokens_field = Some(MaxTokensField::MaxCompletionTokens);
        s.models.push(ModelInfo {
            id: "m".into(),
            compat: CompatFlags {
                supports_tools: Some(true),
                requires_string_content: Some(true),
                ..CompatFlags::default()
            },
            ..ModelInfo::default()
        });
        let o = resolve_encode_options(&s, "m");
        assert!(o.tools);
        assert!(o.string_content);
        assert!(o.use_max_completion_tokens);
        assert!(!resolve_encode_options(&s, "other").tools);
    }

    #[test]
    fn ollama_num_ctx_from_context_window() {
        let s = spec(ApiKind::Ollama, "ollama", "http://127.0.0.1:11434")
            .with_model(ModelInfo::new("qwen").with_context_window(32768));
        assert_eq!(resolve_encode_options(&s, "qwen").num_ctx, Some(32768));
        assert_eq!(resolve_encode_options(&s, "unknown").num_ctx, None);
    }

    #[test]
    fn openai_only_fields_are_removed_elsewhere() {
        let s = spec(ApiKind::OpenAiCompletions, "x", "http://127.0.0.1:1/v1");
        let o = resolve_encode_options(&s, "m");
        let mut body =
            json!({"model":"m","store":true,"service_tier":"auto","max_completion_tokens":5});
        adjust_openai_body(&s, s.api, "m", &o, &mut body);
        assert_eq!(body, json!({"model":"m","max_tokens":5}));

        let n = spec(
            ApiKind::OpenAiResponses,
            "openai",
            "https://api.openai.com/v1",
        );
        let o = resolve_encode_options(&n, "m");
        let mut body = json!({"model":"m"});
        adjust_openai_body(&n, n.api, "m", &o, &mut body);
        assert_eq!(body["store"], json!(false));
    }

    #[test]
    fn top_k_goes_to_local_servers_only() {
        let local = spec(ApiKind::OpenAiCompletions, "x", "http://127.0.0.1:1/v1");
        let o = resolve_encode_options(&local, "m");
        let mut body = json!({"model": "m", "top_k": 20});
        adjust_openai_body(&local, local.api, "m", &o, &mut body);
        assert_eq!(body["top_k"], 20);
        let openai = spec(
            ApiKind::OpenAiCompletions,
            "openai",
            "https://api.openai.com/v1",
        );
        let mut body = json!({"model": "m", "top_k": 20});
        adjust_openai_body(&openai, openai.api, "m", &o, &mut body);
        assert!(body.get("top_k").is_none(), "{body}");
    }

    #[test]
    fn assistant_content_beside_tool_calls_is_a_string_off_openai() {
        let call = json!({"role": "assistant", "content": null,
                          "tool_calls": [{"id": "c", "type": "function",
                                          "function": {"name": "f", "arguments": "{}"}}]});
        let local = spec(ApiKind::OpenAiCompletions, "x", "http://127.0.0.1:1/v1");
        let o = resolve_encode_options(&local, "m");
        let mut body = json!({"model": "m", "messages": [call.clone()]});
        adjust_openai_body(&local, local.api, "m", &o, &mut body);
        assert_eq!(body["messages"][0]["content"], json!(""));
        let openai = spec(
            ApiKind::OpenAiCompletions,
            "openai",
            "https://api.openai.com/v1",
        );
        let mut body = json!({"model": "m", "messages": [call]});
        adjust_openai_body(&openai, openai.api, "m", &o, &mut body);
        assert_eq!(body["messages"][0]["content"], Value::Null);
    }

    #[test]
    fn ollama_behind_v1_gets_num_ctx_unless_disabled() {
        let mut s = spec(
            ApiKind::OpenAiCompletions,
            "ollama",
            "http://127.0.0.1:11434/v1",
        )
        .with_model(ModelInfo::new("qwen").with_context_window(16384));
        let o = resolve_encode_options(&s, "qwen");
        let mut body = json!({"model":"qwen"});
        adjust_openai_body(&s, s.api, "qwen", &o, &mut body);
        assert_eq!(body["options"]["num_ctx"], json!(16384));
        s.inject_num_ctx_for_openai_compat = false;
        let mut body = json!({"model":"qwen"});
        adjust_openai_body(&s, s.api, "qwen", &o, &mut body);
        assert!(body.get("options").is_none());
        let other = spec(
            ApiKind::OpenAiCompletions,
            "vllm",
            "http://127.0.0.1:8000/v1",
        )
        .with_model(ModelInfo::new("qwen").with_context_window(16384));
        let mut body = json!({"model":"qwen"});
        adjust_openai_body(&other, other.api, "qwen", &o, &mut body);
        assert!(body.get("options").is_none());
    }

    #[test]
    fn ollama_think_follows_the_reasoning_flag_and_the_effort() {
        use clawgate_wire::ReasoningEffort::{High, Low};
        let mut spec = spec(ApiKind::Ollama, "ollama", "http://127.0.0.1:11434");
        let mut thinker = ModelInfo::new("qwen3");
        thinker.reasoning = true;
        let mut oss = ModelInfo::new("gpt-oss:20b");
        oss.reasoning = true;
        spec.models = vec![thinker, ModelInfo::new("gemma3"), oss];
        let think = |model: &str, reasoning| {
            let request = Request {
                model: model.into(),
                reasoning,
                ..Request::default()
            };
            ollama_think(&spec, &request)
        };
        assert_eq!(think("qwen3", None), Some(Think::On));
        assert_eq!(think("qwen3", Some(High)), Some(Think::On));
        assert_eq!(think("gemma3", None), Some(Think::Off), "false when off");
        assert_eq!(think("gemma3", Some(High)), Some(Think::Off));
        assert_eq!(think("gpt-oss:20b", Some(Low)), Some(Think::Level(Low)));
        assert_eq!(think("gpt-oss:20b", None), Some(Think::On));
        assert_eq!(think("unlisted", None), None, "the server decides");
        assert_eq!(think("unlisted", Some(High)), Some(Think::On));
        assert_eq!(think("gpt-oss:120b", Some(High)), Some(Think::Level(High)));
    }

    #[test]
    fn prepare_fills_cap_and_drops_unsupported() {
        let mut s = spec(ApiKind::OpenAiCompletions, "x", "http://127.0.0.1:1/v1");
        s.models.push(ModelInfo {
            id: "m".into(),
            max_tokens: Some(512),
            compat: CompatFlags {
                supports_temperature: Some(false),
                ..CompatFlags::default()
            },
            ..ModelInfo::default()
        });
        let req = Request {
            model: "m".into(),
            temperature: Some(0.5),
            ..Request::default()
        };
        let out = prepare_request(&s, req);
        assert_eq!(out.max_tokens, Some(512));
        assert_eq!(out.temperature, None);

        let a = spec(ApiKind::AnthropicMessages, "anthropic", "");
        let out = prepare_request(&a, Request::default());
        assert_eq!(out.max_tokens, Some(ANTHROPIC_DEFAULT_MAX_TOKENS));
    }
}
