//! Model listings and discovery routes in each server's shape.

use mock_upstream::{Fault, MockConfig, MockModel, MockServer, Script};
use serde_json::json;

use crate::support::*;

fn two_models() -> MockConfig {
    MockConfig::default().models(vec![
        MockModel::new("qwen3:8b", 16384)
            .arch("qwen3")
            .max_context(40960)
            .capabilities(&["completion", "tools", "thinking"]),
        MockModel::new("idle-model", 4096).not_loaded(),
    ])
}

#[tokio::test]
async fn openai_and_anthropic_model_lists() {
    let mock = MockServer::start(two_models()).await;
    let (status, r) = get_json(&mock, "/v1/models").await;
    assert_eq!(status, 200);
    assert_eq!(r["object"], "list");
    assert_eq!(r["data"][0]["id"], "qwen3:8b");
    assert_eq!(r["data"][0]["object"], "model");
    assert_eq!(r["data"][0]["max_model_len"], 16384);
    assert_eq!(r["data"][1]["id"], "idle-model");

    let r: serde_json::Value = client()
        .get(format!("{}/v1/models", mock.base_url()))
        .header("anthropic-version", "2023-06-01")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["data"][0]["type"], "model");
    assert_eq!(r["has_more"], false);
    assert_eq!(r["first_id"], "qwen3:8b");
}

#[tokio::test]
async fn ollama_tags_show_ps_and_version() {
    let mock = MockServer::start(two_models()).await;
    let (_, tags) = get_json(&mock, "/api/tags").await;
    assert_eq!(tags["models"][0]["name"], "qwen3:8b");
    assert_eq!(tags["models"][0]["details"]["family"], "qwen3");

    let (status, show) = post_json(&mock, "/api/show", &json!({"model": "qwen3:8b"})).await;
    assert_eq!(status, 200);
    assert_eq!(show["model_info"]["general.architecture"], "qwen3");
    assert_eq!(show["model_info"]["qwen3.context_length"], 40960);
    assert_eq!(
        show["capabilities"],
        json!(["completion", "tools", "thinking"])
    );
    let (status, missing) = post_json(&mock, "/api/show", &json!({"name": "nope"})).await;
    assert_eq!(status, 404);
    assert!(missing["error"].as_str().unwrap().contains("nope"));

    let (_, ps) = get_json(&mock, "/api/ps").await;
    assert_eq!(
        ps["models"].as_array().unwrap().len(),
        1,
        "only loaded models"
    );
    assert_eq!(ps["models"][0]["context_length"], 16384);
    let (_, v) = get_json(&mock, "/api/version").await;
    assert!(v["version"].is_string());
}

#[tokio::test]
async fn lmstudio_native_listings_show_state_and_both_context_lengths() {
    let mock = MockServer::start(two_models()).await;
    let (_, v0) = get_json(&mock, "/api/v0/models").await;
    let loaded = &v0["data"][0];
    assert_eq!(loaded["state"], "loaded");
    assert_eq!(loaded["max_context_length"], 40960);
    assert_eq!(loaded["loaded_context_length"], 16384);
    assert_eq!(loaded["type"], "llm");
    let idle = &v0["data"][1];
    assert_eq!(idle["state"], "not-loaded");
    assert!(idle.get("loaded_context_length").is_none());

    let (status, one) = get_json(&mock, "/api/v0/models/idle-model").await;
    assert_eq!(status, 200);
    assert_eq!(one["id"], "idle-model");
    let (status, _) = get_json(&mock, "/api/v0/models/none").await;
    assert_eq!(status, 404);

    let (_, v1) = get_json(&mock, "/api/v1/models").await;
    assert_eq!(v1["models"][0]["key"], "qwen3:8b");
    assert_eq!(
        v1["models"][0]["loaded_instances"][0]["config"]["context_length"],
        16384
    );
    assert_eq!(v1["models"][1]["loaded_instances"], json!([]));
}

#[tokio::test]
async fn listings_take_only_scripts_that_name_their_path() {
    let mock = MockServer::start(MockConfig::default()).await;
    mock.push_script(Script::fault(Fault::Status500));
    let (status, _) = get_json(&mock, "/api/tags").await;
    assert_eq!(status, 200, "a generation script is not taken by a listing");
    assert_eq!(mock.queued_scripts(), 1);
    mock.clear_scripts();

    mock.push_script(Script {
        when_path: Some("/api/tags".into()),
        ..Script::fault(Fault::Status503)
    });
    let (status, body) = get_json(&mock, "/api/tags").await;
    assert_eq!(status, 503);
    assert!(body["error"].is_string(), "Ollama's error shape");
    let (status, _) = get_json(&mock, "/api/tags").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn unknown_paths_get_fastapis_404_and_are_logged() {
    let mock = MockServer::start(MockConfig::default()).await;
    let (status, body) = post_json(&mock, "/v1/completions", &json!({"prompt": "x"})).await;
    assert_eq!(status, 404);
    assert_eq!(body, json!({"detail": "Not Found"}));
    let log = mock.requests();
    assert_eq!(log[0].path, "/v1/completions");
    assert_eq!(log[0].body["prompt"], "x");
}
