//! `anthropic-messages`: `POST {root}/v1/messages`. OpenClaw's Anthropic base URLs omit `/v1`;
//! both spellings are accepted (see `endpoint`). Auth is `x-api-key` + `anthropic-version`, or
//! `Authorization: Bearer` when the provider sets `authHeader`. No `anthropic-beta` header is
//! added implicitly (set it in `headers` if a proxy needs it). Discovery: `GET /v1/models`.

use async_trait::async_trait;
use clawgate_wire::{Request, anthropic};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::{AdapterCore, DialectCall};
use crate::body_events::Framing;
use crate::discovery::parse_anthropic_models;
use crate::endpoint::{anthropic_messages_url, anthropic_models_url};
use crate::http_call::{insert_bearer, secret_header, static_headers};
use crate::secret::Secret;
use crate::spec::ApiKind;
use crate::upstream_body::encode_upstream;
use crate::{
    CallContext, DiscoveredModel, EventStream, HttpClient, LearnedBehaviour, Provider,
    ProviderError, ProviderSpec,
};

/// The Messages API version clawgate speaks.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// An Anthropic Messages upstream.
#[derive(Debug, Clone)]
pub struct AnthropicProvider {
    core: AdapterCore,
}

impl AnthropicProvider {
    pub fn new(spec: &ProviderSpec, client: &HttpClient) -> Self {
        Self {
            core: AdapterCore::new(spec, client),
        }
    }

    fn headers(&self, model: &str, key: Option<&Secret>) -> HeaderMap {
        let spec = &self.core.spec;
        let mut headers = static_headers(spec, model);
        // A configured `anthropic-version` header wins (a proxy may need another version).
        headers
            .entry(HeaderName::from_static("anthropic-version"))
            .or_insert(HeaderValue::from_static(ANTHROPIC_VERSION));
        if let Some(key) = key {
            if spec.auth_header {
                insert_bearer(&mut headers, key);
            } else if let Some(v) = secret_header(key.expose()) {
                headers.insert(HeaderName::from_static("x-api-key"), v);
            }
        }
        headers
    }

    fn dialect_call(&self, request: &Request, ctx: &CallContext) -> DialectCall {
        let spec = &self.core.spec;
        DialectCall {
            api: ApiKind::AnthropicMessages,
            url: anthropic_messages_url(&spec.base_url),
            headers: self.headers(&request.model, self.core.key(ctx)),
            body: encode_upstream(spec, ApiKind::AnthropicMessages, request),
            framing: Framing::Sse,
            decoder: Box::new(anthropic::Decoder::new()),
            decode_response: anthropic::decode_response,
        }
    }
}

#[async_trait]
impl Provider for AnthropicProvider {
    fn id(&self) -> &str {
        &self.core.spec.id
    }

    async fn stream(
        &self,
        request: Request,
        ctx: CallContext,
    ) -> Result<EventStream, ProviderError> {
        self.core
            .run(request, &ctx, |r| self.dialect_call(r, &ctx))
            .await
    }

    async fn list_models(&self) -> Result<Vec<DiscoveredModel>, ProviderError> {
        let headers = self.headers("", self.core.first_key());
        let json = self
            .core
            .get_json(&anthropic_models_url(&self.core.spec.base_url), headers)
            .await?;
        Ok(parse_anthropic_models(&json))
    }

    fn learned(&self) -> LearnedBehaviour {
        self.core.learned.snapshot()
    }
}
