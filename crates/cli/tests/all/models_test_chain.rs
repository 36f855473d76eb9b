//! `clawgate models test <ref> --chain` against mock-upstream: the call goes through the
//! router with the configured fallbacks, and the attempt record says who answered, how each
//! failed attempt failed, and which candidates were skipped for cooldown. The cooldown the
//! call leaves behind is the one `models status` and the next call see.

use mock_upstream::{Fault, MockConfig, MockServer, Script};
use serde_json::Value;

use super::failover_support::*;
use super::harness::Cli;

fn healthy_fallback() -> MockConfig {
    MockConfig::default().script(Script::text(FALLBACK_TEXT))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chain_fails_over_shows_the_record_and_remembers_the_cooldown() {
    let primary = MockServer::start(MockConfig::default().fault(Fault::Status503)).await;
    let fallback = MockServer::start(healthy_fallback()).await;
    let cli = Cli::new();
    let cfg = write_config(&cli, &primary, &fallback, 8192);
    let args = [
        "--config",
        &cfg,
        "models",
        "test",
        "local/mock-model",
        "--chain",
        "--json",
    ];

    let r = run(&cli, &args, ENV);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let json = r.json();
    assert_eq!(json["ok"], true);
    assert_eq!(
        json["chain"],
        serde_json::json!(["local/mock-model", "hosted/mock-model"])
    );
    assert_eq!(json["answeredBy"], "hosted/mock-model");
    assert_eq!(json["fallback"], true);
    assert_eq!(json["text"], FALLBACK_TEXT);
    let attempts = json["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "{attempts:#?}");
    assert_eq!(attempts[0]["ref"], "local/mock-model");
    assert_eq!(attempts[0]["outcome"], "failed");
    assert_eq!(attempts[0]["kind"], "overloaded");
    assert_eq!(attempts[0]["status"], 503);
    assert!(attempts[0]["latencyMs"].is_u64());
    assert_eq!(attempts[1]["ref"], "hosted/mock-model");
    assert_eq!(attempts[1]["outcome"], "ok");
    assert_eq!(primary.request_count(), 1);

    // The failure is on the state dir: the next call skips the primary without calling it...
    let r = run(&cli, &args, ENV);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let json = r.json();
    let skipped = &json["attempts"][0];
    assert_eq!(skipped["outcome"], "skipped_for_cooldown", "{json:#}");
    assert_eq!(skipped["reason"], "overloaded");
    assert!(skipped["remainingMs"].as_u64().unwrap() > 0);
    assert_eq!(json["answeredBy"], "hosted/mock-model");
    assert_eq!(
        primary.request_count(),
        1,
        "no attempt on the cooled-down primary"
    );

    // ...and `models status` reports it.
    let r = run(&cli, &["--config", &cfg, "models", "status", "--json"], ENV);
    let status = r.json();
    let local = status["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "local")
        .unwrap();
    assert_eq!(local["cooldown"]["reason"], "overloaded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn human_output_lists_each_attempt_and_who_answered() {
    let primary = MockServer::start(MockConfig::default().fault(Fault::Status500)).await;
    let fallback = MockServer::start(healthy_fallback()).await;
    let cli = Cli::new();
    let cfg = write_config(&cli, &primary, &fallback, 8192);
    let r = run(
        &cli,
        &[
            "--config",
            &cfg,
            "models",
            "test",
            "local/mock-model",
            "--chain",
        ],
        ENV,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains(&format!("answer: {FALLBACK_TEXT}")),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("chain: local/mock-model -> hosted/mock-model"),
        "{}",
        r.stdout
    );
    let first = r
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("1 "))
        .unwrap();
    assert!(
        first.contains("local/mock-model") && first.contains("failed: server_error"),
        "{first}"
    );
    let second = r
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("2 "))
        .unwrap();
    assert!(
        second.contains("hosted/mock-model") && second.contains("ok"),
        "{second}"
    );
    assert!(
        r.stdout
            .contains("answered by hosted/mock-model (fallback)"),
        "{}",
        r.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_explicit_chain_and_a_chain_where_all_fail() {
    let primary = MockServer::start(MockConfig::default().fault(Fault::Status401)).await;
    let fallback = MockServer::start(MockConfig::default().fault(Fault::Status500)).await;
    let cli = Cli::new();
    let cfg = write_config(&cli, &primary, &fallback, 8192);
    // `--chain=<alias>`: the ref, then exactly the listed models.
    let r = run(
        &cli,
        &[
            "--config",
            &cfg,
            "models",
            "test",
            "local/mock-model",
            "--chain=backup",
            "--json",
        ],
        ENV,
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    let json = r.json();
    assert_eq!(json["ok"], false);
    assert_eq!(json["answeredBy"], Value::Null);
    let kinds: Vec<&str> = json["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["auth", "server_error"]);
    let message = json["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("all models failed (2)"), "{message}");
    assert_eq!(json["error"]["kind"], "server_error");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_after_the_answer_started_is_not_failed_over() {
    let primary = MockServer::start(MockConfig::default().fault(Fault::TruncatedStream)).await;
    let fallback = MockServer::start(healthy_fallback()).await;
    let cli = Cli::new();
    let cfg = write_config(&cli, &primary, &fallback, 8192);
    let r = run(
        &cli,
        &[
            "--config",
            &cfg,
            "models",
            "test",
            "local/mock-model",
            "--chain",
            "--stream",
        ],
        ENV,
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout.contains("answered by local/mock-model"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains(FALLBACK_TEXT), "{}", r.stdout);
    assert!(
        r.stderr
            .contains("error: truncated (after the answer started"),
        "{}",
        r.stderr
    );
    assert_eq!(fallback.request_count(), 0);
}
