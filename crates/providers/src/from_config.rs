//! From the config crate's effective registry to [`ProviderSpec`]s: the one place this crate
//! reads config types, so the adapters only ever see plain data.
//!
//! A `ProviderSpec` has one `api`. Rows whose own `api` differs from their provider's are not
//! part of [`spec_from_config`]'s spec; build those with [`spec_for_model`] (same provider id,
//! the row's api, only that row).

use clawgate_config::schema::models::{
    MaxTokensField as ConfigMaxTokensField, ThinkingFormat as ConfigThinkingFormat,
    ToolCallArgumentsEncoding as ConfigArgumentsEncoding,
    ToolSchemaProfile as ConfigToolSchemaProfile,
};
use clawgate_config::{ModelCompat, ModelEntry, ProviderEntry, Registry};

use crate::build::ProviderBuildError;
use crate::secret::Secret;
use crate::spec::{
    ApiKind, CompatFlags, MaxTokensField, ModelInfo, ProviderSpec, ThinkingFormat,
    ToolCallArgumentsEncoding, ToolSchemaProfile,
};

/// The config api when clawgate implements it, or an error naming the provider.
pub fn api_from_config(provider: &str, api: ApiKind) -> Result<ApiKind, ProviderBuildError> {
    if api.is_supported() {
        Ok(api)
    } else {
        Err(ProviderBuildError::UnsupportedApi {
            provider: provider.to_string(),
            api: api.as_str().to_string(),
        })
    }
}

/// The compat flags that change what goes on the wire (every flag the schema reads: the ones
/// it only lists as ignored are not in [`ModelCompat`]).
pub fn compat_from_config(compat: &ModelCompat) -> CompatFlags {
    CompatFlags {
        max_tokens_field: compat.max_tokens_field.map(|f| match f {
            ConfigMaxTokensField::MaxTokens => MaxTokensField::MaxTokens,
            ConfigMaxTokensField::MaxCompletionTokens => MaxTokensField::MaxCompletionTokens,
        }),
        supports_developer_role: compat.supports_developer_role,
        supports_usage_in_streaming: compat.supports_usage_in_streaming,
        supports_tools: compat.supports_tools,
        requires_string_content: compat.requires_string_content,
        supports_store: compat.supports_store,
        supports_instructions: compat.supports_instructions,
        supports_reasoning_effort: compat.supports_reasoning_effort,
        supports_temperature: compat.supports_temperature,
        supports_strict_mode: compat.supports_strict_mode,
        thinking_format: compat.thinking_format.map(|f| match f {
            ConfigThinkingFormat::OpenAi => ThinkingFormat::OpenAi,
            ConfigThinkingFormat::OpenRouter => ThinkingFormat::OpenRouter,
            ConfigThinkingFormat::Zai => ThinkingFormat::Zai,
            ConfigThinkingFormat::Qwen => ThinkingFormat::Qwen,
            ConfigThinkingFormat::QwenChatTemplate => ThinkingFormat::QwenChatTemplate,
            ConfigThinkingFormat::Together => ThinkingFormat::Together,
            ConfigThinkingFormat::DeepSeek => ThinkingFormat::DeepSeek,
        }),
        reasoning_effort_map: compat.reasoning_effort_map.clone(),
        supported_reasoning_efforts: compat.supported_reasoning_efforts.clone(),
        requires_tool_result_name: compat.requires_tool_result_name,
        requires_assistant_after_tool_result: compat.requires_assistant_after_tool_result,
        requires_thinking_as_text: compat.requires_thinking_as_text,
        requires_reasoning_content_on_assistant_messages: compat
            .requires_reasoning_content_on_assistant_messages,
        strict_message_keys: compat.strict_message_keys,
        requires_mistral_tool_ids: compat.requires_mistral_tool_ids,
        requires_open_ai_anthropic_tool_payload: compat.requires_open_ai_anthropic_tool_payload,
        tool_schema_profile: compat.tool_schema_profile.map(|p| match p {
            ConfigToolSchemaProfile::LlamaCpp => ToolSchemaProfile::LlamaCpp,
            ConfigToolSchemaProfile::Gemini => ToolSchemaProfile::Gemini,
            ConfigToolSchemaProfile::Xai => ToolSchemaProfile::Xai,
        }),
        unsupported_tool_schema_keywords: compat.unsupported_tool_schema_keywords.clone(),
        tool_call_arguments_encoding: compat.tool_call_arguments_encoding.map(|e| match e {
            ConfigArgumentsEncoding::HtmlEntities => ToolCallArgumentsEncoding::HtmlEntities,
        }),
    }
}

/// One registry row as [`ModelInfo`]. The context window is the row's native window (Ollama's
/// `num_ctx` and the empty-answer overflow rule both need what the server runs with). Its
/// params are the provider's with the model's on top.
pub fn model_from_config(provider: &ProviderEntry, model: &ModelEntry) -> ModelInfo {
    let base = provider.params.clone().unwrap_or_default();
    let params = match &model.params {
        Some(own) => base.overlaid_by(own),
        None => base,
    };
    ModelInfo {
        id: model.id.clone(),
        context_window: Some(model.context_window),
        max_tokens: Some(u32::try_from(model.max_tokens).unwrap_or(u32::MAX)),
        reasoning: model.reasoning,
        headers: model.headers.clone(),
        compat: compat_from_config(&model.compat),
        params,
        path: model.path.clone(),
        engine: model.engine.clone(),
    }
}

fn base_spec(provider: &ProviderEntry, api: ApiKind) -> ProviderSpec {
    let mut spec = ProviderSpec::new(provider.id.clone(), api, provider.base_url.clone());
    spec.keys = provider
        .api_keys
        .iter()
        .map(|k| Secret::new(k.clone()))
        .collect();
    spec.headers = provider.headers.clone();
    spec.auth_header = provider.auth_header;
    spec.inject_num_ctx_for_openai_compat = provider.inject_num_ctx_for_openai_compat;
    spec.model_dir = provider.model_dir.clone();
    spec.params = provider.params.clone().unwrap_or_default();
    spec
}

/// A provider and those of `models` that use the provider's api.
pub fn spec_from_config<'a>(
    provider: &ProviderEntry,
    models: impl IntoIterator<Item = &'a ModelEntry>,
) -> Result<ProviderSpec, ProviderBuildError> {
    let api = api_from_config(&provider.id, provider.api)?;
    let mut spec = base_spec(provider, api);
    spec.models = models
        .into_iter()
        .filter(|m| m.api == provider.api)
        .map(|m| model_from_config(provider, m))
        .collect();
    Ok(spec)
}

/// A spec for one row, with the row's own api (which may differ from its provider's).
pub fn spec_for_model(
    provider: &ProviderEntry,
    model: &ModelEntry,
) -> Result<ProviderSpec, ProviderBuildError> {
    let api = api_from_config(&provider.id, model.api)?;
    let mut spec = base_spec(provider, api);
    spec.models = vec![model_from_config(provider, model)];
    Ok(spec)
}

/// One spec per registry provider, with its rows (errors per provider, so one unsupported
/// provider does not hide the others).
pub fn specs_from_registry(
    registry: &Registry,
) -> Vec<(String, Result<ProviderSpec, ProviderBuildError>)> {
    registry
        .providers()
        .iter()
        .map(|p| (p.id.clone(), spec_from_config(p, registry.models_of(&p.id))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry(json5: &str) -> Registry {
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("temp dir: {e}"),
        };
        let path = dir.path().join("clawgate.json");
        if let Err(e) = std::fs::write(&path, json5) {
            panic!("write: {e}");
        }
        let opts = clawgate_config::LoadOptions {
            config_path: Some(path),
            state_dir: Some(dir.path().to_path_buf()),
            home: Some(dir.path().to_path_buf()),
            cwd: dir.path().to_path_buf(),
            env: clawgate_config::EnvVars::from_pairs(Vec::<(String, String)>::new()),
        };
        let location = clawgate_config::locate(&opts);
        match clawgate_config::load_at(&opts, location) {
            Ok(l) => l.registry,
            Err(e) => panic!("load: {e:?}"),
        }
    }

    #[test]
    fn a_configured_local_provider_converts() {
        let reg = registry(
            r#"{ models: { mode: "replace", providers: { local: {
                baseUrl: "http://127.0.0.1:8011/v1", apiKey: "sk-local", api: "openai-completions",
                headers: { "x-team": "a" },
                models: [{ id: "gemma", name: "Gemma", contextWindow: 4096, maxTokens: 512,
                           compat: { supportsTools: false, maxTokensField: "max_tokens" } }] } } } }"#,
        );
        let specs = specs_from_registry(&reg);
        let spec = specs
            .iter()
            .find(|(id, _)| id == "local")
            .and_then(|(_, s)| s.as_ref().ok());
        let Some(spec) = spec else {
            panic!("no local spec in {specs:?}");
        };
        assert_eq!(spec.api, ApiKind::OpenAiCompletions);
        assert_eq!(spec.base_url, "http://127.0.0.1:8011/v1");
        assert_eq!(spec.keys, vec![Secret::new("sk-local")]);
        assert_eq!(spec.headers.get("x-team").map(String::as_str), Some("a"));
        let gemma = spec.model("gemma");
        assert_eq!(gemma.and_then(|m| m.context_window), Some(4096));
        assert_eq!(gemma.and_then(|m| m.max_tokens), Some(512));
        assert_eq!(gemma.and_then(|m| m.compat.supports_tools), Some(false));
        assert_eq!(
            gemma.and_then(|m| m.compat.max_tokens_field),
            Some(MaxTokensField::MaxTokens)
        );
    }

    #[test]
    fn model_params_are_laid_over_the_providers() {
        let reg = registry(
            r#"{ models: { mode: "replace", providers: { local: {
                baseUrl: "http://127.0.0.1:8011/v1", api: "openai-completions",
                params: { temperature: 0.1, top_k: 20, provider: { order: ["a"], sort: "price" } },
                models: [{ id: "m" }, { id: "other" }] } } },
              agents: { defaults: { models: { "local/m": { params: {
                temperature: 0.7, provider: { order: ["b"] } } } } } } }"#,
        );
        let specs = specs_from_registry(&reg);
        let Some(spec) = specs
            .iter()
            .find_map(|(id, s)| (id == "local").then(|| s.as_ref().ok()).flatten())
        else {
            panic!("no local spec in {specs:?}");
        };
        let m = spec.params_for("m");
        assert_eq!(m.temperature, Some(0.7));
        assert_eq!(m.top_k, Some(20));
        assert_eq!(
            m.provider
                .as_ref()
                .and_then(|p| p.get("sort"))
                .and_then(|v| v.as_str()),
            Some("price"),
            "routing objects merge key by key"
        );
        assert_eq!(spec.params_for("other").temperature, Some(0.1));
        assert_eq!(spec.params_for("unlisted").top_k, Some(20));
    }

    #[test]
    fn unsupported_apis_are_an_error() {
        assert!(matches!(
            api_from_config("g", ApiKind::GoogleGenerativeAi),
            Err(ProviderBuildError::UnsupportedApi { .. })
        ));
        assert_eq!(
            api_from_config("a", ApiKind::AnthropicMessages).ok(),
            Some(ApiKind::AnthropicMessages)
        );
    }
}
