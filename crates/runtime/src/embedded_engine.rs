//! The in-process engine for `api: "llama-cpp"` providers, as the factory `Services` builds them
//! with. Compiled in with this crate's `embedded` cargo feature (the binary's `embedded` feature
//! turns it on); without it there is no factory, and such providers fail with the providers
//! crate's "needs the embedded engine" message (a configured fallback still answers).
//!
//! The factory turns a provider spec into a `LlamaCppProvider`: one provider serves one GGUF
//! (the engine keeps one model and one context warm), so the spec must have exactly one model
//! row with a `path`. The row's engine settings (`params`, typed by the config crate) become
//! the engine's `EngineModelSpec`.

use std::sync::Arc;

use clawgate_providers::EngineFactory;

/// In a build with the engine, restarts the process with OpenMP's passive wait policy unless
/// `OMP_WAIT_POLICY` or `GOMP_SPINCOUNT` is set (see `clawgate_engine::openmp_wait`); call first thing in `main`.
pub fn restart_with_engine_wait_policy() {
    #[cfg(feature = "embedded")]
    clawgate_engine::openmp_wait::restart_with_default_wait_policy();
}

/// The engine factory of this build: `Some` with the `embedded` feature. `show_loading` prints
/// a line on stderr when the GGUF starts and finishes loading (the first turn waits for it).
pub fn engine_factory(show_loading: bool) -> Option<Arc<EngineFactory>> {
    #[cfg(feature = "embedded")]
    {
        Some(linked::factory(show_loading))
    }
    #[cfg(not(feature = "embedded"))]
    {
        let _ = show_loading;
        None
    }
}

#[cfg(feature = "embedded")]
mod linked {
    use std::path::Path;
    use std::sync::Arc;
    use std::time::Instant;

    use clawgate_config::registry::DEFAULT_CONTEXT_WINDOW;
    use clawgate_config::{ChatTemplateConfig, EngineParams, FlashAttentionConfig};
    use clawgate_engine::{
        ChatTemplateSetting, EngineModelSpec, FlashAttention, LlamaCppProvider, LoadObserver,
        ModelInfo, SamplingDefaults,
    };
    use clawgate_providers::{EngineFactory, Provider, ProviderBuildError, ProviderSpec};

    /// One stderr line when loading starts, one when it ends.
    struct LoadNotice {
        started: std::sync::Mutex<Option<Instant>>,
    }

    impl LoadObserver for LoadNotice {
        fn on_load_start(&self, path: &Path) {
            if let Ok(mut started) = self.started.lock() {
                *started = Some(Instant::now());
            }
            eprintln!("loading {} …", path.display());
        }

        fn on_load_done(&self, result: Result<&ModelInfo, &str>) {
            let secs = self
                .started
                .lock()
                .ok()
                .and_then(|s| *s)
                .map_or(0.0, |t| t.elapsed().as_secs_f64());
            match result {
                Ok(info) => {
                    eprintln!(
                        "loaded {} ({}, {} M parameters, context {} tokens, {} threads) in \
                         {secs:.1} s",
                        info.id,
                        info.architecture,
                        info.parameters / 1_000_000,
                        info.context_window,
                        info.threads
                    );
                    if info.base_model {
                        eprintln!(
                            "note: {} is a base model (no chat template, not tuned to chat): \
                             it continues a plain transcript, so expect rough answers",
                            info.id
                        );
                    }
                }
                Err(message) => eprintln!("loading failed after {secs:.1} s: {message}"),
            }
        }
    }

    fn engine_error(spec: &ProviderSpec, message: String) -> ProviderBuildError {
        ProviderBuildError::Engine {
            provider: spec.id.clone(),
            message,
        }
    }

    /// The row's engine settings on the spec (unset keys keep the engine's defaults).
    fn with_engine_params(mut spec: EngineModelSpec, params: &EngineParams) -> EngineModelSpec {
        spec.threads = params.threads.map(|n| n as usize);
        spec.batch_size = params.batch_size;
        spec.gpu_layers = params.gpu_layers;
        if let Some(policy) = params.flash_attention {
            spec.flash_attention = match policy {
                FlashAttentionConfig::Auto => FlashAttention::Auto,
                FlashAttentionConfig::Enabled => FlashAttention::Enabled,
                FlashAttentionConfig::Disabled => FlashAttention::Disabled,
            };
        }
        if let Some(mmap) = params.mmap {
            spec.mmap = mmap;
        }
        if let Some(mlock) = params.mlock {
            spec.mlock = mlock;
        }
        spec.chat_template = params.chat_template.as_ref().map(|t| match t {
            ChatTemplateConfig::Name(name) => ChatTemplateSetting::Named(name.clone()),
            ChatTemplateConfig::Inline(source) => ChatTemplateSetting::Jinja(source.clone()),
            ChatTemplateConfig::File(path) => ChatTemplateSetting::File(path.clone()),
        });
        spec.sampling = SamplingDefaults {
            temperature: params.temperature,
            top_p: params.top_p,
            top_k: params.top_k,
            min_p: params.min_p,
            repeat_penalty: params.repeat_penalty,
            seed: params.seed,
        };
        spec
    }

    pub fn factory(show_loading: bool) -> Arc<EngineFactory> {
        Arc::new(
            move |spec: &ProviderSpec| -> Result<Arc<dyn Provider>, ProviderBuildError> {
                let rows: Vec<_> = spec.models.iter().filter(|m| m.path.is_some()).collect();
                let row = match rows.as_slice() {
                    [row] => *row,
                    [] => {
                        return Err(engine_error(
                            spec,
                            "no model row with a `path` (the GGUF file to load)".into(),
                        ));
                    }
                    several => {
                        let ids: Vec<&str> = several.iter().map(|m| m.id.as_str()).collect();
                        return Err(engine_error(
                            spec,
                            format!(
                                "an embedded provider serves one model, but rows {} all name a \
                                 GGUF; declare one llama-cpp provider per model",
                                ids.join(", ")
                            ),
                        ));
                    }
                };
                let Some(path) = row.path.clone() else {
                    return Err(engine_error(spec, "model row without a path".into()));
                };
                let mut engine_spec = EngineModelSpec::new(row.id.clone(), path);
                let params = row.engine.clone().unwrap_or_default();
                // `contextSize` is the window to allocate. Without it, the row's window; the
                // registry fills rows that set none with its hosted default, and for the
                // engine "unset" means the GGUF's own window, which is what such a row wants.
                let window = params.context_size.or_else(|| {
                    row.context_window
                        .filter(|w| *w != DEFAULT_CONTEXT_WINDOW)
                        .map(|w| u32::try_from(w).unwrap_or(u32::MAX))
                });
                if let Some(window) = window {
                    engine_spec = engine_spec.with_context_window(window);
                }
                if let Some(max_tokens) = row.max_tokens {
                    engine_spec = engine_spec.with_max_tokens(max_tokens);
                }
                engine_spec = with_engine_params(engine_spec, &params);
                let mut provider = LlamaCppProvider::new(spec.id.clone(), engine_spec);
                if show_loading {
                    provider = provider.with_load_observer(Arc::new(LoadNotice {
                        started: std::sync::Mutex::new(None),
                    }));
                }
                Ok(Arc::new(provider))
            },
        )
    }
}
