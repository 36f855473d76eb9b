//! The in-process engine for `api: "llama-cpp"` providers, as the factory `Services` builds them
//! with. Compiled in with this crate's `embedded` cargo feature (the binary's `embedded` feature
//! turns it on); without it there is no factory, and such providers fail with the providers
//! crate's "needs the embedded engine" message (a configured fallback still answers).
//!
//! The factory turns a provider spec into a `LlamaCppProvider`: one provider serves one GGUF
//! (the engine keeps one model and one context warm), so the spec must have exactly one model
//! row with a `path`.

use std::sync::Arc;

use clawgate_providers::EngineFactory;

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
    use clawgate_engine::{EngineModelSpec, LlamaCppProvider, LoadObserver, ModelInfo};
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
                Ok(info) => eprintln!(
                    "loaded {} ({}, {} M parameters, context {} tokens, {} threads) in {secs:.1} s",
                    info.id,
                    info.architecture,
                    info.parameters / 1_000_000,
                    info.context_window,
                    info.threads
                ),
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
                // The registry fills rows that set no window with its hosted default; for the
                // engine "unset" means the GGUF's own window, which is what such a row wants.
                if let Some(window) = row.context_window.filter(|w| *w != DEFAULT_CONTEXT_WINDOW) {
                    engine_spec =
                        engine_spec.with_context_window(u32::try_from(window).unwrap_or(u32::MAX));
                }
                if let Some(max_tokens) = row.max_tokens {
                    engine_spec = engine_spec.with_max_tokens(max_tokens);
                }
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
