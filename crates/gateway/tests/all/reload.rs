//! Config reload (what SIGHUP does): a good new config is swapped in without dropping an open
//! stream; a bad one is refused and the running config kept, and so is one that would drop the
//! gateway's auth or every provider without saying so in writing.

use std::sync::Arc;

use clawgate_gateway::GatewayError;
use clawgate_providers::{ApiKind, EngineFactory, HttpClient, ProviderSpec, build_provider};
use mock_upstream::Script;

use crate::support::{
    Harness, Inbound, MODEL, Setup, config_text, parse_sse, provider_entry, stream_text,
};

#[tokio::test]
async fn reload_swaps_in_a_good_config_and_keeps_the_old_on_a_bad_one() {
    let h = Harness::start().await;
    let body = Inbound::Chat.body(&format!("newup/{MODEL}"), "after reload", false);
    assert_eq!(h.post("/v1/chat/completions", &body).await.status(), 404);

    // A slow stream is open while the config changes under it.
    h.mock.push_script(Script {
        chunks: Some(8),
        chunk_interval_ms: Some(40),
        ..Script::default()
    });
    let slow = Inbound::Chat.body(&format!("chatup/{MODEL}"), "keep going", true);
    let streaming = h.post("/v1/chat/completions", &slow);
    let (stream_response, ()) = tokio::join!(streaming, async {
        let setup = Setup {
            extra_providers: provider_entry(
                "newup",
                "openai-completions",
                &h.mock.openai_base_url(),
            ),
            ..Setup::default()
        };
        let text = config_text(&h.mock, &h.dir.path().join("workspace"), &setup);
        std::fs::write(&h.config_path, text).unwrap();
        h.gateway.reload().unwrap();
    });
    assert_eq!(stream_response.status(), 200);
    let events = parse_sse(&stream_response.text().await.unwrap());
    assert_eq!(
        stream_text(Inbound::Chat, &events),
        "mock answer to: keep going"
    );
    assert_eq!(events.last().unwrap().data, "[DONE]");

    let r = h.post("/v1/chat/completions", &body).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-clawgate-model"], "newup/mock-model");

    std::fs::write(&h.config_path, "{ models: { providers: [ this is not json5").unwrap();
    let error = h.gateway.reload().unwrap_err();
    assert!(error.to_string().contains("invalid config"), "{error}");
    let r = h.post("/v1/chat/completions", &body).await;
    assert_eq!(r.status(), 200, "the old config is still in effect");

    let metrics = h.metrics_text().await;
    assert!(
        metrics.contains("clawgate_config_reloads_total{result=\"ok\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("clawgate_config_reloads_total{result=\"error\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_reload_that_names_an_unknown_primary_is_refused() {
    let h = Harness::start().await;
    let setup = Setup {
        primary: "nowhere/nothing".into(),
        ..Setup::default()
    };
    std::fs::write(
        &h.config_path,
        config_text(&h.mock, &h.dir.path().join("ws"), &setup),
    )
    .unwrap();
    assert!(h.gateway.reload().is_err());
    let r = h
        .post(
            "/v1/chat/completions",
            &Inbound::Chat.body("fast", "still here", false),
        )
        .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_reload_keeps_the_in_process_engine() {
    let mock = crate::support::mock().await;
    let upstream = mock.openai_base_url();
    // Stands in for the embedded engine: serves the row through the mock's chat endpoint.
    let engine: Arc<EngineFactory> = Arc::new(move |spec: &ProviderSpec| {
        let mut chat = ProviderSpec::new(spec.id.clone(), ApiKind::OpenAiCompletions, &upstream);
        chat.models = spec.models.clone();
        let client = HttpClient::new()?;
        build_provider(&chat, &client)
    });
    let h = Harness::with_mock(
        mock,
        Setup {
            extra_providers: r#""engine": { api: "llama-cpp",
                models: [{ id: "tiny", path: "tiny.gguf", contextWindow: 65536 }] },"#
                .into(),
            engine: Some(engine),
            ..Setup::default()
        },
    )
    .await;
    let body = Inbound::Chat.body("engine/tiny", "in process", false);
    for round in 0..2 {
        let r = h.post("/v1/chat/completions", &body).await;
        let (status, headers) = (r.status(), r.headers().clone());
        assert_eq!(status, 200, "round {round}: {}", r.text().await.unwrap());
        assert_eq!(headers["x-clawgate-model"], "engine/tiny");
        h.gateway.reload().unwrap();
    }
}

#[tokio::test]
async fn a_reload_that_drops_the_token_is_refused_unless_auth_is_turned_off_in_writing() {
    let token = "gw-reload-token-7777";
    let h = Harness::with(Setup {
        token: Some(token.into()),
        ..Setup::default()
    })
    .await;
    let workspace = h.dir.path().join("workspace");
    let body = Inbound::Chat.body(&format!("chatup/{MODEL}"), "hi", false);
    // The same config without its token (a lost `gateway` section).
    std::fs::write(
        &h.config_path,
        config_text(&h.mock, &workspace, &Setup::default()),
    )
    .unwrap();
    let error = h.gateway.reload().unwrap_err();
    assert!(matches!(error, GatewayError::ReloadDropsAuth), "{error:?}");
    assert!(error.to_string().contains("gateway.auth.mode"), "{error}");
    let anonymous = || {
        h.http
            .post(h.url("/v1/chat/completions"))
            .json(&body)
            .send()
    };
    let status = anonymous().await.unwrap().status();
    assert_eq!(status, 401, "the token is still required");

    // Turning auth off in writing is a deliberate change: accepted.
    let setup = Setup {
        extra_gateway: r#"auth: { mode: "none" },"#.into(),
        ..Setup::default()
    };
    std::fs::write(&h.config_path, config_text(&h.mock, &workspace, &setup)).unwrap();
    h.gateway.reload().unwrap();
    assert_eq!(anonymous().await.unwrap().status(), 200);
}

#[tokio::test]
async fn a_reload_that_drops_every_provider_is_refused_unless_written_out() {
    let h = Harness::start().await;
    let body = Inbound::Chat.body("fast", "still here", false);
    // A file cut down to `{}`: valid JSON5, but every provider would be gone.
    for text in ["{}", "{ agents: { defaults: { workspace: \"ws\" } } }"] {
        std::fs::write(&h.config_path, text).unwrap();
        let error = h.gateway.reload().unwrap_err();
        assert!(
            matches!(error, GatewayError::ReloadDropsProviders { count: 4 }),
            "{text}: {error:?}"
        );
        assert!(error.to_string().contains("providers: {}"), "{error}");
        assert_eq!(h.post("/v1/chat/completions", &body).await.status(), 200);
    }
    // A truncated (empty) file is a config error naming the file.
    std::fs::write(&h.config_path, "").unwrap();
    let error = h.gateway.reload().unwrap_err();
    let text = error.to_string();
    assert!(text.contains("is empty"), "{text}");
    assert!(text.contains("clawgate.json"), "{text}");
    assert_eq!(h.post("/v1/chat/completions", &body).await.status(), 200);

    // Written out, the removal is deliberate and goes through.
    std::fs::write(&h.config_path, "{ models: { providers: {} } }").unwrap();
    h.gateway.reload().unwrap();
    assert!(h.gateway.services().config().models.providers.is_empty());
}
