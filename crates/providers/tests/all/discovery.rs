//! `list_models` against the mock's listing routes: LM Studio's native list (loaded state and
//! loaded context), OpenAI-compatible `/v1/models` (vLLM's `max_model_len`) as the fallback,
//! Ollama `/api/tags` + `/api/show`, Anthropic `/v1/models`; errors are returned.

use clawgate_providers::{ApiKind, FailureKind, NetworkCause, ProviderSpec};
use mock_upstream::{Fault, MockConfig, MockModel, MockServer, Script};

use crate::support::*;

async fn mock_with_models() -> MockServer {
    MockServer::start(MockConfig::default().models(vec![
        MockModel::new("qwen-7b", 16384).max_context(32768),
        MockModel::new("llama-1b", 131072)
            .not_loaded()
            .capabilities(&["completion"]),
        MockModel::new("qwen3:8b", 40960)
            .arch("qwen3")
            .capabilities(&["completion", "tools", "thinking"]),
    ]))
    .await
}

#[tokio::test]
async fn lmstudio_native_list_is_preferred() {
    let mock = mock_with_models().await;
    let s = ProviderSpec::new(
        "lmstudio",
        ApiKind::OpenAiCompletions,
        mock.openai_base_url(),
    );
    let models = provider(&s).list_models().await.unwrap_or_default();
    assert_eq!(last_request(&mock).path, "/api/v1/models");
    let qwen = models.iter().find(|m| m.id == "qwen-7b");
    assert_eq!(qwen.and_then(|m| m.loaded), Some(true));
    assert_eq!(qwen.and_then(|m| m.context_window), Some(16384));
    assert_eq!(qwen.and_then(|m| m.supports_tools), Some(true));
    let llama = models.iter().find(|m| m.id == "llama-1b");
    assert_eq!(llama.and_then(|m| m.loaded), Some(false));
    assert_eq!(llama.and_then(|m| m.context_window), Some(131072));

    // Before LM Studio 0.4 (no v1 list): the v0 list, with the loaded context too.
    mock.push_script(Script {
        when_path: Some("/api/v1/models".into()),
        ..Script::fault(Fault::ModelNotFound)
    });
    let models = provider(&s).list_models().await.unwrap_or_default();
    assert_eq!(last_request(&mock).path, "/api/v0/models");
    let qwen = models.iter().find(|m| m.id == "qwen-7b");
    assert_eq!(qwen.and_then(|m| m.context_window), Some(16384));
}

#[tokio::test]
async fn openai_models_are_the_fallback_when_there_is_no_native_list() {
    let mock = mock_with_models().await;
    for path in ["/api/v1/models", "/api/v0/models"] {
        mock.push_script(Script {
            when_path: Some(path.into()),
            ..Script::fault(Fault::ModelNotFound)
        });
    }
    let s = spec(&mock, ApiKind::OpenAiCompletions);
    let models = provider(&s).list_models().await.unwrap_or_default();
    assert_eq!(last_request(&mock).path, "/v1/models");
    let ids: Vec<&str> = models.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, vec!["qwen-7b", "llama-1b", "qwen3:8b"]);
    assert_eq!(models[0].context_window, Some(16384), "vLLM max_model_len");
}

#[tokio::test]
async fn a_hanging_native_list_times_out_and_falls_back() {
    let mock = mock_with_models().await;
    mock.push_script(Script {
        when_path: Some("/api/v1/models".into()),
        ..Script::fault(Fault::HangBeforeHeaders)
    });
    let s = spec(&mock, ApiKind::OpenAiResponses);
    let models = tokio::time::timeout(STEP, provider(&s).list_models()).await;
    let Ok(Ok(models)) = models else {
        panic!("discovery did not recover: {models:?}");
    };
    assert_eq!(models.len(), 3);
}

#[tokio::test]
async fn ollama_tags_and_show() {
    let mock = mock_with_models().await;
    let s = ProviderSpec::new("ollama", ApiKind::Ollama, format!("{}/v1", mock.base_url()));
    let models = provider(&s).list_models().await.unwrap_or_default();
    assert_eq!(models.len(), 3);
    let qwen3 = models.iter().find(|m| m.id == "qwen3:8b");
    assert_eq!(qwen3.and_then(|m| m.context_window), Some(40960));
    let qwen = models.iter().find(|m| m.id == "qwen-7b");
    assert_eq!(
        qwen.and_then(|m| m.context_window),
        Some(16384),
        "num_ctx of its model file, not the trained 32768"
    );
    assert_eq!(qwen3.and_then(|m| m.supports_tools), Some(true));
    assert_eq!(qwen3.and_then(|m| m.reasoning), Some(true));
    let llama = models.iter().find(|m| m.id == "llama-1b");
    assert_eq!(llama.and_then(|m| m.supports_tools), Some(false));
    let shows = mock
        .requests()
        .iter()
        .filter(|r| r.path == "/api/show")
        .count();
    assert_eq!(shows, 3);
}

#[tokio::test]
async fn anthropic_models() {
    let mock = mock_with_models().await;
    let s = spec(&mock, ApiKind::AnthropicMessages)
        .with_key("sk-ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Jh1Gf0");
    let models = provider(&s).list_models().await.unwrap_or_default();
    assert_eq!(models.len(), 3);
    let req = last_request(&mock);
    assert_eq!(req.path, "/v1/models");
    assert_eq!(req.header("x-api-key"), Some("****1Gf0"));
}

#[tokio::test]
async fn discovery_errors_are_returned() {
    let mock = mock_with_models().await;
    mock.push_script(Script {
        when_path: Some("/api/tags".into()),
        ..Script::fault(Fault::Status500)
    });
    let s = spec(&mock, ApiKind::Ollama);
    let err = provider(&s).list_models().await.err();
    assert_eq!(err.map(|e| e.kind), Some(FailureKind::ServerError));

    let dead = ProviderSpec::new(
        "x",
        ApiKind::Ollama,
        format!("http://{}", free_addr().await),
    );
    let err = provider(&dead).list_models().await.err();
    assert_eq!(
        err.map(|e| e.kind),
        Some(FailureKind::Network {
            cause: NetworkCause::Refused
        })
    );
}
