//! The gateway fault-matrix rows for what the router holds back (issue 10, items 3 and 5), in
//! every inbound dialect, streamed and not, as the client sees them: a thinking-only answer
//! that ends empty or fails is answered by the fallback (no reasoning of the failed model in
//! the answer, `x-clawgate-model` names the fallback); `x-clawgate-reasoning-stream: immediate`
//! commits at the reasoning instead; a long hold starts the response with the dialect's
//! keep-alives, then streams whoever answered (the stream's own model field names it); a
//! stream broken in the middle of a tool call (llama.cpp's `Invalid diff`) is asked again
//! without streaming and the client gets the whole call.

use std::time::Duration;

use mock_upstream::{Fault, Quirk, Script};
use serde_json::{Value, json};

use crate::support::{
    Harness, INBOUNDS, Inbound, MODEL, Setup, answer_text, parse_sse, stream_text,
};
use crate::tools::{call_of, streamed_call_of, with_tools};

const FALLBACK_ANSWER: &str = "mock answer to: hi";
/// The reasoning of [`thinking_only`] answers.
const THOUGHT: &str = "deep thought";

/// Only reasoning (Ollama streaming `thinking` when it was not told `think`), in one piece;
/// with `fails`, an error right after it (not streamed: a 500).
fn thinking_only(fails: bool) -> Script {
    Script {
        reasoning: Some(THOUGHT.into()),
        chunks: Some(1),
        fault: fails.then_some(Fault::ErrorInStream),
        ..Script::default().with_quirk(Quirk::ThinkingOnly)
    }
}

/// An Ollama primary (thinking models) with the chat upstream as its fallback.
fn ollama_primary(keep_alive: Duration) -> Setup {
    let mut setup = Setup {
        primary: format!("ollup/{MODEL}"),
        fallbacks: vec![format!("chatup/{MODEL}")],
        ..Setup::default()
    };
    setup.limits.keep_alive_interval = keep_alive;
    setup
}

/// Long enough that no test here reaches it unless it means to.
const NO_KEEP_ALIVE: Duration = Duration::from_secs(600);

async fn post_with(
    h: &Harness,
    inbound: Inbound,
    body: &Value,
    header: Option<(&str, &str)>,
) -> reqwest::Response {
    let mut request = h.http.post(h.url(inbound.path())).json(body);
    if let Some((name, value)) = header {
        request = request.header(name, value);
    }
    request.send().await.unwrap()
}

/// Clears `provider`'s cooldown, so the next case calls it again.
fn forget_failures(h: &Harness, provider: &str) {
    let services = h.gateway.services();
    let now = services.router().clock().now_ms();
    services.cooldowns().reset(provider, now);
}

fn header(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
}

/// The reasoning of a stream, in each dialect's own shape.
fn stream_reasoning(inbound: Inbound, body: &str) -> String {
    let mut reasoning = String::new();
    for event in parse_sse(body).iter().filter(|e| e.data != "[DONE]") {
        let data = event.json();
        let piece = match inbound {
            Inbound::Chat => data["choices"][0]["delta"]["reasoning_content"].as_str(),
            Inbound::Responses if data["type"] == "response.reasoning_summary_text.delta" => {
                data["delta"].as_str()
            }
            Inbound::Messages if data["delta"]["type"] == "thinking_delta" => {
                data["delta"]["thinking"].as_str()
            }
            _ => None,
        };
        reasoning.push_str(piece.unwrap_or_default());
    }
    reasoning
}

/// The model named inside a stream: chat chunks' `model`, Responses' `response.model`,
/// Anthropic's `message.model` (the first that says).
fn streamed_model(inbound: Inbound, body: &str) -> String {
    parse_sse(body)
        .iter()
        .filter(|e| e.data != "[DONE]")
        .find_map(|e| {
            let data = e.json();
            let model = match inbound {
                Inbound::Chat => data["model"].clone(),
                Inbound::Responses => data["response"]["model"].clone(),
                Inbound::Messages => data["message"]["model"].clone(),
            };
            model.as_str().map(str::to_string)
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_thinking_only_answer_that_ends_empty_or_fails_is_answered_by_the_fallback() {
    let h = Harness::with(ollama_primary(NO_KEEP_ALIVE)).await;
    for fails in [false, true] {
        for inbound in INBOUNDS {
            for stream in [false, true] {
                let case = format!("fails={fails} {inbound:?} stream={stream}");
                h.mock.push_script(thinking_only(fails));
                let r = post_with(
                    &h,
                    inbound,
                    &inbound.body(&format!("ollup/{MODEL}"), "hi", stream),
                    None,
                )
                .await;
                assert_eq!(r.status(), 200, "{case}");
                assert_eq!(
                    header(&r, "x-clawgate-model").as_deref(),
                    Some("chatup/mock-model"),
                    "{case}"
                );
                assert_eq!(
                    header(&r, "x-clawgate-fallback").as_deref(),
                    Some("true"),
                    "{case}"
                );
                let body = r.text().await.unwrap();
                assert_eq!(
                    answer_text(inbound, stream, &body),
                    FALLBACK_ANSWER,
                    "{case}"
                );
                assert!(
                    !body.contains(THOUGHT),
                    "{case}: the failed model's reasoning reached the client: {body}"
                );
                forget_failures(&h, "ollup");
            }
        }
    }
}

#[tokio::test]
async fn immediate_reasoning_commits_the_stream_at_its_reasoning() {
    let h = Harness::with(ollama_primary(NO_KEEP_ALIVE)).await;
    for inbound in INBOUNDS {
        let case = format!("{inbound:?}");
        h.mock.push_script(thinking_only(true));
        let body = inbound.body(&format!("ollup/{MODEL}"), "hi", true);
        let r = post_with(
            &h,
            inbound,
            &body,
            Some(("x-clawgate-reasoning-stream", "immediate")),
        )
        .await;
        assert_eq!(r.status(), 200, "{case}");
        assert_eq!(
            header(&r, "x-clawgate-model").as_deref(),
            Some("ollup/mock-model"),
            "{case}"
        );
        let text = r.text().await.unwrap();
        assert_eq!(stream_reasoning(inbound, &text), THOUGHT, "{case}: {text}");
        assert_eq!(
            stream_text(inbound, &parse_sse(&text)),
            "",
            "{case}: reasoning is not text"
        );
        let events = parse_sse(&text);
        let last = events.iter().rev().find(|e| e.data != "[DONE]").unwrap();
        let failed = match inbound {
            Inbound::Chat => last.json()["error"].is_object(),
            Inbound::Responses => last.event.as_deref() == Some("response.failed"),
            Inbound::Messages => last.event.as_deref() == Some("error"),
        };
        assert!(
            failed,
            "{case}: the stream ends with the dialect's error: {text}"
        );
        forget_failures(&h, "ollup");
    }
    // `hold` is the default; an unknown choice is refused.
    h.mock.push_script(thinking_only(true));
    let body = Inbound::Chat.body(&format!("ollup/{MODEL}"), "hi", true);
    let r = post_with(
        &h,
        Inbound::Chat,
        &body,
        Some(("x-clawgate-reasoning-stream", "hold")),
    )
    .await;
    assert_eq!(
        header(&r, "x-clawgate-model").as_deref(),
        Some("chatup/mock-model")
    );
    let r = post_with(
        &h,
        Inbound::Chat,
        &body,
        Some(("x-clawgate-reasoning-stream", "soon")),
    )
    .await;
    assert_eq!(r.status(), 400);
    let error: Value = r.json().await.unwrap();
    let message = error["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("x-clawgate-reasoning-stream") && message.contains("\"soon\""),
        "{message}"
    );
}

#[tokio::test]
async fn a_model_configured_for_immediate_reasoning_commits_at_its_reasoning() {
    let h = Harness::with(Setup {
        extra_model_entries: format!(
            r#""ollup/{MODEL}": {{ params: {{ reasoningStream: "immediate" }} }},"#
        ),
        ..ollama_primary(NO_KEEP_ALIVE)
    })
    .await;
    let body = Inbound::Chat.body(&format!("ollup/{MODEL}"), "hi", true);
    h.mock.push_script(thinking_only(true));
    let r = post_with(&h, Inbound::Chat, &body, None).await;
    assert_eq!(
        header(&r, "x-clawgate-model").as_deref(),
        Some("ollup/mock-model")
    );
    let text = r.text().await.unwrap();
    assert_eq!(stream_reasoning(Inbound::Chat, &text), THOUGHT);
    assert!(text.contains("\"error\""), "{text}");
    forget_failures(&h, "ollup");
    // The request's own choice wins over the model's.
    h.mock.push_script(thinking_only(true));
    let r = post_with(
        &h,
        Inbound::Chat,
        &body,
        Some(("x-clawgate-reasoning-stream", "hold")),
    )
    .await;
    assert_eq!(
        header(&r, "x-clawgate-model").as_deref(),
        Some("chatup/mock-model")
    );
    let text = r.text().await.unwrap();
    assert_eq!(
        stream_text(Inbound::Chat, &parse_sse(&text)),
        FALLBACK_ANSWER
    );
    assert_eq!(stream_reasoning(Inbound::Chat, &text), "");
}

/// Reasoning in 6 pieces 100 ms apart, then the answer; with `fails`, only reasoning and an
/// error 100 ms after its first piece.
fn slow_reasoning(fails: bool) -> Script {
    let script = Script {
        reasoning: Some("step one, step two, step three".into()),
        chunks: Some(6),
        chunk_interval_ms: Some(100),
        ..Script::default()
    };
    if fails {
        Script {
            fault: Some(Fault::ErrorInStream),
            ..script.with_quirk(Quirk::ThinkingOnly)
        }
    } else {
        script
    }
}

fn keep_alive_of(inbound: Inbound) -> &'static str {
    match inbound {
        Inbound::Chat | Inbound::Responses => ": keep-alive\n\n",
        Inbound::Messages => "event: ping\ndata: {\"type\":\"ping\"}\n\n",
    }
}

#[tokio::test]
async fn a_long_hold_sends_keep_alives_then_the_answer() {
    let h = Harness::with(ollama_primary(Duration::from_millis(20))).await;
    for inbound in INBOUNDS {
        let case = format!("{inbound:?}");
        h.mock.push_script(slow_reasoning(false));
        let body = inbound.body(&format!("ollup/{MODEL}"), "hi", true);
        let r = post_with(&h, inbound, &body, None).await;
        assert_eq!(r.status(), 200, "{case}");
        assert_eq!(
            header(&r, "x-clawgate-model"),
            None,
            "{case}: a response that started before the commit has no route headers"
        );
        let text = r.text().await.unwrap();
        let keep_alive = keep_alive_of(inbound);
        assert!(
            text.starts_with(keep_alive),
            "{case}: keep-alives first: {text}"
        );
        if inbound != Inbound::Messages {
            // (Anthropic's own stream carries a `ping` after `message_start` anyway.)
            let first_data = text.find("data:").unwrap();
            assert!(
                !text[first_data..].contains(keep_alive),
                "{case}: none once it streams"
            );
        }
        assert_eq!(streamed_model(inbound, &text), "ollup/mock-model", "{case}");
        assert_eq!(
            stream_text(inbound, &parse_sse(&text)),
            FALLBACK_ANSWER,
            "{case}"
        );
        assert_eq!(
            stream_reasoning(inbound, &text),
            "step one, step two, step three",
            "{case}: the held reasoning is delivered: {text}"
        );
    }
    // Not streamed: nothing to keep alive, the answer comes whole with its headers.
    h.mock.push_script(slow_reasoning(false));
    let r = post_with(
        &h,
        Inbound::Chat,
        &Inbound::Chat.body(&format!("ollup/{MODEL}"), "hi", false),
        None,
    )
    .await;
    assert_eq!(
        header(&r, "x-clawgate-model").as_deref(),
        Some("ollup/mock-model")
    );
    assert_eq!(
        answer_text(Inbound::Chat, false, &r.text().await.unwrap()),
        FALLBACK_ANSWER
    );
}

/// Ollama's clients parse every line as JSON: a long hold on `/api/chat` sends nothing until
/// the answer's first line (no blank or comment keep-alive).
#[tokio::test]
async fn a_long_hold_on_ollamas_endpoint_sends_only_json_lines() {
    let h = Harness::with(ollama_primary(Duration::from_millis(20))).await;
    h.mock.push_script(slow_reasoning(false));
    let body = json!({
        "model": format!("ollup/{MODEL}"),
        "messages": [{ "role": "user", "content": "hi" }],
        "stream": true,
    });
    let r = h
        .http
        .post(h.url("/api/chat"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    let lines: Vec<Value> = text
        .split_terminator('\n')
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line:?} in {text}"))
        })
        .collect();
    let answer: String = lines
        .iter()
        .filter_map(|line| line["message"]["content"].as_str())
        .collect();
    assert_eq!(answer, FALLBACK_ANSWER, "{text}");
    assert_eq!(lines.last().unwrap()["done"], true, "{text}");
}

#[tokio::test]
async fn a_held_stream_that_fails_after_keep_alives_is_answered_by_the_fallback_in_the_same_stream()
{
    let h = Harness::with(ollama_primary(Duration::from_millis(20))).await;
    for inbound in INBOUNDS {
        let case = format!("{inbound:?}");
        h.mock.push_script(slow_reasoning(true));
        let body = inbound.body(&format!("ollup/{MODEL}"), "hi", true);
        let r = post_with(&h, inbound, &body, None).await;
        assert_eq!(r.status(), 200, "{case}");
        let text = r.text().await.unwrap();
        assert!(text.starts_with(keep_alive_of(inbound)), "{case}: {text}");
        assert_eq!(
            streamed_model(inbound, &text),
            "chatup/mock-model",
            "{case}"
        );
        assert_eq!(
            stream_text(inbound, &parse_sse(&text)),
            FALLBACK_ANSWER,
            "{case}"
        );
        assert_eq!(
            stream_reasoning(inbound, &text),
            "",
            "{case}: the failed model's reasoning leaked"
        );
        forget_failures(&h, "ollup");
    }
}

#[tokio::test]
async fn a_held_stream_nobody_answers_ends_with_the_dialect_error() {
    let mut setup = ollama_primary(Duration::from_millis(20));
    setup.fallbacks.clear();
    let h = Harness::with(setup).await;
    for inbound in INBOUNDS {
        let case = format!("{inbound:?}");
        h.mock.push_script(slow_reasoning(true));
        let body = inbound.body(&format!("ollup/{MODEL}"), "hi", true);
        let r = post_with(&h, inbound, &body, Some(("x-clawgate-fallbacks", "none"))).await;
        let text = r.text().await.unwrap();
        let events = parse_sse(&text);
        let last = events.iter().rev().find(|e| e.data != "[DONE]").unwrap();
        let failed = match inbound {
            Inbound::Chat => last.json()["error"]["message"].as_str().is_some(),
            Inbound::Responses => last.event.as_deref() == Some("response.failed"),
            Inbound::Messages => last.event.as_deref() == Some("error"),
        };
        assert!(failed, "{case}: {text}");
        assert_eq!(stream_text(inbound, &events), "", "{case}");
        assert_eq!(stream_reasoning(inbound, &text), "", "{case}");
        forget_failures(&h, "ollup");
    }
}

#[tokio::test]
async fn a_stream_broken_mid_tool_call_is_answered_whole() {
    let h = Harness::start().await;
    let arguments = json!({ "city": "Paris, France" });
    for inbound in INBOUNDS {
        for stream in [false, true] {
            let case = format!("{inbound:?} stream={stream}");
            h.mock.clear_requests();
            // The streamed attempt breaks; the non-streamed one (llama.cpp's other path) works.
            h.mock.push_scripts(
                Script::fault(Fault::ToolCallDiffError)
                    .with_tool_call("get_weather", arguments.clone()),
                2,
            );
            let body = with_tools(
                inbound,
                inbound.body(&format!("chatup/{MODEL}"), "weather?", stream),
            );
            let r = post_with(&h, inbound, &body, None).await;
            assert_eq!(r.status(), 200, "{case}");
            assert_eq!(
                header(&r, "x-clawgate-model").as_deref(),
                Some("chatup/mock-model"),
                "{case}"
            );
            assert_eq!(
                header(&r, "x-clawgate-fallback").as_deref(),
                Some("false"),
                "{case}"
            );
            let text = r.text().await.unwrap();
            let (name, got) = if stream {
                streamed_call_of(inbound, &parse_sse(&text))
            } else {
                let (name, got, _) = call_of(inbound, &serde_json::from_str(&text).unwrap());
                (name, got)
            };
            assert_eq!((name.as_str(), &got), ("get_weather", &arguments), "{case}");
            assert!(!text.contains("Invalid diff"), "{case}");
            let sent: Vec<bool> = h
                .mock
                .requests()
                .iter()
                .map(|r| r.body["stream"].as_bool().unwrap_or(false))
                .collect();
            let want: &[bool] = if stream { &[true, false] } else { &[false] };
            assert_eq!(sent, want, "{case}: asked again without streaming");
            h.mock.clear_scripts();
        }
    }
}

#[tokio::test]
async fn when_the_whole_retry_fails_too_the_fallback_answers() {
    let h = Harness::with(Setup {
        fallbacks: vec![format!("anthup/{MODEL}")],
        ..Setup::default()
    })
    .await;
    for inbound in INBOUNDS {
        let case = format!("{inbound:?}");
        h.mock.push_script(
            Script::fault(Fault::ToolCallDiffError)
                .with_tool_call("get_weather", json!({ "city": "Paris" })),
        );
        h.mock.push_script(Script::fault(Fault::Status500));
        let body = with_tools(
            inbound,
            inbound.body(&format!("chatup/{MODEL}"), "hi", true),
        );
        let r = post_with(&h, inbound, &body, None).await;
        assert_eq!(r.status(), 200, "{case}");
        assert_eq!(
            header(&r, "x-clawgate-model").as_deref(),
            Some("anthup/mock-model"),
            "{case}"
        );
        let text = r.text().await.unwrap();
        assert!(!text.contains("Invalid diff"), "{case}: {text}");
        forget_failures(&h, "chatup");
    }
}
