//! Ollama `/api/chat`: NDJSON streaming (the default), thinking, whole tool calls.

use mock_upstream::{MockConfig, MockServer, Script};
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn streams_ndjson_when_stream_is_omitted() {
    let mock = MockServer::start(MockConfig::default()).await;
    let mut body = ollama(true);
    body.as_object_mut().unwrap().remove("stream");
    let (status, ct, text) = stream_text(&mock, "/api/chat", &body).await;
    assert_eq!(status, 200);
    assert_eq!(ct, "application/x-ndjson");
    let lines = parse_ndjson(&text);
    assert_eq!(lines.len(), 5);
    assert!(lines[..4].iter().all(|l| l["done"] == false));
    let content: String = lines
        .iter()
        .map(|l| l["message"]["content"].as_str().unwrap())
        .collect();
    assert_eq!(content, "mock answer to: hello there");
    let last = lines.last().unwrap();
    assert_eq!(last["done"], true);
    assert_eq!(last["done_reason"], "stop");
    assert_eq!(last["eval_count"], 4);
    assert!(last["created_at"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn non_stream_body_with_thinking_and_object_arguments() {
    let mock = MockServer::start(MockConfig::default()).await;
    mock.push_script(
        Script::default()
            .with_reasoning("pondering")
            .with_tool_call("get_weather", json!({"city": "Paris"})),
    );
    let (status, r) = post_json(&mock, "/api/chat", &ollama(false)).await;
    assert_eq!(status, 200);
    assert_eq!(r["done"], true);
    assert_eq!(r["message"]["thinking"], "pondering");
    assert_eq!(r["message"]["content"], "");
    let call = &r["message"]["tool_calls"][0]["function"];
    assert_eq!(call["name"], "get_weather");
    assert_eq!(
        call["arguments"],
        json!({"city": "Paris"}),
        "an object, not a string"
    );
}

#[tokio::test]
async fn stream_sends_thinking_pieces_then_the_whole_tool_call() {
    let mock = MockServer::start(MockConfig::default()).await;
    mock.push_script(
        Script::default()
            .with_reasoning("pondering")
            .with_tool_call("get_weather", json!({"city": "Paris"})),
    );
    let (_, _, text) = stream_text(&mock, "/api/chat", &ollama(true)).await;
    let lines = parse_ndjson(&text);
    let thinking: String = lines
        .iter()
        .filter_map(|l| l["message"]["thinking"].as_str())
        .collect();
    assert_eq!(thinking, "pondering");
    let calls: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"].get("tool_calls").is_some())
        .collect();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0]["message"]["tool_calls"][0]["function"]["arguments"],
        json!({"city": "Paris"})
    );
    assert_eq!(lines.last().unwrap()["done"], true);
}
