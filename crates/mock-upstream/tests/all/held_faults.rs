//! What a router holds back, broken: a thinking-only answer cut by an error (the
//! `thinking_only` quirk with `error_in_stream`), and a tool call broken mid-stream with
//! llama.cpp's wording (whole when not streamed).

use mock_upstream::{
    Fault, LLAMA_DIFF_ERROR, MID_STREAM_MESSAGE, MockConfig, MockServer, Quirk, Script,
};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn thinking_only_with_error_in_stream_fails_after_its_first_reasoning_piece() {
    let mock = MockServer::start(MockConfig::default()).await;
    let script = Script {
        reasoning: Some("deep thought".into()),
        ..Script::fault(Fault::ErrorInStream).with_quirk(Quirk::ThinkingOnly)
    };
    mock.push_script(script.clone());
    let (_, _, text) = stream_text(&mock, "/api/chat", &ollama(true)).await;
    let lines = parse_ndjson(&text);
    let (last, pieces) = lines.split_last().unwrap();
    assert_eq!(pieces.len(), 1, "{text}");
    assert_eq!(pieces[0]["message"]["content"], "");
    assert!(
        pieces[0]["message"]["thinking"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    assert_eq!(last["error"], MID_STREAM_MESSAGE);

    mock.push_script(script);
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
