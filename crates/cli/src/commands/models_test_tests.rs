//! `models test` against mock-upstream: a config file naming the mock as a provider, resolved
//! through the registry, one call per case.

use clawgate_config::{EnvVars, LoadOptions, LoadedConfig, locate};
use mock_upstream::{MockConfig, MockServer};

use super::*;

fn load(config: &str) -> (tempfile::TempDir, LoadedConfig) {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("tempdir: {e}"),
    };
    let path = dir.path().join("clawgate.json");
    if let Err(e) = std::fs::write(&path, config) {
        panic!("write: {e}");
    }
    let opts = LoadOptions {
        config_path: Some(path),
        state_dir: Some(dir.path().to_path_buf()),
        home: Some(dir.path().to_path_buf()),
        cwd: dir.path().to_path_buf(),
        env: EnvVars::from_pairs(Vec::<(String, String)>::new()),
    };
    let location = locate(&opts);
    match clawgate_config::load_at(&opts, location) {
        Ok(l) => (dir, l),
        Err(e) => panic!("load: {e:?}"),
    }
}

fn services(loaded: &LoadedConfig) -> Services {
    match Services::build(loaded.clone(), ServicesOptions::default()) {
        Ok(s) => s,
        Err(e) => panic!("services: {e}"),
    }
}

/// A config with provider `mock` pointing at `mock`; `extra` goes into the provider object.
fn config_for(mock: &MockServer, extra: &str) -> String {
    format!(
        r#"{{ models: {{ mode: "replace", providers: {{ mock: {{
            baseUrl: "{}", apiKey: "sk-local", api: "openai-completions", {extra}
            models: [{{ id: "mock-model", name: "Mock", contextWindow: 8192, maxTokens: 256 }}] }} }} }},
           agents: {{ defaults: {{ model: {{ primary: "mock/mock-model" }} }} }} }}"#,
        mock.openai_base_url()
    )
}

fn args(stream: bool, tool: Option<&str>) -> ModelsTestArgs {
    ModelsTestArgs {
        model: "mock/mock-model".into(),
        message: "hi".into(),
        stream,
        json: true,
        tool: tool.map(str::to_string),
        max_tokens: None,
        chain: None,
    }
}

#[tokio::test]
async fn a_text_answer_streamed_and_not() {
    let mock = MockServer::start(MockConfig::default()).await;
    let (_dir, loaded) = load(&config_for(&mock, ""));
    let resolved = match loaded.registry.resolve("mock/mock-model") {
        Ok(r) => r,
        Err(e) => panic!("resolve: {e}"),
    };
    for stream in [true, false] {
        let mut seen = 0;
        let report = call_model(&services(&loaded), &resolved, &args(stream, None), |_| {
            seen += 1
        })
        .await;
        assert!(!report.failed(), "{:?}", report.error);
        assert_eq!(report.text, "mock answer to: hi");
        assert_eq!(report.stop_reason, Some(StopReason::Stop));
        assert!(report.usage.is_some());
        assert!(report.ttft.is_some());
        assert!(seen > 2, "events are passed on as they arrive");
        let v = report_json(&resolved, &report);
        assert_eq!(v["ok"], json!(true));
        assert_eq!(v["ref"], json!("mock/mock-model"));
        assert_eq!(v["api"], json!("openai-completions"));
        assert_eq!(v["stopReason"], json!("stop"));
    }
    let sent = mock.requests();
    assert_eq!(sent.len(), 2);
    assert_eq!(
        sent[0].body["max_tokens"],
        json!(256),
        "the model's maxTokens"
    );
}

#[tokio::test]
async fn a_forced_tool_call() {
    let mock = MockServer::start(MockConfig::default()).await;
    let (_dir, loaded) = load(&config_for(&mock, ""));
    let Ok(resolved) = loaded.registry.resolve("mock/mock-model") else {
        panic!("resolve");
    };
    let report = call_model(
        &services(&loaded),
        &resolved,
        &args(true, Some("lookup")),
        |_| {},
    )
    .await;
    assert!(!report.failed(), "{:?}", report.error);
    assert_eq!(report.tool_calls.len(), 1);
    assert_eq!(report.tool_calls[0].1, "lookup");
    assert_eq!(report.tool_calls[0].2, r#"{"input":"mock"}"#);
    assert_eq!(
        report_json(&resolved, &report)["toolCalls"][0]["name"],
        json!("lookup")
    );
}

#[tokio::test]
async fn a_failure_is_classified_in_the_json() {
    let mock = MockServer::start(MockConfig::default()).await;
    let extra =
        r#"headers: { "x-mock-script": "{\"fault\":\"status_429\",\"retry_after_secs\":7}" },"#;
    let (_dir, loaded) = load(&config_for(&mock, extra));
    let Ok(resolved) = loaded.registry.resolve("mock/mock-model") else {
        panic!("resolve");
    };
    let report = call_model(&services(&loaded), &resolved, &args(false, None), |_| {}).await;
    assert!(report.failed());
    let v = report_json(&resolved, &report);
    assert_eq!(v["ok"], json!(false));
    assert_eq!(v["error"]["kind"], json!("rate_limit"));
    assert_eq!(v["error"]["status"], json!(429));
    assert_eq!(v["error"]["retry_after"], json!(7000));
}
