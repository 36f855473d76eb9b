//! OpenClaw's model allowlist: `agents.defaults.models` keys (unmigrated configs),
//! `modelPolicy.allow` (defaults and per agent), aliases, wildcards, and the primary and
//! fallbacks that are always allowed.

use clawgate_config::ModelRef;

use super::harness::load_ok;

fn r(text: &str) -> ModelRef {
    clawgate_config::parse_ref(text).reference.unwrap()
}

const PROVIDERS: &str = r#"models: { providers: {
    local: { baseUrl: "http://127.0.0.1:1234/v1", apiKey: "lmstudio", models: [{ id: "qwen3" }, { id: "gemma" }] },
} },"#;

#[test]
fn legacy_models_map_is_the_allowlist_until_openclaw_migrates_it() {
    let text = format!(
        r#"{{ {PROVIDERS}
          agents: {{ defaults: {{
            model: {{ primary: "local/qwen3", fallbacks: ["openrouter/moonshotai/kimi-k2"] }},
            models: {{ "anthropic/claude-opus-4-6": {{ alias: "Opus" }} }},
          }} }} }}"#
    );
    let l = load_ok(&text);
    let reg = &l.registry;
    assert!(reg.has_allowlist(None));
    assert!(reg.model_allowed(None, &r("anthropic/claude-opus-4-6")));
    assert!(!reg.model_allowed(None, &r("anthropic/claude-sonnet-4-6")));
    assert!(!reg.model_allowed(None, &r("local/gemma")));
    // The configured primary and fallbacks are never locked out.
    assert!(reg.model_allowed(None, &r("local/qwen3")));
    assert!(reg.model_allowed(None, &r("openrouter/moonshotai/kimi-k2")));
    assert_eq!(
        reg.allowed_models(None).unwrap(),
        [
            "local/qwen3",
            "openrouter/moonshotai/kimi-k2",
            "anthropic/claude-opus-4-6"
        ]
    );
    // Once OpenClaw has migrated the file, the map no longer restricts anything.
    let migrated = text.replacen(
        "{ models:",
        "{ meta: { migrations: { modelPolicyAllowlist: true } }, models:",
        1,
    );
    let l = load_ok(&migrated);
    assert!(!l.registry.has_allowlist(None));
    assert!(l.registry.model_allowed(None, &r("local/gemma")));
}

#[test]
fn model_policy_allow_takes_aliases_wildcards_and_per_agent_lists() {
    let text = format!(
        r#"{{ {PROVIDERS}
          agents: {{
            defaults: {{
              model: "local/qwen3",
              models: {{ "anthropic/claude-opus-4-6": {{ alias: "Opus" }} }},
              modelPolicy: {{ allow: ["opus", "openrouter/moonshotai/*"] }},
            }},
            list: [
              {{ id: "main" }},
              {{ id: "open", modelPolicy: {{ allow: [] }} }},
              {{ id: "locals", modelPolicy: {{ allow: ["local/*"] }} }},
            ],
          }} }}"#
    );
    let l = load_ok(&text);
    let reg = &l.registry;
    assert!(
        reg.model_allowed(None, &r("anthropic/claude-opus-4-6")),
        "alias"
    );
    assert!(
        reg.model_allowed(None, &r("openrouter/moonshotai/kimi-k2")),
        "wildcard"
    );
    assert!(!reg.model_allowed(None, &r("openrouter/openai/gpt-5")));
    assert!(
        !reg.model_allowed(Some("main"), &r("local/gemma")),
        "main inherits"
    );
    assert!(
        reg.model_allowed(Some("open"), &r("local/gemma")),
        "[] allows any"
    );
    assert!(reg.model_allowed(Some("locals"), &r("local/gemma")));
    assert!(!reg.model_allowed(Some("locals"), &r("anthropic/claude-opus-4-6")));
    assert_eq!(
        reg.allowed_models(Some("locals")).unwrap(),
        ["local/qwen3", "local/gemma"]
    );
    assert_eq!(reg.allowed_models(Some("open")), None);
}

#[test]
fn an_allowlist_entry_that_names_nothing_is_a_warning() {
    let l = load_ok(
        r#"{ agents: { defaults: { modelPolicy: { allow: ["anthropic/claude-opus-4-6", "nosuch/model", "typo"] } } } }"#,
    );
    let warnings: Vec<String> = l
        .warnings
        .iter()
        .filter(|w| w.message.contains("allowlist entry"))
        .map(|w| format!("{} {}", w.path, w.message))
        .collect();
    assert_eq!(
        warnings,
        [
            "agents.defaults.modelPolicy.allow[1] model allowlist entry \"nosuch/model\" names no alias, known provider or provider/* wildcard; it allows nothing",
            "agents.defaults.modelPolicy.allow[2] model allowlist entry \"typo\" names no alias, known provider or provider/* wildcard; it allows nothing",
        ]
    );
}
