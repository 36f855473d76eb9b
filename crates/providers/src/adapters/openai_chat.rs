//! `openai-completions`: `POST {baseUrl}/chat/completions` (vLLM, SGLang, llama.cpp, LM Studio,
//! LiteLLM, OpenRouter, OpenAI). Bearer auth with whatever key is configured (placeholders
//! included: OpenAI-compatible servers expect the header). Local models put reasoning and
//! harmony markup in `content`; the shared answer shaping takes it out. Discovery:
//! `GET {baseUrl}/models`, or LM Studio's native list when the provider is `lmstudio` or a
//! local server answers it. The Responses adapter bridges to [`chat_call`] when its server
//! has no `/responses`.

use async_trait::async_trait;
use clawgate_wire::embeddings::{self, EmbeddingRequest, EmbeddingResponse};
use clawgate_wire::{Request, openai_chat};

use super::http_provider::{Dialect, HttpProvider};
use super::{AdapterCore, DialectCall};
use crate::body_events::Framing;
use crate::discovery::{parse_lmstudio_models, parse_lmstudio_v1_models, parse_openai_models};
use crate::embedding_call::post_embeddings;
use crate::endpoint::{chat_completions_url, embeddings_url, is_local, openai_models_url, origin};
use crate::http_call::{insert_bearer, static_headers};
use crate::secret::Secret;
use crate::spec::ApiKind;
use crate::upstream_body::encode_upstream;
use crate::{CallContext, DiscoveredModel, ProviderError};

/// The chat-completions dialect.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenAiChat;

/// An OpenAI-compatible `/v1/chat/completions` upstream.
pub type OpenAiChatProvider = HttpProvider<OpenAiChat>;

/// The static headers for `model` with `Authorization: Bearer <key>` when there is a key (every
/// OpenAI-compatible route: chat, Responses, embeddings, discovery).
pub(crate) fn openai_headers(
    core: &AdapterCore,
    model: &str,
    key: Option<&Secret>,
) -> reqwest::header::HeaderMap {
    let mut headers = static_headers(&core.spec, model);
    if let Some(key) = key {
        insert_bearer(&mut headers, key);
    }
    headers
}

/// `Authorization: Bearer` headers for discovery with the first key, if any.
pub(crate) fn bearer_headers(core: &AdapterCore) -> reqwest::header::HeaderMap {
    openai_headers(core, "", core.first_key())
}

/// A chat-completions call of `request` on `core`'s server (also the Responses bridge).
pub(crate) fn chat_call(core: &AdapterCore, request: &Request, ctx: &CallContext) -> DialectCall {
    let spec = &core.spec;
    DialectCall {
        api: ApiKind::OpenAiCompletions,
        url: chat_completions_url(&spec.base_url),
        headers: openai_headers(core, &request.model, core.key(ctx)),
        body: encode_upstream(spec, ApiKind::OpenAiCompletions, request),
        framing: Framing::Sse,
        decoder: Box::new(openai_chat::Decoder::new()),
        decode_response: openai_chat::decode_response,
        fast_response: Some(openai_chat::decode_response_fast),
    }
}

/// `POST {baseUrl}/embeddings` with the attempt's key, shared with the Responses adapter.
pub(crate) async fn openai_embeddings(
    core: &AdapterCore,
    request: EmbeddingRequest,
    ctx: &CallContext,
) -> Result<EmbeddingResponse, ProviderError> {
    post_embeddings(
        core,
        embeddings_url(&core.spec.base_url),
        openai_headers(core, &request.model, core.key(ctx)),
        embeddings::openai::encode_request(&request),
        ctx,
        embeddings::openai::decode_response,
    )
    .await
}

/// OpenAI-compatible discovery, shared with the Responses adapter.
pub(crate) async fn list_openai_compatible(
    core: &AdapterCore,
) -> Result<Vec<DiscoveredModel>, ProviderError> {
    let spec = &core.spec;
    let try_native = spec.id == "lmstudio" || is_local(&spec.id, &spec.base_url);
    if try_native && let Some(root) = origin(&spec.base_url) {
        // LM Studio's native lists: v1 (0.4+) reports the window a loaded model runs with.
        let url = format!("{root}/api/v1/models");
        if let Ok(json) = core.get_json(&url, bearer_headers(core)).await
            && let Some(models) = parse_lmstudio_v1_models(&json)
        {
            return Ok(models);
        }
        let url = format!("{root}/api/v0/models");
        if let Ok(json) = core.get_json(&url, bearer_headers(core)).await
            && let Some(models) = parse_lmstudio_models(&json)
        {
            return Ok(models);
        }
    }
    let json = core
        .get_json(&openai_models_url(&spec.base_url), bearer_headers(core))
        .await?;
    Ok(parse_openai_models(&json))
}

#[async_trait]
impl Dialect for OpenAiChat {
    fn call(&self, core: &AdapterCore, request: &Request, ctx: &CallContext) -> DialectCall {
        chat_call(core, request, ctx)
    }

    async fn list_models(&self, core: &AdapterCore) -> Result<Vec<DiscoveredModel>, ProviderError> {
        list_openai_compatible(core).await
    }

    async fn embed(
        &self,
        core: &AdapterCore,
        request: EmbeddingRequest,
        ctx: CallContext,
    ) -> Result<EmbeddingResponse, ProviderError> {
        openai_embeddings(core, request, &ctx).await
    }
}
