//! `clawgate agent` against mock-upstream: one turn with `-m` (streamed text, `--json`, exit
//! codes, failure message, fallback notice), the chat reading lines from a non-terminal stdin,
//! and what happens when no model is configured.

use std::io::Write;
use std::process::{Command, Stdio};

use mock_upstream::{Fault, MockConfig, MockServer, Script};

use super::failover_support::*;
use super::harness::{Cli, Run};

pub const ANSWER: &str = "The mock agent answers in four chunks.";

pub fn healthy(text: &str) -> MockConfig {
    MockConfig::default().script(Script::text(text)).chunks(4)
}

/// Runs `clawgate ARGS` in the sandbox with `stdin` piped in (not a terminal).
pub fn run_stdin(cli: &Cli, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Run {
    tokio::task::block_in_place(|| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_clawgate"))
            .args(args)
            .env_clear()
            .env("HOME", cli.path("home"))
            .env("CLAWGATE_STATE_DIR", cli.path("state"))
            .envs(env.iter().copied())
            .current_dir(cli.path("cwd"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    })
}

/// A config with `local` (primary) and `hosted` (fallback) on the two mocks.
pub async fn two_mocks(
    primary: MockConfig,
    fallback: MockConfig,
) -> (Cli, String, MockServer, MockServer) {
    let primary = MockServer::start(primary).await;
    let fallback = MockServer::start(fallback).await;
    let cli = Cli::new();
    let cfg = write_config(&cli, &primary, &fallback, 32_768);
    (cli, cfg, primary, fallback)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_turn_streams_the_answer_to_stdout_and_notices_to_stderr() {
    let (cli, cfg, primary, fallback) = two_mocks(healthy(ANSWER), healthy(FALLBACK_TEXT)).await;
    let r = run(&cli, &["--config", &cfg, "agent", "-m", "hello there"], ENV);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.stdout, format!("{ANSWER}\n"), "only the answer on stdout");
    assert!(
        r.stderr
            .contains(clawgate_agent::ToolPolicy::local_default_notice()),
        "the narrow-tool notice for a local primary goes to stderr: {}",
        r.stderr
    );
    assert!(!r.stderr.contains("fallback"), "{}", r.stderr);
    assert_eq!(primary.request_count(), 1);
    assert_eq!(fallback.request_count(), 0);
    let sent = primary.requests();
    let body = serde_json::to_string(&sent[0].body).unwrap();
    assert!(
        body.contains("hello there"),
        "the user text reached the model: {body}"
    );
    assert!(body.contains("\"stream\":true"), "the turn streams: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_prints_one_object_with_the_turn() {
    let (cli, cfg, _primary, _fallback) = two_mocks(healthy(ANSWER), healthy(FALLBACK_TEXT)).await;
    let r = run(
        &cli,
        &[
            "--config",
            &cfg,
            "agent",
            "-m",
            "hi",
            "--json",
            "--session",
            "work",
        ],
        ENV,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let v = r.json();
    assert_eq!(v["ok"], true);
    assert_eq!(v["reply"], ANSWER);
    assert_eq!(v["modelRef"], "local/mock-model");
    assert_eq!(v["fallback"], false);
    assert_eq!(v["sessionKey"], "agent:main:work");
    assert_eq!(v["agent"], "main");
    assert!(!v["sessionId"].as_str().unwrap().is_empty());
    assert!(v["reasoning"].is_null());
    assert!(v["usage"].is_object());
    assert!(v["usage"]["output_tokens"].as_u64().unwrap() > 0, "{v:#}");
    assert_eq!(v["toolCalls"], serde_json::json!([]));
    assert_eq!(v["compactions"], 0);
    let notices = v["notices"].as_array().unwrap();
    assert!(
        notices
            .iter()
            .any(|n| n.as_str().unwrap().contains("narrow tool set")),
        "{notices:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_turn_exits_1_with_the_agents_message() {
    let primary = MockServer::start(MockConfig::default().fault(Fault::Status401)).await;
    let cli = Cli::new();
    let cfg = cli.write(
        "cfg/clawgate.json",
        &format!(
            r#"{{ models: {{ mode: "replace", providers: {{ local: {{ baseUrl: "{}", apiKey: "sk-local",
                 api: "openai-completions", models: [{{ id: "mock-model", contextWindow: 32768, maxTokens: 256 }}] }} }} }},
               agents: {{ defaults: {{ model: {{ primary: "local/mock-model" }} }} }} }}"#,
            primary.openai_base_url()
        ),
    );
    let cfg = cfg.to_str().unwrap();
    let r = run(&cli, &["--config", cfg, "agent", "-m", "hi"], &[]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.stdout, "", "no answer text on failure");
    assert!(
        r.stderr.contains("error: Agent failed before reply:"),
        "the agent's user-ready message: {}",
        r.stderr
    );
    let r = run(&cli, &["--config", cfg, "agent", "-m", "hi", "--json"], &[]);
    assert_eq!(r.code, 1);
    let v = r.json();
    assert_eq!(v["ok"], false);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .starts_with("Agent failed before reply:"),
        "{v}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_faulting_primary_gives_a_fallback_notice_on_stderr() {
    let (cli, cfg, primary, fallback) = two_mocks(
        MockConfig::default().fault(Fault::Status503),
        healthy(FALLBACK_TEXT),
    )
    .await;
    let r = run(&cli, &["--config", &cfg, "agent", "-m", "hi"], ENV);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.stdout, format!("{FALLBACK_TEXT}\n"));
    assert!(
        r.stderr
            .contains("↪ fallback: hosted/mock-model answered (primary local/mock-model"),
        "{}",
        r.stderr
    );
    assert_eq!(primary.request_count(), 1);
    assert_eq!(fallback.request_count(), 1);
    // The next turn is still answered by the fallback (the primary is cooling down): the
    // notice is not repeated, and --json says a fallback answered.
    let r = run(
        &cli,
        &["--config", &cfg, "agent", "-m", "again", "--json"],
        ENV,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["fallback"], true, "{v:#}");
    assert_eq!(v["modelRef"], "hosted/mock-model");
    assert!(
        !v["notices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("fallback")),
        "the notice is given once per change: {v:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_reads_lines_from_a_piped_stdin() {
    let (cli, cfg, primary, _fallback) = two_mocks(healthy(ANSWER), healthy(FALLBACK_TEXT)).await;
    let input = "first question\n\n/status\n/new\nsecond question\n/help\n/exit\nnever sent\n";
    let r = run_stdin(&cli, &["--config", &cfg, "agent"], ENV, input);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(
        r.stdout.matches(ANSWER).count(),
        2,
        "two answers: {}",
        r.stdout
    );
    assert!(
        r.stdout.contains("Session: agent:main:main"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("Model: local/mock-model"), "{}", r.stdout);
    assert!(r.stdout.contains("New session"), "{}", r.stdout);
    assert!(
        r.stdout.contains("/compact"),
        "the runtime's help: {}",
        r.stdout
    );
    assert!(
        r.stdout.contains("/exit"),
        "the chat's own help: {}",
        r.stdout
    );
    assert_eq!(
        primary.request_count(),
        2,
        "slash commands stay local; nothing after /exit"
    );
    // After /new the second question went out without the first one.
    let last = serde_json::to_string(&primary.requests()[1].body).unwrap();
    assert!(last.contains("second question") && !last.contains("first question"));

    // --json: one object per line.
    let r = run_stdin(
        &cli,
        &["--config", &cfg, "agent", "--json"],
        ENV,
        "one\ntwo\n",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<serde_json::Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().all(|v| v["reply"] == ANSWER));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_exits_1_when_a_piped_turn_failed() {
    let (cli, cfg, _primary, _fallback) = two_mocks(
        MockConfig::default().fault(Fault::Status503),
        MockConfig::default().fault(Fault::Status503),
    )
    .await;
    let r = run_stdin(&cli, &["--config", &cfg, "agent"], ENV, "hi\n/status\n");
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("error: Agent failed before reply"),
        "{}",
        r.stderr
    );
    assert!(
        r.stdout.contains("Session: agent:main:main"),
        "the chat went on after the failure: {}",
        r.stdout
    );
}

#[test]
fn no_model_configured_prints_what_to_configure() {
    let cli = Cli::new();
    let r = cli.run(&["agent", "-m", "hi"]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    for needle in [
        "no model is configured",
        "no config file found",
        "LM Studio",
        "Ollama",
        "vLLM",
        "ANTHROPIC_API_KEY",
        "clawgate models set",
        "./scripts/quickstart",
        "gemma-3-270m-q4_k_m.gguf",
    ] {
        assert!(r.stderr.contains(needle), "{needle} missing: {}", r.stderr);
    }
    assert_eq!(r.stdout, "");
}

#[test]
fn unknown_agent_is_an_error() {
    let cli = Cli::new();
    let r = cli.run(&[
        "agent", "-m", "hi", "--agent", "nobody", "--model", "vllm/x",
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("unknown agent \"nobody\""),
        "{}",
        r.stderr
    );
}

/// Without the engine compiled in, the demo model is still the default (its file is there)
/// and the turn fails with the providers crate's message saying how to get the engine.
#[cfg(not(feature = "embedded"))]
#[test]
fn demo_model_without_the_engine_says_how_to_build_it() {
    let cli = Cli::new();
    cli.write("state/models/gemma-3-270m-q4_k_m.gguf", "GGUF");
    let r = cli.run(&["agent", "-m", "hi"]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(!r.stderr.contains("no model is configured"), "{}", r.stderr);
    assert!(
        r.stderr.contains("model embedded/gemma-3-270m")
            && r.stderr.contains("needs the embedded engine")
            && r.stderr.contains("cargo feature `embedded`"),
        "{}",
        r.stderr
    );
}
