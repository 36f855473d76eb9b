//! An OpenClaw install read as it is: the fixtures under `tests/fixtures/openclaw-<version>/`
//! were made by OpenClaw itself (`scripts/make-openclaw-fixtures`), one per auth-store layout.
//! Each test copies one into a sandbox home (SQLite may touch files beside a database, and the
//! repo copy must stay as OpenClaw wrote it) and checks which keys each provider gets, in which
//! order, from where — and that loading writes nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use clawgate_config::{ConfigSource, EnvOrigin, KeySource, LoadedConfig, load, locate};

use super::harness::Sandbox;

fn fixture(version: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format!("openclaw-{version}"))
        .join("openclaw")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Every file below `dir` with its size and modification time.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u64, SystemTime)> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let meta = entry.metadata().unwrap();
        if meta.is_dir() {
            out.extend(snapshot(&entry.path()));
        } else {
            out.insert(entry.path(), (meta.len(), meta.modified().unwrap()));
        }
    }
    out
}

/// The sandbox with `version`'s OpenClaw state dir as `~/.openclaw`.
fn install(version: &str) -> Sandbox {
    let sb = Sandbox::new();
    copy_dir(&fixture(version), &sb.path("home/.openclaw"));
    sb
}

fn keys(loaded: &LoadedConfig, provider: &str) -> Vec<(String, KeySource)> {
    let p = loaded.registry.provider(provider).unwrap();
    p.api_keys
        .iter()
        .cloned()
        .zip(p.key_sources.iter().cloned())
        .collect()
}

fn profile(id: &str) -> KeySource {
    KeySource::OpenClawProfile(id.to_string())
}

#[test]
fn current_release_keys_come_from_the_state_database_and_nothing_is_written() {
    let sb = install("2026.9.6");
    let before = snapshot(&sb.path("home/.openclaw"));
    let loaded = load(&sb.opts(&[])).unwrap();
    // No clawgate file: OpenClaw's own config is the file in effect, read-only.
    assert_eq!(loaded.location.source, ConfigSource::OpenClaw);
    assert_eq!(
        keys(&loaded, "anthropic"),
        vec![
            (
                "sk-ant-api03-FAKEmanualKEY0123456789abcdefghijklmnop".to_string(),
                profile("anthropic:manual")
            ),
            (
                "sk-ant-api03-FAKEbackupKEY9876543210zyxwvutsrqponml".to_string(),
                profile("anthropic:backup")
            ),
        ]
    );
    assert_eq!(
        keys(&loaded, "openrouter"),
        [(
            "sk-or-v1-FAKEtoken0123456789abcdef0123456789abcdef".to_string(),
            profile("openrouter:sub")
        )]
    );
    assert_eq!(
        snapshot(&sb.path("home/.openclaw")),
        before,
        "loading wrote nothing"
    );
    assert!(
        !format!("{loaded:?}").contains("FAKEmanual"),
        "debug output never shows a key"
    );
}

#[test]
fn older_release_keys_come_from_the_main_agents_database() {
    let sb = install("2026.7.35");
    let loaded = load(&sb.opts(&[])).unwrap();
    let got: Vec<KeySource> = keys(&loaded, "anthropic")
        .into_iter()
        .map(|k| k.1)
        .collect();
    assert_eq!(
        got,
        [profile("anthropic:manual"), profile("anthropic:backup")]
    );
}

#[test]
fn oldest_layout_reads_auth_profiles_json_with_its_order_override() {
    let sb = install("2026.5.28");
    let loaded = load(&sb.opts(&[])).unwrap();
    let got = keys(&loaded, "anthropic");
    // `models auth order set --provider anthropic anthropic:backup anthropic:manual`.
    assert_eq!(got[0].1, profile("anthropic:backup"));
    assert_eq!(
        got[0].0,
        "sk-ant-api03-FAKEoldBACKUP9876543210zyxwvutsrqponm"
    );
    assert_eq!(got[1].1, profile("anthropic:manual"));
}

#[test]
fn openclaw_state_dir_and_config_path_are_honoured() {
    let sb = Sandbox::new();
    let elsewhere = sb.path("srv/openclaw-state");
    copy_dir(&fixture("2026.9.6"), &elsewhere);
    let opts = sb.opts(&[("OPENCLAW_STATE_DIR", elsewhere.to_str().unwrap())]);
    let loaded = load(&opts).unwrap();
    assert_eq!(
        loaded.location.path.as_deref(),
        Some(elsewhere.join("openclaw.json").as_path())
    );
    assert_eq!(keys(&loaded, "anthropic").len(), 2);
    // OPENCLAW_CONFIG_PATH names the file; the store still comes from the state dir.
    let cfg = sb.write(
        "etc/openclaw.json5",
        r#"{ agents: { defaults: { model: "anthropic/claude-opus-4-6" } } }"#,
    );
    let opts = sb.opts(&[
        ("OPENCLAW_STATE_DIR", elsewhere.to_str().unwrap()),
        ("OPENCLAW_CONFIG_PATH", cfg.to_str().unwrap()),
    ]);
    let loc = locate(&opts);
    assert_eq!(
        (loc.path.as_deref(), loc.source),
        (Some(cfg.as_path()), ConfigSource::OpenClaw)
    );
    let loaded = load(&opts).unwrap();
    assert_eq!(keys(&loaded, "anthropic")[0].1, profile("anthropic:manual"));
}

#[test]
fn auth_order_and_profiles_in_the_config_choose_the_keys() {
    let sb = install("2026.9.6");
    // A clawgate config of its own: the store is still OpenClaw's.
    let only_backup = r#"{ auth: { order: { anthropic: ["anthropic:backup"] } } }"#;
    let loaded = sb.load_text(only_backup).unwrap();
    let got: Vec<KeySource> = keys(&loaded, "anthropic")
        .into_iter()
        .map(|k| k.1)
        .collect();
    assert_eq!(got, [profile("anthropic:backup")]);
    let declared = r#"{ auth: { profiles: {
        "anthropic:backup": { provider: "anthropic", mode: "api_key" },
        "anthropic:manual": { provider: "anthropic", mode: "token" },
    } } }"#;
    let loaded = sb.load_text(declared).unwrap();
    let p = loaded.registry.provider("anthropic").unwrap();
    assert_eq!(p.key_sources, [profile("anthropic:backup")]);
    assert_eq!(p.skipped_profiles[0].profile_id, "anthropic:manual");
    assert!(
        p.skipped_profiles[0].reason.contains("mode token"),
        "{:?}",
        p.skipped_profiles
    );
}

#[test]
fn config_keys_come_first_and_env_keys_only_without_any() {
    let sb = install("2026.9.6");
    let text =
        r#"{ models: { providers: { anthropic: { apiKey: "sk-config-0123456789abcdef" } } } }"#;
    let file = sb.write("cfg/c.json5", text);
    let loaded = sb
        .load_file(&file, &[("ANTHROPIC_API_KEY", "sk-env-0123456789abcdef")])
        .unwrap();
    let got: Vec<KeySource> = keys(&loaded, "anthropic")
        .into_iter()
        .map(|k| k.1)
        .collect();
    assert_eq!(
        got,
        [
            KeySource::Config,
            profile("anthropic:manual"),
            profile("anthropic:backup")
        ]
    );
    // A provider the store has nothing for keeps taking its key from the environment.
    let loaded = sb
        .load_file(&file, &[("OPENAI_API_KEY", "sk-env-0123456789abcdef")])
        .unwrap();
    assert_eq!(
        loaded.registry.provider("openai").unwrap().key_source(),
        KeySource::Env("OPENAI_API_KEY".into())
    );
}

#[test]
fn expired_tokens_are_skipped_and_reported() {
    let sb = Sandbox::new();
    sb.write(
        "home/.openclaw/agents/main/agent/auth-profiles.json",
        r#"{"version":1,"profiles":{
            "anthropic:old":{"type":"token","provider":"anthropic","token":"sk-ant-oat01-expired-0123456789","expires":1000},
            "anthropic:new":{"type":"token","provider":"anthropic","token":"sk-ant-oat01-valid-0123456789","expires":4102444800000},
            "anthropic:bad":{"type":"token","provider":"anthropic","token":"sk-ant-oat01-bad-0123456789","expires":"soon"}
        }}"#,
    );
    let loaded = sb.load_text("{}").unwrap();
    let p = loaded.registry.provider("anthropic").unwrap();
    assert_eq!(p.key_sources, [profile("anthropic:new")]);
    let reasons: BTreeMap<&str, &str> = p
        .skipped_profiles
        .iter()
        .map(|s| (s.profile_id.as_str(), s.reason.as_str()))
        .collect();
    assert_eq!(
        reasons["anthropic:old"],
        "token expired at 1970-01-01T00:00:01Z"
    );
    assert_eq!(reasons["anthropic:bad"], "token has an invalid expiry");
}

#[test]
fn openclaws_dotenv_joins_the_environment_without_overriding() {
    let sb = Sandbox::new();
    sb.write(
        "home/.openclaw/.env",
        "OPENROUTER_API_KEY=sk-or-from-openclaw-dotenv-0123\nOPENAI_API_KEY=sk-from-dotenv-0123456789\n",
    );
    sb.write(
        "cwd/.env",
        "OPENROUTER_API_KEY=sk-or-from-cwd-dotenv-0123456\n",
    );
    let file = sb.write("cfg/c.json5", "{ env: { GROQ_API_KEY: \"from-config\" } }");
    let loaded = sb
        .load_file(&file, &[("OPENAI_API_KEY", "sk-process-0123456789")])
        .unwrap();
    assert_eq!(
        loaded.env.get("OPENAI_API_KEY"),
        Some("sk-process-0123456789")
    );
    assert_eq!(
        loaded.env.get("OPENROUTER_API_KEY"),
        Some("sk-or-from-cwd-dotenv-0123456"),
        "./.env comes before OpenClaw's"
    );
    let sb = Sandbox::new();
    sb.write(
        "home/.openclaw/.env",
        "OPENROUTER_API_KEY=sk-or-from-openclaw-dotenv-0123\n",
    );
    let loaded = sb.load_text("{}").unwrap();
    assert_eq!(
        loaded.env.origin("OPENROUTER_API_KEY"),
        Some(EnvOrigin::DotEnvOpenClaw)
    );
    assert_eq!(
        loaded.registry.provider("openrouter").unwrap().key_source(),
        KeySource::Env("OPENROUTER_API_KEY".into())
    );
}

#[test]
fn a_database_openclaw_has_open_in_wal_mode_is_read() {
    let sb = Sandbox::new();
    let dir = sb.path("home/.openclaw/state");
    std::fs::create_dir_all(&dir).unwrap();
    let db = rusqlite::Connection::open(dir.join("openclaw.sqlite")).unwrap();
    db.execute_batch(
        "PRAGMA journal_mode=WAL;
         CREATE TABLE config_machine_state (state_key TEXT PRIMARY KEY, value_json TEXT NOT NULL, updated_at_ms INTEGER NOT NULL);
         INSERT INTO config_machine_state VALUES ('auth.sharedStore', '{\"location\":\"state-db\"}', 1);
         INSERT INTO config_machine_state VALUES ('authProfiles.store', '{\"version\":1,\"profiles\":{\"anthropic:live\":{\"type\":\"api_key\",\"provider\":\"anthropic\",\"key\":\"sk-ant-live-0123456789abcdef\"}}}', 1);",
    )
    .unwrap();
    // The writer stays connected and holds an open write transaction, as a busy OpenClaw
    // would: the committed rows are in the WAL, not yet in the database file.
    db.execute_batch(
        "BEGIN IMMEDIATE; UPDATE config_machine_state SET updated_at_ms = 2 WHERE state_key = 'auth.sharedStore';",
    )
    .unwrap();
    assert!(dir.join("openclaw.sqlite-wal").metadata().unwrap().len() > 0);
    let loaded = sb.load_text("{}").unwrap();
    assert_eq!(
        loaded.registry.provider("anthropic").unwrap().key_sources,
        [profile("anthropic:live")]
    );
    db.execute_batch("COMMIT").unwrap();
}

#[test]
fn an_unreadable_store_is_a_warning_not_a_failure() {
    let sb = Sandbox::new();
    sb.write(
        "home/.openclaw/agents/main/agent/auth-profiles.json",
        r#"{"version":1,"profiles":{"anthropic:x":{"type":"api_key","key":"sk-ant-leak-0123456789"#,
    );
    let loaded = sb.load_text("{}").unwrap();
    let warning = loaded
        .warnings
        .iter()
        .find(|w| w.message.contains("auth-profile store"))
        .unwrap();
    assert!(warning.message.contains("is not valid JSON"), "{warning}");
    assert!(!warning.to_string().contains("sk-ant-leak"), "{warning}");
}

#[test]
fn a_configured_ref_pinned_to_a_profile_without_a_key_is_a_warning() {
    let sb = install("2026.9.6");
    let loaded = sb
        .load_text(
            r#"{ agents: { defaults: { model: {
                 primary: "anthropic/claude-opus-4-6@anthropic:backup",
                 fallbacks: ["anthropic/claude-sonnet-4-6@anthropic:gone"] } } } }"#,
        )
        .unwrap();
    let pins: Vec<String> = loaded
        .warnings
        .iter()
        .filter(|w| w.message.contains("auth profile"))
        .map(|w| format!("{} {}", w.path, w.message))
        .collect();
    assert_eq!(
        pins,
        [
            "agents.defaults.model.fallbacks[0] auth profile \"anthropic:gone\" gives provider \
             \"anthropic\" no key (it is not one of its OpenClaw auth profiles); this ref is used \
             without the pin"
        ]
    );
    let p = loaded.registry.provider("anthropic").unwrap();
    assert_eq!(p.profile_key_index("anthropic:backup"), Some(1));
}
