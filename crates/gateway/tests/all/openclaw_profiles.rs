//! An OpenClaw user's hosted keys, as OpenClaw stored them: the fixtures OpenClaw made
//! (`crates/config/tests/fixtures/openclaw-<version>`, one per auth-store layout) sit in
//! `~/.openclaw`, the config gives `anthropic` no key and points it at the mock (Anthropic
//! Messages dialect), and the upstream must receive the profile's key as `x-api-key` — then
//! the next profile's after a rate limit, and exactly the pinned one for `@profile`.

use std::path::PathBuf;

use mock_upstream::{Fault, Script};
use serde_json::Value;

use crate::support::{Harness, Inbound, MODEL, Setup, mock};

fn fixture(version: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../config/tests/fixtures")
        .join(format!("openclaw-{version}"))
        .join("openclaw")
}

/// The gateway over `version`'s store, with `anthropic` (no key in the config) at the mock.
async fn over(version: &str) -> Harness {
    over_with(version, &format!("anthropic/{MODEL}")).await
}

async fn over_with(version: &str, primary: &str) -> Harness {
    let mock = mock().await;
    let anthropic = format!(
        r#"anthropic: {{
            baseUrl: "{}", api: "anthropic-messages",
            timeouts: {{ connectMs: 2000, firstEventMs: 3000, idleMs: 400, totalMs: 20000 }},
            models: [{{ id: "{MODEL}", contextWindow: 65536, maxTokens: 1024 }}],
        }},"#,
        mock.base_url()
    );
    Harness::with_mock(
        mock,
        Setup {
            primary: primary.to_string(),
            extra_providers: anthropic,
            openclaw_home: Some(fixture(version)),
            // Agent turns (the default agent has write tools) need the token.
            token: Some("t0ken".into()),
            ..Setup::default()
        },
    )
    .await
}

/// What the mock logged of the `x-api-key` of every request (the last 4 characters).
fn keys_seen(h: &Harness) -> Vec<String> {
    h.mock
        .requests()
        .iter()
        .map(|r| r.header("x-api-key").unwrap_or("(none)").to_string())
        .collect()
}

async fn ask(h: &Harness, model: &str) -> (u16, Value) {
    let r = h
        .post("/v1/messages", &Inbound::Messages.body(model, "hi", false))
        .await;
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn the_state_database_profile_key_reaches_the_upstream_and_rotates_on_rate_limits() {
    let h = over("2026.9.6").await;
    let model = format!("anthropic/{MODEL}");
    let (status, body) = ask(&h, &model).await;
    assert_eq!(status, 200, "{body}");
    // anthropic:manual (sk-ant-api03-FAKEmanualKEY…mnop) comes first.
    assert_eq!(keys_seen(&h), ["****mnop"]);

    // A rate limit on that key: the router rotates to the next profile, anthropic:backup.
    h.mock.clear_requests();
    h.mock.push_script(Script::fault(Fault::Status429));
    let (status, body) = ask(&h, &model).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(keys_seen(&h), ["****mnop", "****onml"]);
}

#[tokio::test]
async fn a_ref_with_profile_uses_exactly_that_profiles_key() {
    let h = over("2026.9.6").await;
    let (status, body) = ask(&h, &format!("anthropic/{MODEL}@anthropic:backup")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(keys_seen(&h), ["****onml"]);

    // A pinned profile never rotates: a rate limit on it is the call's error (no fallbacks).
    h.mock.clear_requests();
    h.mock.push_script(Script::fault(Fault::Status429));
    let (status, _) = ask(&h, &format!("anthropic/{MODEL}@anthropic:backup")).await;
    assert_eq!(status, 429);
    assert_eq!(keys_seen(&h), ["****onml"]);

    let (status, body) = ask(&h, &format!("anthropic/{MODEL}@anthropic:nosuch")).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["error"]["message"],
        "No credentials found for profile \"anthropic:nosuch\" (provider anthropic)."
    );
}

#[tokio::test]
async fn the_main_agent_database_profile_key_reaches_the_upstream() {
    let h = over("2026.7.35").await;
    let (status, body) = ask(&h, &format!("anthropic/{MODEL}")).await;
    assert_eq!(status, 200, "{body}");
    // anthropic:manual (sk-ant-api03-FAKEmidKEY…opqr).
    assert_eq!(keys_seen(&h), ["****opqr"]);
}

#[tokio::test]
async fn the_auth_profiles_json_key_reaches_the_upstream_in_the_stored_order() {
    let h = over("2026.5.28").await;
    let (status, body) = ask(&h, &format!("anthropic/{MODEL}")).await;
    assert_eq!(status, 200, "{body}");
    // `models auth order set` put anthropic:backup (…ponm) first.
    assert_eq!(keys_seen(&h), ["****ponm"]);
}

#[tokio::test]
async fn an_agent_whose_primary_pins_a_profile_uses_that_key() {
    let h = over_with("2026.9.6", &format!("anthropic/{MODEL}@anthropic:backup")).await;
    let (status, body) = ask(&h, "openclaw").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(keys_seen(&h), ["****onml"]);
}
