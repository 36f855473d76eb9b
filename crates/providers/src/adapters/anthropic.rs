//! `anthropic-messages`: `POST {root}/v1/messages`. OpenClaw's Anthropic base URLs omit `/v1`;
//! both spellings are accepted (see `endpoint`). Auth is `x-api-key` + `anthropic-version`, or
//! `Authorization: Bearer` when the provider sets `authHeader`. No `anthropic-beta` header is
//! added implicitly (set it in `headers` if a proxy needs it). Discovery: `GET /v1/models`.

use async_trait::async_trait;
use clawgate_wire::{Request, anthropic};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::http_provider::{Dialect, HttpProvider};
use super::{AdapterCore, DialectCall};
use crate::body_events::Framing;
use crate::discovery::parse_anthropic_models;
use crate::endpoint::{anthropic_messages_url, anthropic_models_url};
use crate::http_call::{insert_bearer, secret_header, static_headers};
use crate::secret::Secret;
use crate::spec::ApiKind;
use crate::upstream_body::encode_upstream;
use crate::{CallContext, DiscoveredModel, ProviderError};

/// The Messages API version clawgate speaks.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// The Anthropic Messages dialect.
#[derive(Debug, Clone, Copy, Default)]
pub struct AnthropicMessages;

/// An Anthropic Messages upstream.
pub type AnthropicProvider = HttpProvider<AnthropicMessages>;

impl AnthropicMessages {
    fn headers(core: &AdapterCore, model: &str, key: Option<&Secret>) -> HeaderMap {
        let spec = &core.spec;
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
}

#[async_trait]
impl Dialect for AnthropicMessages {
    fn call(&self, core: &AdapterCore, request: &Request, ctx: &CallContext) -> DialectCall {
        let spec = &core.spec;
        DialectCall {
            api: ApiKind::AnthropicMessages,
            url: anthropic_messages_url(&spec.base_url),
            headers: Self::headers(core, &request.model, core.key(ctx)),
            body: encode_upstream(spec, ApiKind::AnthropicMessages, request),
            framing: Framing::Sse,
            decoder: Box::new(anthropic::Decoder::new()),
            decode_response: anthropic::decode_response,
            fast_response: None,
        }
    }

    async fn list_models(&self, core: &AdapterCore) -> Result<Vec<DiscoveredModel>, ProviderError> {
        let headers = Self::headers(core, "", core.first_key());
        let json = core
            .get_json(&anthropic_models_url(&core.spec.base_url), headers)
            .await?;
        Ok(parse_anthropic_models(&json))
    }
}
