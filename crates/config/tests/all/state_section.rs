//! The `state` section: files by default, postgres with an env-substituted URL, the URL's
//! password masked wherever the config is shown, and a warning for postgres-only keys set
//! under `files`.

use clawgate_config::StateBackend;

use super::harness::Sandbox;

#[test]
fn files_is_the_default_backend() {
    let sb = Sandbox::new();
    let file = sb.write("cfg/c.json5", "{}");
    let loaded = sb.load_file(&file, &[]).unwrap();
    assert_eq!(loaded.config.state.backend(), StateBackend::Files);
    assert_eq!(loaded.config.state.url, None);
}

#[test]
fn a_postgres_url_is_substituted_from_the_env_and_shown_redacted() {
    let sb = Sandbox::new();
    let file = sb.write(
        "cfg/c.json5",
        r#"{ state: { backend: "postgres", url: "${CGTEST_PG_URL}", leaseSeconds: 5 } }"#,
    );
    let url = "postgres://clawgate:hunter2@db:5432/clawgate";
    let loaded = sb.load_file(&file, &[("CGTEST_PG_URL", url)]).unwrap();
    let state = &loaded.config.state;
    assert_eq!(state.backend(), StateBackend::Postgres);
    assert_eq!(state.url.as_deref(), Some(url));
    assert_eq!(state.lease_seconds, Some(5));
    let shown = serde_json::to_string(&loaded.config.state).unwrap();
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("clawgate:***@db:5432"), "{shown}");
    let mut merged = serde_json::json!({ "state": { "url": url } });
    clawgate_config::decode::redact_json(&mut merged);
    assert!(!merged.to_string().contains("hunter2"), "{merged}");
}

#[test]
fn postgres_keys_under_files_are_listed_as_ignored() {
    let sb = Sandbox::new();
    let file = sb.write(
        "cfg/c.json5",
        r#"{ state: { url: "postgres://db/clawgate" } }"#,
    );
    let loaded = sb.load_file(&file, &[]).unwrap();
    assert!(
        loaded
            .warnings
            .iter()
            .any(|w| w.path == "state" && w.message.contains("only used with backend")),
        "{:?}",
        loaded.warnings
    );
}
