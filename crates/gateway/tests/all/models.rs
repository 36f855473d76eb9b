//! `/v1/models` (agents and every routable model, OpenAI list shape), `/v1/models/{id}`,
//! `/healthz` and `/readyz`.

use std::sync::Arc;

use clawgate_providers::{ApiKind, EngineFactory, HttpClient, ProviderSpec, build_provider};
use serde_json::{Value, json};

use crate::support::{Harness, Inbound, MODEL, Setup, dead_port};

fn ids(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect()
}

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

#[tokio::test]
async fn one_model_answers_by_id_with_slashes_or_by_alias() {
    let h = Harness::start().await;
    let r = h.get(&format!("/v1/models/chatup/{MODEL}")).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body,
        json!({"id": format!("chatup/{MODEL}"), "object": "model", "created": 0,
               "owned_by": "chatup", "alias": "fast"})
    );
    let r = h.get("/v1/models/fast").await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["id"],
        format!("chatup/{MODEL}"),
        "an alias names its row"
    );
    let r = h.get("/v1/models/clawgate/main").await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["owned_by"], "clawgate");
    for missing in ["/v1/models/nope/none", "/v1/models/clawgate/nobody"] {
        let r = h.get(missing).await;
        assert_eq!(r.status(), 404, "{missing}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "model_not_found", "{body}");
        assert_eq!(body["error"]["type"], "invalid_request_error");
    }
}

#[tokio::test]
async fn the_list_holds_every_model_that_can_be_routed_and_nothing_else() {
    let mock = crate::support::mock().await;
    let upstream = mock.openai_base_url();
    // Stands in for the embedded engine: serves its rows through the mock's chat endpoint.
    let engine: Arc<EngineFactory> = Arc::new(move |spec: &ProviderSpec| {
        let mut chat = ProviderSpec::new(spec.id.clone(), ApiKind::OpenAiCompletions, &upstream);
        chat.models = spec.models.clone();
        let client = HttpClient::new()?;
        build_provider(&chat, &client)
    });
    let dead = dead_port();
    let h = Harness::with_mock(
        mock,
        Setup {
            models_mode: "merge",
            demo_model: true,
            engine: Some(engine),
            // The catalog's Anthropic rows with a key (routable), OpenAI's without one (not).
            extra_providers: format!(
                r#""anthropic": {{ baseUrl: "http://127.0.0.1:{dead}", apiKey: "sk-ant-test" }},
                   "gem": {{ baseUrl: "http://127.0.0.1:{dead}/", api: "google-generative-ai",
                             models: [{{ id: "gemini-x" }}] }},"#
            ),
            ..Setup::default()
        },
    )
    .await;
    let r = h.get("/v1/models").await;
    assert_eq!(r.status(), 200);
    let listed = ids(&r.json().await.unwrap());
    let has = |id: &str| listed.iter().any(|l| l == id);
    assert!(
        has("embedded/gemma-3-270m"),
        "the implicit embedded model: {listed:?}"
    );
    assert!(
        has("anthropic/claude-opus-4-6"),
        "a catalog row with a key: {listed:?}"
    );
    assert!(has(&format!("chatup/{MODEL}")), "{listed:?}");
    assert!(
        !listed.iter().any(|l| l.starts_with("openai/")),
        "no key: {listed:?}"
    );
    assert!(
        !has("gem/gemini-x"),
        "a provider that cannot be built: {listed:?}"
    );
    // What is listed routes.
    let r = h
        .post(
            "/v1/chat/completions",
            &Inbound::Chat.body("embedded/gemma-3-270m", "hi", false),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-clawgate-model"], "embedded/gemma-3-270m");
    let r = h.get("/v1/models/embedded/gemma-3-270m").await;
    assert_eq!(r.status(), 200);
    let r = h.get("/v1/models/openai/gpt-5.5").await;
    assert_eq!(r.status(), 404, "listed nowhere, answered nowhere");
}

#[tokio::test]
async fn models_outside_the_allowlist_are_not_listed() {
    let h = Harness::with(Setup {
        extra_defaults: format!(r#"modelPolicy: {{ allow: ["chatup/{MODEL}"] }},"#),
        ..Setup::default()
    })
    .await;
    let r = h.get("/v1/models").await;
    let listed = ids(&r.json().await.unwrap());
    assert!(listed.contains(&format!("chatup/{MODEL}")), "{listed:?}");
    assert!(!listed.contains(&format!("ollup/{MODEL}")), "{listed:?}");
    let r = h.get(&format!("/v1/models/ollup/{MODEL}")).await;
    assert_eq!(r.status(), 404);
}
