//! The local-server answers of issue 10 as the mock writes them: harmony markup in answer
//! text, an orphan `</think>`, a thinking-only reply, tool-call ids repeated across turns, a
//! server without `/v1/responses`, and a model without tool support.

use mock_upstream::{MockConfig, MockServer, Quirk, Script};
use serde_json::{Value, json};

use crate::support::*;

fn forced(mut body: Value) -> Value {
    body["tools"] = json!([weather_tool_chat()]);
    body["tool_choice"] = json!({"type": "function", "function": {"name": "get_weather"}});
    body
}

fn responses_text(body: &Value) -> String {
    body["output"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|item| item["type"] == "message")
        .flat_map(|item| item["content"].as_array().cloned().unwrap_or_default())
        .filter_map(|part| part["text"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn harmony_in_content_writes_the_markup_into_output_text() {
    let mock = MockServer::start(MockConfig::default()).await;
    mock.push_script(
        Script::text("4")
            .with_reasoning("Simple.")
            .with_quirk(Quirk::HarmonyInContent),
    );
    let (status, body) = post_json(&mock, "/v1/responses", &responses(false)).await;
    assert_eq!(status, 200);
    assert_eq!(
        responses_text(&body),
        "<|channel|>analysis<|message|>Simple.<|end|><|start|>assistant<|channel|>final<|message|>4<|return|>"
    );

    // A tool call stays in the text, and the server reports no call.
    mock.push_script(Script::default().with_quirk(Quirk::HarmonyInContent));
    let mut request = forced(responses(false));
    request["tools"] = json!([{"type": "function", "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                       "required": ["city"]}}]);
    request["tool_choice"] = json!({"type": "function", "name": "get_weather"});
    let (_, body) = post_json(&mock, "/v1/responses", &request).await;
    assert_eq!(
        responses_text(&body),
        r#"<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{"city":"mock"}<|call|>"#
    );
    assert!(
        !body["output"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|item| item["type"] == "function_call"),
        "{body}"
    );

    // Streamed, the markup is cut across deltas.
    mock.push_script(Script::text("4").with_quirk(Quirk::HarmonyInContent));
    let (_, _, text) = stream_text(&mock, "/v1/responses", &responses(true)).await;
    let deltas: Vec<String> = parse_sse(&text)
        .iter()
        .filter(|e| e.event.as_deref() == Some("response.output_text.delta"))
        .map(|e| e.json()["delta"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(deltas.len() > 1, "{deltas:?}");
    assert_eq!(deltas.concat(), "<|channel|>final<|message|>4<|return|>");
}

#[tokio::test]
async fn orphan_think_close_and_thinking_only() {
    let mock = MockServer::start(MockConfig::default()).await;
    mock.push_script(
        Script::text("Answer.")
            .with_reasoning("Plan.")
            .with_quirk(Quirk::OrphanThinkClose),
    );
    let (_, body) = post_json(&mock, "/v1/chat/completions", &chat(false)).await;
    let message = &body["choices"][0]["message"];
    assert_eq!(message["content"], "Plan.</think>\n\nAnswer.");
    assert!(message.get("reasoning_content").is_none(), "{message}");

    mock.push_script(Script::default().with_quirk(Quirk::ThinkingOnly));
    let (_, _, text) = stream_text(&mock, "/api/chat", &ollama(true)).await;
    let lines = parse_ndjson(&text);
    let thinking: String = lines
        .iter()
        .filter_map(|l| l["message"]["thinking"].as_str())
        .collect();
    assert_eq!(thinking, "mock reasoning about: hello there");
    assert!(
        lines.iter().all(|l| l["message"]["content"] == ""),
        "{text}"
    );
    assert_eq!(lines.last().map(|l| l["done"].clone()), Some(json!(true)));
}

#[tokio::test]
async fn repeated_tool_ids_are_the_same_every_turn() {
    let mock = MockServer::start(MockConfig::default().quirk(Quirk::RepeatedToolIds)).await;
    for _ in 0..2 {
        let (_, body) = post_json(&mock, "/v1/chat/completions", &forced(chat(false))).await;
        assert_eq!(
            body["choices"][0]["message"]["tool_calls"][0]["id"],
            "functions.get_weather:0"
        );
    }
    let mut request = anthropic(false);
    request["tools"] = json!([{"name": "get_weather", "input_schema": {"type": "object"}}]);
    request["tool_choice"] = json!({"type": "tool", "name": "get_weather"});
    let (_, body) = post_json(&mock, "/v1/messages", &request).await;
    assert_eq!(body["content"][0]["id"], "toolu_0");
}

#[tokio::test]
async fn a_server_without_responses_answers_its_own_way_there_only() {
    for (quirk, status) in [
        (Quirk::NoResponsesRoute404, 404),
        (Quirk::NoResponsesRoute405, 405),
        (Quirk::NoResponsesRoute501, 501),
    ] {
        let mock = MockServer::start(MockConfig::default().quirk(quirk)).await;
        let r = post(&mock, "/v1/responses", &responses(false)).await;
        assert_eq!(r.status().as_u16(), status, "{quirk}");
        assert_eq!(r.text().await.unwrap(), "", "{quirk}: no body");
        let (status, _) = post_json(&mock, "/v1/chat/completions", &chat(false)).await;
        assert_eq!(status, 200, "{quirk}: chat works");
    }
    let mock = MockServer::start(MockConfig::default().quirk(Quirk::LitellmNoResponsesRoute)).await;
    let (status, body) = post_json(&mock, "/v1/responses", &responses(false)).await;
    assert_eq!(status, 404);
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("litellm.NotFoundError")
            && message.contains(r#"{"detail":"Not Found"}"#),
        "{message}"
    );
}

#[tokio::test]
async fn a_model_without_tools_refuses_requests_that_offer_them() {
    let mock = MockServer::start(MockConfig::default().quirk(Quirk::ToolsUnsupported)).await;
    let mut with_tools = ollama(false);
    with_tools["tools"] = json!([weather_tool_chat()]);
    let (status, body) = post_json(&mock, "/api/chat", &with_tools).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"error": "registry.ollama.ai/library/mock-model:latest does not support tools"})
    );
    let (status, _) = post_json(&mock, "/api/chat", &ollama(false)).await;
    assert_eq!(status, 200, "no tools, no refusal");
    let (status, body) = post_json(&mock, "/v1/chat/completions", &forced(chat(false))).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["type"], "invalid_request_error");
}
