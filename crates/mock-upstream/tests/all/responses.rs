//! OpenAI Responses: the response object, the typed event stream with sequence numbers,
//! reasoning and function-call items, and LiteLLM's data-only variant.

use mock_upstream::{MockConfig, MockServer, Quirk, Script};
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn non_stream_returns_a_completed_response_with_a_message_item() {
    let mock = MockServer::start(MockConfig::default()).await;
    let (status, r) = post_json(&mock, "/v1/responses", &responses(false)).await;
    assert_eq!(status, 200);
    assert_eq!(r["object"], "response");
    assert_eq!(r["status"], "completed");
    assert_eq!(r["output"][0]["type"], "message");
    assert_eq!(r["output"][0]["content"][0]["type"], "output_text");
    assert_eq!(
        r["output"][0]["content"][0]["text"],
        "mock answer to: hello there"
    );
    assert_eq!(r["usage"]["output_tokens"], 4);
    assert!(r["usage"]["input_tokens"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn input_items_are_read_for_the_echo() {
    let mock = MockServer::start(MockConfig::default()).await;
    let body = json!({"model": "m", "input": [
        {"role": "user", "content": [{"type": "input_text", "text": "first"}]},
        {"type": "message", "role": "user", "content": "second"}]});
    let (_, r) = post_json(&mock, "/v1/responses", &body).await;
    assert_eq!(
        r["output"][0]["content"][0]["text"],
        "mock answer to: second"
    );
}

#[tokio::test]
async fn stream_has_typed_events_in_order_with_growing_sequence_numbers() {
    let mock = MockServer::start(MockConfig::default()).await;
    let (status, ct, text) = stream_text(&mock, "/v1/responses", &responses(true)).await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/event-stream"));
    let events = parse_sse(&text);
    let kinds: Vec<&str> = events.iter().map(|e| e.event.as_deref().unwrap()).collect();
    assert_eq!(
        kinds,
        vec![
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed",
        ]
    );
    let data: Vec<Value> = events.iter().map(Sse::json).collect();
    for (i, d) in data.iter().enumerate() {
        assert_eq!(d["type"], kinds[i], "data.type matches the event line");
        assert_eq!(d["sequence_number"], i as u64);
    }
    let text: String = data
        .iter()
        .filter(|d| d["type"] == "response.output_text.delta")
        .map(|d| d["delta"].as_str().unwrap())
        .collect();
    assert_eq!(text, "mock answer to: hello there");
    assert_eq!(data.last().unwrap()["response"]["status"], "completed");
    assert_eq!(
        data.last().unwrap()["response"]["usage"]["output_tokens"],
        4
    );
}

#[tokio::test]
async fn reasoning_and_forced_function_call_become_items() {
    let mock = MockServer::start(MockConfig::default()).await;
    mock.push_script(Script::default().with_reasoning("let me think"));
    let mut body = responses(true);
    body["tools"] = json!([{"type": "function", "name": "lookup",
        "parameters": {"type": "object", "properties": {"q": {"type": "string"}},
                       "required": ["q"]}}]);
    body["tool_choice"] = json!({"type": "function", "name": "lookup"});
    let (_, _, text) = stream_text(&mock, "/v1/responses", &body).await;
    let data: Vec<Value> = parse_sse(&text).iter().map(Sse::json).collect();
    let reasoning: String = data
        .iter()
        .filter(|d| d["type"] == "response.reasoning_text.delta")
        .map(|d| d["delta"].as_str().unwrap())
        .collect();
    assert_eq!(reasoning, "let me think");
    let args: String = data
        .iter()
        .filter(|d| d["type"] == "response.function_call_arguments.delta")
        .map(|d| d["delta"].as_str().unwrap())
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&args).unwrap(),
        json!({"q": "mock"})
    );
    let done = &data.last().unwrap()["response"];
    assert_eq!(done["output"][0]["type"], "reasoning");
    assert_eq!(done["output"][1]["type"], "function_call");
    assert_eq!(done["output"][1]["name"], "lookup");
    assert!(
        done["output"][1]["call_id"]
            .as_str()
            .unwrap()
            .starts_with("call_")
    );
    assert!(
        !data
            .iter()
            .any(|d| d["type"] == "response.output_text.delta"),
        "a forced call comes without text"
    );
}

#[tokio::test]
async fn max_output_tokens_makes_the_response_incomplete() {
    let mock = MockServer::start(MockConfig::default().chunks(8)).await;
    let mut body = responses(false);
    body["max_output_tokens"] = json!(2);
    let (_, r) = post_json(&mock, "/v1/responses", &body).await;
    assert_eq!(r["status"], "incomplete");
    assert_eq!(r["incomplete_details"]["reason"], "max_output_tokens");
    body["stream"] = json!(true);
    let (_, _, text) = stream_text(&mock, "/v1/responses", &body).await;
    let events = parse_sse(&text);
    assert_eq!(
        events.last().unwrap().event.as_deref(),
        Some("response.incomplete")
    );
}

#[tokio::test]
async fn litellm_data_only_quirk_drops_event_lines_and_ends_with_done() {
    let mock = MockServer::start(MockConfig::default().quirk(Quirk::ResponsesDataOnly)).await;
    let (_, _, text) = stream_text(&mock, "/v1/responses", &responses(true)).await;
    let events = parse_sse(&text);
    assert!(events.iter().all(|e| e.event.is_none()));
    assert_eq!(events.last().unwrap().data, "[DONE]");
    let data: Vec<Value> = events[..events.len() - 1].iter().map(Sse::json).collect();
    assert!(data.iter().all(|d| d.get("sequence_number").is_none()));
    assert_eq!(data[0]["type"], "response.created");
    assert_eq!(data.last().unwrap()["type"], "response.completed");
}
