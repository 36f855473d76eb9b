//! OpenAI chat completions: bodies, streams, tools, reasoning and quirks.

use mock_upstream::{MockConfig, MockServer, Quirk, Script};
use serde_json::{Value, json};

use crate::support::*;

fn deltas(events: &[Sse]) -> Vec<Value> {
    events
        .iter()
        .filter(|e| e.data != "[DONE]")
        .map(|e| e.json())
        .collect()
}

fn joined(chunks: &[Value], key: &str) -> String {
    chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"][key].as_str())
        .collect()
}

#[tokio::test]
async fn non_stream_echoes_the_last_user_text_with_usage() {
    let mock = MockServer::start(MockConfig::default()).await;
    let (status, body) = post_json(&mock, "/v1/chat/completions", &chat(false)).await;
    assert_eq!(status, 200);
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "mock-model");
    let choice = &body["choices"][0];
    assert_eq!(choice["message"]["role"], "assistant");
    assert_eq!(choice["message"]["content"], "mock answer to: hello there");
    assert_eq!(choice["finish_reason"], "stop");
    assert!(body["usage"]["prompt_tokens"].as_u64().unwrap() > 0);
    assert_eq!(body["usage"]["completion_tokens"], 4);
}

#[tokio::test]
async fn stream_sends_role_pieces_finish_and_done() {
    let mock = MockServer::start(MockConfig::default().chunks(6)).await;
    let (status, ct, text) = stream_text(&mock, "/v1/chat/completions", &chat(true)).await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/event-stream"), "{ct}");
    let events = parse_sse(&text);
    assert_eq!(events.last().unwrap().data, "[DONE]");
    assert!(events.iter().all(|e| e.event.is_none()));
    let chunks = deltas(&events);
    assert!(
        chunks
            .iter()
            .all(|c| c["object"] == "chat.completion.chunk")
    );
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let content: Vec<&str> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(content.len(), 6);
    assert_eq!(content.concat(), "mock answer to: hello there");
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"][0]["finish_reason"], "stop");
    assert!(last.get("usage").is_none(), "no usage unless asked");
}

#[tokio::test]
async fn stream_usage_chunk_follows_include_usage_and_the_usage_knob() {
    let mut body = chat(true);
    body["stream_options"] = json!({"include_usage": true});
    let mock = MockServer::start(MockConfig::default()).await;
    let (_, _, text) = stream_text(&mock, "/v1/chat/completions", &body).await;
    let chunks = deltas(&parse_sse(&text));
    let usage = chunks.last().unwrap();
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["completion_tokens"], 4);

    let quiet = MockServer::start(MockConfig::default().usage(false)).await;
    let (_, _, text) = stream_text(&quiet, "/v1/chat/completions", &body).await;
    assert!(
        deltas(&parse_sse(&text))
            .iter()
            .all(|c| c.get("usage").is_none())
    );
    let (_, plain) = post_json(&quiet, "/v1/chat/completions", &chat(false)).await;
    assert!(plain.get("usage").is_none());
}

#[tokio::test]
async fn many_chunks_pad_the_text_so_every_piece_has_content() {
    let mock = MockServer::start(MockConfig::default().chunks(64)).await;
    let (_, _, text) = stream_text(&mock, "/v1/chat/completions", &chat(true)).await;
    let chunks = deltas(&parse_sse(&text));
    let pieces = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .filter(|s| !s.is_empty())
        .count();
    assert_eq!(pieces, 64);
}

#[tokio::test]
async fn forced_tool_choice_answers_with_a_call_filled_from_the_schema() {
    let mock = MockServer::start(MockConfig::default()).await;
    let mut body = chat(false);
    body["tools"] = json!([weather_tool_chat()]);
    body["tool_choice"] = json!({"type": "function", "function": {"name": "get_weather"}});
    let (_, r) = post_json(&mock, "/v1/chat/completions", &body).await;
    let msg = &r["choices"][0]["message"];
    assert_eq!(msg["content"], Value::Null);
    assert_eq!(msg["tool_calls"][0]["type"], "function");
    assert_eq!(msg["tool_calls"][0]["function"]["name"], "get_weather");
    let args: Value = serde_json::from_str(
        msg["tool_calls"][0]["function"]["arguments"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(args, json!({"city": "mock"}));
    assert_eq!(r["choices"][0]["finish_reason"], "tool_calls");

    body["stream"] = json!(true);
    body["tool_choice"] = json!("required");
    let (_, _, text) = stream_text(&mock, "/v1/chat/completions", &body).await;
    let chunks = deltas(&parse_sse(&text));
    let calls: Vec<&Value> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].get(0))
        .collect();
    assert_eq!(calls[0]["function"]["name"], "get_weather");
    assert!(calls[0]["id"].as_str().unwrap().starts_with("call_"));
    assert!(calls[1..].iter().all(|c| c.get("id").is_none()));
    let args: String = calls
        .iter()
        .filter_map(|c| c["function"]["arguments"].as_str())
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&args).unwrap(),
        json!({"city": "mock"})
    );
    assert_eq!(
        chunks.last().unwrap()["choices"][0]["finish_reason"],
        "tool_calls"
    );
}

#[tokio::test]
async fn auto_tool_choice_answers_in_text() {
    let mock = MockServer::start(MockConfig::default()).await;
    let mut body = chat(false);
    body["tools"] = json!([weather_tool_chat()]);
    body["tool_choice"] = json!("auto");
    let (_, r) = post_json(&mock, "/v1/chat/completions", &body).await;
    assert!(r["choices"][0]["message"].get("tool_calls").is_none());
    assert_eq!(r["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn llama_cpp_python_quirk_repeats_the_call_header_in_every_chunk() {
    let mock = MockServer::start(MockConfig::default().quirk(Quirk::RepeatToolCallHeader)).await;
    mock.push_script(Script::default().with_tool_call("get_weather", json!({"city": "Paris"})));
    let mut body = chat(true);
    body["tools"] = json!([weather_tool_chat()]);
    let (_, _, text) = stream_text(&mock, "/v1/chat/completions", &body).await;
    let chunks = deltas(&parse_sse(&text));
    let with_calls: Vec<&Value> = chunks
        .iter()
        .filter(|c| c["choices"][0]["delta"].get("tool_calls").is_some())
        .collect();
    assert!(with_calls.len() > 1);
    for c in &with_calls {
        let delta = &c["choices"][0]["delta"];
        assert_eq!(delta["tool_calls"][0]["function"]["name"], "get_weather");
        assert!(delta["tool_calls"][0]["id"].is_string());
        assert_eq!(delta["function_call"]["name"], "get_weather");
    }
}

#[tokio::test]
async fn scripted_reasoning_goes_to_the_dialect_field_or_to_think_tags() {
    let mock = MockServer::start(MockConfig::default()).await;
    mock.push_script(Script::text("answer").with_reasoning("thinking hard"));
    let (_, _, text) = stream_text(&mock, "/v1/chat/completions", &chat(true)).await;
    let chunks = deltas(&parse_sse(&text));
    assert_eq!(joined(&chunks, "reasoning_content"), "thinking hard");
    assert_eq!(joined(&chunks, "content"), "answer");

    mock.push_script(
        Script::text("answer")
            .with_reasoning("why")
            .with_quirk(Quirk::ReasoningField),
    );
    let (_, r) = post_json(&mock, "/v1/chat/completions", &chat(false)).await;
    assert_eq!(r["choices"][0]["message"]["reasoning"], "why");
    assert!(
        r["choices"][0]["message"]
            .get("reasoning_content")
            .is_none()
    );

    mock.push_script(
        Script::text("answer")
            .with_reasoning("why")
            .with_quirk(Quirk::ThinkTagsInContent),
    );
    let (_, r) = post_json(&mock, "/v1/chat/completions", &chat(false)).await;
    assert_eq!(
        r["choices"][0]["message"]["content"],
        "<think>why</think>answer"
    );
}

#[tokio::test]
async fn max_tokens_below_the_chunk_count_stops_with_length() {
    let mock = MockServer::start(MockConfig::default().chunks(8)).await;
    let mut body = chat(false);
    body["max_tokens"] = json!(3);
    let (_, r) = post_json(&mock, "/v1/chat/completions", &body).await;
    assert_eq!(r["choices"][0]["finish_reason"], "length");
    assert_eq!(r["usage"]["completion_tokens"], 3);
}
