//! The built-in catalog (hosted providers, from `catalog/models.json5`) and the implicit local
//! providers registered in `merge` mode.
//!
//! The catalog is data, not code: one JSON5 file embedded with `include_str!` and decoded with
//! the same schema as a config's `models.providers`, so updating ids or prices is a data edit
//! and a malformed entry fails the tests.

use std::path::Path;

use crate::decode::Decoder;
use crate::diagnostic::JsonPath;
use crate::error::ConfigError;
use crate::schema::{ApiKind, ModelConfig, ModelsConfig, ProviderConfig};
use crate::source::parse_text;

const CATALOG_JSON5: &str = include_str!("../catalog/models.json5");

/// The hosted providers of the built-in catalog, in file order.
pub fn builtin_catalog() -> Result<Vec<(String, ProviderConfig)>, ConfigError> {
    let node = parse_text(Path::new("<builtin catalog>"), CATALOG_JSON5)
        .map_err(|d| ConfigError::Catalog(d.to_string()))?;
    let mut cx = Decoder::default();
    let models = node
        .get("providers")
        .map(|_| <ModelsConfig as crate::decode::Decode>::decode(&node, &JsonPath::root(), &mut cx))
        .unwrap_or_default()
        .unwrap_or_default();
    if let Some(first) = cx.diags.iter().find(|d| d.is_error()) {
        return Err(ConfigError::Catalog(first.to_string()));
    }
    Ok(models.providers)
}

/// Whether `id` is one of the implicit local providers (discovered by default).
pub fn is_implicit_provider(id: &str) -> bool {
    IMPLICIT_PROVIDERS.iter().any(|p| p.id == id)
}

/// One implicit local provider (no model rows until discovery or config supplies them).
#[derive(Debug, Clone, Copy)]
pub struct ImplicitProvider {
    pub id: &'static str,
    pub base_url: &'static str,
    pub api: ApiKind,
}

/// LM Studio, vLLM, Ollama (native API) and llama.cpp's server on their default ports.
pub const IMPLICIT_PROVIDERS: &[ImplicitProvider] = &[
    ImplicitProvider {
        id: "lmstudio",
        base_url: "http://127.0.0.1:1234/v1",
        api: ApiKind::OpenAiCompletions,
    },
    ImplicitProvider {
        id: "vllm",
        base_url: "http://127.0.0.1:8000/v1",
        api: ApiKind::OpenAiCompletions,
    },
    ImplicitProvider {
        id: "ollama",
        base_url: "http://127.0.0.1:11434",
        api: ApiKind::Ollama,
    },
    ImplicitProvider {
        id: "llamacpp",
        base_url: "http://127.0.0.1:8080/v1",
        api: ApiKind::OpenAiCompletions,
    },
];

/// The in-process provider registered (merge mode) when the demo model is in the state dir.
pub const EMBEDDED_PROVIDER_ID: &str = "embedded";
/// The demo model's row id: `embedded/gemma-3-270m`.
pub const DEMO_MODEL_ID: &str = "gemma-3-270m";
/// The file `scripts/fetch-demo-model` assembles under `<state dir>/models/`.
pub const DEMO_MODEL_FILE: &str = "gemma-3-270m-q4_k_m.gguf";
/// The demo model's window (the GGUF's `gemma3.context_length`).
pub const DEMO_MODEL_CONTEXT_WINDOW: u64 = 32_768;
/// Output cap of the demo row: a tiny base model rambles, and a 2-core machine should answer
/// one turn in seconds.
pub const DEMO_MODEL_MAX_TOKENS: u64 = 128;

/// `<state dir>/models/gemma-3-270m-q4_k_m.gguf`.
pub fn demo_model_path(state_dir: &Path) -> std::path::PathBuf {
    state_dir.join("models").join(DEMO_MODEL_FILE)
}

/// The implicit `embedded` provider (`api: "llama-cpp"`) with the demo model's row.
pub(crate) fn embedded_demo_provider(model_path: &Path) -> ProviderConfig {
    let row = ModelConfig {
        name: Some("Gemma 3 270M (demo base model, in-process)".into()),
        context_window: Some(DEMO_MODEL_CONTEXT_WINDOW),
        max_tokens: Some(DEMO_MODEL_MAX_TOKENS),
        path: Some(model_path.to_path_buf()),
        ..ModelConfig::bare(DEMO_MODEL_ID)
    };
    ProviderConfig {
        api: Some(ApiKind::LlamaCpp),
        models: Some(vec![row]),
        ..ProviderConfig::empty()
    }
}

impl ImplicitProvider {
    pub fn as_config(&self) -> ProviderConfig {
        ProviderConfig {
            base_url: Some(self.base_url.to_string()),
            api: Some(self.api),
            ..ProviderConfig::empty()
        }
    }
}

impl ProviderConfig {
    /// A provider entry with nothing set.
    pub fn empty() -> Self {
        Self {
            base_url: None,
            api_key: None,
            api_keys: None,
            api: None,
            auth_header: None,
            headers: None,
            timeout_seconds: None,
            timeouts: None,
            inject_num_ctx_for_openai_compat: None,
            context_window: None,
            context_tokens: None,
            max_tokens: None,
            params: None,
            engine_params: None,
            model_dir: None,
            discover: None,
            models: None,
            pos: None,
            base_url_given: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_decodes_cleanly_with_the_three_hosted_providers() {
        let cat = builtin_catalog().unwrap();
        let ids: Vec<&str> = cat.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["anthropic", "openai", "openrouter"]);
        for (id, p) in &cat {
            let rows = p.models.as_ref().unwrap();
            assert!(rows.len() >= 5, "{id}");
            for row in rows {
                assert!(
                    row.context_window.is_some() && row.max_tokens.is_some(),
                    "{id}/{}",
                    row.id
                );
                assert!(row.name.is_some(), "{id}/{}", row.id);
            }
        }
    }
}
