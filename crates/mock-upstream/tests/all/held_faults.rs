//! The faults in the part of an answer a router holds back: a thinking-only answer that ends
//! empty or with an error, and a tool call broken mid-stream with llama.cpp's wording (whole
//! when not streamed).

use mock_upstream::{
    DEFAULT_REASONING, Fault, LLAMA_DIFF_ERROR, MID_STREAM_MESSAGE, MockConfig, MockServer, Script,
};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn thinking_then_empty_is_only_thinking_and_a_normal_end() {
    let mock = MockServer::start(MockConfig::default().fault(Fault::ThinkingThenEmpty)).await;
    let (status, ct, text) = stream_text(&mock, "/api/chat", &ollama(true)).await;
    assert_eq!((status, ct.as_str()), (200, "application/x-ndjson"));
    let lines = parse_ndjson(&text);
    let (last, pieces) = lines.split_last().unwrap();
    assert!(!pieces.is_empty());
    let thinking: String = pieces
        .iter()
        .map(|l| {
            assert_eq!(l["message"]["content"], "", "{l}");
            l["message"]["thinking"].as_str().unwrap()
        })
        .collect();
    assert_eq!(thinking, DEFAULT_REASONING);
    assert_eq!(last["done"], true);
    assert_eq!(last["message"]["content"], "");

    let (_, body) = post_json(&mock, "/api/chat", &ollama(false)).await;
    assert_eq!(body["message"]["content"], "");
    assert_eq!(body["message"]["thinking"], DEFAULT_REASONING);

    let (_, _, text) = stream_text(&mock, "/v1/chat/completions", &chat(true)).await;
    let events = parse_sse(&text);
    assert!(
        events.iter().filter(|e| e.data != "[DONE]").all(|e| {
            e.json()["choices"][0]["delta"]["content"]
                .as_str()
                .is_none_or(str::is_empty)
        }),
        "{text}"
    );
    assert_eq!(events.last().unwrap().data, "[DONE]");
}

#[tokio::test]
async fn thinking_then_error_ends_the_reasoning_with_an_error() {
    let mock = MockServer::start(MockConfig::default()).await;
    mock.push_script(Script::fault(Fault::ThinkingThenError).with_reasoning("deep thought"));
    let (_, _, text) = stream_text(&mock, "/api/chat", &ollama(true)).await;
    let lines = parse_ndjson(&text);
    let (last, pieces) = lines.split_last().unwrap();
    let thinking: String = pieces
        .iter()
        .map(|l| l["message"]["thinking"].as_str().unwrap())
        .collect();
    assert_eq!(thinking, "deep thought");
    assert_eq!(last["error"], MID_STREAM_MESSAGE);
    assert!(lines.iter().all(|l| l["done"] != true));

    mock.push_script(Script::fault(Fault::ThinkingThenError));
    let (status, _) = post_json(&mock, "/api/chat", &ollama(false)).await;
    assert_eq!(status, 500);
}

#[tokio::test]
async fn tool_call_diff_error_breaks_the_call_with_llama_cpp_wording() {
    let mock = MockServer::start(MockConfig::default().chunks(4)).await;
    let script = Script::fault(Fault::ToolCallDiffError)
        .with_tool_call("get_weather", json!({"city": "Paris, France"}));
    mock.push_script(script.clone());
    let mut body = chat(true);
    body["tools"] = json!([weather_tool_chat()]);
    let (_, _, text) = stream_text(&mock, "/v1/chat/completions", &body).await;
    let events = parse_sse(&text);
    let last = events.last().unwrap().json();
    assert_eq!(last["error"]["message"], LLAMA_DIFF_ERROR);
    assert_eq!(last["error"]["code"], 500);
    assert!(
        !text.contains("[DONE]"),
        "llama.cpp ends the body after the error"
    );
    let arguments: String = events[..events.len() - 1]
        .iter()
        .filter_map(|e| {
            e.json()["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    let whole = json!({"city": "Paris, France"}).to_string();
    assert!(
        !arguments.is_empty() && whole.starts_with(&arguments) && arguments != whole,
        "partial arguments, got {arguments:?}"
    );

    mock.push_script(script);
    let mut body = chat(false);
    body["tools"] = json!([weather_tool_chat()]);
    let (status, answer) = post_json(&mock, "/v1/chat/completions", &body).await;
    assert_eq!(status, 200);
    let call = &answer["choices"][0]["message"]["tool_calls"][0]["function"];
    assert_eq!(call["arguments"], whole);
}
