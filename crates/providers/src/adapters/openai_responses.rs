//! `openai-responses`: `POST {baseUrl}/responses` (OpenAI, LM Studio / vLLM `/v1/responses`,
//! LiteLLM's bridge). Reasoning is structural in this dialect, but gpt-oss servers can still
//! leak harmony markup into `output_text`; the shared answer shaping takes it out. `store`
//! and `instructions` only on api.openai.com unless compat says otherwise. Discovery is the
//! OpenAI-compatible one.
//!
//! A plain `/v1` server configured with this api (OpenClaw's guide does so) has no
//! `/responses`: a 404, 405 or 501 that says "no such route" (`classify::is_missing_endpoint`)
//! makes the call go to `/chat/completions` on the same base URL instead, and the provider
//! remembers it, so later calls go there directly (`learned().responses_via_chat`). Listing
//! the models (discovery, `models status --probe`) also asks whether `/responses` exists, by
//! posting an empty object there: a server with the route rejects it as incomplete (no model
//! runs), one without says "not found". LiteLLM decides per model behind its own route, so
//! for it only a real call can tell.

use async_trait::async_trait;
use clawgate_wire::embeddings::{EmbeddingRequest, EmbeddingResponse};
use clawgate_wire::{Request, openai_responses};

use super::http_provider::{Dialect, HttpProvider};
use super::openai_chat::{
    bearer_headers, chat_call, list_openai_compatible, openai_embeddings, openai_headers,
};
use super::{AdapterCore, DialectCall};
use crate::body_events::Framing;
use crate::classify::is_missing_endpoint;
use crate::endpoint::responses_url;
use crate::spec::ApiKind;
use crate::upstream_body::encode_upstream;
use crate::{CallContext, DiscoveredModel, EventStream, ProviderError};

/// The OpenAI Responses dialect.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenAiResponses;

/// An OpenAI Responses upstream.
pub type OpenAiResponsesProvider = HttpProvider<OpenAiResponses>;

#[async_trait]
impl Dialect for OpenAiResponses {
    fn call(&self, core: &AdapterCore, request: &Request, ctx: &CallContext) -> DialectCall {
        let spec = &core.spec;
        DialectCall {
            api: ApiKind::OpenAiResponses,
            url: responses_url(&spec.base_url),
            headers: openai_headers(core, &request.model, core.key(ctx)),
            body: encode_upstream(spec, ApiKind::OpenAiResponses, request),
            framing: Framing::Sse,
            decoder: Box::new(openai_responses::Decoder::new()),
            decode_response: openai_responses::decode_response,
            fast_response: None,
        }
    }

    async fn stream(
        &self,
        core: &AdapterCore,
        request: Request,
        ctx: CallContext,
    ) -> Result<EventStream, ProviderError> {
        let bridge = |r: &Request| chat_call(core, r, &ctx);
        if core.learned.responses_via_chat() {
            return core.run(request, &ctx, bridge).await;
        }
        let (refusal, request) = match core
            .try_run(request, &ctx, |r| self.call(core, r, &ctx))
            .await
        {
            Ok(stream) => return Ok(stream),
            Err(refused) => refused,
        };
        match refusal.status {
            Some(status) if is_missing_endpoint(status, &refusal.body) => {
                core.learned.set_responses_via_chat();
                core.run(request, &ctx, bridge).await
            }
            _ => Err(refusal.error),
        }
    }

    async fn embed(
        &self,
        core: &AdapterCore,
        request: EmbeddingRequest,
        ctx: CallContext,
    ) -> Result<EmbeddingResponse, ProviderError> {
        openai_embeddings(core, request, &ctx).await
    }

    async fn list_models(&self, core: &AdapterCore) -> Result<Vec<DiscoveredModel>, ProviderError> {
        let models = list_openai_compatible(core).await?;
        if !core.learned.responses_via_chat()
            && core
                .has_route(&responses_url(&core.spec.base_url), bearer_headers(core))
                .await
                == Some(false)
        {
            core.learned.set_responses_via_chat();
        }
        Ok(models)
    }
}
