//! `params` in each dialect's body (through `encode_upstream`), precedence, and that
//! [`unused_keys`] names exactly the keys that change nothing.

use clawgate_wire::{Message, Request, Role};
use serde_json::{Value, json};

use super::*;
use crate::HttpClient;
use crate::adapters::AdapterCore;
use crate::spec::ModelInfo;
use crate::upstream_body::encode_upstream;

fn object(v: Value) -> Option<Map<String, Value>> {
    v.as_object().cloned()
}

fn spec_for(api: ApiKind, base: &str, params: ModelParams) -> ProviderSpec {
    let mut model = ModelInfo::new("m").with_context_window(8192);
    model.params = params;
    ProviderSpec::new("x", api, base).with_model(model)
}

fn spec(api: ApiKind, params: ModelParams) -> ProviderSpec {
    spec_for(api, "http://127.0.0.1:1/v1", params)
}

fn request() -> Request {
    Request {
        model: "m".into(),
        messages: vec![Message::text(Role::User, "hi")],
        ..Request::default()
    }
}

fn body_of(spec: &ProviderSpec, request: Request) -> Value {
    let core = match HttpClient::new() {
        Ok(client) => AdapterCore::new(spec, &client),
        Err(e) => panic!("client: {e}"),
    };
    encode_upstream(spec, spec.api, &core.prepare(request))
}

fn every_key() -> ModelParams {
    ModelParams {
        temperature: Some(0.25),
        top_p: Some(0.5),
        top_k: Some(7),
        max_tokens: Some(99),
        stop: Some(vec!["END".into()]),
        seed: Some(42),
        chat_template_kwargs: object(json!({"enable_thinking": false})),
        extra_body: object(json!({"x_extra": 1})),
        parallel_tool_calls: Some(false),
        provider: object(json!({"order": ["eu"]})),
        options: object(json!({"num_batch": 16})),
        keep_alive: Some(json!("10m")),
        num_ctx: Some(2048),
        reasoning_stream: Some(clawgate_config::schema::ReasoningStreamMode::Immediate),
    }
}

#[test]
fn chat_body_carries_every_chat_param() {
    let b = body_of(&spec(ApiKind::OpenAiCompletions, every_key()), request());
    assert_eq!(b["temperature"], json!(0.25));
    assert!(
        b.get("reasoningStream").is_none(),
        "clawgate's own key stays home"
    );
    assert_eq!(b["top_p"], json!(0.5));
    assert_eq!(b["top_k"], json!(7));
    assert_eq!(b["max_tokens"], json!(99));
    assert_eq!(b["stop"], json!(["END"]));
    assert_eq!(b["seed"], json!(42));
    assert_eq!(b["chat_template_kwargs"], json!({"enable_thinking": false}));
    assert_eq!(b["x_extra"], json!(1));
    assert_eq!(b["parallel_tool_calls"], json!(false));
    assert_eq!(b["provider"], json!({"order": ["eu"]}));
    assert!(b.get("keep_alive").is_none() && b.get("options").is_none());
}

#[test]
fn ollama_body_puts_runtime_params_in_options() {
    let b = body_of(
        &spec_for(ApiKind::Ollama, "http://127.0.0.1:1", every_key()),
        request(),
    );
    let o = &b["options"];
    assert_eq!(
        o["num_ctx"],
        json!(2048),
        "params.num_ctx wins over the context window"
    );
    assert_eq!(o["num_batch"], json!(16));
    assert_eq!(o["top_k"], json!(7));
    assert_eq!(o["temperature"], json!(0.25));
    assert_eq!(o["num_predict"], json!(99));
    assert_eq!(o["stop"], json!(["END"]));
    assert_eq!(b["keep_alive"], json!("10m"));
    assert_eq!(b["x_extra"], json!(1));
}

#[test]
fn anthropic_and_responses_bodies() {
    let a = body_of(
        &spec_for(
            ApiKind::AnthropicMessages,
            "http://127.0.0.1:1",
            every_key(),
        ),
        request(),
    );
    assert_eq!(a["top_k"], json!(7));
    assert_eq!(a["stop_sequences"], json!(["END"]));
    assert_eq!(a["max_tokens"], json!(99));
    let r = body_of(&spec(ApiKind::OpenAiResponses, every_key()), request());
    assert_eq!(r["max_output_tokens"], json!(99));
    assert_eq!(r["provider"], json!({"order": ["eu"]}));
    assert_eq!(r["parallel_tool_calls"], json!(false));
}

#[test]
fn request_fields_win_and_extra_body_wins_over_everything() {
    let params = ModelParams {
        temperature: Some(0.25),
        max_tokens: Some(99),
        extra_body: object(json!({"tool_choice": "required"})),
        ..ModelParams::default()
    };
    let mut req = request();
    req.temperature = Some(0.75);
    req.max_tokens = Some(10);
    let b = body_of(&spec(ApiKind::OpenAiCompletions, params), req);
    assert_eq!(b["temperature"], json!(0.75));
    assert_eq!(b["max_tokens"], json!(10));
    assert_eq!(
        b["tool_choice"],
        json!("required"),
        "extra_body, as the OpenAI SDK merges it"
    );
}

#[test]
fn ollama_behind_v1_takes_num_ctx_from_params() {
    let params = ModelParams {
        num_ctx: Some(4096),
        ..ModelParams::default()
    };
    let s = spec_for(
        ApiKind::OpenAiCompletions,
        "http://127.0.0.1:11434/v1",
        params,
    );
    assert_eq!(body_of(&s, request())["options"]["num_ctx"], json!(4096));
}

#[test]
fn provider_params_apply_to_models_without_a_row() {
    let mut s = spec(ApiKind::OpenAiCompletions, ModelParams::default());
    s.params.top_k = Some(3);
    let mut req = request();
    req.model = "unlisted".into();
    assert_eq!(body_of(&s, req)["top_k"], json!(3));
}

/// Each key alone: the body changes exactly when `unused_keys` does not name it.
#[test]
fn unused_keys_names_exactly_the_keys_without_effect() {
    let all = every_key();
    let singles: Vec<(&str, ModelParams)> = vec![
        (
            "temperature",
            ModelParams {
                temperature: all.temperature,
                ..Default::default()
            },
        ),
        (
            "top_p",
            ModelParams {
                top_p: all.top_p,
                ..Default::default()
            },
        ),
        (
            "top_k",
            ModelParams {
                top_k: all.top_k,
                ..Default::default()
            },
        ),
        (
            "maxTokens",
            ModelParams {
                max_tokens: all.max_tokens,
                ..Default::default()
            },
        ),
        (
            "stop",
            ModelParams {
                stop: all.stop.clone(),
                ..Default::default()
            },
        ),
        (
            "seed",
            ModelParams {
                seed: all.seed,
                ..Default::default()
            },
        ),
        (
            "chat_template_kwargs",
            ModelParams {
                chat_template_kwargs: all.chat_template_kwargs.clone(),
                ..Default::default()
            },
        ),
        (
            "extra_body",
            ModelParams {
                extra_body: all.extra_body.clone(),
                ..Default::default()
            },
        ),
        (
            "parallel_tool_calls",
            ModelParams {
                parallel_tool_calls: all.parallel_tool_calls,
                ..Default::default()
            },
        ),
        (
            "provider",
            ModelParams {
                provider: all.provider.clone(),
                ..Default::default()
            },
        ),
        (
            "options",
            ModelParams {
                options: all.options.clone(),
                ..Default::default()
            },
        ),
        (
            "keep_alive",
            ModelParams {
                keep_alive: all.keep_alive.clone(),
                ..Default::default()
            },
        ),
        (
            "num_ctx",
            ModelParams {
                num_ctx: all.num_ctx,
                ..Default::default()
            },
        ),
    ];
    let targets = [
        (ApiKind::OpenAiCompletions, "http://127.0.0.1:1/v1"),
        (ApiKind::OpenAiCompletions, "http://127.0.0.1:11434/v1"),
        (ApiKind::OpenAiResponses, "http://127.0.0.1:1/v1"),
        (ApiKind::AnthropicMessages, "http://127.0.0.1:1"),
        (ApiKind::Ollama, "http://127.0.0.1:1"),
    ];
    for (api, base) in targets {
        let plain = body_of(&spec_for(api, base, ModelParams::default()), request());
        for (key, params) in &singles {
            let s = spec_for(api, base, params.clone());
            let changed = body_of(&s, request()) != plain;
            let unused = unused_keys(&s, api, params).contains(key);
            assert_eq!(changed, !unused, "{key} on {api} at {base}");
        }
    }
    assert!(
        unused_keys(
            &spec(ApiKind::LlamaCpp, all.clone()),
            ApiKind::LlamaCpp,
            &all
        )
        .len()
            == 13
    );
}
