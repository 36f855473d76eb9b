//! Anthropic Messages: the message body, the block-structured stream, thinking, tool_use.

use mock_upstream::{MockConfig, MockServer, Script};
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn non_stream_message_has_text_stop_reason_and_usage() {
    let mock = MockServer::start(MockConfig::default()).await;
    let (status, r) = post_json(&mock, "/v1/messages", &anthropic(false)).await;
    assert_eq!(status, 200);
    assert_eq!(r["type"], "message");
    assert_eq!(r["role"], "assistant");
    assert_eq!(
        r["content"],
        json!([{"type": "text", "text": "mock answer to: hello there"}])
    );
    assert_eq!(r["stop_reason"], "end_turn");
    assert_eq!(r["usage"]["output_tokens"], 4);
}

#[tokio::test]
async fn stream_follows_the_message_and_block_lifecycle() {
    let mock = MockServer::start(MockConfig::default()).await;
    let (_, ct, text) = stream_text(&mock, "/v1/messages", &anthropic(true)).await;
    assert!(ct.starts_with("text/event-stream"));
    let events = parse_sse(&text);
    let kinds: Vec<&str> = events.iter().map(|e| e.event.as_deref().unwrap()).collect();
    assert_eq!(
        kinds,
        vec![
            "message_start",
            "ping",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ]
    );
    let data: Vec<Value> = events.iter().map(Sse::json).collect();
    for (d, k) in data.iter().zip(&kinds) {
        assert_eq!(d["type"], *k);
    }
    let text: String = data
        .iter()
        .filter(|d| d["delta"]["type"] == "text_delta")
        .map(|d| d["delta"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(text, "mock answer to: hello there");
    assert_eq!(data[8]["delta"]["stop_reason"], "end_turn");
    assert_eq!(data[8]["usage"]["output_tokens"], 4);
}

#[tokio::test]
async fn thinking_then_forced_tool_use_blocks() {
    let mock = MockServer::start(MockConfig::default()).await;
    mock.push_script(Script::default().with_reasoning("hmm"));
    let mut body = anthropic(true);
    body["tools"] = json!([{"name": "get_weather", "input_schema": {"type": "object",
        "properties": {"city": {"type": "string"}}, "required": ["city"]}}]);
    body["tool_choice"] = json!({"type": "any"});
    let (_, _, text) = stream_text(&mock, "/v1/messages", &body).await;
    let data: Vec<Value> = parse_sse(&text).iter().map(Sse::json).collect();
    let starts: Vec<&Value> = data
        .iter()
        .filter(|d| d["type"] == "content_block_start")
        .collect();
    assert_eq!(starts[0]["content_block"]["type"], "thinking");
    assert_eq!(starts[0]["index"], 0);
    assert_eq!(starts[1]["content_block"]["type"], "tool_use");
    assert_eq!(starts[1]["content_block"]["name"], "get_weather");
    assert_eq!(starts[1]["index"], 1);
    let thinking: String = data
        .iter()
        .filter(|d| d["delta"]["type"] == "thinking_delta")
        .map(|d| d["delta"]["thinking"].as_str().unwrap())
        .collect();
    assert_eq!(thinking, "hmm");
    assert!(data.iter().any(|d| d["delta"]["type"] == "signature_delta"));
    let json_text: String = data
        .iter()
        .filter(|d| d["delta"]["type"] == "input_json_delta")
        .map(|d| d["delta"]["partial_json"].as_str().unwrap())
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&json_text).unwrap(),
        json!({"city": "mock"})
    );
    let delta = data.iter().find(|d| d["type"] == "message_delta").unwrap();
    assert_eq!(delta["delta"]["stop_reason"], "tool_use");

    body["stream"] = json!(false);
    body["tool_choice"] = json!({"type": "tool", "name": "get_weather"});
    let (_, r) = post_json(&mock, "/v1/messages", &body).await;
    assert_eq!(r["content"][0]["type"], "tool_use");
    assert_eq!(r["content"][0]["input"], json!({"city": "mock"}));
    assert!(
        r["content"][0]["id"]
            .as_str()
            .unwrap()
            .starts_with("toolu_")
    );
}
