//! `openai-responses`: `POST {baseUrl}/responses` (OpenAI, LM Studio / vLLM `/v1/responses`,
//! LiteLLM's bridge). Reasoning is structural in this dialect (reasoning items), so no tag
//! splitting. `store` and `instructions` only on api.openai.com unless compat says otherwise.
//! Discovery is the OpenAI-compatible one.

use async_trait::async_trait;
use clawgate_wire::{Request, openai_responses};

use super::openai_chat::list_openai_compatible;
use super::{AdapterCore, DialectCall};
use crate::body_events::Framing;
use crate::compat::{adjust_openai_body, prepare_request, resolve_encode_options};
use crate::endpoint::responses_url;
use crate::http_call::{insert_bearer, static_headers};
use crate::{
    CallContext, DiscoveredModel, EventStream, HttpClient, Provider, ProviderError, ProviderSpec,
};

/// An OpenAI Responses upstream.
#[derive(Debug, Clone)]
pub struct OpenAiResponsesProvider {
    core: AdapterCore,
}

impl OpenAiResponsesProvider {
    pub fn new(spec: &ProviderSpec, client: &HttpClient) -> Self {
        Self {
            core: AdapterCore::new(spec, client),
        }
    }
}

#[async_trait]
impl Provider for OpenAiResponsesProvider {
    fn id(&self) -> &str {
        &self.core.spec.id
    }

    async fn stream(
        &self,
        request: Request,
        ctx: CallContext,
    ) -> Result<EventStream, ProviderError> {
        let spec = &self.core.spec;
        let request = prepare_request(spec, request);
        let options = resolve_encode_options(spec, &request.model);
        let mut body = openai_responses::encode_request(&request, &options);
        adjust_openai_body(spec, &request.model, &options, &mut body);
        let mut headers = static_headers(spec, &request.model);
        if let Some(key) = self.core.key(&ctx) {
            insert_bearer(&mut headers, key);
        }
        let call = DialectCall {
            url: responses_url(&spec.base_url),
            headers,
            body,
            framing: Framing::Sse,
            decoder: Box::new(openai_responses::Decoder::new()),
            decode_response: openai_responses::decode_response,
            split_reasoning_tags: false,
        };
        self.core.call(&request, call, &ctx).await
    }

    async fn list_models(&self) -> Result<Vec<DiscoveredModel>, ProviderError> {
        list_openai_compatible(&self.core).await
    }
}
