//! The effective registry: merge vs replace, field-by-field overrides, sources, implicit
//! providers, API keys, locality, discovery.

use clawgate_config::{
    ApiKind, DiscoveredRow, KeySource, RowSource, api_key_env_var, is_local_url,
};

use super::harness::{Sandbox, load_ok};

#[test]
fn merge_keeps_catalog_and_overrides_field_by_field() {
    let l = load_ok(
        r#"{ models: { providers: { anthropic: {
              baseUrl: "http://127.0.0.1:4000",
              models: [{ id: "claude-opus-4-6", contextWindow: 200000 }] } } } }"#,
    );
    let reg = &l.registry;
    let p = reg.provider("anthropic").unwrap();
    assert_eq!(p.base_url, "http://127.0.0.1:4000");
    assert_eq!(
        p.api,
        ApiKind::AnthropicMessages,
        "api still comes from the catalog"
    );
    assert!(p.configured && p.source == RowSource::Catalog);
    let opus = reg
        .model(&clawgate_config::ModelRef::new(
            "anthropic",
            "claude-opus-4-6",
        ))
        .unwrap();
    assert_eq!(opus.context_window, 200_000, "config field wins");
    assert_eq!(
        opus.max_tokens, 128_000,
        "unset field keeps the catalog value"
    );
    assert_eq!(opus.cost.input, 5.0);
    assert_eq!(opus.name, "Claude Opus 4.6");
    assert!(opus.configured);
    assert_eq!(opus.source, RowSource::Catalog);
    let haiku = reg
        .model(&clawgate_config::ModelRef::new(
            "anthropic",
            "claude-haiku-4-5",
        ))
        .unwrap();
    assert!(!haiku.configured);
    assert!(reg.provider("openai").is_some() && reg.provider("openrouter").is_some());
}

#[test]
fn replace_keeps_only_what_config_declares() {
    let l = load_ok(
        r#"{ models: { mode: "replace", providers: { local: { baseUrl: "http://127.0.0.1:8000/v1", models: [{ id: "m" }] } } } }"#,
    );
    let ids: Vec<&str> = l
        .registry
        .providers()
        .iter()
        .map(|p| p.id.as_str())
        .collect();
    assert_eq!(ids, ["local"]);
    assert_eq!(l.registry.models().len(), 1);
    assert_eq!(l.registry.models()[0].source, RowSource::Config);
}

#[test]
fn implicit_local_providers_in_merge_mode() {
    let l = load_ok("{}");
    for (id, url, api) in [
        (
            "lmstudio",
            "http://127.0.0.1:1234/v1",
            ApiKind::OpenAiCompletions,
        ),
        (
            "vllm",
            "http://127.0.0.1:8000/v1",
            ApiKind::OpenAiCompletions,
        ),
        ("ollama", "http://127.0.0.1:11434", ApiKind::Ollama),
        (
            "llamacpp",
            "http://127.0.0.1:8080/v1",
            ApiKind::OpenAiCompletions,
        ),
    ] {
        let p = l.registry.provider(id).unwrap();
        assert_eq!(
            (p.base_url.as_str(), p.api, p.source),
            (url, api, RowSource::Implicit),
            "{id}"
        );
        assert!(p.is_local && !p.configured, "{id}");
        assert_eq!(l.registry.models_of(id).count(), 0, "{id}");
    }
    assert!(!l.registry.provider("anthropic").unwrap().is_local);
}

#[test]
fn api_keys_from_config_and_env() {
    let sb = Sandbox::new();
    let file = sb.write(
        "cfg/c.json5",
        r#"{ models: { providers: {
            a: { baseUrl: "http://127.0.0.1:1/v1", apiKey: "lmstudio", apiKeys: ["k2", { source: "env", id: "CGTEST_KEY_REF" }] },
            b: { baseUrl: "http://127.0.0.1:2/v1" },
            c: { baseUrl: "http://127.0.0.1:3/v1", apiKey: { source: "env", provider: "default", id: "CGTEST_KEY_UNSET" } },
            "my-box": { baseUrl: "http://127.0.0.1:4/v1" } } } }"#,
    );
    let env = [
        ("CGTEST_KEY_REF", "from-ref"),
        ("A_API_KEY", "ignored-because-config-has-keys"),
        ("B_API_KEYS", "b1, b2;b3"),
        ("B_API_KEY", "b4"),
        ("B_API_KEY_1", "b5"),
        ("B_API_KEY_2", "b1"),
        ("MY_BOX_API_KEY", "box"),
        ("OPENAI_API_KEY", "sk-openai"),
    ];
    let l = sb.load_file(&file, &env).unwrap();
    let keys = |id: &str| l.registry.provider(id).unwrap().api_keys.clone();
    assert_eq!(keys("a"), ["lmstudio", "k2", "from-ref"]);
    assert_eq!(keys("b"), ["b1", "b2", "b3", "b4", "b5"]);
    assert_eq!(keys("c"), Vec::<String>::new());
    assert_eq!(
        l.registry.provider("c").unwrap().missing_secrets,
        ["CGTEST_KEY_UNSET"]
    );
    assert_eq!(keys("my-box"), ["box"]);
    assert_eq!(keys("openai"), ["sk-openai"]);

    // Each key's source, in the same order.
    let sources = |id: &str| l.registry.provider(id).unwrap().key_sources.clone();
    let env_var = |name: &str| KeySource::Env(name.to_string());
    let list = || KeySource::EnvList("B_API_KEYS".to_string());
    assert_eq!(
        sources("a"),
        [
            KeySource::Config,
            KeySource::Config,
            KeySource::SecretRef("CGTEST_KEY_REF".to_string())
        ]
    );
    // `b1` is in the list and in B_API_KEY_2: it keeps the list as its source.
    assert_eq!(
        sources("b"),
        [
            list(),
            list(),
            list(),
            env_var("B_API_KEY"),
            env_var("B_API_KEY_1")
        ]
    );
    assert_eq!(sources("c"), []);
    assert_eq!(
        l.registry.provider("c").unwrap().key_source(),
        KeySource::None
    );
    assert_eq!(
        l.registry.provider("my-box").unwrap().key_source(),
        env_var("MY_BOX_API_KEY")
    );
    assert_eq!(
        l.registry.provider("openai").unwrap().key_source(),
        env_var("OPENAI_API_KEY")
    );
}

#[test]
fn the_env_key_name_follows_the_provider_id() {
    assert_eq!(api_key_env_var("my-router.ai"), "MY_ROUTER_AI_API_KEY");
    assert_eq!(api_key_env_var("openrouter"), "OPENROUTER_API_KEY");
}

#[test]
fn local_urls() {
    for url in [
        "http://127.0.0.1:1234/v1",
        "http://localhost:8000",
        "http://10.1.2.3/v1",
        "http://192.168.1.9:11434",
        "http://172.20.0.2:8080/v1",
        "http://[::1]:8000",
        "http://gpu-box.local:8000/v1",
        "",
    ] {
        assert!(is_local_url(url), "{url}");
    }
    for url in [
        "https://api.openai.com/v1",
        "https://openrouter.ai/api/v1",
        "http://8.8.8.8/v1",
        "http://172.32.0.1",
    ] {
        assert!(!is_local_url(url), "{url}");
    }
}

#[test]
fn provider_level_row_defaults_and_context_tokens() {
    let l = load_ok(
        r#"{ models: { providers: { vllm: { contextWindow: 32768, maxTokens: 4096,
             models: [{ id: "a" }, { id: "b", contextWindow: 65536, contextTokens: 40000 }] } } } }"#,
    );
    let rows: Vec<_> = l.registry.models_of("vllm").collect();
    assert_eq!((rows[0].context_window, rows[0].max_tokens), (32768, 4096));
    assert_eq!(
        (rows[1].context_window, rows[1].effective_context()),
        (65536, 40000)
    );
    assert_eq!(
        l.registry.provider("vllm").unwrap().base_url,
        "http://127.0.0.1:8000/v1"
    );
}

#[test]
fn llama_cpp_in_process_provider() {
    let l = load_ok(
        r#"{ models: { providers: { gguf: { api: "llama-cpp", modelDir: "/models",
             models: [{ id: "gemma", path: "gemma-3-270m.gguf", contextWindow: 32768 }] } } } }"#,
    );
    let p = l.registry.provider("gguf").unwrap();
    assert_eq!(
        (p.base_url.as_str(), p.api, p.is_local),
        ("", ApiKind::LlamaCpp, true)
    );
    let m = l.registry.models_of("gguf").next().unwrap();
    assert_eq!(
        m.path.as_deref(),
        Some(std::path::Path::new("/models/gemma-3-270m.gguf"))
    );
}

#[test]
fn discovered_rows_merge_under_config_rows() {
    let l = load_ok(
        r#"{ models: { providers: { lmstudio: { models: [{ id: "qwen3", contextWindow: 32768 }] } } } }"#,
    );
    let mut reg = l.registry.clone();
    reg.merge_discovered(
        "LMStudio",
        vec![
            DiscoveredRow {
                id: "qwen3".into(),
                context_window: Some(131072),
                reasoning: Some(true),
                ..Default::default()
            },
            DiscoveredRow {
                id: "gemma".into(),
                supports_tools: Some(false),
                ..Default::default()
            },
        ],
    )
    .unwrap();
    let rows: Vec<_> = reg.models_of("lmstudio").collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].id, "qwen3");
    assert_eq!(
        rows[0].context_window, 32768,
        "the config row keeps what it set"
    );
    assert!(
        rows[0].reasoning,
        "discovered fields fill what config did not set"
    );
    assert_eq!(rows[0].source, RowSource::Discovered);
    assert!(rows[0].configured);
    assert_eq!(
        (rows[1].source, rows[1].context_window),
        (RowSource::Discovered, 128_000)
    );
    assert_eq!(rows[1].compat.supports_tools, Some(false));
    reg.merge_discovered("lmstudio", vec![]).unwrap();
    let ids: Vec<_> = reg.models_of("lmstudio").map(|m| m.id.clone()).collect();
    assert_eq!(
        ids,
        ["qwen3"],
        "vanished discovered rows go, config rows stay"
    );
    assert!(reg.merge_discovered("nope", vec![]).is_err());
}

#[test]
fn secrets_are_redacted_when_serialised() {
    let sb = Sandbox::new();
    let file = sb.write(
        "cfg/c.json5",
        r#"{ models: { providers: { local: { baseUrl: "http://127.0.0.1:1/v1", apiKey: "sk-very-secret-key-123456",
             headers: { Authorization: "Bearer sk-header-secret-99999" }, models: [{ id: "m" }] } } } }"#,
    );
    let l = sb.load_file(&file, &[]).unwrap();
    let p = serde_json::to_string(l.registry.provider("local").unwrap()).unwrap();
    let c = serde_json::to_string(&l.config).unwrap();
    for text in [&p, &c] {
        assert!(
            !text.contains("very-secret") && !text.contains("header-secret"),
            "{text}"
        );
    }
    assert!(p.contains("sk-v…(redacted)"), "{p}");
}

#[test]
fn debug_output_never_shows_secrets() {
    let sb = Sandbox::new();
    let file = sb.write(
        "cfg/c.json5",
        r#"{ env: { CGTEST_DBG: "env-block-secret-value" },
             models: { providers: { local: { baseUrl: "http://127.0.0.1:1/v1", apiKey: "sk-debug-secret-0000",
             headers: { "x-api-key": "hdr-debug-secret-1111" }, models: [{ id: "m", headers: { Authorization: "Bearer row-secret-2222" } }] } } } }"#,
    );
    let l = sb
        .load_file(&file, &[("CGTEST_PROC_SECRET", "proc-secret-3333")])
        .unwrap();
    let text = format!(
        "{l:?} {:?} {:?}",
        l.registry.resolve("local/m").unwrap(),
        l.env
    );
    for secret in [
        "env-block-secret-value",
        "debug-secret-0000",
        "hdr-debug-secret",
        "row-secret-2222",
        "proc-secret-3333",
    ] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    assert!(text.contains("ProviderEntry{"), "{text}");
}

#[test]
fn implicit_local_providers_are_discovered_unless_told_otherwise() {
    let l = load_ok(
        r#"{ models: { providers: {
            ollama: { discover: false },
            mybox: { baseUrl: "http://10.0.0.5:8000/v1", discover: true, models: [] },
            other: { baseUrl: "http://10.0.0.6:8000/v1", models: [{ id: "m" }] },
        } } }"#,
    );
    let discover = |id: &str| l.registry.provider(id).unwrap().discover;
    assert!(discover("lmstudio") && discover("vllm") && discover("llamacpp"));
    assert!(
        !discover("ollama"),
        "discover: false turns an implicit one off"
    );
    assert!(discover("mybox"), "discover: true turns any provider on");
    assert!(!discover("other") && !discover("anthropic"));
}

#[test]
fn discovery_never_rewrites_a_configured_id() {
    let l = load_ok(
        r#"{ models: { providers: { lmstudio: { models: [{ id: "Qwen3-8B", contextWindow: 32768 }] } } } }"#,
    );
    let mut reg = l.registry.clone();
    reg.merge_discovered(
        "lmstudio",
        vec![DiscoveredRow {
            id: "qwen/qwen3-8b".into(),
            context_window: Some(4096),
            ..Default::default()
        }],
    )
    .unwrap();
    let rows: Vec<(String, u64, RowSource)> = reg
        .models_of("lmstudio")
        .map(|m| (m.id.clone(), m.context_window, m.source))
        .collect();
    assert_eq!(
        rows,
        [
            ("Qwen3-8B".to_string(), 32768, RowSource::Config),
            ("qwen/qwen3-8b".to_string(), 4096, RowSource::Discovered)
        ]
    );
}

#[test]
fn a_rows_own_api_that_differs_from_its_providers_is_warned_about() {
    let l = super::harness::load_ok(
        r#"{ models: { providers: { mixed: {
            baseUrl: "http://127.0.0.1:8000/v1", api: "openai-completions",
            models: [ { id: "same", api: "openai-completions" },
                      { id: "other", api: "anthropic-messages" } ] } } } }"#,
    );
    let warnings: Vec<_> = l
        .warnings
        .iter()
        .filter(|w| w.path.ends_with(".api"))
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].path, "models.providers.mixed.models[1].api");
    let m = &warnings[0].message;
    assert!(
        m.contains("\"anthropic-messages\"")
            && m.contains("\"openai-completions\"")
            && m.contains("routing uses the provider's api")
            && m.contains("provider of their own"),
        "{m}"
    );
}
