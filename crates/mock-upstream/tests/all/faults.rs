//! Every fault mode, observed from a real HTTP client. Hangs are checked by letting a short
//! client timeout fire, never by measuring time.

use std::error::Error as _;
use std::time::Duration;

use mock_upstream::{Fault, MockConfig, MockModel, MockServer, Script};
use serde_json::{Value, json};

use crate::support::*;

/// A request body for a dialect, streamed or not.
type BodyFor = fn(bool) -> Value;

const DIALECTS: [(&str, BodyFor); 4] = [
    ("/v1/chat/completions", chat),
    ("/v1/responses", responses),
    ("/v1/messages", anthropic),
    ("/api/chat", ollama),
];

fn has_io_kind(e: &reqwest::Error, kind: std::io::ErrorKind) -> bool {
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>()
            && io.kind() == kind
        {
            return true;
        }
        source = s.source();
    }
    false
}

fn short_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap()
}

#[tokio::test]
async fn reset_drops_the_connection_with_an_rst_and_no_response() {
    let mock = MockServer::start(MockConfig::default().fault(Fault::Reset)).await;
    let err = client()
        .post(format!("{}/v1/chat/completions", mock.base_url()))
        .json(&chat(false))
        .send()
        .await
        .unwrap_err();
    assert!(!err.is_timeout());
    assert!(
        has_io_kind(&err, std::io::ErrorKind::ConnectionReset),
        "expected a connection reset, got {err:?}"
    );
    assert_eq!(mock.requests().len(), 1, "the request was received first");
    assert_eq!(mock.connection_count(), 1);
}

#[tokio::test]
async fn close_ends_the_connection_without_a_response() {
    let mock = MockServer::start(MockConfig::default()).await;
    mock.push_script(Script::fault(Fault::Close));
    let err = client()
        .post(format!("{}/v1/messages", mock.base_url()))
        .json(&anthropic(false))
        .send()
        .await
        .unwrap_err();
    assert!(!err.is_timeout(), "{err:?}");
    // The next request (new connection) is answered normally.
    let (status, _) = post_json(&mock, "/v1/messages", &anthropic(false)).await;
    assert_eq!(status, 200);
    assert_eq!(mock.connection_count(), 2);
}

#[tokio::test]
async fn hang_before_headers_makes_the_client_time_out() {
    let mock = MockServer::start(MockConfig::default().fault(Fault::HangBeforeHeaders)).await;
    let err = short_client()
        .post(format!("{}/v1/chat/completions", mock.base_url()))
        .json(&chat(true))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(mock.request_count(), 1);
}

#[tokio::test]
async fn hang_after_first_chunk_delivers_one_chunk_then_stalls() {
    let mock = MockServer::start(MockConfig::default().fault(Fault::HangAfterFirstChunk)).await;
    for (path, body) in DIALECTS {
        let mut r = post(&mock, path, &body(true)).await;
        assert_eq!(r.status(), 200);
        let first = r.chunk().await.unwrap().unwrap();
        assert!(!first.is_empty());
        let next = tokio::time::timeout(Duration::from_millis(300), r.chunk()).await;
        assert!(next.is_err(), "{path}: the second chunk must never come");
    }
}

#[tokio::test]
async fn reset_after_first_chunk_breaks_the_body() {
    let mock = MockServer::start(MockConfig::default().fault(Fault::ResetAfterFirstChunk)).await;
    let mut r = post(&mock, "/v1/chat/completions", &chat(true)).await;
    let first = r.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("chat.completion.chunk"));
    let err = loop {
        match r.chunk().await {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("the body ended cleanly"),
            Err(e) => break e,
        }
    };
    assert!(!err.is_timeout(), "{err:?}");
}

#[tokio::test]
async fn status_faults_use_each_dialects_error_shape() {
    let mock = MockServer::start(MockConfig::default()).await;
    let cases = [
        (Fault::Status429, 429, "rate_limit_error"),
        (Fault::Status500, 500, "api_error"),
        (Fault::Status503, 503, "overloaded_error"),
        (Fault::Status401, 401, "authentication_error"),
        (Fault::Status402, 402, "billing_error"),
        (Fault::ModelNotFound, 404, "not_found_error"),
    ];
    for (fault, status, anthropic_type) in cases {
        for (path, body) in DIALECTS {
            mock.push_script(Script::fault(fault));
            let r = post(&mock, path, &body(true)).await;
            assert_eq!(r.status().as_u16(), status, "{fault} on {path}");
            assert_eq!(
                r.headers().get("retry-after").is_some(),
                fault == Fault::Status429
            );
            let e: Value = r.json().await.unwrap();
            match path {
                "/v1/messages" => {
                    assert_eq!(e["type"], "error");
                    assert_eq!(e["error"]["type"], anthropic_type);
                }
                "/api/chat" => assert!(e["error"].is_string(), "{e}"),
                _ => {
                    assert!(e["error"]["message"].is_string(), "{e}");
                    assert!(e["error"].get("type").is_some());
                }
            }
        }
    }
    assert_eq!(mock.queued_scripts(), 0);
}

#[tokio::test]
async fn retry_after_and_model_name_follow_the_script() {
    let mock = MockServer::start(MockConfig::default()).await;
    mock.push_script(Script {
        retry_after_secs: Some(7),
        ..Script::fault(Fault::Status429)
    });
    let r = post(&mock, "/v1/chat/completions", &chat(false)).await;
    assert_eq!(r.headers()["retry-after"], "7");
    mock.push_script(Script::fault(Fault::ModelNotFound));
    let (_, e) = post_json(&mock, "/v1/chat/completions", &chat(false)).await;
    assert_eq!(e["error"]["code"], "model_not_found");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("mock-model")
    );
}

#[tokio::test]
async fn strict_models_rejects_unlisted_models() {
    let mock = MockServer::start(
        MockConfig::default()
            .models(vec![MockModel::new("known", 4096)])
            .strict_models(true),
    )
    .await;
    let mut body = chat(false);
    body["model"] = json!("unknown");
    let (status, _) = post_json(&mock, "/v1/chat/completions", &body).await;
    assert_eq!(status, 404);
    body["model"] = json!("known");
    let (status, _) = post_json(&mock, "/v1/chat/completions", &body).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn error_in_stream_is_a_dialect_error_event_after_the_first_piece() {
    let mock = MockServer::start(MockConfig::default().fault(Fault::ErrorInStream)).await;
    let (status, _, text) = stream_text(&mock, "/v1/chat/completions", &chat(true)).await;
    assert_eq!(status, 200);
    let events = parse_sse(&text);
    assert_eq!(events[0].json()["choices"][0]["delta"]["role"], "assistant");
    assert!(events[1].json()["choices"][0]["delta"]["content"].is_string());
    assert!(events[2].json()["error"]["message"].is_string());
    assert_eq!(events.len(), 4, "role + first piece, the error, [DONE]");
    assert_eq!(events.last().unwrap().data, "[DONE]");

    let (_, _, text) = stream_text(&mock, "/v1/messages", &anthropic(true)).await;
    let events = parse_sse(&text);
    let last = events.last().unwrap();
    assert_eq!(last.event.as_deref(), Some("error"));
    assert_eq!(last.json()["error"]["type"], "overloaded_error");

    let (_, _, text) = stream_text(&mock, "/v1/responses", &responses(true)).await;
    let last = parse_sse(&text).pop().unwrap();
    assert_eq!(last.event.as_deref(), Some("response.failed"));
    assert_eq!(last.json()["response"]["status"], "failed");

    let (_, _, text) = stream_text(&mock, "/api/chat", &ollama(true)).await;
    let lines = parse_ndjson(&text);
    assert!(lines.last().unwrap()["error"].is_string());

    let (status, _) = post_json(&mock, "/v1/chat/completions", &chat(false)).await;
    assert_eq!(status, 500, "non-streaming: a plain 500");
}

#[tokio::test]
async fn empty_200_stream_has_headers_and_no_body() {
    let mock = MockServer::start(MockConfig::default().fault(Fault::Empty200Stream)).await;
    for (path, body) in DIALECTS {
        let (status, ct, text) = stream_text(&mock, path, &body(true)).await;
        assert_eq!(status, 200);
        assert!(!ct.is_empty());
        assert_eq!(text, "", "{path}");
    }
}

#[tokio::test]
async fn malformed_sse_carries_a_frame_that_does_not_parse() {
    let mock = MockServer::start(MockConfig::default().fault(Fault::MalformedSse)).await;
    for (path, body) in DIALECTS {
        let (status, _, text) = stream_text(&mock, path, &body(true)).await;
        assert_eq!(status, 200);
        let bad = if path == "/api/chat" {
            text.lines()
                .filter(|l| serde_json::from_str::<Value>(l).is_err())
                .count()
        } else {
            parse_sse(&text)
                .iter()
                .filter(|e| e.data != "[DONE]" && serde_json::from_str::<Value>(&e.data).is_err())
                .count()
        };
        assert_eq!(bad, 1, "{path}: {text}");
    }
    let r = post(&mock, "/v1/chat/completions", &chat(false)).await;
    assert_eq!(r.status(), 200);
    assert!(r.json::<Value>().await.is_err(), "a cut JSON body");
}

#[tokio::test]
async fn truncated_stream_ends_cleanly_without_the_finish() {
    let mock = MockServer::start(MockConfig::default().fault(Fault::TruncatedStream)).await;
    let (_, _, text) = stream_text(&mock, "/v1/chat/completions", &chat(true)).await;
    assert!(!text.contains("[DONE]"));
    assert!(text.contains("mock"));
    assert!(!text.contains("\"finish_reason\":\"stop\""));
    let (_, _, text) = stream_text(&mock, "/v1/messages", &anthropic(true)).await;
    assert!(text.contains("text_delta") && !text.contains("message_stop"));
    let (_, _, text) = stream_text(&mock, "/v1/responses", &responses(true)).await;
    assert!(text.contains("output_text.delta") && !text.contains("response.completed"));
    let (_, _, text) = stream_text(&mock, "/api/chat", &ollama(true)).await;
    assert!(parse_ndjson(&text).iter().all(|l| l["done"] == false));
}

#[tokio::test]
async fn latency_ttft_and_pacing_still_deliver_the_whole_answer() {
    let mock = MockServer::start(
        MockConfig::default()
            .latency(Duration::from_millis(5))
            .ttft(Duration::from_millis(5))
            .chunk_interval(Duration::from_millis(2))
            .chunks(5),
    )
    .await;
    let (_, _, text) = stream_text(&mock, "/v1/chat/completions", &chat(true)).await;
    assert!(text.ends_with("data: [DONE]\n\n"));
    let (status, r) = post_json(&mock, "/v1/chat/completions", &chat(false)).await;
    assert_eq!(status, 200);
    assert_eq!(
        r["choices"][0]["message"]["content"],
        "mock answer to: hello there"
    );
}
