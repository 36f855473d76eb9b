//! `/v1/models` (agents and configured models, OpenAI list shape), `/healthz` and `/readyz`.

use serde_json::Value;

use crate::support::{Harness, MODEL, Setup};

#[tokio::test]
async fn models_lists_agents_and_configured_models() {
    let h = Harness::start().await;
    let r = h.get("/v1/models").await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["object"], "list");
    let data = body["data"].as_array().unwrap();
    assert!(
        data.iter()
            .all(|m| m["object"] == "model" && m["id"].is_string())
    );
    let ids: Vec<&str> = data.iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids[0], "clawgate/main");
    for upstream in crate::support::UPSTREAMS {
        let id = format!("{upstream}/{MODEL}");
        assert!(ids.contains(&id.as_str()), "{id} in {ids:?}");
    }
    let chat = data
        .iter()
        .find(|m| m["id"] == "chatup/mock-model")
        .unwrap();
    assert_eq!(chat["owned_by"], "chatup");
    assert_eq!(chat["alias"], "fast");
}

#[tokio::test]
async fn health_and_readiness() {
    let h = Harness::start().await;
    let r = h.get("/healthz").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "ok");
    let r = h.get("/readyz").await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    let r = h.get("/no/such/path").await;
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn not_ready_when_the_primary_provider_cannot_be_built() {
    let h = Harness::with(Setup {
        primary: "gem/gemini-x".into(),
        extra_providers: r#""gem": { baseUrl: "http://127.0.0.1:9/", api: "google-generative-ai",
                                     models: [{ id: "gemini-x" }] },"#
            .into(),
        ..Setup::default()
    })
    .await;
    let r = h.get("/readyz").await;
    assert_eq!(r.status(), 503);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "not_ready");
    assert!(body["reason"].as_str().unwrap().contains("gem"), "{body}");
    assert_eq!(h.get("/healthz").await.status(), 200, "alive all the same");
}
