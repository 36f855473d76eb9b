//! Config registry rows → what the providers and router crates take: a [`ProviderSpec`] per
//! provider (keys, headers, compat flags, model rows) and its [`Timeouts`]. The two crates keep
//! their own types (the providers crate must not depend on how config is merged), so this is
//! the one place they meet. Pure data mapping; no I/O.

use std::time::Duration;

use clawgate_config::schema::models::MaxTokensField as ConfigMaxTokensField;
use clawgate_config::{ApiKind as ConfigApi, ModelCompat, ProviderEntry, Registry};
use clawgate_providers::{ApiKind, CompatFlags, MaxTokensField, ModelInfo, ProviderSpec, Secret};
use clawgate_router::Timeouts;

/// The providers crate's api for a config api; `None` for OpenClaw apis clawgate does not
/// implement (they load, but no provider is built for them).
pub fn provider_api(api: ConfigApi) -> Option<ApiKind> {
    Some(match api {
        ConfigApi::OpenAiCompletions => ApiKind::OpenAiCompletions,
        ConfigApi::OpenAiResponses => ApiKind::OpenAiResponses,
        ConfigApi::AnthropicMessages => ApiKind::AnthropicMessages,
        ConfigApi::Ollama => ApiKind::Ollama,
        ConfigApi::LlamaCpp => ApiKind::LlamaCpp,
        _ => return None,
    })
}

fn compat_flags(compat: &ModelCompat) -> CompatFlags {
    CompatFlags {
        max_tokens_field: compat.max_tokens_field.map(|field| match field {
            ConfigMaxTokensField::MaxTokens => MaxTokensField::MaxTokens,
            ConfigMaxTokensField::MaxCompletionTokens => MaxTokensField::MaxCompletionTokens,
        }),
        supports_developer_role: compat.supports_developer_role,
        supports_usage_in_streaming: compat.supports_usage_in_streaming,
        supports_tools: compat.supports_tools,
        requires_string_content: None,
        supports_store: compat.supports_store,
        supports_instructions: compat.supports_instructions,
        supports_reasoning_effort: compat.supports_reasoning_effort,
        supports_temperature: compat.supports_temperature,
    }
}

/// The spec for one registry provider, with every model row the registry holds for it.
/// `None` when its api is not one clawgate implements.
pub fn provider_spec(registry: &Registry, entry: &ProviderEntry) -> Option<ProviderSpec> {
    let api = provider_api(entry.api)?;
    let mut spec = ProviderSpec::new(entry.id.clone(), api, entry.base_url.clone());
    spec.keys = entry
        .api_keys
        .iter()
        .map(|k| Secret::new(k.clone()))
        .collect();
    spec.headers = entry.headers.clone();
    spec.auth_header = entry.auth_header;
    spec.models = registry
        .models_of(&entry.id)
        .map(|row| ModelInfo {
            id: row.id.clone(),
            context_window: Some(row.effective_context()),
            max_tokens: u32::try_from(row.max_tokens).ok(),
            reasoning: row.reasoning,
            headers: row.headers.clone(),
            compat: compat_flags(&row.compat),
        })
        .collect();
    Some(spec)
}

/// The provider's own timeouts, when its config sets any (`timeoutSeconds` caps the total;
/// `timeouts.*Ms` set each limit); unset limits keep the local or hosted default.
pub fn provider_timeouts(entry: &ProviderEntry) -> Option<Timeouts> {
    let t = &entry.timeouts;
    let any = entry.timeout_seconds.is_some()
        || t.connect_ms.is_some()
        || t.first_event_ms.is_some()
        || t.idle_ms.is_some()
        || t.total_ms.is_some();
    if !any {
        return None;
    }
    let base = if entry.is_local {
        Timeouts::local()
    } else {
        Timeouts::hosted()
    };
    let ms = Duration::from_millis;
    let total = t
        .total_ms
        .map(ms)
        .or(entry.timeout_seconds.map(Duration::from_secs))
        .unwrap_or(base.total);
    Some(Timeouts {
        connect: t.connect_ms.map(ms).unwrap_or(base.connect),
        first_event: t.first_event_ms.map(ms).unwrap_or(base.first_event),
        idle: t.idle_ms.map(ms).unwrap_or(base.idle),
        total,
    })
}
