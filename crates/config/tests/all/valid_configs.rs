//! Configs in the shapes of OpenClaw's local-model guide produce the expected registry rows.

use std::path::Path;

use clawgate_config::{ApiKind, LoadedConfig, ModelEntry, RowSource, load_at};

use super::harness::{Sandbox, location};

fn load_valid(name: &str) -> LoadedConfig {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/valid")
        .join(name);
    let sb = Sandbox::new();
    let l = load_at(&sb.opts(&[]), location(&file)).unwrap();
    assert!(l.warnings.is_empty(), "{name}: {:?}", l.warnings);
    l
}

/// (ref, api, contextWindow, maxTokens, source, configured)
fn row(m: &ModelEntry) -> (String, ApiKind, u64, u64, RowSource, bool) {
    (
        m.reference.clone(),
        m.api,
        m.context_window,
        m.max_tokens,
        m.source,
        m.configured,
    )
}

fn configured_rows(l: &LoadedConfig) -> Vec<(String, ApiKind, u64, u64, RowSource, bool)> {
    l.registry
        .models()
        .iter()
        .filter(|m| m.configured)
        .map(row)
        .collect()
}

fn chain(l: &LoadedConfig) -> Vec<String> {
    let c = l.registry.chain(None).unwrap();
    std::iter::once(c.primary.reference.key())
        .chain(c.fallbacks.iter().map(|f| f.reference.key()))
        .collect()
}

#[test]
fn lm_studio_through_responses() {
    let l = load_valid("lmstudio-responses.json5");
    assert_eq!(
        configured_rows(&l),
        [
            (
                "lmstudio/minimax-m2.1-gs32".into(),
                ApiKind::OpenAiResponses,
                196_608,
                8192,
                RowSource::Config,
                true
            ),
            (
                "anthropic/claude-opus-4-6".into(),
                ApiKind::AnthropicMessages,
                1_000_000,
                128_000,
                RowSource::Catalog,
                true
            ),
        ]
    );
    let p = l.registry.provider("lmstudio").unwrap();
    assert_eq!(
        (p.base_url.as_str(), p.api, p.is_local),
        ("http://127.0.0.1:1234/v1", ApiKind::OpenAiResponses, true)
    );
    assert_eq!(p.api_keys, ["lmstudio"]);
    assert_eq!(
        p.source,
        RowSource::Implicit,
        "the implicit provider is overridden, not duplicated"
    );
    assert_eq!(chain(&l), ["lmstudio/minimax-m2.1-gs32"]);
    assert_eq!(
        l.registry.resolve("minimax").unwrap().model.name,
        "MiniMax M2.1 GS32"
    );
}

#[test]
fn hybrid_hosted_primary_with_local_fallback() {
    let l = load_valid("hybrid-hosted-primary-local-fallback.json5");
    assert_eq!(
        chain(&l),
        [
            "anthropic/claude-sonnet-4-6",
            "lmstudio/minimax-m2.1-gs32",
            "anthropic/claude-opus-4-6"
        ]
    );
    let c = l.registry.chain(None).unwrap();
    assert!(!c.primary.provider.is_local);
    assert!(c.fallbacks[0].provider.is_local);
    assert_eq!(c.fallbacks[0].model.context_window, 196_608);
    assert_eq!(
        l.registry.resolve("minimax local").unwrap().reference.key(),
        "lmstudio/minimax-m2.1-gs32"
    );
    let rows = configured_rows(&l);
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows[0],
        (
            "lmstudio/minimax-m2.1-gs32".into(),
            ApiKind::OpenAiResponses,
            196_608,
            8192,
            RowSource::Config,
            true
        )
    );
    assert!(rows.contains(&(
        "anthropic/claude-sonnet-4-6".into(),
        ApiKind::AnthropicMessages,
        1_000_000,
        128_000,
        RowSource::Catalog,
        true
    )));
    assert!(
        l.registry.provider("openai").is_some(),
        "merge keeps the other hosted providers"
    );
}

#[test]
fn generic_local_v1_proxy() {
    let l = load_valid("local-proxy.json5");
    assert_eq!(
        configured_rows(&l),
        [
            (
                "local/my-local-model".into(),
                ApiKind::OpenAiCompletions,
                120_000,
                8192,
                RowSource::Config,
                true
            ),
            (
                "anthropic/claude-sonnet-4-5".into(),
                ApiKind::AnthropicMessages,
                200_000,
                64_000,
                RowSource::Catalog,
                true
            ),
        ]
    );
    let p = l.registry.provider("local").unwrap();
    assert_eq!(
        (p.source, p.configured, p.is_local),
        (RowSource::Config, true, true)
    );
    assert_eq!(p.api_keys, ["sk-local"]);
    let m = l.registry.resolve("local/my-local-model").unwrap().model;
    assert_eq!(
        (m.name.as_str(), m.reasoning, m.cost.input),
        ("Local Model", false, 0.0)
    );
    assert_eq!(
        chain(&l),
        ["local/my-local-model", "anthropic/claude-sonnet-4-5"]
    );
}
