//! The implicit `embedded` provider: registered (merge mode) when the demo model file is in the
//! state dir, and the default primary when nothing else is configured.

use clawgate_config::catalog::{DEMO_MODEL_FILE, demo_model_path};
use clawgate_config::{ApiKind, LoadedConfig, ModelRef, RowSource};

use super::harness::Sandbox;

/// A sandbox whose state dir holds a (fake) demo model file: the registry only checks that
/// the file exists; loading it is the engine's business.
fn sandbox_with_demo_model() -> Sandbox {
    let sb = Sandbox::new();
    sb.write(&format!("state/models/{DEMO_MODEL_FILE}"), "GGUF");
    sb
}

fn load(sb: &Sandbox, text: Option<&str>) -> LoadedConfig {
    let result = match text {
        Some(text) => sb.load_text(text),
        None => clawgate_config::load(&sb.opts(&[])),
    };
    match result {
        Ok(l) => l,
        Err(e) => panic!("expected a valid config, got {e}: {:#?}", e.diagnostics()),
    }
}

#[test]
fn demo_model_file_registers_the_embedded_provider_and_default() {
    let sb = sandbox_with_demo_model();
    let l = load(&sb, None);
    let p = l.registry.provider("embedded").unwrap();
    assert_eq!(p.api, ApiKind::LlamaCpp);
    assert_eq!(p.base_url, "");
    assert!(p.is_local);
    assert_eq!(p.source, RowSource::Implicit);
    assert!(!p.configured);
    let row = l
        .registry
        .model(&ModelRef::new("embedded", "gemma-3-270m"))
        .unwrap();
    assert_eq!(
        row.path.as_deref(),
        Some(demo_model_path(&sb.path("state")).as_path())
    );
    assert_eq!(row.api, ApiKind::LlamaCpp);
    assert_eq!(row.context_window, 32_768);
    assert_eq!(row.max_tokens, 128);
    assert_eq!(row.source, RowSource::Implicit);
    let sel = l.registry.selection(None);
    assert_eq!(sel.primary, "embedded/gemma-3-270m");
    assert!(sel.primary_is_default);
    let chain = l.registry.chain(None).unwrap();
    assert_eq!(chain.primary.reference.key(), "embedded/gemma-3-270m");
}

#[test]
fn without_the_file_nothing_changes() {
    let sb = Sandbox::new();
    let l = load(&sb, None);
    assert!(l.registry.provider("embedded").is_none());
    let sel = l.registry.selection(None);
    assert_eq!(sel.primary, "anthropic/claude-opus-4-6");
    assert!(sel.primary_is_default);
}

#[test]
fn replace_mode_has_no_implicit_embedded_provider() {
    let sb = sandbox_with_demo_model();
    let l = load(
        &sb,
        Some(
            r#"{ models: { mode: "replace", providers: { box: { baseUrl: "http://127.0.0.1:9/v1", models: [{ id: "m" }] } } } }"#,
        ),
    );
    assert!(l.registry.provider("embedded").is_none());
    assert_eq!(l.registry.selection(None).primary, "box/m");
}

#[test]
fn configured_models_win_over_the_embedded_default() {
    let sb = sandbox_with_demo_model();
    let l = load(
        &sb,
        Some(
            r#"{ models: { providers: { box: { baseUrl: "http://127.0.0.1:9/v1", models: [{ id: "m1" }] } } } }"#,
        ),
    );
    assert_eq!(
        l.registry.selection(None).primary,
        "box/m1",
        "a configured provider's first model comes before the demo model"
    );
    let l = load(
        &sb,
        Some(
            r#"{ agents: { defaults: { model: { primary: "vllm/q", fallbacks: ["embedded/gemma-3-270m"] } } } }"#,
        ),
    );
    let chain = l.registry.chain(None).unwrap();
    assert_eq!(chain.primary.reference.key(), "vllm/q");
    assert_eq!(
        chain.fallbacks[0].reference.key(),
        "embedded/gemma-3-270m",
        "the demo model can be named as a fallback"
    );
    let l = load(
        &sb,
        Some(r#"{ models: { providers: { anthropic: { apiKey: "sk-test" } } } }"#),
    );
    assert_eq!(
        l.registry.selection(None).primary,
        "anthropic/claude-opus-4-6",
        "a configured default provider keeps the built-in default"
    );
}

#[test]
fn config_overrides_the_demo_row_field_by_field() {
    let sb = sandbox_with_demo_model();
    let l = load(
        &sb,
        Some(
            r#"{ models: { providers: { embedded: { models: [{ id: "gemma-3-270m", maxTokens: 64 }] } } } }"#,
        ),
    );
    let row = l
        .registry
        .model(&ModelRef::new("embedded", "gemma-3-270m"))
        .unwrap();
    assert_eq!(row.max_tokens, 64, "the config field wins");
    assert_eq!(
        row.path.as_deref(),
        Some(demo_model_path(&sb.path("state")).as_path()),
        "the path still comes from the implicit row"
    );
    assert_eq!(
        l.registry.provider("embedded").unwrap().api,
        ApiKind::LlamaCpp
    );
    assert_eq!(l.registry.selection(None).primary, "embedded/gemma-3-270m");
}
