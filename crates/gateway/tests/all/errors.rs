//! Failures before the answer starts are plain HTTP errors in the client's dialect, with the
//! status mapped from what went wrong: context overflow 400, unknown model 404, upstream rate
//! limits everywhere 429 with Retry-After, every candidate failing 502 with the attempt
//! summary; a non-streamed answer that fails mid-way is a 502 too.

use mock_upstream::{Fault, OverflowServer, Script};
use serde_json::Value;

use crate::support::{Harness, Inbound, MODEL, Setup, dead_port, provider_entry};

fn chat_model() -> String {
    format!("chatup/{MODEL}")
}

#[tokio::test]
async fn context_overflow_is_400_context_length_exceeded() {
    let h = Harness::start().await;
    h.mock.push_script(Script::overflow(OverflowServer::Openai));
    let r = h
        .post(
            "/v1/chat/completions",
            &Inbound::Chat.body(&chat_model(), "too long", false),
        )
        .await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "context_length_exceeded");
    assert_eq!(body["error"]["type"], "invalid_request_error");

    h.mock.push_script(Script::overflow(OverflowServer::Vllm));
    let r = h
        .post(
            "/v1/messages",
            &Inbound::Messages.body(&chat_model(), "too long", true),
        )
        .await;
    assert_eq!(
        r.status(),
        400,
        "overflow before the stream starts is an HTTP error"
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("context overflow"),
        "{body}"
    );
}

#[tokio::test]
async fn unknown_models_and_agents_are_404() {
    let h = Harness::start().await;
    let r = h
        .post(
            "/v1/chat/completions",
            &Inbound::Chat.body("nope/never", "hi", false),
        )
        .await;
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "model_not_found");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nope/never")
    );

    let r = h
        .post(
            "/v1/messages",
            &Inbound::Messages.body("clawgate/ghost", "hi", false),
        )
        .await;
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["type"], "not_found_error");
    assert!(body["error"]["message"].as_str().unwrap().contains("ghost"));
}

#[tokio::test]
async fn rate_limited_everywhere_is_429_with_retry_after() {
    let h = Harness::start().await;
    let script = Script {
        retry_after_secs: Some(7),
        ..Script::fault(Fault::Status429)
    };
    h.mock.push_scripts(script, 5);
    let r = h
        .http
        .post(h.url("/v1/responses"))
        .header("x-clawgate-fallbacks", "none")
        .json(&Inbound::Responses.body(&chat_model(), "hi", false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "7");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["type"], "rate_limit_error");
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");
}

#[tokio::test]
async fn all_candidates_failing_is_502_with_the_attempt_summary() {
    let dead = format!("http://127.0.0.1:{}/v1", dead_port());
    let h = Harness::with(Setup {
        primary: format!("deadup/{MODEL}"),
        extra_providers: provider_entry("deadup", "openai-completions", &dead),
        ..Setup::default()
    })
    .await;
    for inbound in [Inbound::Chat, Inbound::Messages] {
        let r = h
            .http
            .post(h.url(inbound.path()))
            .header("x-clawgate-fallbacks", "none")
            .json(&inbound.body(&format!("deadup/{MODEL}"), "hi", true))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 502, "{inbound:?}");
        let body: Value = r.json().await.unwrap();
        let message = match inbound {
            Inbound::Messages => {
                assert_eq!(body["type"], "error");
                body["error"]["message"].as_str().unwrap().to_string()
            }
            _ => body["error"]["message"].as_str().unwrap().to_string(),
        };
        // One model tried: its own error (spec §3.7), not an "all models failed" summary.
        assert!(message.starts_with("deadup/mock-model: "), "{message}");
        assert!(message.ends_with("(network)"), "{message}");
        assert!(!message.contains("all models failed"), "{message}");
    }
}

#[tokio::test]
async fn a_non_streamed_answer_failing_midway_is_502() {
    let h = Harness::start().await;
    h.mock.push_script(Script::fault(Fault::ErrorInStream));
    let r = h
        .post(
            "/v1/chat/completions",
            &Inbound::Chat.body(&chat_model(), "hi", false),
        )
        .await;
    assert_eq!(r.status(), 502);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["type"], "server_error");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
}

#[tokio::test]
async fn a_cooled_down_model_tried_as_last_resort_reports_its_own_failure() {
    let h = Harness::start().await;
    // A mid-stream failure cools chatup down (server_error) ...
    h.mock.push_script(Script::fault(Fault::ErrorInStream));
    let r = h
        .post(
            "/v1/chat/completions",
            &Inbound::Chat.body(&chat_model(), "hi", true),
        )
        .await;
    assert_eq!(r.status(), 200);
    let _ = r.text().await.unwrap();
    // ... then, strict, it is tried anyway as the last resort and says 429: that is the answer.
    h.mock.push_scripts(
        Script {
            retry_after_secs: Some(4),
            ..Script::fault(Fault::Status429)
        },
        5,
    );
    let r = h
        .http
        .post(h.url("/v1/chat/completions"))
        .header("x-clawgate-fallbacks", "none")
        .json(&Inbound::Chat.body(&chat_model(), "hi", false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "4");
    let body: Value = r.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("cooling down") && message.contains("429"),
        "{message}"
    );
}
