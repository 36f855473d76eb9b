//! Discovery at run time through the gateway: a provider marked `discover: true` has its
//! models asked for in the background after start and after a reload; once merged they are
//! listed by `/v1/models` and answer calls; serving never waits for discovery.

use mock_upstream::{Fault, MockConfig, MockModel, MockServer, Script};
use serde_json::Value;

use crate::support::{Harness, Inbound, MODEL, Setup, mock};

const DISCOVERED: &str = "qwen3:8b";

/// The harness's providers plus `disc`: native Ollama on the same mock, marked for discovery
/// and configured with no rows.
fn discovering(mock: &MockServer) -> Setup {
    Setup {
        extra_providers: format!(
            r#"disc: {{ baseUrl: "{}", api: "ollama", discover: true, models: [] }},"#,
            mock.base_url()
        ),
        ..Setup::default()
    }
}

async fn listed(h: &Harness) -> Vec<String> {
    let body: Value = h.get("/v1/models").await.json().await.unwrap();
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn discovered_models_are_listed_and_served_after_start_and_reload() {
    let server = MockServer::start(MockConfig::default().models(vec![
        MockModel::new(MODEL, 65536),
        MockModel::new(DISCOVERED, 8192).arch("qwen3"),
    ]))
    .await;
    let setup = discovering(&server);
    let h = Harness::with_mock(server, setup).await;
    let mut rounds = h.gateway.discovery_rounds();
    rounds.wait_for(|n| *n >= 1).await.unwrap();
    let models = listed(&h).await;
    assert!(models.contains(&format!("disc/{DISCOVERED}")), "{models:?}");
    assert!(models.contains(&format!("chatup/{MODEL}")), "{models:?}");
    let tags = |h: &Harness| {
        h.mock
            .requests()
            .iter()
            .filter(|r| r.path == "/api/tags")
            .count()
    };
    assert_eq!(tags(&h), 1, "only the marked provider is asked");

    let body = Inbound::Chat.body(&format!("disc/{DISCOVERED}"), "hi", false);
    let r = h.post(Inbound::Chat.path(), &body).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-clawgate-model"], "disc/qwen3:8b");
    let sent = h.mock.requests().pop().unwrap();
    assert_eq!(
        (sent.path.as_str(), sent.body["model"].as_str()),
        ("/api/chat", Some(DISCOVERED))
    );
    assert_eq!(
        sent.body["options"]["num_ctx"], 8192,
        "the discovered window"
    );

    h.gateway.reload().unwrap();
    rounds.wait_for(|n| *n >= 2).await.unwrap();
    assert_eq!(tags(&h), 2, "a reload discovers again");
    assert!(listed(&h).await.contains(&format!("disc/{DISCOVERED}")));
}

#[tokio::test]
async fn serving_does_not_wait_for_discovery() {
    let server = mock().await;
    // The listing never answers: discovery runs into its timeout in the background.
    server.push_script(Script {
        when_path: Some("/api/tags".into()),
        ..Script::fault(Fault::HangBeforeHeaders)
    });
    let setup = discovering(&server);
    let h = Harness::with_mock(server, setup).await;
    let rounds = h.gateway.discovery_rounds();
    let r = h
        .post(
            Inbound::Chat.path(),
            &Inbound::Chat.body(&format!("chatup/{MODEL}"), "hi", false),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        *rounds.borrow(),
        0,
        "answered while discovery was still waiting"
    );
    let r = h
        .post(
            Inbound::Chat.path(),
            &Inbound::Chat.body(&format!("disc/{DISCOVERED}"), "hi", false),
        )
        .await;
    assert_eq!(r.status(), 404, "not discovered (yet)");
}
