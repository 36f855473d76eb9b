//! Each compat flag's effect on an encoded upstream body (through `encode_upstream`, the path
//! every adapter takes).

use std::collections::BTreeMap;

use clawgate_wire::{ContentBlock, Message, ReasoningEffort, Request, Role, ToolSpec};
use serde_json::{Value, json};

use crate::HttpClient;
use crate::adapters::AdapterCore;
use crate::spec::{
    ApiKind, CompatFlags, ModelInfo, ProviderSpec, ThinkingFormat, ToolSchemaProfile,
};
use crate::upstream_body::encode_upstream;

fn spec_with(api: ApiKind, base: &str, compat: CompatFlags, reasoning: bool) -> ProviderSpec {
    let mut model = ModelInfo::new("m");
    model.reasoning = reasoning;
    model.compat = compat;
    ProviderSpec::new("x", api, base).with_model(model)
}

fn chat(compat: CompatFlags) -> ProviderSpec {
    spec_with(
        ApiKind::OpenAiCompletions,
        "http://127.0.0.1:1/v1",
        compat,
        true,
    )
}

/// The body a request becomes on `spec`, prepared as the adapters prepare it.
fn body(spec: &ProviderSpec, request: Request) -> Value {
    let core = match HttpClient::new() {
        Ok(client) => AdapterCore::new(spec, &client),
        Err(e) => panic!("client: {e}"),
    };
    let prepared = core.prepare(request);
    encode_upstream(spec, spec.api, &prepared)
}

/// user → assistant (reasoning + text + call) → tool result → user.
fn tool_history() -> Request {
    Request {
        model: "m".into(),
        messages: vec![
            Message::text(Role::User, "weather?"),
            Message {
                role: Role::Assistant,
                content: vec![
                    ContentBlock::Reasoning {
                        text: "look it up".into(),
                        signature: None,
                        redacted: false,
                    },
                    ContentBlock::Text {
                        text: "Checking.".into(),
                    },
                    ContentBlock::ToolCall {
                        id: "call_0".into(),
                        name: "get_weather".into(),
                        arguments: "{}".into(),
                    },
                ],
            },
            Message {
                role: Role::Tool,
                content: vec![ContentBlock::ToolResult {
                    call_id: "call_0".into(),
                    name: None,
                    content: "sunny".into(),
                    is_error: false,
                }],
            },
            Message::text(Role::User, "thanks"),
        ],
        ..Request::default()
    }
}

fn messages(body: &Value) -> Vec<Value> {
    body["messages"].as_array().cloned().unwrap_or_default()
}

#[test]
fn requires_tool_result_name_adds_or_removes_the_name() {
    let on = body(
        &chat(CompatFlags {
            requires_tool_result_name: Some(true),
            ..CompatFlags::default()
        }),
        tool_history(),
    );
    let tool = messages(&on).into_iter().find(|m| m["role"] == "tool");
    assert_eq!(tool.map(|t| t["name"].clone()), Some(json!("get_weather")));
    let mut named = tool_history();
    if let ContentBlock::ToolResult { name, .. } = &mut named.messages[2].content[0] {
        *name = Some("get_weather".into());
    }
    let off = body(
        &chat(CompatFlags {
            requires_tool_result_name: Some(false),
            ..CompatFlags::default()
        }),
        named,
    );
    let tool = messages(&off).into_iter().find(|m| m["role"] == "tool");
    assert!(tool.is_some_and(|t| t.get("name").is_none()));
}

#[test]
fn requires_assistant_after_tool_result_bridges_to_the_user() {
    let out = body(
        &chat(CompatFlags {
            requires_assistant_after_tool_result: Some(true),
            ..CompatFlags::default()
        }),
        tool_history(),
    );
    let roles: Vec<String> = messages(&out)
        .iter()
        .map(|m| m["role"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(roles, ["user", "assistant", "tool", "assistant", "user"]);
    assert_eq!(
        messages(&out)[3]["content"],
        json!(crate::chat_compat::TOOL_RESULTS_BRIDGE)
    );
    let plain = body(&chat(CompatFlags::default()), tool_history());
    assert_eq!(messages(&plain).len(), 4, "no bridge without the flag");
}

#[test]
fn requires_thinking_as_text_puts_reasoning_first_in_the_content() {
    let out = body(
        &chat(CompatFlags {
            requires_thinking_as_text: Some(true),
            ..CompatFlags::default()
        }),
        tool_history(),
    );
    assert_eq!(
        messages(&out)[1]["content"],
        json!([{"type": "text", "text": "look it up"}, {"type": "text", "text": "Checking."}])
    );
    let plain = body(&chat(CompatFlags::default()), tool_history());
    assert_eq!(messages(&plain)[1]["content"], json!("Checking."));
}

#[test]
fn requires_reasoning_content_replays_it_on_assistant_messages() {
    let out = body(
        &chat(CompatFlags {
            requires_reasoning_content_on_assistant_messages: Some(true),
            ..CompatFlags::default()
        }),
        tool_history(),
    );
    assert_eq!(messages(&out)[1]["reasoning_content"], json!("look it up"));
    let plain = body(&chat(CompatFlags::default()), tool_history());
    assert!(messages(&plain)[1].get("reasoning_content").is_none());
}

#[test]
fn strict_message_keys_keep_only_role_and_content() {
    let out = body(
        &chat(CompatFlags {
            strict_message_keys: Some(true),
            ..CompatFlags::default()
        }),
        tool_history(),
    );
    for m in messages(&out) {
        let keys: Vec<&String> = m
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        assert!(keys.iter().all(|k| *k == "role" || *k == "content"), "{m}");
    }
}

#[test]
fn requires_mistral_tool_ids_rewrites_calls_and_results_alike() {
    let out = body(
        &chat(CompatFlags {
            requires_mistral_tool_ids: Some(true),
            ..CompatFlags::default()
        }),
        tool_history(),
    );
    let call_id = messages(&out)[1]["tool_calls"][0]["id"].clone();
    let result_id = messages(&out)[2]["tool_call_id"].clone();
    assert_eq!(call_id, result_id);
    let id = call_id.as_str().unwrap_or_default();
    assert!(
        id.len() == 9 && id.chars().all(|c| c.is_ascii_alphanumeric()),
        "{id}"
    );
}

fn thinking_body(format: ThinkingFormat, effort: Option<ReasoningEffort>) -> Value {
    let mut map = BTreeMap::new();
    map.insert("high".to_string(), "max".to_string());
    let spec = chat(CompatFlags {
        thinking_format: Some(format),
        reasoning_effort_map: Some(map),
        ..CompatFlags::default()
    });
    body(
        &spec,
        Request {
            model: "m".into(),
            messages: vec![Message::text(Role::User, "hi")],
            reasoning: effort,
            ..Request::default()
        },
    )
}

#[test]
fn thinking_format_picks_the_field_and_the_effort_map_renames() {
    use ReasoningEffort::High;
    let b = thinking_body(ThinkingFormat::Qwen, Some(High));
    assert_eq!(b["enable_thinking"], json!(true));
    assert!(b.get("reasoning_effort").is_none());
    let b = thinking_body(ThinkingFormat::Zai, None);
    assert_eq!(b["enable_thinking"], json!(false));
    let b = thinking_body(ThinkingFormat::QwenChatTemplate, None);
    assert_eq!(b["chat_template_kwargs"]["enable_thinking"], json!(false));
    let b = thinking_body(ThinkingFormat::DeepSeek, Some(High));
    assert_eq!(b["thinking"], json!({"type": "enabled"}));
    assert_eq!(b["reasoning_effort"], json!("max"));
    let b = thinking_body(ThinkingFormat::OpenRouter, None);
    assert_eq!(b["reasoning"], json!({"effort": "none"}));
    let b = thinking_body(ThinkingFormat::OpenRouter, Some(High));
    assert_eq!(b["reasoning"], json!({"effort": "max"}));
    let b = thinking_body(ThinkingFormat::Together, Some(High));
    assert_eq!(b["reasoning"], json!({"enabled": true}));
    let b = thinking_body(ThinkingFormat::OpenAi, Some(High));
    assert_eq!(b["reasoning_effort"], json!("max"), "reasoningEffortMap");
}

#[test]
fn supported_reasoning_efforts_move_the_effort_to_a_listed_one() {
    let spec = chat(CompatFlags {
        supported_reasoning_efforts: Some(vec!["low".into(), "medium".into()]),
        ..CompatFlags::default()
    });
    let request = |effort| Request {
        model: "m".into(),
        messages: vec![Message::text(Role::User, "hi")],
        reasoning: Some(effort),
        ..Request::default()
    };
    assert_eq!(
        body(&spec, request(ReasoningEffort::High))["reasoning_effort"],
        json!("medium")
    );
    assert_eq!(
        body(&spec, request(ReasoningEffort::Minimal))["reasoning_effort"],
        json!("low")
    );
}

fn tool_request() -> Request {
    Request {
        model: "m".into(),
        messages: vec![Message::text(Role::User, "hi")],
        tools: vec![ToolSpec {
            name: "find".into(),
            description: None,
            parameters: json!({"type": "object", "properties": {
                "q": {"type": "string", "pattern": "^x", "maxLength": 5000, "format": "uri"}
            }}),
        }],
        ..Request::default()
    }
}

#[test]
fn tool_schema_profile_and_keywords_clean_the_sent_schema() {
    let out = body(
        &chat(CompatFlags {
            tool_schema_profile: Some(ToolSchemaProfile::LlamaCpp),
            unsupported_tool_schema_keywords: Some(vec!["format".into()]),
            ..CompatFlags::default()
        }),
        tool_request(),
    );
    assert_eq!(
        out["tools"][0]["function"]["parameters"]["properties"]["q"],
        json!({"type": "string"})
    );
}

#[test]
fn supports_strict_mode_marks_tools_not_strict() {
    let on = body(
        &chat(CompatFlags {
            supports_strict_mode: Some(true),
            ..CompatFlags::default()
        }),
        tool_request(),
    );
    assert_eq!(on["tools"][0]["function"]["strict"], json!(false));
    let local = body(&chat(CompatFlags::default()), tool_request());
    assert!(
        local["tools"][0]["function"].get("strict").is_none(),
        "off by default off OpenAI"
    );
    let openai = spec_with(
        ApiKind::OpenAiCompletions,
        "https://api.openai.com/v1",
        CompatFlags::default(),
        false,
    );
    assert_eq!(
        body(&openai, tool_request())["tools"][0]["function"]["strict"],
        json!(false)
    );
}

#[test]
fn requires_openai_anthropic_tool_payload_reshapes_anthropic_tools() {
    let spec = spec_with(
        ApiKind::AnthropicMessages,
        "http://127.0.0.1:1",
        CompatFlags {
            requires_open_ai_anthropic_tool_payload: Some(true),
            ..CompatFlags::default()
        },
        false,
    );
    let mut request = tool_request();
    request.tool_choice = clawgate_wire::ToolChoice::Required;
    let out = body(&spec, request.clone());
    assert_eq!(out["tools"][0]["type"], json!("function"));
    assert_eq!(out["tools"][0]["function"]["name"], json!("find"));
    assert_eq!(out["tool_choice"], json!("required"));
    let plain_spec = spec_with(
        ApiKind::AnthropicMessages,
        "http://127.0.0.1:1",
        CompatFlags::default(),
        false,
    );
    let plain = body(&plain_spec, request);
    assert_eq!(
        plain["tools"][0]["name"],
        json!("find"),
        "Anthropic's own shape otherwise"
    );
}
