//! `openai-responses` against the mock: stream and not, tool calls, structural reasoning,
//! LiteLLM's data-only stream, and where the system prompt goes.

use clawgate_providers::{ApiKind, CompatFlags};
use clawgate_wire::{StopReason, ToolChoice};
use mock_upstream::{Quirk, Script};
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn streams_and_non_streams_text_with_usage() {
    let mock = mock().await;
    let p = provider(&spec(&mock, ApiKind::OpenAiResponses));
    for stream in [true, false] {
        let out = run(&p, request("hello", stream)).await;
        assert_well_formed(&out);
        assert_eq!(out.text(), "mock answer to: hello", "stream={stream}");
        assert_eq!(out.stop(), Some(StopReason::Stop));
        assert!(out.usage().is_some(), "stream={stream}");
        assert_eq!(last_request(&mock).path, "/v1/responses");
    }
}

#[tokio::test]
async fn data_only_stream_with_done_marker_decodes() {
    let mock = mock().await;
    let p = provider(&spec(&mock, ApiKind::OpenAiResponses));
    mock.push_script(Script::text("bridged answer").with_quirk(Quirk::ResponsesDataOnly));
    let out = run(&p, request("hi", true)).await;
    assert_well_formed(&out);
    assert_eq!(out.text(), "bridged answer");
}

#[tokio::test]
async fn tool_calls_and_reasoning() {
    let mock = mock().await;
    let p = provider(&spec(&mock, ApiKind::OpenAiResponses));
    for stream in [true, false] {
        let mut req = request("weather?", stream);
        req.tools = vec![weather_tool()];
        req.tool_choice = ToolChoice::Tool("get_weather".into());
        mock.push_script(Script::default().with_reasoning("Need the tool."));
        let out = run(&p, req).await;
        assert_well_formed(&out);
        assert_eq!(out.reasoning(), "Need the tool.", "stream={stream}");
        let calls = out.tool_calls();
        assert_eq!(calls.len(), 1, "stream={stream}: {:?}", out.events);
        assert_eq!(calls[0].1, "get_weather");
        let args: Value = serde_json::from_str(&calls[0].2).unwrap_or(Value::Null);
        assert_eq!(args, json!({"city":"mock"}));
        assert_eq!(out.stop(), Some(StopReason::ToolUse));
    }
}

#[tokio::test]
async fn system_prompt_placement_follows_supports_instructions() {
    let mock = mock().await;
    let mut req = request("hi", false);
    req.system = Some("be brief".into());
    let local = provider(&spec(&mock, ApiKind::OpenAiResponses));
    run(&local, req.clone()).await;
    let body = last_request(&mock).body;
    assert!(body.get("instructions").is_none(), "local default: {body}");
    assert!(
        body.get("store").is_none(),
        "store only to api.openai.com: {body}"
    );

    let mut s = spec(&mock, ApiKind::OpenAiResponses);
    s.compat = CompatFlags {
        supports_instructions: Some(true),
        ..CompatFlags::default()
    };
    run(&provider(&s), req).await;
    let body = last_request(&mock).body;
    assert_eq!(body["instructions"], json!("be brief"));
}
