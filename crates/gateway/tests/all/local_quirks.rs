//! The gateway fault-matrix rows for how local servers really answer (issue 10, items 1, 2, 4,
//! 6, 7 and 8; the held answers of items 3 and 5 are in `held_answers.rs`), in every inbound
//! dialect, streamed and not, as the client sees them: no harmony markup or reasoning in the
//! answer text (a harmony call to a request tool is a tool call), tool-call ids unique in the
//! conversation, a Responses provider without `/responses` answered through chat, a model
//! without tools answered without them, and llama.cpp's `Context size has been exceeded.` a
//! context overflow that no fallback answers. `x-clawgate-model` names who answered.

use mock_upstream::{OverflowServer, Quirk, Script};
use serde_json::{Value, json};

use crate::support::{
    Harness, INBOUNDS, Inbound, MODEL, Setup, SseEvent, answer_text, mock, parse_sse,
    provider_entry,
};
use crate::tools::{call_of, streamed_call_of, with_tools};

const ANSWER: &str = "mock answer to: hi";
const THOUGHT: &str = "the user says hi, I will greet back";

fn setup(primary: &str) -> Setup {
    Setup {
        primary: format!("{primary}/{MODEL}"),
        fallbacks: vec![format!("anthup/{MODEL}")],
        ..Setup::default()
    }
}

struct Answered {
    status: u16,
    model: Option<String>,
    body: String,
}

async fn ask(h: &Harness, inbound: Inbound, body: &Value) -> Answered {
    let r = h.post(inbound.path(), body).await;
    Answered {
        status: r.status().as_u16(),
        model: r
            .headers()
            .get("x-clawgate-model")
            .map(|v| v.to_str().unwrap().to_string()),
        body: r.text().await.unwrap(),
    }
}

/// Item 1: harmony markup in an answer (LM Studio's Responses `output_text` for gpt-oss).
#[tokio::test]
async fn harmony_markup_never_reaches_the_answer_text() {
    let h = Harness::with(setup("respup")).await;
    for inbound in INBOUNDS {
        for stream in [false, true] {
            let case = format!("{inbound:?} stream={stream}");
            h.mock.push_script(Script {
                reasoning: Some(THOUGHT.into()),
                ..Script::default().with_quirk(Quirk::HarmonyInContent)
            });
            let a = ask(
                &h,
                inbound,
                &inbound.body(&format!("respup/{MODEL}"), "hi", stream),
            )
            .await;
            assert_eq!(a.status, 200, "{case}: {}", a.body);
            assert_eq!(a.model.as_deref(), Some("respup/mock-model"), "{case}");
            assert_eq!(answer_text(inbound, stream, &a.body), ANSWER, "{case}");
            assert!(
                !a.body.contains("<|"),
                "{case}: markup reached the client: {}",
                a.body
            );

            h.mock.push_script(
                Script::default()
                    .with_quirk(Quirk::HarmonyInContent)
                    .with_tool_call("get_weather", json!({ "city": "Paris" })),
            );
            let body = with_tools(
                inbound,
                inbound.body(&format!("respup/{MODEL}"), "weather?", stream),
            );
            let a = ask(&h, inbound, &body).await;
            assert_eq!(a.status, 200, "{case}: {}", a.body);
            let (name, arguments) = if stream {
                streamed_call_of(inbound, &parse_sse(&a.body))
            } else {
                let (name, arguments, _) =
                    call_of(inbound, &serde_json::from_str(&a.body).unwrap());
                (name, arguments)
            };
            assert_eq!(
                (name.as_str(), arguments),
                ("get_weather", json!({ "city": "Paris" })),
                "{case}"
            );
            assert!(!a.body.contains("<|"), "{case}: {}", a.body);
        }
    }
}

/// Item 2: an orphan `</think>` from a reasoning model (vLLM/SGLang reasoning parsers).
#[tokio::test]
async fn text_before_an_orphan_think_close_is_not_answer_text() {
    let server = mock().await;
    // A chat server whose model is marked `reasoning: true`.
    let thinker = provider_entry("thinkup", "openai-completions", &server.openai_base_url())
        .replace(
            &format!(r#"id: "{MODEL}","#),
            &format!(r#"id: "{MODEL}", reasoning: true,"#),
        );
    assert!(thinker.contains("reasoning: true"), "{thinker}");
    let h = Harness::with_mock(
        server,
        Setup {
            extra_providers: thinker,
            ..setup("chatup")
        },
    )
    .await;
    for inbound in INBOUNDS {
        for stream in [false, true] {
            let case = format!("{inbound:?} stream={stream}");
            h.mock.push_script(Script {
                reasoning: Some(THOUGHT.into()),
                ..Script::default().with_quirk(Quirk::OrphanThinkClose)
            });
            let a = ask(
                &h,
                inbound,
                &inbound.body(&format!("thinkup/{MODEL}"), "hi", stream),
            )
            .await;
            assert_eq!(a.status, 200, "{case}: {}", a.body);
            assert_eq!(a.model.as_deref(), Some("thinkup/mock-model"), "{case}");
            let text = answer_text(inbound, stream, &a.body);
            assert_eq!(text, ANSWER, "{case}");
            assert!(!text.contains("think"), "{case}");
        }
    }
}

/// A conversation that already holds a call with `id` and its result, in `inbound`'s shape.
fn history_with_call(inbound: Inbound, id: &str, stream: bool) -> Value {
    let model = format!("chatup/{MODEL}");
    let body = match inbound {
        Inbound::Chat => json!({ "model": model, "stream": stream, "messages": [
            { "role": "user", "content": "weather in Paris?" },
            { "role": "assistant", "content": null, "tool_calls": [{ "id": id, "type": "function",
                "function": { "name": "get_weather", "arguments": "{\"city\":\"Paris\"}" } }] },
            { "role": "tool", "tool_call_id": id, "content": "sunny" },
            { "role": "user", "content": "and in Rome?" },
        ]}),
        Inbound::Responses => json!({ "model": model, "stream": stream, "input": [
            { "role": "user", "content": "weather in Paris?" },
            { "type": "function_call", "call_id": id, "name": "get_weather",
              "arguments": "{\"city\":\"Paris\"}" },
            { "type": "function_call_output", "call_id": id, "output": "sunny" },
            { "role": "user", "content": "and in Rome?" },
        ]}),
        Inbound::Messages => {
            json!({ "model": model, "stream": stream, "max_tokens": 64, "messages": [
                { "role": "user", "content": "weather in Paris?" },
                { "role": "assistant", "content": [{ "type": "tool_use", "id": id, "name": "get_weather",
                    "input": { "city": "Paris" } }] },
                { "role": "user", "content": [
                    { "type": "tool_result", "tool_use_id": id, "content": "sunny" },
                    { "type": "text", "text": "and in Rome?" } ] },
            ]})
        }
    };
    with_tools(inbound, body)
}

/// The id of the (first) tool call in an answer.
fn call_id(inbound: Inbound, stream: bool, body: &str) -> String {
    if !stream {
        let v: Value = serde_json::from_str(body).unwrap();
        let id = match inbound {
            Inbound::Chat => &v["choices"][0]["message"]["tool_calls"][0]["id"],
            Inbound::Responses => &v["output"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["type"] == "function_call")
                .unwrap()["call_id"],
            Inbound::Messages => &v["content"]
                .as_array()
                .unwrap()
                .iter()
                .find(|b| b["type"] == "tool_use")
                .unwrap()["id"],
        };
        return id.as_str().unwrap().to_string();
    }
    parse_sse(body)
        .iter()
        .filter(|e| e.data != "[DONE]")
        .map(SseEvent::json)
        .find_map(|d| {
            let id = match inbound {
                Inbound::Chat => d["choices"][0]["delta"]["tool_calls"][0]["id"].as_str(),
                Inbound::Responses if d["type"] == "response.output_item.added" => {
                    d["item"]["call_id"].as_str()
                }
                Inbound::Messages if d["type"] == "content_block_start" => {
                    d["content_block"]["id"].as_str()
                }
                _ => None,
            };
            id.map(str::to_string)
        })
        .unwrap_or_default()
}

/// Item 4: ids a server repeats across turns (Kimi's `functions.read:0`).
#[tokio::test]
async fn a_tool_call_id_the_conversation_already_has_is_never_given_again() {
    let h = Harness::with(setup("chatup")).await;
    let taken = "functions.get_weather:0";
    for inbound in INBOUNDS {
        for stream in [false, true] {
            let case = format!("{inbound:?} stream={stream}");
            h.mock.push_script(
                Script::default()
                    .with_quirk(Quirk::RepeatedToolIds)
                    .with_tool_call("get_weather", json!({ "city": "Rome" })),
            );
            let a = ask(&h, inbound, &history_with_call(inbound, taken, stream)).await;
            assert_eq!(a.status, 200, "{case}: {}", a.body);
            assert_eq!(a.model.as_deref(), Some("chatup/mock-model"), "{case}");
            let id = call_id(inbound, stream, &a.body);
            assert!(
                !id.is_empty() && id != taken,
                "{case}: id {id:?} in {}",
                a.body
            );
            // What the upstream saw kept the history's call and its result paired.
            let sent = h.mock.requests().pop().unwrap().body.to_string();
            assert!(sent.contains(taken), "{case}: {sent}");
        }
    }
}

/// Item 6: a Responses provider whose server has no `/responses` (a plain `/v1` proxy).
#[tokio::test]
async fn a_responses_provider_without_responses_is_answered_through_chat() {
    for inbound in INBOUNDS {
        for stream in [false, true] {
            let case = format!("{inbound:?} stream={stream}");
            let h = Harness::with(setup("respup")).await;
            h.mock.push_script(Script {
                when_path: Some("/v1/responses".into()),
                ..Script::default().with_quirk(Quirk::NoResponsesRoute404)
            });
            let a = ask(
                &h,
                inbound,
                &inbound.body(&format!("respup/{MODEL}"), "hi", stream),
            )
            .await;
            assert_eq!(a.status, 200, "{case}: {}", a.body);
            assert_eq!(
                a.model.as_deref(),
                Some("respup/mock-model"),
                "{case}: not a fallback"
            );
            assert_eq!(answer_text(inbound, stream, &a.body), ANSWER, "{case}");
            let paths: Vec<String> = h.mock.requests().iter().map(|r| r.path.clone()).collect();
            assert_eq!(paths, ["/v1/responses", "/v1/chat/completions"], "{case}");
            // Remembered: the next call goes to chat directly.
            let a = ask(
                &h,
                inbound,
                &inbound.body(&format!("respup/{MODEL}"), "hi", stream),
            )
            .await;
            assert_eq!(a.model.as_deref(), Some("respup/mock-model"), "{case}");
            let last = h.mock.requests().pop().unwrap().path;
            assert_eq!(last, "/v1/chat/completions", "{case}");
        }
    }
}

/// Item 7: a model without tool support (Ollama's 400 "does not support tools").
#[tokio::test]
async fn a_model_without_tools_answers_without_them() {
    for inbound in INBOUNDS {
        for stream in [false, true] {
            let case = format!("{inbound:?} stream={stream}");
            let h = Harness::with(setup("ollup")).await;
            h.mock
                .push_script(Script::default().with_quirk(Quirk::ToolsUnsupported));
            let body = with_tools(
                inbound,
                inbound.body(&format!("ollup/{MODEL}"), "hi", stream),
            );
            let a = ask(&h, inbound, &body).await;
            assert_eq!(a.status, 200, "{case}: {}", a.body);
            assert_eq!(
                a.model.as_deref(),
                Some("ollup/mock-model"),
                "{case}: not a fallback"
            );
            assert_eq!(answer_text(inbound, stream, &a.body), ANSWER, "{case}");
            let sent = h.mock.requests();
            let offered: Vec<bool> = sent.iter().map(|r| r.body.get("tools").is_some()).collect();
            assert_eq!(offered, [true, false], "{case}: asked again without tools");
        }
    }
}

/// Item 8: llama.cpp's newer overflow wording is a context overflow, never answered by the
/// fallback.
#[tokio::test]
async fn context_size_exceeded_is_a_context_overflow_in_every_dialect() {
    let h = Harness::with(setup("chatup")).await;
    for inbound in INBOUNDS {
        for stream in [false, true] {
            let case = format!("{inbound:?} stream={stream}");
            h.mock.clear_requests();
            h.mock
                .push_script(Script::overflow(OverflowServer::LlamaServerContextSize));
            let a = ask(
                &h,
                inbound,
                &inbound.body(&format!("chatup/{MODEL}"), "hi", stream),
            )
            .await;
            assert_eq!(a.status, 400, "{case}: {}", a.body);
            let error: Value = serde_json::from_str(&a.body).unwrap();
            match inbound {
                Inbound::Chat | Inbound::Responses => {
                    assert_eq!(error["error"]["code"], "context_length_exceeded", "{case}")
                }
                Inbound::Messages => {
                    assert_eq!(error["error"]["type"], "invalid_request_error", "{case}")
                }
            }
            assert!(
                h.mock.requests().iter().all(|r| r.path != "/v1/messages"),
                "{case}: the fallback was asked"
            );
        }
    }
}
