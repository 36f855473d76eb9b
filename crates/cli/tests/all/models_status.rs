//! `clawgate models status [--probe] [--json] [--check]` against mock-upstream: key display
//! and redaction, cooldowns read from the state dir, probes (reachability, served models,
//! the server's context window vs the config's), and the `--check` exit code.

use clawgate_providers::FailureKind;
use mock_upstream::{MockConfig, MockModel, MockServer};
use serde_json::Value;

use super::failover_support::*;
use super::harness::Cli;

fn provider<'a>(json: &'a Value, id: &str) -> &'a Value {
    json["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id)
        .unwrap_or_else(|| panic!("no provider {id} in {json:#}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_shows_chain_keys_redacted_and_no_cooldown() {
    let primary = MockServer::start(MockConfig::default()).await;
    let fallback = MockServer::start(MockConfig::default()).await;
    let cli = Cli::new();
    let cfg = write_config(&cli, &primary, &fallback, 8192);
    let r = run(&cli, &["--config", &cfg, "models", "status", "--json"], ENV);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        !r.stdout.contains(HOSTED_KEY),
        "the key leaked: {}",
        r.stdout
    );
    let json = r.json();
    assert_eq!(json["primary"], "local/mock-model");
    assert_eq!(json["fallbacks"], serde_json::json!(["hosted/mock-model"]));
    assert_eq!(json["probed"], false);
    let local = provider(&json, "local");
    assert_eq!(local["role"], "primary");
    assert_eq!(local["api"], "openai-completions");
    assert_eq!(local["baseUrl"], primary.openai_base_url());
    assert_eq!(local["key"]["state"], "placeholder");
    assert_eq!(local["cooldown"], Value::Null);
    assert_eq!(local["probe"], Value::Null);
    let hosted = provider(&json, "hosted");
    assert_eq!(hosted["role"], "fallback");
    assert_eq!(hosted["key"]["state"], "present");
    assert_eq!(hosted["key"]["redacted"], "sk-h…f3");
    assert_eq!(hosted["key"]["source"], "env HOSTED_API_KEY");
    assert_eq!(json["check"]["ok"], true);
    // No probe: nothing was asked of the upstreams.
    assert_eq!(primary.request_count() + fallback.request_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn human_table_names_each_provider_and_the_verdict() {
    let primary = MockServer::start(MockConfig::default()).await;
    let fallback = MockServer::start(MockConfig::default()).await;
    let cli = Cli::new();
    let cfg = write_config(&cli, &primary, &fallback, 8192);
    let r = run(&cli, &["--config", &cfg, "models", "status"], ENV);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("primary    local/mock-model"),
        "{}",
        r.stdout
    );
    let local = r
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("local "))
        .unwrap();
    assert!(
        local.contains("placeholder") && local.contains("primary"),
        "{local}"
    );
    let hosted = r
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("hosted "))
        .unwrap();
    assert!(hosted.contains("sk-h…f3 (env HOSTED_API_KEY)"), "{hosted}");
    assert!(r.stdout.contains("check: ok"), "{}", r.stdout);
}

#[test]
fn a_hosted_primary_without_a_key_fails_the_check() {
    let cli = Cli::new();
    let cfg = cli
        .write(
            "cfg/clawgate.json",
            r#"{ agents: { defaults: { model: { primary: "anthropic/claude-sonnet-4-5" } } } }"#,
        )
        .to_str()
        .unwrap()
        .to_string();
    let args = ["--config", &cfg, "models", "status", "--json", "--check"];
    let r = cli.run(&args);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let json = r.json();
    let anthropic = provider(&json, "anthropic");
    assert_eq!(anthropic["key"]["state"], "missing");
    assert_eq!(anthropic["key"]["source"], "set ANTHROPIC_API_KEY");
    assert_eq!(json["check"]["ok"], false);
    let problems = json["check"]["problems"].to_string();
    assert!(problems.contains("no API key"), "{problems}");
    // The same state without --check is only reported.
    assert_eq!(cli.run(&args[..5]).code, 0);
    // With the key in the environment the check passes.
    let key = [("ANTHROPIC_API_KEY", "sk-ant-api03-Zx8Qw2Lp5Nv7Kb3f3")];
    let r = cli.run_env(&args, &key);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(
        provider(&r.json(), "anthropic")["key"]["redacted"],
        "sk-a…f3"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_token_naming_an_unset_variable_does_not_stop_models_status() {
    // Only the gateway needs that token: other commands work on the config.
    let primary = MockServer::start(MockConfig::default()).await;
    let fallback = MockServer::start(MockConfig::default()).await;
    let cli = Cli::new();
    let text = config(
        &primary.openai_base_url(),
        &fallback.openai_base_url(),
        8192,
    );
    let body = text.trim_end().strip_suffix('}').unwrap();
    let text = format!(
        r#"{body}  gateway: {{ auth: {{ mode: "token", token: {{ source: "env", id: "CGTEST_UNSET_GATEWAY_TOKEN" }} }} }},
}}"#
    );
    let cfg = cli.write("cfg/clawgate.json", &text);
    let cfg = cfg.to_str().unwrap();
    let r = run(
        &cli,
        &["--config", cfg, "models", "status", "--json", "--check"],
        ENV,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.json()["primary"], "local/mock-model");
}

#[test]
fn the_key_source_names_the_list_variable_a_key_came_from() {
    let cli = Cli::new();
    let cfg = cli
        .write(
            "cfg/clawgate.json",
            r#"{ agents: { defaults: { model: { primary: "anthropic/claude-sonnet-4-5" } } } }"#,
        )
        .to_str()
        .unwrap()
        .to_string();
    let keys = [(
        "ANTHROPIC_API_KEYS",
        "sk-ant-api03-Zx8Qw2Lp5Nv7Kb3f3,sk-ant-api03-Yy8Qw2Lp5Nv7Kb3z9",
    )];
    let r = cli.run_env(&["--config", &cfg, "models", "status", "--json"], &keys);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let json = r.json();
    let key = &provider(&json, "anthropic")["key"];
    assert_eq!(key["source"], "env ANTHROPIC_API_KEYS");
    assert_eq!(key["redacted"], "sk-a…f3");
    assert_eq!(key["count"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cooldown_on_the_state_dir_is_shown_and_fails_the_check() {
    let primary = MockServer::start(MockConfig::default()).await;
    let fallback = MockServer::start(MockConfig::default()).await;
    let cli = Cli::new();
    let cfg = write_config(&cli, &primary, &fallback, 8192);
    cool_down_local(&cli, FailureKind::Timeout);
    let r = run(
        &cli,
        &["--config", &cfg, "models", "status", "--json", "--check"],
        ENV,
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    let json = r.json();
    let cooldown = &provider(&json, "local")["cooldown"];
    assert_eq!(cooldown["reason"], "timeout");
    assert_eq!(cooldown["errorCount"], 1);
    assert_eq!(cooldown["disabled"], false);
    let remaining = cooldown["remainingMs"].as_u64().unwrap();
    assert!(remaining > 0 && remaining <= 60_000, "{cooldown}");
    assert_eq!(provider(&json, "hosted")["cooldown"], Value::Null);
    assert!(
        json["check"]["problems"]
            .to_string()
            .contains("cooling down")
    );
    let r = run(&cli, &["--config", &cfg, "models", "status"], ENV);
    let local = r
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("local "))
        .unwrap();
    assert!(
        local.contains("cooling") && local.contains("timeout, 1 error"),
        "{local}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_reports_reachability_served_models_and_a_smaller_server_context() {
    // The server runs the model with 4,096 tokens; the config says 32,768.
    let primary =
        MockServer::start(MockConfig::default().models(vec![MockModel::new("mock-model", 4096)]))
            .await;
    let fallback = MockServer::start(
        MockConfig::default().models(vec![MockModel::new("something-else", 8192)]),
    )
    .await;
    let cli = Cli::new();
    let cfg = write_config(&cli, &primary, &fallback, 32768);
    let r = run(
        &cli,
        &[
            "--config", &cfg, "models", "status", "--probe", "--json", "--check",
        ],
        ENV,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let json = r.json();
    assert_eq!(json["probed"], true);
    let probe = &provider(&json, "local")["probe"];
    assert_eq!(probe["reachable"], true, "{probe}");
    assert_eq!(probe["models"], serde_json::json!(["mock-model"]));
    let models = json["models"].as_array().unwrap();
    let local = models
        .iter()
        .find(|m| m["ref"] == "local/mock-model")
        .unwrap();
    assert_eq!(local["role"], "primary");
    assert_eq!(local["served"], true);
    assert_eq!(local["contextWindow"], 32768);
    assert_eq!(local["serverContextWindow"], 4096);
    let hosted = models
        .iter()
        .find(|m| m["ref"] == "hosted/mock-model")
        .unwrap();
    assert_eq!(hosted["served"], false);
    let warnings = json["warnings"].to_string();
    assert!(
        warnings.contains(
            "local/mock-model: server reports context 4096, config says 32768 — set contextWindow: 4096"
        ),
        "{warnings}"
    );
    assert!(
        warnings.contains("hosted/mock-model: not served by hosted (it lists: something-else)"),
        "{warnings}"
    );
    // The human form prints the same warning as its own line (no spinner: stdout is a pipe).
    let r = run(
        &cli,
        &["--config", &cfg, "models", "status", "--probe"],
        ENV,
    );
    assert!(
        r.stdout.lines().any(|l| l
            == "warning: local/mock-model: server reports context 4096, config says 32768 — set contextWindow: 4096"),
        "{}",
        r.stdout
    );
    assert!(
        !r.stdout.contains('⠁') && !r.stderr.contains("probing"),
        "{}",
        r.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_primary_fails_the_check_only_when_probed() {
    let fallback = MockServer::start(MockConfig::default()).await;
    let cli = Cli::new();
    let text = config(&dead_url(), &fallback.openai_base_url(), 8192);
    let cfg = cli.write("cfg/clawgate.json", &text);
    let cfg = cfg.to_str().unwrap();
    let r = run(&cli, &["--config", cfg, "models", "status", "--check"], ENV);
    assert_eq!(
        r.code, 0,
        "without --probe reachability is not known: {}",
        r.stdout
    );
    let r = run(
        &cli,
        &[
            "--config", cfg, "models", "status", "--check", "--probe", "--json",
        ],
        ENV,
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    let json = r.json();
    let probe = &provider(&json, "local")["probe"];
    assert_eq!(probe["reachable"], false);
    assert_eq!(probe["error"]["kind"], "network");
    assert_eq!(provider(&json, "hosted")["probe"]["reachable"], true);
    assert!(
        json["check"]["problems"]
            .to_string()
            .contains("unreachable")
    );
    // Probes never write cooldowns.
    assert!(!cli.path("state/cooldowns.json").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_says_when_a_responses_server_has_no_responses_route() {
    let primary =
        MockServer::start(MockConfig::default().quirk(mock_upstream::Quirk::NoResponsesRoute404))
            .await;
    let fallback = MockServer::start(MockConfig::default()).await;
    let cli = Cli::new();
    let text = config(
        &primary.openai_base_url(),
        &fallback.openai_base_url(),
        8192,
    )
    .replacen(
        r#"api: "openai-completions""#,
        r#"api: "openai-responses""#,
        1,
    );
    let cfg = cli.write("cfg/clawgate.json", &text);
    let cfg = cfg.to_str().unwrap();
    let r = run(
        &cli,
        &["--config", cfg, "models", "status", "--probe", "--json"],
        ENV,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let json = r.json();
    let local = provider(&json, "local");
    assert_eq!(local["api"], "openai-responses");
    assert_eq!(local["learned"]["responsesViaChat"], true, "{local}");
    assert_eq!(provider(&json, "hosted")["learned"], Value::Null);

    let r = run(&cli, &["--config", cfg, "models", "status", "--probe"], ENV);
    assert!(
        r.stdout.contains(
            "note: local: the server has no /responses; calls are bridged to /chat/completions"
        ),
        "{}",
        r.stdout
    );
    // Without a probe nothing was asked, so nothing is known.
    let r = run(&cli, &["--config", cfg, "models", "status", "--json"], ENV);
    assert_eq!(provider(&r.json(), "local")["learned"], Value::Null);
}
