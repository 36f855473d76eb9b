//! Request limits: an oversized body is refused with 413 in the dialect's shape (declared or
//! not), an oversized request head with 431, and malformed bodies with 400.

use clawgate_gateway::RequestLimits;
use serde_json::{Value, json};

use crate::support::{Harness, Inbound, MODEL, Setup};

fn small_limits() -> Setup {
    Setup {
        limits: RequestLimits {
            max_body_bytes: 2048,
            max_header_bytes: 8192,
            ..RequestLimits::default()
        },
        ..Setup::default()
    }
}

#[tokio::test]
async fn oversized_bodies_get_413_in_the_dialect_shape() {
    let h = Harness::with(small_limits()).await;
    let big = "x".repeat(4096);
    let r = h
        .post(
            "/v1/chat/completions",
            &Inbound::Chat.body(&format!("chatup/{MODEL}"), &big, false),
        )
        .await;
    assert_eq!(r.status(), 413);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "request_too_large");

    let r = h
        .post(
            "/v1/messages",
            &Inbound::Messages.body(&format!("chatup/{MODEL}"), &big, false),
        )
        .await;
    assert_eq!(r.status(), 413);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "request_too_large");

    // Chunked (no Content-Length): counted as it arrives.
    let chunks = vec![
        Ok::<_, std::io::Error>(big.clone().into_bytes()),
        Ok(big.into_bytes()),
    ];
    let r = h
        .http
        .post(h.url("/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    // A body within the limit still works.
    let r = h
        .post(
            "/v1/chat/completions",
            &Inbound::Chat.body(&format!("chatup/{MODEL}"), "ok", false),
        )
        .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn oversized_headers_get_431() {
    let h = Harness::with(small_limits()).await;
    let r = h
        .http
        .post(h.url("/v1/chat/completions"))
        .header("x-filler", "y".repeat(16 * 1024))
        .json(&Inbound::Chat.body(&format!("chatup/{MODEL}"), "hi", false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 431);
}

#[tokio::test]
async fn malformed_bodies_get_400_with_a_clear_message() {
    let h = Harness::start().await;
    let r = h
        .http
        .post(h.url("/v1/chat/completions"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not valid JSON")
    );

    let r = h
        .post("/v1/messages", &json!({ "model": "x", "messages": "nope" }))
        .await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("messages"),
        "{body}"
    );
}
