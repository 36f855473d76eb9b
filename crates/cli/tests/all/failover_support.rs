//! Shared by the `models status` and `models test --chain` tests: mock-upstream servers in
//! this test process (a multi-threaded runtime keeps serving them while the `clawgate`
//! binary runs), and a config naming them as providers `local` (the primary) and `hosted`
//! (its fallback).

use clawgate_providers::FailureKind;
use clawgate_router::{Clock, CooldownKey, CooldownSchedule, CooldownStore, Penalty, SystemClock};
use mock_upstream::MockServer;

use super::harness::{Cli, Run};

pub const FALLBACK_TEXT: &str = "answer from the fallback";
/// A real-looking key (long, mixed): shown only redacted.
pub const HOSTED_KEY: &str = "sk-hosted-9Qx7Lm2Vb8Nc4Zt6f3";

/// Runs the binary without blocking the runtime's other worker, which serves the mocks.
pub fn run(cli: &Cli, args: &[&str], env: &[(&str, &str)]) -> Run {
    tokio::task::block_in_place(|| cli.run_env(args, env))
}

/// `local` (primary, placeholder key, `window` tokens configured) on `primary`, `hosted`
/// (fallback, key from `HOSTED_API_KEY`) on `fallback`; both openai-completions.
pub fn config(primary: &str, fallback: &str, window: u64) -> String {
    format!(
        r#"{{
  models: {{ mode: "replace", providers: {{
    local: {{ baseUrl: "{primary}", apiKey: "sk-local", api: "openai-completions",
      models: [{{ id: "mock-model", name: "Mock", contextWindow: {window}, maxTokens: 256 }}] }},
    hosted: {{ baseUrl: "{fallback}", api: "openai-completions",
      models: [{{ id: "mock-model", name: "Mock", contextWindow: 8192, maxTokens: 256 }}] }},
  }} }},
  agents: {{ defaults: {{ model: {{ primary: "local/mock-model", fallbacks: ["hosted/mock-model"] }},
    models: {{ "hosted/mock-model": {{ alias: "backup" }} }} }} }},
}}"#
    )
}

/// Writes the config for two mocks and returns its path.
pub fn write_config(cli: &Cli, primary: &MockServer, fallback: &MockServer, window: u64) -> String {
    let text = config(
        &primary.openai_base_url(),
        &fallback.openai_base_url(),
        window,
    );
    cli.write("cfg/clawgate.json", &text)
        .to_str()
        .unwrap()
        .to_string()
}

/// The environment every run gets: the hosted provider's key.
pub const ENV: &[(&str, &str)] = &[("HOSTED_API_KEY", HOSTED_KEY)];

/// A loopback URL nothing listens on (bound, then released).
pub fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/v1")
}

/// Puts provider `local` in cooldown on the sandbox's state dir, as a running gateway would.
pub fn cool_down_local(cli: &Cli, kind: FailureKind) {
    let store = CooldownStore::open(cli.path("state"), CooldownSchedule::default());
    store.record_failure(
        &CooldownKey::provider("local"),
        &kind,
        Penalty::Cooldown,
        SystemClock.now_ms(),
    );
}
