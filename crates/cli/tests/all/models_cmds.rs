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
