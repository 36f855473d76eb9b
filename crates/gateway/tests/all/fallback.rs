//! Failover as the client sees it: a dead primary is answered by the configured fallback, with
//! `x-clawgate-model` naming the answering model and `x-clawgate-fallback: true` plus the
//! reason; `x-clawgate-fallbacks: none` turns that off.

use serde_json::Value;

use crate::support::{Harness, INBOUNDS, MODEL, Setup, dead_port, parse_sse, stream_text};

async fn dead_primary() -> Harness {
    let dead = format!("http://127.0.0.1:{}/v1", dead_port());
    Harness::with(Setup {
        primary: format!("deadup/{MODEL}"),
        fallbacks: vec![format!("anthup/{MODEL}")],
        extra_providers: crate::support::provider_entry("deadup", "openai-completions", &dead),
        ..Setup::default()
    })
    .await
}

#[tokio::test]
async fn a_fallback_answers_and_the_headers_say_so() {
    let h = dead_primary().await;
    for inbound in INBOUNDS {
        for stream in [false, true] {
            let r = h
                .post(
                    inbound.path(),
                    &inbound.body(&format!("deadup/{MODEL}"), "hi", stream),
                )
                .await;
            assert_eq!(r.status(), 200, "{inbound:?}");
            assert_eq!(r.headers()["x-clawgate-model"], "anthup/mock-model");
            assert_eq!(r.headers()["x-clawgate-fallback"], "true");
            let reason = r.headers()["x-clawgate-fallback-reason"]
                .to_str()
                .unwrap()
                .to_string();
            assert!(
                reason == "network" || reason.starts_with("cooldown"),
                "first request fails on the network, later ones skip the cooled-down primary: {reason}"
            );
            let text = r.text().await.unwrap();
            let answer = if stream {
                stream_text(inbound, &parse_sse(&text))
            } else {
                crate::support::response_text(
                    inbound,
                    &serde_json::from_str::<Value>(&text).unwrap(),
                )
            };
            assert_eq!(answer, "mock answer to: hi");
        }
    }
    let metrics = h.metrics_text().await;
    assert!(
        metrics.contains("clawgate_fallbacks_total{reason=\"network\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("clawgate_provider_cooling_down{provider=\"deadup\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn fallbacks_none_keeps_to_the_requested_model() {
    let h = dead_primary().await;
    let r = h
        .http
        .post(h.url("/v1/chat/completions"))
        .header("x-clawgate-fallbacks", "none")
        .json(&crate::support::Inbound::Chat.body(&format!("deadup/{MODEL}"), "hi", false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    assert!(
        h.mock
            .requests()
            .iter()
            .all(|req| req.path != "/v1/messages")
    );
}

#[tokio::test]
async fn a_healthy_request_is_not_a_fallback() {
    let h = Harness::start().await;
    let r = h
        .post(
            "/v1/responses",
            &crate::support::Inbound::Responses.body("fast", "hi", false),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-clawgate-model"], "chatup/mock-model");
    assert_eq!(r.headers()["x-clawgate-fallback"], "false");
    assert!(r.headers().get("x-clawgate-fallback-reason").is_none());
}
