//! `openai-completions` against the mock: stream and not, tool calls, reasoning (field and
//! `<think>` tags), usage, and the compat flags as they show in the captured request body.

use clawgate_providers::{ApiKind, CompatFlags, MaxTokensField};
use clawgate_wire::{StopReason, ToolChoice};
use mock_upstream::{Quirk, Script};
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn streams_and_non_streams_text_with_usage() {
    let mock = mock().await;
    let p = provider(&spec(&mock, ApiKind::OpenAiCompletions));
    for stream in [true, false] {
        let out = run(&p, request("hello", stream)).await;
        assert_well_formed(&out);
        assert_eq!(out.text(), "mock answer to: hello", "stream={stream}");
        assert_eq!(out.stop(), Some(StopReason::Stop));
        let usage = out.usage();
        assert!(
            usage.is_some_and(|u| u.output_tokens.is_some()),
            "stream={stream}: usage {usage:?}"
        );
        let req = last_request(&mock);
        assert_eq!(req.path, "/v1/chat/completions");
        assert_eq!(req.body["stream"], json!(stream));
    }
}

#[tokio::test]
async fn local_server_gets_max_tokens_usage_option_and_no_openai_only_fields() {
    let mock = mock().await;
    let p = provider(&spec(&mock, ApiKind::OpenAiCompletions));
    let mut req = request("hi", true);
    req.system = Some("be brief".into());
    run(&p, req).await;
    let body = last_request(&mock).body;
    assert_eq!(body["max_tokens"], json!(64));
    assert!(body.get("max_completion_tokens").is_none(), "{body}");
    assert_eq!(body["stream_options"]["include_usage"], json!(true));
    assert!(body.get("store").is_none(), "{body}");
    let roles: Vec<&str> = body["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["role"].as_str())
        .collect();
    assert_eq!(
        roles,
        vec!["system", "user"],
        "no developer role off api.openai.com"
    );
}

#[tokio::test]
async fn model_max_tokens_fills_a_missing_cap() {
    let mock = mock().await;
    let mut s = spec(&mock, ApiKind::OpenAiCompletions);
    s.models[0].max_tokens = Some(321);
    let p = provider(&s);
    let mut req = request("hi", false);
    req.max_tokens = None;
    run(&p, req).await;
    assert_eq!(last_request(&mock).body["max_tokens"], json!(321));
}

#[tokio::test]
async fn compat_flags_change_the_body() {
    let mock = mock().await;
    let mut s = spec(&mock, ApiKind::OpenAiCompletions);
    s.compat = CompatFlags {
        max_tokens_field: Some(MaxTokensField::MaxCompletionTokens),
        supports_usage_in_streaming: Some(false),
        supports_tools: Some(false),
        requires_string_content: Some(true),
        ..CompatFlags::default()
    };
    let p = provider(&s);
    let mut req = request("hi", true);
    req.tools = vec![weather_tool()];
    let out = run(&p, req).await;
    assert_well_formed(&out);
    let body = last_request(&mock).body;
    assert_eq!(body["max_completion_tokens"], json!(64));
    assert!(body.get("max_tokens").is_none(), "{body}");
    assert!(body.get("stream_options").is_none(), "{body}");
    assert!(body.get("tools").is_none(), "{body}");
    assert!(body["messages"][0]["content"].is_string(), "{body}");
    assert!(out.usage().is_none(), "no usage asked, none expected");
}

#[tokio::test]
async fn bearer_key_and_headers_are_sent() {
    let mock = mock().await;
    let mut s = spec(&mock, ApiKind::OpenAiCompletions).with_key("lmstudio");
    s.headers.insert("x-provider".into(), "p".into());
    s.models[0].headers.insert("x-model".into(), "m".into());
    let p = provider(&s);
    run(&p, request("hi", false)).await;
    let req = last_request(&mock);
    // The mock masks credentials; a placeholder is still sent as a bearer token.
    assert!(
        req.header("authorization")
            .is_some_and(|v| v.starts_with("Bearer ")),
        "{:?}",
        req.header("authorization")
    );
    assert_eq!(req.header("x-provider"), Some("p"));
    assert_eq!(req.header("x-model"), Some("m"));
}

#[tokio::test]
async fn tool_calls_stream_and_non_stream() {
    let mock = mock().await;
    let p = provider(&spec(&mock, ApiKind::OpenAiCompletions));
    for stream in [true, false] {
        let mut req = request("weather in Paris?", stream);
        req.tools = vec![weather_tool()];
        req.tool_choice = ToolChoice::Tool("get_weather".into());
        let out = run(&p, req).await;
        assert_well_formed(&out);
        let calls = out.tool_calls();
        assert_eq!(calls.len(), 1, "stream={stream}: {:?}", out.events);
        assert_eq!(calls[0].1, "get_weather");
        let args: Value = serde_json::from_str(&calls[0].2).unwrap_or(Value::Null);
        assert_eq!(args, json!({"city":"mock"}), "stream={stream}");
        assert_eq!(out.stop(), Some(StopReason::ToolUse));
        let body = last_request(&mock).body;
        assert_eq!(
            body["tool_choice"]["function"]["name"],
            json!("get_weather")
        );
    }
}

#[tokio::test]
async fn repeated_tool_call_headers_do_not_concatenate_names() {
    let mock = mock().await;
    mock.push_script(Script::default().with_quirk(Quirk::RepeatToolCallHeader));
    let p = provider(&spec(&mock, ApiKind::OpenAiCompletions));
    let mut req = request("weather?", true);
    req.tools = vec![weather_tool()];
    req.tool_choice = ToolChoice::Tool("get_weather".into());
    let out = run(&p, req).await;
    assert_well_formed(&out);
    let calls = out.tool_calls();
    assert_eq!(calls.len(), 1, "{:?}", out.events);
    assert_eq!(calls[0].1, "get_weather");
    assert_eq!(calls[0].2, r#"{"city":"mock"}"#);
}

#[tokio::test]
async fn reasoning_is_separated_in_every_form() {
    let mock = mock().await;
    let p = provider(&spec(&mock, ApiKind::OpenAiCompletions));
    let scripts = [
        (
            "reasoning_content",
            Script::text("The answer.").with_reasoning("Let me think."),
        ),
        (
            "reasoning field",
            Script::text("The answer.")
                .with_reasoning("Let me think.")
                .with_quirk(Quirk::ReasoningField),
        ),
        (
            "<think> tags",
            Script::text("The answer.")
                .with_reasoning("Let me think.")
                .with_quirk(Quirk::ThinkTagsInContent),
        ),
    ];
    for (label, script) in scripts {
        for stream in [true, false] {
            mock.push_script(script.clone());
            let out = run(&p, request("q", stream)).await;
            assert_well_formed(&out);
            assert_eq!(out.reasoning(), "Let me think.", "{label} stream={stream}");
            assert_eq!(out.text().trim(), "The answer.", "{label} stream={stream}");
        }
    }
}

#[tokio::test]
async fn output_cap_reached_is_length() {
    let mock = mock().await;
    let p = provider(&spec(&mock, ApiKind::OpenAiCompletions));
    let mut req = request("hello", true);
    req.max_tokens = Some(2);
    let out = run(&p, req).await;
    assert_well_formed(&out);
    assert_eq!(out.stop(), Some(StopReason::Length));
}
