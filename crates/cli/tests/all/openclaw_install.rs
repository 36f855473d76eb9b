//! `clawgate models status` on an OpenClaw install, read as-is: the keys of OpenClaw's
//! auth-profile store (the fixture OpenClaw made, `crates/config/tests/fixtures`) show with
//! their source and redacted, an expired token is reported, and nothing under `~/.openclaw`
//! is written.

use std::path::PathBuf;

use super::harness::Cli;

fn fixture(version: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../config/tests/fixtures")
        .join(format!("openclaw-{version}"))
        .join("openclaw")
}

#[test]
fn models_status_shows_each_profile_key_redacted_with_its_source() {
    let cli = Cli::new();
    // A copy: SQLite may touch files beside a database, the fixture stays as made.
    let copied = std::process::Command::new("cp")
        .arg("-R")
        .arg(fixture("2026.9.6"))
        .arg(cli.path("home/.openclaw"))
        .status()
        .unwrap();
    assert!(copied.success());
    // An older agent file beside the database is ignored (the database holds profiles).
    cli.write(
        "home/.openclaw/agents/main/agent/auth-profiles.json",
        r#"{"version":1,"profiles":{"anthropic:stale":{"type":"api_key","provider":"anthropic","key":"sk-ant-stale-0123456789"}}}"#,
    );
    let before = cli.snapshot();
    let r = cli.run(&["models", "status", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        !r.stdout.contains("FAKEmanual"),
        "a key leaked: {}",
        r.stdout
    );
    let json = r.json();
    let anthropic = json["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "anthropic")
        .unwrap();
    assert_eq!(
        anthropic["key"]["source"],
        "openclaw-profile anthropic:manual"
    );
    assert_eq!(
        anthropic["key"]["keys"],
        serde_json::json!([
            { "redacted": "sk-a…op", "source": "openclaw-profile anthropic:manual" },
            { "redacted": "sk-a…ml", "source": "openclaw-profile anthropic:backup" },
        ])
    );
    let human = cli.run(&["models", "status"]);
    assert!(
        human.stdout.contains("openclaw-profile anthropic:backup"),
        "{}",
        human.stdout
    );
    assert!(
        cli.changed_since(&before).is_empty(),
        "{:?}",
        cli.changed_since(&before)
    );
}

#[test]
fn an_expired_token_is_skipped_with_a_warning() {
    let cli = Cli::new();
    cli.write(
        "home/.openclaw/agents/main/agent/auth-profiles.json",
        r#"{"version":1,"profiles":{
            "anthropic:sub":{"type":"token","provider":"anthropic","token":"sk-ant-oat01-expired-0123456789","expires":1000},
            "anthropic:key":{"type":"api_key","provider":"anthropic","key":"sk-ant-api03-valid-0123456789"}
        }}"#,
    );
    let r = cli.run(&["models", "status"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains(
            "warning: anthropic: auth profile anthropic:sub is not used: token expired at 1970-01-01T00:00:01Z"
        ),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("openclaw-profile anthropic:key"),
        "{}",
        r.stdout
    );
}
