//! `ollama` (native): `POST {root}/api/chat`, NDJSON streaming, where root is the base URL
//! without a trailing `/` or `/v1`. `options.num_ctx` comes from the model's context window,
//! and `think` is always sent for a known model (`compat::ollama_think`): without it Ollama
//! turns thinking on for every thinking-capable model and may stream the whole reply as
//! `message.thinking`. Bearer only when the key is a real secret (a placeholder like
//! `ollama-local` is not sent). Discovery: `GET /api/tags`, then `POST /api/show` per model
//! (a few at a time).

use async_trait::async_trait;
use clawgate_wire::embeddings::{self, EmbeddingRequest, EmbeddingResponse};
use clawgate_wire::{Request, ollama};
use futures::StreamExt;
use reqwest::header::HeaderMap;
use serde_json::json;

use super::http_provider::{Dialect, HttpProvider};
use super::{AdapterCore, DialectCall};
use crate::body_events::Framing;
use crate::discovery::{apply_ollama_show, ollama_model, parse_ollama_tags};
use crate::embedding_call::post_embeddings;
use crate::endpoint::ollama_url;
use crate::http_call::{insert_bearer, static_headers};
use crate::secret::Secret;
use crate::spec::ApiKind;
use crate::upstream_body::encode_upstream;
use crate::{CallContext, DiscoveredModel, FailureKind, ProviderError};

/// `/api/show` requests in flight at once during discovery.
const SHOW_CONCURRENCY: usize = 4;

/// The native Ollama dialect.
#[derive(Debug, Clone, Copy, Default)]
pub struct OllamaNative;

/// A native Ollama upstream.
pub type OllamaProvider = HttpProvider<OllamaNative>;

impl OllamaNative {
    fn headers(core: &AdapterCore, model: &str, key: Option<&Secret>) -> HeaderMap {
        let mut headers = static_headers(&core.spec, model);
        if let Some(key) = key.filter(|k| k.is_real()) {
            insert_bearer(&mut headers, key);
        }
        headers
    }
}

#[async_trait]
impl Dialect for OllamaNative {
    fn call(&self, core: &AdapterCore, request: &Request, ctx: &CallContext) -> DialectCall {
        let spec = &core.spec;
        DialectCall {
            api: ApiKind::Ollama,
            url: ollama_url(&spec.base_url, "/api/chat"),
            headers: Self::headers(core, &request.model, core.key(ctx)),
            body: encode_upstream(spec, ApiKind::Ollama, request),
            framing: Framing::Ndjson,
            decoder: Box::new(ollama::Decoder::new()),
            decode_response: ollama::decode_response,
            fast_response: None,
        }
    }

    /// `POST {root}/api/embed`.
    async fn embed(
        &self,
        core: &AdapterCore,
        request: EmbeddingRequest,
        ctx: CallContext,
    ) -> Result<EmbeddingResponse, ProviderError> {
        let body = embeddings::ollama::encode_request(&request)
            .map_err(|e| ProviderError::new(FailureKind::Format, e.to_string()))?;
        post_embeddings(
            core,
            ollama_url(&core.spec.base_url, "/api/embed"),
            Self::headers(core, &request.model, core.key(&ctx)),
            body,
            &ctx,
            embeddings::ollama::decode_response,
        )
        .await
    }

    async fn list_models(&self, core: &AdapterCore) -> Result<Vec<DiscoveredModel>, ProviderError> {
        let base = &core.spec.base_url;
        let headers = Self::headers(core, "", core.first_key());
        let tags = core
            .get_json(&ollama_url(base, "/api/tags"), headers.clone())
            .await?;
        let names = parse_ollama_tags(&tags);
        let show_url = ollama_url(base, "/api/show");
        let models = futures::stream::iter(names)
            .map(|name| {
                let headers = headers.clone();
                let show_url = show_url.clone();
                async move {
                    let mut model = ollama_model(&name);
                    // A failed `/api/show` keeps the model with unknown details.
                    if let Ok(show) = core
                        .post_json(&show_url, headers, &json!({ "model": name }))
                        .await
                    {
                        apply_ollama_show(&mut model, &show);
                    }
                    model
                }
            })
            .buffered(SHOW_CONCURRENCY)
            .collect()
            .await;
        Ok(models)
    }
}
