//! Engine settings of `llama-cpp` models (`params` on the provider and its rows): typed,
//! merged row over provider, carried on the registry row; ignored (with a warning) on rows
//! served over HTTP.

use std::path::PathBuf;

use clawgate_config::{ChatTemplateConfig, FlashAttentionConfig, ModelRef};

use super::harness::load_ok;

#[test]
fn row_params_override_the_providers_key_by_key() {
    let l = load_ok(
        r#"{ models: { providers: { local: {
            api: "llama-cpp", modelDir: "/models",
            params: { threads: 2, temperature: 0.2, flashAttention: "auto", mmap: false },
            models: [
              { id: "a", path: "a.gguf",
                params: { temperature: 0.7, seed: 42, contextSize: 4096, topK: 40, minP: 0.05,
                          topP: 0.9, repeatPenalty: 1.1, batchSize: 256, gpuLayers: 99,
                          mlock: true, flashAttention: false, chatTemplate: "tmpl/chat.jinja" } },
              { id: "b", path: "b.gguf", contextWindow: 8192,
                params: { chatTemplate: "{{ messages }}", contextSize: 2048 } },
              { id: "c", path: "c.gguf", params: { chatTemplate: "chatml" } },
            ] } } } }"#,
    );
    let a = l.registry.model(&ModelRef::new("local", "a")).unwrap();
    let e = a.engine.clone().unwrap();
    assert_eq!(e.threads, Some(2));
    assert_eq!(e.temperature, Some(0.7));
    assert_eq!(e.seed, Some(42));
    assert_eq!(e.context_size, Some(4096));
    assert_eq!(e.top_k, Some(40));
    assert_eq!(e.min_p, Some(0.05));
    assert_eq!(e.top_p, Some(0.9));
    assert_eq!(e.repeat_penalty, Some(1.1));
    assert_eq!(e.batch_size, Some(256));
    assert_eq!(e.gpu_layers, Some(99));
    assert_eq!(e.mmap, Some(false));
    assert_eq!(e.mlock, Some(true));
    assert_eq!(e.flash_attention, Some(FlashAttentionConfig::Disabled));
    // A relative template file is found next to the models, like `path`.
    assert_eq!(
        e.chat_template,
        Some(ChatTemplateConfig::File(PathBuf::from(
            "/models/tmpl/chat.jinja"
        )))
    );
    // The context an engine row allocates is its window, unless the row sets one.
    assert_eq!(a.context_window, 4096);

    let b = l.registry.model(&ModelRef::new("local", "b")).unwrap();
    let e = b.engine.clone().unwrap();
    assert_eq!(
        e.chat_template,
        Some(ChatTemplateConfig::Inline("{{ messages }}".into()))
    );
    assert_eq!(e.flash_attention, Some(FlashAttentionConfig::Auto));
    assert_eq!(b.context_window, 8192);

    let c = l.registry.model(&ModelRef::new("local", "c")).unwrap();
    assert_eq!(
        c.engine.clone().unwrap().chat_template,
        Some(ChatTemplateConfig::Name("chatml".into()))
    );
}

#[test]
fn params_on_http_rows_are_ignored_with_a_warning() {
    let l = load_ok(
        r#"{ models: { providers: { vllm: {
            baseUrl: "http://127.0.0.1:8000/v1", params: { anything: "goes" },
            models: [ { id: "m", params: { temperature: 0.5 } } ] } } } }"#,
    );
    let row = l.registry.model(&ModelRef::new("vllm", "m")).unwrap();
    assert_eq!(row.engine, None);
    let warning = l
        .warnings
        .iter()
        .find(|w| w.path.contains("params"))
        .expect("a warning about the row's params");
    assert_eq!(warning.path, "models.providers.vllm.models[0].params");
    assert!(warning.message.contains("ignored"), "{}", warning.message);
    // The provider's own `params` stay a free passthrough for HTTP providers.
    assert!(l.registry.provider("vllm").unwrap().params.is_some());
}
