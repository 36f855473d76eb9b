//! One adapter per `api` value. Each adapter only knows its dialect's URL, auth headers, codec
//! and discovery; the HTTP attempt, timeouts, classification and stream checks are shared
//! (`http_call`, `body_events`) through [`AdapterCore`].

pub mod anthropic;
pub mod ollama;
pub mod openai_chat;
pub mod openai_responses;

use std::sync::Arc;
use std::time::Duration;

use clawgate_wire::{Request, Response, StreamDecoder, WireError};
use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::answer_guard::OverflowHint;
use crate::body_events::Framing;
use crate::classify::{
    classify_http_error, classify_transport_error, parse_retry_after_headers, safe_message,
};
use crate::http_call::{Decoding, PreparedCall, response_events, send};
use crate::secret::Secret;
use crate::spec::ProviderSpec;
use crate::{CallContext, EventStream, FailureKind, HttpClient, ProviderError};

/// Discovery requests are short: a server that does not answer in this time is down for our
/// purposes (callers treat discovery errors as warnings).
pub const DISCOVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// What every HTTP adapter holds.
#[derive(Debug, Clone)]
pub struct AdapterCore {
    pub spec: Arc<ProviderSpec>,
    pub client: HttpClient,
    pub keys: Arc<[Secret]>,
}

/// The dialect-specific half of one call.
pub struct DialectCall {
    pub url: String,
    pub headers: HeaderMap,
    pub body: Value,
    pub framing: Framing,
    pub decoder: Box<dyn StreamDecoder>,
    pub decode_response: fn(&Value) -> Result<Response, WireError>,
    pub split_reasoning_tags: bool,
}

impl AdapterCore {
    pub fn new(spec: &ProviderSpec, client: &HttpClient) -> Self {
        Self {
            keys: spec.keys.clone().into(),
            spec: Arc::new(spec.clone()),
            client: client.clone(),
        }
    }

    /// The key for this attempt, if any non-empty key is configured.
    pub fn key(&self, ctx: &CallContext) -> Option<&Secret> {
        self.spec.key(ctx.key_index).filter(|k| !k.is_empty())
    }

    /// First key, for discovery.
    pub fn first_key(&self) -> Option<&Secret> {
        self.key(&CallContext::default())
    }

    /// Send a prepared dialect call and return its events.
    pub async fn call(
        &self,
        request: &Request,
        call: DialectCall,
        ctx: &CallContext,
    ) -> Result<EventStream, ProviderError> {
        let window = self
            .spec
            .model(&request.model)
            .and_then(|m| m.context_window);
        let decoding = Decoding {
            stream: request.stream,
            framing: call.framing,
            decoder: call.decoder,
            decode_response: call.decode_response,
            split_reasoning_tags: call.split_reasoning_tags,
            hint: OverflowHint::new(request, window),
        };
        let prepared = PreparedCall {
            url: call.url,
            headers: call.headers,
            body: call.body,
        };
        let response = send(&self.client, prepared, ctx, &self.keys).await?;
        response_events(response, decoding, self.keys.clone()).await
    }

    /// GET a JSON document with the discovery timeout.
    pub async fn get_json(&self, url: &str, headers: HeaderMap) -> Result<Value, ProviderError> {
        let request = self
            .client
            .reqwest()
            .get(url)
            .headers(headers)
            .timeout(DISCOVERY_TIMEOUT);
        self.json_answer(request).await
    }

    /// POST a JSON body and read a JSON answer with the discovery timeout.
    pub async fn post_json(
        &self,
        url: &str,
        headers: HeaderMap,
        body: &Value,
    ) -> Result<Value, ProviderError> {
        let request = self
            .client
            .reqwest()
            .post(url)
            .headers(headers)
            .json(body)
            .timeout(DISCOVERY_TIMEOUT);
        self.json_answer(request).await
    }

    async fn json_answer(&self, request: reqwest::RequestBuilder) -> Result<Value, ProviderError> {
        let response = request
            .send()
            .await
            .map_err(|e| classify_transport_error(&e, &self.keys))?;
        let status = response.status();
        let retry_after = parse_retry_after_headers(response.headers());
        let text = response
            .text()
            .await
            .map_err(|e| classify_transport_error(&e, &self.keys))?;
        if !status.is_success() {
            return Err(classify_http_error(
                status.as_u16(),
                retry_after,
                &text,
                &self.keys,
            ));
        }
        serde_json::from_str(&text).map_err(|e| {
            let head: String = text.chars().take(200).collect();
            ProviderError::new(
                FailureKind::ServerError,
                safe_message(&format!("model list is not JSON ({e}): {head}"), &self.keys),
            )
            .with_status(status.as_u16())
        })
    }
}
