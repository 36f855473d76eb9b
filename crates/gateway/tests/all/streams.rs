//! A stream that fails after it started ends with the dialect's own error event (never a
//! silent cut, never a second model's text): an upstream error event, and an upstream that
//! stalls after its first chunk (the idle timeout), for each inbound dialect.

use mock_upstream::{Fault, Script};
use serde_json::Value;

use crate::support::{Harness, INBOUNDS, Inbound, MODEL, SseEvent, parse_sse, stream_text};

async fn failing_stream(h: &Harness, inbound: Inbound, fault: Fault) -> Vec<SseEvent> {
    h.mock.push_script(Script::fault(fault));
    let r = h
        .post(
            inbound.path(),
            &inbound.body(&format!("chatup/{MODEL}"), "hi", true),
        )
        .await;
    assert_eq!(
        r.status(),
        200,
        "{inbound:?} {fault:?}: the stream had started"
    );
    parse_sse(&r.text().await.unwrap())
}

/// Checks the error end; `code` is the expected machine code, or `None` for "any".
fn check_error_end(inbound: Inbound, events: &[SseEvent], code: Option<&str>) {
    let code_ok = |value: &Value| match code {
        Some(code) => value == code,
        None => value.as_str().is_some_and(|c| !c.is_empty()),
    };
    let case = format!("{inbound:?}: {events:?}");
    match inbound {
        Inbound::Chat => {
            assert_eq!(events.last().unwrap().data, "[DONE]", "{case}");
            let error = events[events.len() - 2].json();
            assert!(error["error"]["message"].as_str().is_some(), "{case}");
            assert!(code_ok(&error["error"]["code"]), "{case}");
            let finishes: Vec<Value> = events[..events.len() - 2]
                .iter()
                .map(|e| e.json()["choices"][0]["finish_reason"].clone())
                .filter(|f| !f.is_null())
                .collect();
            assert!(
                finishes.is_empty(),
                "no finish_reason on a failed stream: {case}"
            );
        }
        Inbound::Responses => {
            let last = events.last().unwrap();
            assert_eq!(last.event.as_deref(), Some("response.failed"), "{case}");
            let data = last.json();
            assert_eq!(data["response"]["status"], "failed", "{case}");
            assert!(code_ok(&data["response"]["error"]["code"]), "{case}");
            assert!(
                !events
                    .iter()
                    .any(|e| e.event.as_deref() == Some("response.completed"))
            );
        }
        Inbound::Messages => {
            let last = events.last().unwrap();
            assert_eq!(last.event.as_deref(), Some("error"), "{case}");
            let data = last.json();
            assert_eq!(data["type"], "error", "{case}");
            // Only the error types Anthropic documents (never OpenAI's `server_error`).
            let anthropic_types = [
                "invalid_request_error",
                "authentication_error",
                "permission_error",
                "not_found_error",
                "request_too_large",
                "rate_limit_error",
                "api_error",
                "overloaded_error",
            ];
            let kind = data["error"]["type"].as_str().unwrap_or_default();
            assert!(anthropic_types.contains(&kind), "{case}");
            assert!(
                !events
                    .iter()
                    .any(|e| e.event.as_deref() == Some("message_stop"))
            );
        }
    }
}

#[tokio::test]
async fn an_upstream_error_event_ends_the_stream_with_the_dialect_error() {
    let h = Harness::start().await;
    for inbound in INBOUNDS {
        let events = failing_stream(&h, inbound, Fault::ErrorInStream).await;
        assert!(
            !stream_text(inbound, &events).is_empty(),
            "{inbound:?}: the first chunk was delivered before the failure"
        );
        check_error_end(inbound, &events, None);
    }
}

#[tokio::test]
async fn a_stalled_upstream_ends_the_stream_with_a_timeout_error() {
    let h = Harness::start().await;
    for inbound in INBOUNDS {
        let events = failing_stream(&h, inbound, Fault::HangAfterFirstChunk).await;
        assert!(!stream_text(inbound, &events).is_empty(), "{inbound:?}");
        check_error_end(inbound, &events, Some("timeout"));
        if inbound == Inbound::Messages {
            let data = events.last().unwrap().json();
            assert!(
                data["error"]["message"].as_str().unwrap().contains("idle"),
                "{data}"
            );
        }
    }
}
