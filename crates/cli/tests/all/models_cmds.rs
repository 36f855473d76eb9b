//! `models list`, `aliases list`, `fallbacks list`: tables and `--json` shapes.

use super::harness::{Cli, GUIDE_CONFIG};

fn guide(cli: &Cli) -> String {
    cli.write("cfg/clawgate.json", GUIDE_CONFIG)
        .to_str()
        .unwrap()
        .to_string()
}

#[test]
fn list_shows_configured_rows_with_roles() {
    let cli = Cli::new();
    let cfg = guide(&cli);
    let r = cli.run(&["--config", &cfg, "models", "list"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().map(str::trim_end).collect();
    assert_eq!(lines.len(), 3, "{}", r.stdout);
    for col in [
        "ref",
        "alias",
        "api",
        "context",
        "max out",
        "input",
        "cost in/out",
        "source",
        "role",
    ] {
        assert!(lines[0].contains(col), "{}", lines[0]);
    }
    let cells = |l: &str| l.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    assert_eq!(
        cells(lines[1]),
        [
            "lmstudio/minimax-m2.1-gs32",
            "openai-responses",
            "197K",
            "8K",
            "text",
            "-/-",
            "config",
            "primary"
        ]
    );
    assert_eq!(
        cells(lines[2]),
        [
            "anthropic/claude-opus-4-6",
            "Opus",
            "anthropic-messages",
            "1M",
            "128K",
            "text+image",
            "$5.00/$25.00",
            "catalog+config",
            "fallback",
            "1"
        ]
    );
}

#[test]
fn list_all_includes_catalog_and_implicit_providers() {
    let cli = Cli::new();
    let cfg = guide(&cli);
    let r = cli.run(&["--config", &cfg, "models", "list", "--all"]);
    assert_eq!(r.code, 0);
    for needle in [
        "openai/gpt-5.4 ",
        "openrouter/moonshotai/kimi-k2",
        "anthropic/claude-haiku-4-5",
        "vllm/*",
        "ollama/*",
        "llamacpp/*",
    ] {
        assert!(r.stdout.contains(needle), "missing {needle}:\n{}", r.stdout);
    }
    assert!(
        !r.stdout.contains("lmstudio/*"),
        "lmstudio has a configured row"
    );
}

#[test]
fn list_json_shape() {
    let cli = Cli::new();
    let cfg = guide(&cli);
    let v = cli
        .run(&["--config", &cfg, "models", "list", "--json"])
        .json();
    assert_eq!(v["primary"], "lmstudio/minimax-m2.1-gs32");
    assert_eq!(
        v["fallbacks"],
        serde_json::json!(["anthropic/claude-opus-4-6"])
    );
    let models = v["models"].as_array().unwrap();
    assert_eq!(models.len(), 2);
    let m = &models[0];
    assert_eq!(m["ref"], "lmstudio/minimax-m2.1-gs32");
    assert_eq!(m["provider"], "lmstudio");
    assert_eq!(m["id"], "minimax-m2.1-gs32");
    assert_eq!(m["name"], "MiniMax M2.1", "the row's display name");
    assert_eq!(m["api"], "openai-responses");
    assert_eq!(m["contextWindow"], 196608);
    assert_eq!(m["maxTokens"], 8192);
    assert_eq!(m["input"], serde_json::json!(["text"]));
    assert_eq!(
        m["cost"],
        serde_json::json!({"input": 0.0, "output": 0.0, "cacheRead": 0.0, "cacheWrite": 0.0})
    );
    assert_eq!(m["source"], "config");
    assert_eq!(m["configured"], true);
    assert_eq!(m["local"], true);
    assert_eq!(m["roles"], serde_json::json!(["primary"]));
    assert_eq!(m["alias"], serde_json::Value::Null);
    assert_eq!(models[1]["alias"], "Opus");
    assert_eq!(models[1]["roles"], serde_json::json!(["fallback 1"]));
    let all = cli
        .run(&["--config", &cfg, "models", "list", "--all", "--json"])
        .json();
    assert!(all["models"].as_array().unwrap().len() > 20);
    let empty: Vec<&str> = all["providersWithoutModels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(empty, ["vllm", "ollama", "llamacpp"]);
}

#[test]
fn aliases_and_fallbacks_listings() {
    let cli = Cli::new();
    let cfg = guide(&cli);
    let r = cli.run(&["--config", &cfg, "models", "aliases", "list"]);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()
                == ["Opus", "anthropic/claude-opus-4-6"]),
        "{}",
        r.stdout
    );
    let v = cli
        .run(&["--config", &cfg, "models", "aliases", "list", "--json"])
        .json();
    assert_eq!(
        v,
        serde_json::json!({"aliases": {"Opus": "anthropic/claude-opus-4-6"}})
    );
    let r = cli.run(&["--config", &cfg, "models", "fallbacks", "list"]);
    assert_eq!(r.stdout.trim(), "1. anthropic/claude-opus-4-6");
    let v = cli
        .run(&["--config", &cfg, "models", "fallbacks", "list", "--json"])
        .json();
    assert_eq!(
        v,
        serde_json::json!({"fallbacks": [{"ref": "anthropic/claude-opus-4-6", "resolved": "anthropic/claude-opus-4-6", "contextWindow": 1000000}]})
    );
}

#[test]
fn listing_an_invalid_config_exits_1() {
    let cli = Cli::new();
    let cfg = cli.write("cfg/bad.json", "{ models: { mode: 'mix' } }");
    let r = cli.run(&["--config", cfg.to_str().unwrap(), "models", "list"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("did you mean \"merge\"?") || r.stderr.contains("expected one of"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty());
}

/// `models list --probe`: LM Studio's native list is asked (the implicit `lmstudio` id is
/// discovered by default), its models are listed with the source `discovered`, a configured
/// row keeps its id and window with a warning when the server runs a smaller one, and a
/// provider marked `discover: true` that does not answer is a note, not an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_probe_lists_discovered_models_and_warns_about_windows() {
    use mock_upstream::{MockConfig, MockModel, MockServer};

    use super::failover_support::{dead_url, run};

    let lmstudio = MockServer::start(MockConfig::default().models(vec![
        MockModel::new("qwen/qwen3-8b", 4096).max_context(40960),
        MockModel::new("gemma-3-12b", 32768).not_loaded(),
    ]))
    .await;
    let cli = Cli::new();
    let cfg = cli.write(
        "cfg/clawgate.json",
        &format!(
            r#"{{ models: {{ mode: "replace", providers: {{
                lmstudio: {{ baseUrl: "{}", models: [
                    {{ id: "qwen/qwen3-8b", contextWindow: 32768 }}, {{ id: "llama-3" }} ] }},
                gone: {{ baseUrl: "{}", discover: true, models: [] }},
              }} }},
              agents: {{ defaults: {{ model: "lmstudio/qwen/qwen3-8b" }} }} }}"#,
            lmstudio.openai_base_url(),
            dead_url(),
        ),
    );
    let cfg = cfg.to_str().unwrap();

    let r = run(&cli, &["--config", cfg, "models", "list", "--json"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(lmstudio.request_count(), 0, "no probe, no request");
    assert!(!r.stdout.contains("gemma-3-12b"));

    let r = run(
        &cli,
        &["--config", cfg, "models", "list", "--probe", "--json"],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let json = r.json();
    let row = |reference: &str| {
        json["models"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["ref"] == reference)
            .unwrap_or_else(|| panic!("no {reference} in {json:#}"))
            .clone()
    };
    let gemma = row("lmstudio/gemma-3-12b");
    assert_eq!(
        (gemma["source"].as_str(), gemma["contextWindow"].as_u64()),
        (Some("discovered"), Some(32768))
    );
    let qwen = row("lmstudio/qwen/qwen3-8b");
    assert_eq!(qwen["contextWindow"], 32768, "the configured window stays");
    assert_eq!(
        row("lmstudio/llama-3")["source"],
        "config",
        "a configured id is kept"
    );
    assert_eq!(
        json["warnings"],
        serde_json::json!([
            "lmstudio/qwen/qwen3-8b: server reports context 4096, config says 32768 — set contextWindow: 4096"
        ])
    );
    let discovery = json["discovery"].as_array().unwrap();
    let reachable: Vec<(&str, bool)> = discovery
        .iter()
        .map(|p| {
            (
                p["provider"].as_str().unwrap(),
                p["reachable"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(reachable, [("lmstudio", true), ("gone", false)]);
    assert!(
        lmstudio
            .requests()
            .iter()
            .any(|r| r.path == "/api/v1/models")
    );

    let r = run(&cli, &["--config", cfg, "models", "list", "--probe"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let gemma_line = r
        .stdout
        .lines()
        .find(|l| l.contains("lmstudio/gemma-3-12b"))
        .unwrap();
    assert!(gemma_line.contains("discovered"), "{gemma_line}");
    assert!(
        r.stderr.contains("note: gone (http://127.0.0.1:"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("warning: lmstudio/qwen/qwen3-8b: server reports context 4096"),
        "{}",
        r.stderr
    );
}
