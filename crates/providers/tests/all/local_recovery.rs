//! Local servers that refuse or repeat, and how the providers recover on the same model:
//! tool-call ids repeated across turns (every api, streamed and not) and inside one message,
//! a Responses server without `/responses` (bridged to chat and remembered), and a model
//! without tool support (asked again without tools and remembered, unless a call is forced).

use clawgate_providers::{ApiKind, FailureKind};
use clawgate_wire::{ContentBlock, Message, Request, Role, ToolChoice};
use mock_upstream::{Fault, MockConfig, MockServer, Quirk, Script};
use serde_json::{Value, json};

use crate::support::*;

/// A call of the weather tool, scripted (Ollama has no `tool_choice` to force one).
fn weather_call() -> Script {
    Script::default().with_tool_call("get_weather", json!({"city": "Paris"}))
}

fn forced_weather(stream: bool) -> Request {
    let mut req = request("weather in Paris?", stream);
    req.tools = vec![weather_tool()];
    req.tool_choice = ToolChoice::Tool("get_weather".into());
    req
}

/// The second turn of a conversation whose first call had `id`.
fn second_turn(id: &str, stream: bool) -> Request {
    let mut req = forced_weather(stream);
    req.messages.push(Message {
        role: Role::Assistant,
        content: vec![ContentBlock::ToolCall {
            id: id.into(),
            name: "get_weather".into(),
            arguments: r#"{"city":"Paris"}"#.into(),
        }],
    });
    req.messages.push(Message {
        role: Role::Tool,
        content: vec![ContentBlock::ToolResult {
            call_id: id.into(),
            name: Some("get_weather".into()),
            content: "sunny".into(),
            is_error: false,
        }],
    });
    req.messages.push(Message::text(Role::User, "and in Lyon?"));
    req
}

#[tokio::test]
async fn ids_repeated_across_turns_leave_clawgate_unique_in_every_api() {
    let mock = MockServer::start(MockConfig::default().quirk(Quirk::RepeatedToolIds)).await;
    for api in APIS {
        let p = provider(&spec(&mock, api));
        for stream in [true, false] {
            let what = format!("{api} stream={stream}");
            mock.push_scripts(weather_call(), 2);
            let first = run(&p, forced_weather(stream)).await;
            assert_well_formed(&first);
            let first_id = first.tool_calls()[0].0.clone();
            let second = run(&p, second_turn(&first_id, stream)).await;
            assert_well_formed(&second);
            let second_id = second.tool_calls()[0].0.clone();
            assert_ne!(
                second_id, first_id,
                "{what}: the server repeated {first_id}"
            );
            let want = match api {
                ApiKind::OpenAiCompletions | ApiKind::OpenAiResponses => {
                    ("functions.get_weather:0", "functions.get_weather:1")
                }
                ApiKind::AnthropicMessages => ("toolu_0", "toolu_1"),
                _ => ("ollama_call_0", "ollama_call_1"),
            };
            assert_eq!((first_id.as_str(), second_id.as_str()), want, "{what}");
        }
    }
}

/// (tool-call ids, result ids) as the server received them.
fn sent_ids(api: ApiKind, body: &Value) -> (Vec<String>, Vec<String>) {
    let strings = |values: Vec<&Value>| -> Vec<String> {
        values
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    };
    let items = |key: &str| body[key].as_array().cloned().unwrap_or_default();
    match api {
        ApiKind::OpenAiCompletions => {
            let messages = items("messages");
            let calls = messages
                .iter()
                .flat_map(|m| m["tool_calls"].as_array().cloned().unwrap_or_default())
                .collect::<Vec<_>>();
            (
                strings(calls.iter().map(|c| &c["id"]).collect()),
                strings(messages.iter().map(|m| &m["tool_call_id"]).collect()),
            )
        }
        ApiKind::OpenAiResponses => {
            let input = items("input");
            let of = |kind: &str| {
                strings(
                    input
                        .iter()
                        .filter(|i| i["type"] == kind)
                        .map(|i| &i["call_id"])
                        .collect(),
                )
            };
            (of("function_call"), of("function_call_output"))
        }
        _ => {
            let blocks: Vec<Value> = items("messages")
                .iter()
                .flat_map(|m| m["content"].as_array().cloned().unwrap_or_default())
                .collect();
            let of = |kind: &str, key: &str| {
                strings(
                    blocks
                        .iter()
                        .filter(|b| b["type"] == kind)
                        .map(|b| &b[key])
                        .collect(),
                )
            };
            (of("tool_use", "id"), of("tool_result", "tool_use_id"))
        }
    }
}

#[tokio::test]
async fn a_history_with_repeated_ids_is_sent_unique_and_matched_in_order() {
    let mock = mock().await;
    for api in [
        ApiKind::OpenAiCompletions,
        ApiKind::OpenAiResponses,
        ApiKind::AnthropicMessages,
    ] {
        let p = provider(&spec(&mock, api));
        let mut req = request("read both", false);
        let call = |path: &str| ContentBlock::ToolCall {
            id: "call_0".into(),
            name: "read".into(),
            arguments: json!({ "path": path }).to_string(),
        };
        let result = |content: &str| ContentBlock::ToolResult {
            call_id: "call_0".into(),
            name: Some("read".into()),
            content: content.into(),
            is_error: false,
        };
        req.messages.push(Message {
            role: Role::Assistant,
            content: vec![call("a"), call("b")],
        });
        req.messages.push(Message {
            role: Role::Tool,
            content: vec![result("A"), result("B")],
        });
        req.messages.push(Message::text(Role::User, "go on"));
        let out = run(&p, req).await;
        assert_well_formed(&out);
        let (calls, results) = sent_ids(api, &last_request(&mock).body);
        assert_eq!(calls, vec!["call_0", "call_1"], "{api}");
        assert_eq!(results, vec!["call_0", "call_1"], "{api}");
    }
}

fn paths(mock: &MockServer) -> Vec<String> {
    mock.requests().into_iter().map(|r| r.path).collect()
}

#[tokio::test]
async fn a_responses_server_without_responses_is_bridged_to_chat_and_remembered() {
    for quirk in [
        Quirk::NoResponsesRoute404,
        Quirk::NoResponsesRoute405,
        Quirk::NoResponsesRoute501,
        Quirk::LitellmNoResponsesRoute,
    ] {
        for stream in [true, false] {
            let what = format!("{quirk} stream={stream}");
            let mock = MockServer::start(MockConfig::default().quirk(quirk)).await;
            let p = provider(&spec(&mock, ApiKind::OpenAiResponses));
            assert!(!p.learned().responses_via_chat);
            let out = run(&p, request("hello", stream)).await;
            assert_well_formed(&out);
            assert_eq!(out.text(), "mock answer to: hello", "{what}");
            assert_eq!(
                paths(&mock),
                vec!["/v1/responses", "/v1/chat/completions"],
                "{what}"
            );
            let body = last_request(&mock).body;
            assert_eq!(body["max_tokens"], json!(64), "{what}: a chat body: {body}");
            assert!(p.learned().responses_via_chat, "{what}");

            mock.clear_requests();
            let out = run(&p, request("again", stream)).await;
            assert_eq!(out.text(), "mock answer to: again", "{what}");
            assert_eq!(paths(&mock), vec!["/v1/chat/completions"], "{what}");
        }
    }
}

#[tokio::test]
async fn listing_models_finds_out_whether_responses_exists() {
    let without = MockServer::start(MockConfig::default().quirk(Quirk::NoResponsesRoute404)).await;
    let p = provider(&spec(&without, ApiKind::OpenAiResponses));
    let models = p.list_models().await.unwrap_or_default();
    assert!(models.iter().any(|m| m.id == MODEL), "{models:?}");
    assert!(p.learned().responses_via_chat);
    let probe = without
        .requests()
        .into_iter()
        .find(|r| r.path == "/v1/responses")
        .map(|r| r.body);
    assert_eq!(probe, Some(json!({})), "an empty body: nothing to generate");
    // The first call goes straight to chat.
    without.clear_requests();
    let out = run(&p, request("hello", false)).await;
    assert_well_formed(&out);
    assert_eq!(paths(&without), vec!["/v1/chat/completions"]);

    let with = mock().await;
    let p = provider(&spec(&with, ApiKind::OpenAiResponses));
    assert!(p.list_models().await.is_ok());
    assert!(!p.learned().responses_via_chat);
}

#[tokio::test]
async fn other_responses_errors_are_not_bridged() {
    let mock = mock().await;
    let p = provider(&spec(&mock, ApiKind::OpenAiResponses));
    mock.push_script(Script::fault(Fault::ModelNotFound));
    let out = run(&p, request("hello", false)).await;
    assert_eq!(out.error().kind, FailureKind::ModelNotFound);
    assert_eq!(paths(&mock), vec!["/v1/responses"]);
    assert!(!p.learned().responses_via_chat);
}

#[tokio::test]
async fn a_model_without_tools_is_asked_again_without_them_and_remembered() {
    for api in [ApiKind::Ollama, ApiKind::OpenAiCompletions] {
        for stream in [true, false] {
            let what = format!("{api} stream={stream}");
            let mock =
                MockServer::start(MockConfig::default().quirk(Quirk::ToolsUnsupported)).await;
            let p = provider(&spec(&mock, api));
            let mut req = request("hello", stream);
            req.tools = vec![weather_tool()];
            let out = run(&p, req.clone()).await;
            assert_well_formed(&out);
            assert_eq!(out.text(), "mock answer to: hello", "{what}");
            let sent: Vec<bool> = mock
                .requests()
                .iter()
                .map(|r| r.body.get("tools").is_some())
                .collect();
            assert_eq!(sent, vec![true, false], "{what}");
            assert_eq!(p.learned().models_without_tools, vec![MODEL], "{what}");

            mock.clear_requests();
            let out = run(&p, req).await;
            assert_well_formed(&out);
            let sent: Vec<bool> = mock
                .requests()
                .iter()
                .map(|r| r.body.get("tools").is_some())
                .collect();
            assert_eq!(sent, vec![false], "{what}: straight without tools");

            // A forced call cannot go without tools: `format`, so the router falls back.
            mock.clear_requests();
            let out = run(&p, forced_weather(stream)).await;
            assert_eq!(out.error().kind, FailureKind::Format, "{what}");
            assert_eq!(mock.requests().len(), 1, "{what}: no retry");
        }
    }
}
