//! `anthropic-messages` against the mock: stream and not, thinking, tool use, auth headers,
//! and base URLs with or without `/v1`.

use clawgate_providers::ApiKind;
use clawgate_wire::{StopReason, ToolChoice};
use mock_upstream::Script;
use serde_json::{Value, json};

use crate::support::*;

const KEY: &str = "sk-ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Jh1Gf0";

#[tokio::test]
async fn streams_and_non_streams_with_thinking_and_usage() {
    let mock = mock().await;
    let p = provider(&spec(&mock, ApiKind::AnthropicMessages).with_key(KEY));
    for stream in [true, false] {
        mock.push_script(Script::text("Hi there.").with_reasoning("Greeting."));
        let out = run(&p, request("hello", stream)).await;
        assert_well_formed(&out);
        assert_eq!(out.text(), "Hi there.", "stream={stream}");
        assert_eq!(out.reasoning(), "Greeting.", "stream={stream}");
        assert_eq!(out.stop(), Some(StopReason::Stop));
        assert!(out.usage().is_some_and(|u| u.input_tokens.is_some()));
        let req = last_request(&mock);
        assert_eq!(req.path, "/v1/messages");
        assert_eq!(req.header("anthropic-version"), Some("2023-06-01"));
        assert_eq!(req.header("x-api-key"), Some("****1Gf0"));
        assert!(req.header("authorization").is_none());
        assert!(req.header("anthropic-beta").is_none());
    }
}

#[tokio::test]
async fn base_url_with_v1_is_not_doubled() {
    let mock = mock().await;
    let mut s = spec(&mock, ApiKind::AnthropicMessages).with_key(KEY);
    s.base_url = format!("{}/v1/", mock.base_url());
    let out = run(&provider(&s), request("hi", false)).await;
    assert_well_formed(&out);
    assert_eq!(last_request(&mock).path, "/v1/messages");
}

#[tokio::test]
async fn auth_header_flag_sends_bearer() {
    let mock = mock().await;
    let mut s = spec(&mock, ApiKind::AnthropicMessages).with_key(KEY);
    s.auth_header = true;
    run(&provider(&s), request("hi", false)).await;
    let req = last_request(&mock);
    assert_eq!(req.header("authorization"), Some("Bearer ****1Gf0"));
    assert!(req.header("x-api-key").is_none());
}

#[tokio::test]
async fn tool_use_stream_and_non_stream() {
    let mock = mock().await;
    let p = provider(&spec(&mock, ApiKind::AnthropicMessages).with_key(KEY));
    for stream in [true, false] {
        let mut req = request("weather?", stream);
        req.tools = vec![weather_tool()];
        req.tool_choice = ToolChoice::Tool("get_weather".into());
        let out = run(&p, req).await;
        assert_well_formed(&out);
        let calls = out.tool_calls();
        assert_eq!(calls.len(), 1, "stream={stream}: {:?}", out.events);
        assert_eq!(calls[0].1, "get_weather");
        let args: Value = serde_json::from_str(&calls[0].2).unwrap_or(Value::Null);
        assert_eq!(args, json!({"city":"mock"}));
        assert_eq!(out.stop(), Some(StopReason::ToolUse));
        let body = last_request(&mock).body;
        assert_eq!(
            body["tool_choice"],
            json!({"type":"tool","name":"get_weather"})
        );
    }
}

#[tokio::test]
async fn a_missing_output_cap_gets_a_default() {
    let mock = mock().await;
    let p = provider(&spec(&mock, ApiKind::AnthropicMessages));
    let mut req = request("hi", false);
    req.max_tokens = None;
    run(&p, req).await;
    assert!(last_request(&mock).body["max_tokens"].as_u64().is_some());
}
