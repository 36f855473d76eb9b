//! [`LlamaCppProvider`]: the `Provider` for `api: "llama-cpp"`. With the `llama` feature it
//! drives the engine thread in `worker`; without it, every call fails with
//! [`EngineError::NotBuilt`] (classified `model_not_found`, so a router falls back).

use std::sync::Arc;

use async_trait::async_trait;
use clawgate_providers::{CallContext, DiscoveredModel, EventStream, Provider, ProviderError};
use clawgate_wire::Request;
use clawgate_wire::embeddings::{EmbeddingRequest, EmbeddingResponse};

use crate::spec::expand_home;
use crate::{EngineError, EngineModelSpec, EngineStats, LoadObserver, ModelInfo};

/// One GGUF model served in-process, one request at a time.
pub struct LlamaCppProvider {
    provider_id: String,
    #[cfg(feature = "llama")]
    engine: crate::worker::EngineHandle,
    #[cfg(not(feature = "llama"))]
    spec: EngineModelSpec,
}

impl std::fmt::Debug for LlamaCppProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlamaCppProvider")
            .field("provider_id", &self.provider_id)
            .field("spec", self.spec())
            .finish_non_exhaustive()
    }
}

impl LlamaCppProvider {
    /// Builds the provider; nothing is loaded until the first call or [`Self::warm`].
    /// `provider_id` is the config key (`embedded`); `~/` in the spec's path is expanded.
    pub fn new(provider_id: impl Into<String>, mut spec: EngineModelSpec) -> Self {
        spec.path = expand_home(&spec.path);
        Self {
            provider_id: provider_id.into(),
            #[cfg(feature = "llama")]
            engine: crate::worker::EngineHandle::new(spec),
            #[cfg(not(feature = "llama"))]
            spec,
        }
    }

    /// Hooks called around loading the GGUF (start, progress fractions, done). Set it before
    /// the first call; the load happens once.
    pub fn with_load_observer(self, observer: Arc<dyn LoadObserver>) -> Self {
        #[cfg(feature = "llama")]
        {
            let mut this = self;
            this.engine.set_observer(observer);
            this
        }
        #[cfg(not(feature = "llama"))]
        {
            drop(observer);
            self
        }
    }

    pub fn spec(&self) -> &EngineModelSpec {
        #[cfg(feature = "llama")]
        return self.engine.spec();
        #[cfg(not(feature = "llama"))]
        return &self.spec;
    }

    /// Loads the model now (if it is not loaded yet) and reports it. Waits behind any
    /// running request.
    pub async fn warm(&self) -> Result<ModelInfo, ProviderError> {
        #[cfg(feature = "llama")]
        return self.engine.warm().await.map_err(ProviderError::from);
        #[cfg(not(feature = "llama"))]
        return Err(EngineError::NotBuilt.into());
    }

    /// The loaded model, or `None` before the first successful load.
    pub fn model_info(&self) -> Option<ModelInfo> {
        #[cfg(feature = "llama")]
        return self.engine.model_info();
        #[cfg(not(feature = "llama"))]
        return None;
    }

    /// Counters since the provider was built (loads, requests, tokens).
    pub fn stats(&self) -> EngineStats {
        #[cfg(feature = "llama")]
        return self.engine.stats();
        #[cfg(not(feature = "llama"))]
        return EngineStats::default();
    }

    async fn start(&self, request: Request) -> Result<EventStream, EngineError> {
        #[cfg(feature = "llama")]
        return self.engine.start(request).await;
        #[cfg(not(feature = "llama"))]
        {
            drop(request);
            Err(EngineError::NotBuilt)
        }
    }

    /// Context window of a model that is not loaded, read from the GGUF header.
    async fn unloaded_context_window(&self) -> Result<Option<u64>, EngineError> {
        let spec = self.spec();
        if !spec.path.is_file() {
            return Err(EngineError::ModelFileMissing {
                path: spec.path.display().to_string(),
            });
        }
        if let Some(n_ctx) = spec.context_window {
            return Ok(Some(u64::from(n_ctx)));
        }
        #[cfg(feature = "llama")]
        {
            let path = spec.path.clone();
            let read =
                tokio::task::spawn_blocking(move || crate::worker::gguf_context_length(&path));
            Ok(read.await.ok().flatten())
        }
        #[cfg(not(feature = "llama"))]
        Err(EngineError::NotBuilt)
    }
}

#[async_trait]
impl Provider for LlamaCppProvider {
    fn id(&self) -> &str {
        &self.provider_id
    }

    /// Queues the request behind any running one, then streams `Started`, text, reasoning
    /// and tool-call deltas, `Usage`, `Finished`. Prompt problems (overflow, a template
    /// error, a tool schema that cannot be forced, a missing file) come back as `Err` before
    /// any event. Dropping the stream stops generation.
    async fn stream(
        &self,
        request: Request,
        _ctx: CallContext,
    ) -> Result<EventStream, ProviderError> {
        self.start(request).await.map_err(ProviderError::from)
    }

    async fn list_models(&self) -> Result<Vec<DiscoveredModel>, ProviderError> {
        let (context_window, loaded) = match self.model_info() {
            Some(info) => (Some(u64::from(info.context_window)), true),
            None => (self.unloaded_context_window().await?, false),
        };
        Ok(vec![DiscoveredModel {
            id: self.spec().id.clone(),
            context_window,
            loaded: Some(loaded),
            // Through the template, or forced by a grammar (base models: forced only).
            supports_tools: Some(true),
            reasoning: Some(false),
        }])
    }

    /// The in-process engine runs chat models only; embeddings go to a server that serves
    /// them (the router tries the next candidate: nothing cools down).
    async fn embed(
        &self,
        _request: EmbeddingRequest,
        _ctx: CallContext,
    ) -> Result<EmbeddingResponse, ProviderError> {
        Err(ProviderError::new(
            clawgate_providers::FailureKind::Format,
            "embeddings are not supported by the embedded engine (llama-cpp); configure a \
             server that serves them (llama.cpp's server with --embeddings, vLLM, Ollama)",
        ))
    }
}

#[cfg(all(test, not(feature = "llama")))]
#[allow(clippy::unwrap_used)]
mod stub_tests {
    use clawgate_providers::FailureKind;
    use clawgate_wire::{Message, Role};

    use super::*;

    #[tokio::test]
    async fn without_the_feature_every_call_says_how_to_rebuild() {
        let provider = LlamaCppProvider::new("embedded", EngineModelSpec::new("m", "m.gguf"));
        let request = Request {
            model: "m".into(),
            messages: vec![Message::text(Role::User, "hi")],
            ..Request::default()
        };
        let Err(err) = provider.stream(request, CallContext::default()).await else {
            panic!("the stub answered");
        };
        assert_eq!(err.kind, FailureKind::ModelNotFound);
        assert!(
            err.message.contains("--features embedded"),
            "{}",
            err.message
        );
        assert!(provider.warm().await.is_err());
        assert!(provider.model_info().is_none());
        const { assert!(!crate::EMBEDDED_ENGINE_AVAILABLE) };
    }
}
