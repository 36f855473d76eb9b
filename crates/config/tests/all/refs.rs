//! Model refs, aliases, bare ids, `@profile`, the primary/fallback chain.

use clawgate_config::{ConfigError, ModelRef};

use super::harness::load_ok;

const CONFIG: &str = r#"{
  models: { providers: {
    lmstudio: { models: [{ id: "qwen3-coder", contextWindow: 65536 }, { id: "shared" }] },
    vllm: { models: [{ id: "shared" }] },
  } },
  agents: {
    defaults: {
      model: { primary: "lmstudio/qwen3-coder", fallbacks: ["Opus", "openrouter/moonshotai/kimi-k2", "lmstudio/qwen3-coder"] },
      imageModel: { primary: "openai/gpt-5.4" },
      models: { "anthropic/claude-opus-4-6": { alias: "Opus" }, "openai/gpt-5.4-mini": { alias: "fast" } },
    },
    list: [
      { id: "main" },
      { id: "reader", model: "fast" },
      { id: "strict", model: { primary: "opus", fallbacks: [] } },
    ],
  },
}"#;

#[test]
fn aliases_are_case_insensitive() {
    let l = load_ok(CONFIG);
    for input in ["Opus", "opus", "OPUS"] {
        let r = l.registry.resolve(input).unwrap();
        assert_eq!(r.reference, ModelRef::new("anthropic", "claude-opus-4-6"));
        assert_eq!(r.alias.as_deref(), Some("Opus"));
    }
}

#[test]
fn first_slash_split_normalised_provider_and_profile() {
    let l = load_ok(CONFIG);
    let r = l.registry.resolve("openrouter/moonshotai/kimi-k2").unwrap();
    assert_eq!(
        (r.reference.provider.as_str(), r.reference.model.as_str()),
        ("openrouter", "moonshotai/kimi-k2")
    );
    let r = l
        .registry
        .resolve(" LMStudio/qwen3-coder@lmstudio:box ")
        .unwrap();
    assert_eq!(r.reference.key(), "lmstudio/qwen3-coder");
    assert_eq!(r.profile.as_deref(), Some("lmstudio:box"));
    assert_eq!(r.model.context_window, 65536);
    assert_eq!(r.provider.base_url, "http://127.0.0.1:1234/v1");
}

#[test]
fn bare_ids_need_a_unique_configured_match() {
    let l = load_ok(CONFIG);
    assert_eq!(
        l.registry.resolve("qwen3-coder").unwrap().reference.key(),
        "lmstudio/qwen3-coder"
    );
    match l.registry.resolve("shared").unwrap_err() {
        ConfigError::AmbiguousModel { candidates, .. } => {
            assert_eq!(candidates, ["lmstudio/shared", "vllm/shared"])
        }
        other => panic!("{other}"),
    }
    // Catalog providers are not configured: a bare catalog id is not enough.
    assert!(l.registry.resolve("gpt-5.4").is_err());
}

#[test]
fn unknown_refs_list_the_closest_known() {
    let l = load_ok(CONFIG);
    match l.registry.resolve("anthropic/claude-opsu-4-6").unwrap_err() {
        ConfigError::UnknownModel { suggestions, .. } => {
            assert_eq!(
                suggestions.first().map(String::as_str),
                Some("anthropic/claude-opus-4-6"),
                "{suggestions:?}"
            )
        }
        other => panic!("{other}"),
    }
    let msg = l.registry.resolve("qwen3-cdoer").unwrap_err().to_string();
    assert!(
        msg.starts_with("unknown model \"qwen3-cdoer\"; closest known: "),
        "{msg}"
    );
}

#[test]
fn chain_dedupes_and_per_agent_overrides() {
    let l = load_ok(CONFIG);
    let reg = &l.registry;
    let keys = |agent: Option<&str>| {
        let c = reg.chain(agent).unwrap();
        let mut v = vec![c.primary.reference.key()];
        v.extend(c.fallbacks.iter().map(|f| f.reference.key()));
        v
    };
    let defaults = [
        "lmstudio/qwen3-coder",
        "anthropic/claude-opus-4-6",
        "openrouter/moonshotai/kimi-k2",
    ];
    assert_eq!(keys(None), defaults);
    assert_eq!(
        keys(Some("main")),
        defaults,
        "an agent without model uses the defaults"
    );
    assert_eq!(
        keys(Some("reader")),
        [
            "openai/gpt-5.4-mini",
            "anthropic/claude-opus-4-6",
            "openrouter/moonshotai/kimi-k2",
            "lmstudio/qwen3-coder"
        ],
        "a string model keeps the default fallbacks"
    );
    assert_eq!(
        keys(Some("strict")),
        ["anthropic/claude-opus-4-6"],
        "fallbacks: [] means none"
    );
    assert_eq!(reg.image_selection().unwrap().primary, "openai/gpt-5.4");
}

#[test]
fn default_primary_when_none_is_configured() {
    let l = load_ok("{}");
    let sel = l.registry.selection(None);
    assert!(sel.primary_is_default);
    assert_eq!(sel.primary, "anthropic/claude-opus-4-6");
    assert!(l.registry.chain(None).is_ok());
    let l = load_ok(
        r#"{ models: { providers: { box: { baseUrl: "http://127.0.0.1:9/v1", models: [{ id: "m1" }, { id: "m2" }] } } } }"#,
    );
    assert_eq!(
        l.registry.selection(None).primary,
        "box/m1",
        "first configured provider's first model"
    );
}

#[test]
fn referenced_refs_get_rows_with_defaults() {
    let l = load_ok(r#"{ agents: { defaults: { model: { primary: "vllm/any-model" } } } }"#);
    let r = l.registry.resolve("vllm/any-model").unwrap();
    assert!(r.model.configured);
    assert_eq!(r.model.context_window, 200_000);
    assert!(
        l.warnings.is_empty(),
        "no catalog warning for a local provider: {:?}",
        l.warnings
    );
    let l =
        load_ok(r#"{ agents: { defaults: { model: { primary: "anthropic/claude-opsu-4-6" } } } }"#);
    assert_eq!(l.warnings.len(), 1);
    assert_eq!(
        l.warnings[0].hint.as_deref(),
        Some("did you mean \"anthropic/claude-opus-4-6\"?")
    );
}
