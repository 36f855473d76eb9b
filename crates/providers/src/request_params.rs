//! `params` (a model's, on top of its provider's) in each dialect's request, the way OpenClaw
//! applies them. Two steps, so a request's own fields always win:
//!
//! 1. [`fill_request`], before encoding: `temperature`, `top_p`, `stop`, `seed` and
//!    `maxTokens` fill the canonical request's fields it left unset (`maxTokens` before the
//!    model row's cap). The codec then writes them in its dialect (Ollama: `options.*`,
//!    Anthropic: `stop_sequences`).
//! 2. [`apply_to_body`], after encoding and compat fixes: the dialect-only keys.
//!
//! | key | openai-completions | openai-responses | anthropic-messages | ollama |
//! |---|---|---|---|---|
//! | `temperature`, `top_p`, `maxTokens` | ✓ | ✓ | ✓ | ✓ (`options`) |
//! | `stop` | ✓ | – | ✓ (`stop_sequences`) | ✓ (`options`) |
//! | `seed` | ✓ | – | – | ✓ (`options`) |
//! | `top_k` | `top_k` | – | `top_k` | `options.top_k` |
//! | `chat_template_kwargs` | merged into `chat_template_kwargs` (its keys win over `thinkingFormat`'s) | – | – | – |
//! | `parallel_tool_calls` | ✓ | ✓ | – | – |
//! | `provider` (OpenRouter routing) | ✓ | ✓ | – | – |
//! | `options` | – | – | – | merged into `options` |
//! | `num_ctx` | `options.num_ctx` when the server is Ollama (see `compat`) | – | – | `options.num_ctx` |
//! | `keep_alive` | – | – | – | ✓ |
//! | `extra_body` | merged into the top level, winning over everything | same | same | same |
//!
//! A key a dialect does not use is reported by [`unused_keys`] (the runtime warns at start).

use clawgate_wire::Request;
use serde_json::{Map, Value};

use crate::compat::is_ollama_server;
use crate::spec::{ApiKind, ModelParams, ProviderSpec};

/// Step 1: the canonical fields the request left unset.
pub fn fill_request(params: &ModelParams, request: &mut Request) {
    if request.temperature.is_none() {
        request.temperature = params.temperature.map(|t| t as f32);
    }
    if request.top_p.is_none() {
        request.top_p = params.top_p.map(|p| p as f32);
    }
    if request.stop.is_empty()
        && let Some(stop) = &params.stop
    {
        request.stop = stop.clone();
    }
    if request.seed.is_none() {
        request.seed = params.seed;
    }
    if request.max_tokens.is_none() {
        request.max_tokens = params
            .max_tokens
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX));
    }
}

/// The `num_ctx` the params ask for: `num_ctx`, else `options.num_ctx`.
pub fn num_ctx(params: &ModelParams) -> Option<u64> {
    params.num_ctx.or_else(|| {
        params
            .options
            .as_ref()
            .and_then(|o| o.get("num_ctx"))
            .and_then(Value::as_u64)
            .filter(|n| *n > 0)
    })
}

/// Step 2: the dialect-only keys, into an encoded body of dialect `api`.
pub fn apply_to_body(api: ApiKind, params: &ModelParams, body: &mut Value) {
    let Some(obj) = body.as_object_mut() else {
        return;
    };
    match api {
        ApiKind::OpenAiCompletions => {
            put_missing(obj, "top_k", params.top_k.map(Value::from));
            if let Some(kwargs) = &params.chat_template_kwargs {
                let slot = obj
                    .entry("chat_template_kwargs")
                    .or_insert_with(|| Value::Object(Map::new()));
                match slot {
                    Value::Object(existing) => {
                        existing.extend(kwargs.iter().map(|(k, v)| (k.clone(), v.clone())));
                    }
                    other => *other = Value::Object(kwargs.clone()),
                }
            }
            put_missing(
                obj,
                "parallel_tool_calls",
                params.parallel_tool_calls.map(Value::from),
            );
            put_missing(obj, "provider", params.provider.clone().map(Value::Object));
        }
        ApiKind::OpenAiResponses => {
            put_missing(
                obj,
                "parallel_tool_calls",
                params.parallel_tool_calls.map(Value::from),
            );
            put_missing(obj, "provider", params.provider.clone().map(Value::Object));
        }
        ApiKind::AnthropicMessages => {
            put_missing(obj, "top_k", params.top_k.map(Value::from));
        }
        ApiKind::Ollama => {
            let mut extra = params.options.clone().unwrap_or_default();
            if let Some(k) = params.top_k {
                extra.entry("top_k").or_insert(Value::from(k));
            }
            if !extra.is_empty() {
                let slot = obj
                    .entry("options")
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(options) = slot {
                    for (key, value) in extra {
                        options.entry(key).or_insert(value);
                    }
                }
            }
            put_missing(obj, "keep_alive", params.keep_alive.clone());
        }
        // The engine takes the canonical request; apis without an adapter never get here
        // (`build_provider` refuses them).
        _ => return,
    }
    if let Some(extra) = &params.extra_body {
        let collisions: Vec<&str> = extra
            .keys()
            .filter(|k| obj.contains_key(k.as_str()))
            .map(String::as_str)
            .collect();
        if !collisions.is_empty() {
            tracing::debug!(keys = ?collisions, "params.extra_body overrides request fields");
        }
        obj.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
}

fn put_missing(obj: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(value) = value {
        obj.entry(key.to_string()).or_insert(value);
    }
}

/// The params keys set in `params` that dialect `api` on `spec`'s server does not use (see the
/// module table).
pub fn unused_keys(spec: &ProviderSpec, api: ApiKind, params: &ModelParams) -> Vec<&'static str> {
    let chat_num_ctx = spec.inject_num_ctx_for_openai_compat && is_ollama_server(spec);
    let set: [(&'static str, bool); 13] = [
        ("temperature", params.temperature.is_some()),
        ("top_p", params.top_p.is_some()),
        ("top_k", params.top_k.is_some()),
        ("maxTokens", params.max_tokens.is_some()),
        ("stop", params.stop.is_some()),
        ("seed", params.seed.is_some()),
        (
            "chat_template_kwargs",
            params.chat_template_kwargs.is_some(),
        ),
        ("extra_body", params.extra_body.is_some()),
        ("parallel_tool_calls", params.parallel_tool_calls.is_some()),
        ("provider", params.provider.is_some()),
        ("options", params.options.is_some()),
        ("keep_alive", params.keep_alive.is_some()),
        ("num_ctx", params.num_ctx.is_some()),
    ];
    set.into_iter()
        .filter(|(key, present)| *present && !uses(api, key, chat_num_ctx))
        .map(|(key, _)| key)
        .collect()
}

fn uses(api: ApiKind, key: &str, chat_num_ctx: bool) -> bool {
    match api {
        ApiKind::OpenAiCompletions if key == "num_ctx" => chat_num_ctx,
        ApiKind::OpenAiCompletions => !matches!(key, "options" | "keep_alive"),
        ApiKind::OpenAiResponses => matches!(
            key,
            "temperature"
                | "top_p"
                | "maxTokens"
                | "parallel_tool_calls"
                | "provider"
                | "extra_body"
        ),
        ApiKind::AnthropicMessages => matches!(
            key,
            "temperature" | "top_p" | "top_k" | "maxTokens" | "stop" | "extra_body"
        ),
        ApiKind::Ollama => !matches!(
            key,
            "chat_template_kwargs" | "parallel_tool_calls" | "provider"
        ),
        // The engine reads params itself; apis without an adapter are refused earlier.
        _ => false,
    }
}

#[cfg(test)]
#[path = "request_params_tests.rs"]
mod tests;
