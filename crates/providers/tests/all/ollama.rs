//! `ollama` (native) against the mock: NDJSON stream and not, thinking, tool calls, `num_ctx`
//! from the context window, bearer only for a real key, `/v1` stripped from the base.

use clawgate_providers::ApiKind;
use clawgate_wire::{StopReason, ToolChoice};
use mock_upstream::{Quirk, Script};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn streams_and_non_streams_with_thinking_and_num_ctx() {
    let mock = mock().await;
    let p = provider(&spec(&mock, ApiKind::Ollama));
    for stream in [true, false] {
        mock.push_script(Script::text("Hello.").with_reasoning("Hmm."));
        let out = run(&p, request("hi", stream)).await;
        assert_well_formed(&out);
        assert_eq!(out.text(), "Hello.", "stream={stream}");
        assert_eq!(out.reasoning(), "Hmm.", "stream={stream}");
        assert_eq!(out.stop(), Some(StopReason::Stop));
        assert!(out.usage().is_some(), "stream={stream}");
        let req = last_request(&mock);
        assert_eq!(req.path, "/api/chat");
        assert_eq!(req.body["options"]["num_ctx"], json!(8192));
        assert_eq!(req.body["stream"], json!(stream));
    }
}

#[tokio::test]
async fn think_tags_in_content_are_split() {
    let mock = mock().await;
    let p = provider(&spec(&mock, ApiKind::Ollama));
    mock.push_script(
        Script::text("Answer.")
            .with_reasoning("Thinking.")
            .with_quirk(Quirk::ThinkTagsInContent),
    );
    let out = run(&p, request("hi", true)).await;
    assert_well_formed(&out);
    assert_eq!(out.reasoning(), "Thinking.");
    assert_eq!(out.text().trim(), "Answer.");
}

#[tokio::test]
async fn tool_calls_stream_and_non_stream() {
    let mock = mock().await;
    let p = provider(&spec(&mock, ApiKind::Ollama));
    for stream in [true, false] {
        let mut req = request("weather?", stream);
        req.tools = vec![weather_tool()];
        req.tool_choice = ToolChoice::Tool("get_weather".into());
        mock.push_script(Script::default().with_tool_call("get_weather", json!({"city":"Paris"})));
        let out = run(&p, req).await;
        assert_well_formed(&out);
        let calls = out.tool_calls();
        assert_eq!(calls.len(), 1, "stream={stream}: {:?}", out.events);
        assert_eq!(calls[0].1, "get_weather");
        let args: serde_json::Value = serde_json::from_str(&calls[0].2).unwrap_or_default();
        assert_eq!(args, json!({"city":"Paris"}));
        assert!(!calls[0].0.is_empty(), "a synthesised call id");
    }
}

#[tokio::test]
async fn placeholder_key_is_not_sent_but_a_real_one_is() {
    let mock = mock().await;
    let mut s = spec(&mock, ApiKind::Ollama).with_key("ollama-local");
    s.base_url = format!("{}/v1/", mock.base_url());
    run(&provider(&s), request("hi", false)).await;
    let req = last_request(&mock);
    assert_eq!(req.path, "/api/chat", "trailing /v1 dropped");
    assert!(req.header("authorization").is_none());

    let s = spec(&mock, ApiKind::Ollama).with_key("ol-9f8e7d6c5b4a39281706");
    run(&provider(&s), request("hi", false)).await;
    assert_eq!(
        last_request(&mock).header("authorization"),
        Some("Bearer ****1706")
    );
}
