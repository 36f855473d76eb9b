//! clawgate's own stream frames (`x-clawgate-events: on`, what the Control UI asks for):
//! routed calls say which model answered and every attempt after a fallback; agent turns add
//! tool calls with their results, the model of each answer, and reasoning only when the
//! session's reasoning display is on; `done` carries the request id and usage. Without the
//! header none of it is sent. A client that goes away mid-stream cancels the upstream call.

use std::time::{Duration, Instant};

use mock_upstream::Script;
use serde_json::{Value, json};

use crate::support::{
    Harness, Inbound, MODEL, Setup, SseEvent, dead_port, parse_sse, provider_entry,
};

const EVENTS: (&str, &str) = ("x-clawgate-events", "on");

fn frames(events: &[SseEvent]) -> Vec<Value> {
    events
        .iter()
        .filter(|e| e.event.as_deref() == Some("clawgate"))
        .map(SseEvent::json)
        .collect()
}

fn types(frames: &[Value]) -> Vec<String> {
    frames
        .iter()
        .map(|f| f["type"].as_str().unwrap().to_string())
        .collect()
}

fn reasoning_of(events: &[SseEvent]) -> String {
    events
        .iter()
        .filter(|e| e.event.is_none() && e.data != "[DONE]")
        .filter_map(|e| {
            e.json()["choices"][0]["delta"]["reasoning_content"]
                .as_str()
                .map(str::to_string)
        })
        .collect()
}

#[tokio::test]
async fn without_the_header_no_clawgate_frames_are_sent() {
    let h = Harness::start().await;
    for model in ["fast", "clawgate/main"] {
        let r = h
            .post(
                "/v1/chat/completions",
                &Inbound::Chat.body(model, "hi", true),
            )
            .await;
        let raw = r.text().await.unwrap();
        assert!(!raw.contains("event: clawgate"), "{model}: {raw}");
    }
}

#[tokio::test]
async fn a_routed_stream_says_who_answered_and_what_failed_before() {
    let dead = format!("http://127.0.0.1:{}/v1", dead_port());
    let h = Harness::with(Setup {
        primary: format!("deadup/{MODEL}"),
        fallbacks: vec![format!("chatup/{MODEL}")],
        extra_providers: provider_entry("deadup", "openai-completions", &dead),
        ..Setup::default()
    })
    .await;
    let r = h
        .post_with(
            "/v1/chat/completions",
            &Inbound::Chat.body("deadup/mock-model", "hi", true),
            &[EVENTS],
        )
        .await;
    assert_eq!(r.status(), 200);
    let id = r.headers()["x-clawgate-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    let events = parse_sse(&r.text().await.unwrap());
    let frames = frames(&events);
    assert_eq!(types(&frames), ["route", "done"]);
    let route = &frames[0];
    assert_eq!(route["requested"], "deadup/mock-model");
    assert_eq!(route["model"], "chatup/mock-model");
    assert_eq!(route["fallback"]["reason"], "network");
    assert_eq!(route["attempts"][0]["model"], "deadup/mock-model");
    assert_eq!(route["attempts"][0]["outcome"], "failed");
    assert_eq!(route["attempts"][1]["outcome"], "ok");
    let done = &frames[1];
    assert_eq!(done["requestId"], id.as_str());
    assert!(
        done["usage"]["output_tokens"].as_u64().unwrap() > 0,
        "{done}"
    );
    // The dialect's own end still closes the stream.
    assert_eq!(events.last().unwrap().data, "[DONE]");
}

#[tokio::test]
async fn an_agent_stream_carries_tool_cards_and_the_answering_model() {
    let h = Harness::start().await;
    std::fs::create_dir_all(h.dir.path().join("workspace")).unwrap();
    std::fs::write(h.dir.path().join("workspace/notes.txt"), "the notes say 42").unwrap();
    h.mock
        .push_script(Script::default().with_tool_call("read", json!({ "path": "notes.txt" })));
    h.mock.push_script(Script::text("The notes say 42."));
    let r = h
        .post_with(
            "/v1/chat/completions",
            &Inbound::Chat.body("clawgate/main", "what do my notes say?", true),
            &[EVENTS, ("x-clawgate-session-key", "agent:main:ui-tools")],
        )
        .await;
    assert_eq!(r.status(), 200);
    let events = parse_sse(&r.text().await.unwrap());
    let all = frames(&events);
    // The agent's one-time notice (a local primary gets the narrow tool set) comes first.
    assert_eq!(all[0]["type"], "notice");
    assert!(all[0]["text"].as_str().unwrap().contains("narrow tool set"));
    let frames = &all[1..];
    let kinds = types(frames);
    assert_eq!(
        kinds,
        ["route", "tool_call", "tool_result", "route", "done"],
        "{frames:?}"
    );
    assert_eq!(frames[0]["model"], "chatup/mock-model");
    assert!(frames[0]["fallback"].is_null());
    assert_eq!(frames[1]["name"], "read");
    let arguments: Value = serde_json::from_str(frames[1]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(arguments["path"], "notes.txt");
    assert_eq!(frames[2]["id"], frames[1]["id"]);
    assert_eq!(frames[2]["isError"], false);
    assert!(
        frames[2]["output"]
            .as_str()
            .unwrap()
            .contains("the notes say 42"),
        "{}",
        frames[2]
    );
    let text = crate::support::stream_text(Inbound::Chat, &events);
    assert_eq!(text, "The notes say 42.");

    // The request log has both model calls of the turn.
    let log = h.get_json("/clawgate/v1/requests").await;
    let entry = &log["requests"][0];
    assert_eq!(entry["agent"], "main");
    assert_eq!(entry["session"], "agent:main:ui-tools");
    assert_eq!(entry["answered"], "chatup/mock-model");
    assert_eq!(entry["attempts"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn agent_reasoning_reaches_the_page_only_when_the_session_shows_it() {
    let h = Harness::start().await;
    let session = ("x-clawgate-session-key", "agent:main:ui-think");
    h.mock
        .push_script(Script::default().with_reasoning("secret chain of thought"));
    let r = h
        .post_with(
            "/v1/chat/completions",
            &Inbound::Chat.body("clawgate/main", "think", true),
            &[EVENTS, session],
        )
        .await;
    let raw = r.text().await.unwrap();
    assert!(!raw.contains("secret chain of thought"), "{raw}");

    let r = h
        .post_with(
            "/v1/chat/completions",
            &Inbound::Chat.body("clawgate/main", "/reasoning on", true),
            &[EVENTS, session],
        )
        .await;
    assert!(r.text().await.unwrap().contains("Reasoning delivery on"));
    h.mock
        .push_script(Script::default().with_reasoning("visible chain of thought"));
    let r = h
        .post_with(
            "/v1/chat/completions",
            &Inbound::Chat.body("clawgate/main", "think again", true),
            &[EVENTS, session],
        )
        .await;
    let events = parse_sse(&r.text().await.unwrap());
    assert_eq!(reasoning_of(&events), "visible chain of thought");
    let text = crate::support::stream_text(Inbound::Chat, &events);
    assert!(!text.contains("chain of thought"), "{text}");

    // A client without clawgate's frames still gets final text only.
    h.mock
        .push_script(Script::default().with_reasoning("hidden from plain clients"));
    let r = h
        .post_with(
            "/v1/chat/completions",
            &Inbound::Chat.body("clawgate/main", "plain", true),
            &[session],
        )
        .await;
    assert!(
        !r.text()
            .await
            .unwrap()
            .contains("hidden from plain clients")
    );
}

/// True once a chat stream carried answer text (the role chunk's `"content":""` is not text).
fn has_answer_text(body: &str) -> bool {
    body.match_indices("\"content\":\"")
        .any(|(at, m)| !body[at + m.len()..].starts_with('"'))
}

/// Waits (bounded) until the mock saw a stream abandoned by its client.
async fn wait_abandoned(h: &Harness, want: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while h.mock.streams_abandoned() < want && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        h.mock.streams_abandoned(),
        want,
        "the upstream never saw the disconnect"
    );
}

#[tokio::test]
async fn leaving_a_stream_cancels_the_upstream_call() {
    let h = Harness::start().await;
    let slow = Script {
        chunks: Some(100),
        chunk_interval_ms: Some(100),
        ..Script::default()
    };
    // A routed call and an agent turn: closing the response closes the upstream stream.
    for (n, model) in [(1, "fast"), (2, "clawgate/main")] {
        h.mock.push_script(slow.clone());
        let mut r = h
            .post_with(
                "/v1/chat/completions",
                &Inbound::Chat.body(model, "a long answer please", true),
                &[EVENTS, ("x-clawgate-session-key", "agent:main:ui-stop")],
            )
            .await;
        assert_eq!(r.status(), 200);
        // Read until answer text arrived (the upstream stream is running), then leave.
        let mut seen = String::new();
        while !has_answer_text(&seen) {
            let chunk = r.chunk().await.unwrap().expect("the stream ended early");
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
        drop(r);
        wait_abandoned(&h, n).await;
    }
    assert_eq!(h.mock.streams_completed(), 0);
    // The aborted agent turn released its session: the next turn on it runs.
    let r = h
        .post_with(
            "/v1/chat/completions",
            &Inbound::Chat.body("clawgate/main", "again", false),
            &[("x-clawgate-session-key", "agent:main:ui-stop")],
        )
        .await;
    assert_eq!(r.status(), 200);
    let log = h.get_json("/clawgate/v1/requests").await;
    let outcomes: Vec<&str> = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["ok", "aborted", "aborted"]);
}
