//! One adapter per `api` value. Each adapter is a [`http_provider::Dialect`] that only knows
//! its dialect's URL, auth headers, codec, discovery and embeddings route; one generic
//! [`http_provider::HttpProvider`] implements `Provider` for all of them. The HTTP attempt,
//! timeouts, classification, answer shaping and stream checks are shared (`http_call`,
//! `body_events`, `answer_shaping`) through [`AdapterCore`], and so is what every attempt
//! does before and after encoding ([`AdapterCore::run`]): compat preparation, unique
//! tool-call ids, and one retry without tools for a model that refuses them (remembered per
//! model in `learned`).

pub mod anthropic;
pub mod http_provider;
pub mod ollama;
pub mod openai_chat;
pub mod openai_responses;

use std::sync::Arc;
use std::time::Duration;

use clawgate_wire::reasoning_tags::SplitterOptions;
use clawgate_wire::{Request, Response, StreamDecoder, ToolChoice, WireError};
use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::answer_guard::OverflowHint;
use crate::answer_shaping::{REASONING_LEAD_BYTES, ShapingOptions};
use crate::body_events::Framing;
use crate::classify::{
    classify_http_error, classify_transport_error, is_tools_unsupported, parse_retry_after_headers,
    safe_message,
};
use crate::compat::prepare_request;
use crate::endpoint::is_local;
use crate::http_call::{Decoding, PreparedCall, Refusal, response_events, send};
use crate::learned::Learned;
use crate::mistral_tool_ids::mistral_request_ids;
use crate::secret::Secret;
use crate::spec::{ApiKind, ProviderSpec};
use crate::tool_call_ids::{ToolCallIds, unique_request_ids};
use crate::{CallContext, EventStream, FailureKind, HttpClient, ProviderError};

/// Discovery requests are short: a server that does not answer in this time is down for our
/// purposes (callers treat discovery errors as warnings).
pub const DISCOVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// What every HTTP adapter holds.
#[derive(Debug, Clone)]
pub struct AdapterCore {
    pub spec: Arc<ProviderSpec>,
    pub client: HttpClient,
    /// What error messages are scrubbed of (`ProviderSpec::secrets`: keys, header values,
    /// base-URL credentials).
    pub secrets: Arc<[Secret]>,
    pub learned: Arc<Learned>,
}

/// The dialect-specific half of one call.
pub struct DialectCall {
    /// The dialect the body is in (a Responses provider may speak chat to its server).
    pub api: ApiKind,
    pub url: String,
    pub headers: HeaderMap,
    pub body: Value,
    pub framing: Framing,
    pub decoder: Box<dyn StreamDecoder>,
    pub decode_response: fn(&Value) -> Result<Response, WireError>,
    /// A faster read of a whole body in the dialect's well-formed shape, where the codec has
    /// one; `None` from it sends the body to `decode_response`.
    pub fast_response: Option<crate::http_call::FastResponseRead>,
}

/// A refused attempt, with the request as it was sent (so an adapter can try another way).
pub type Refused = (Refusal, Request);

/// A request may go without its tools when it does not insist on one being called.
fn may_drop_tools(request: &Request) -> bool {
    !request.tools.is_empty() && matches!(request.tool_choice, ToolChoice::Auto | ToolChoice::None)
}

fn without_tools(mut request: Request) -> Request {
    request.tools.clear();
    request.tool_choice = ToolChoice::Auto;
    request
}

impl AdapterCore {
    pub fn new(spec: &ProviderSpec, client: &HttpClient) -> Self {
        Self {
            secrets: spec.secrets().into(),
            spec: Arc::new(spec.clone()),
            client: client.clone(),
            learned: Arc::new(Learned::default()),
        }
    }

    /// The request as this provider sends it: compat rules, unique tool-call ids, and no
    /// tools for a model known to refuse them (when the request allows that).
    pub fn prepare(&self, request: Request) -> Request {
        let mut request = prepare_request(&self.spec, request);
        unique_request_ids(&mut request);
        if self
            .spec
            .compat_for(&request.model)
            .requires_mistral_tool_ids
            == Some(true)
        {
            mistral_request_ids(&mut request);
        }
        if self.learned.without_tools(&request.model) && may_drop_tools(&request) {
            request = without_tools(request);
        }
        request
    }

    /// One attempt as every HTTP adapter makes it: prepare, encode with `encode`, send. A
    /// model that answers "does not support tools" is asked once more without them, when the
    /// request allows it (`tool_choice` auto or none), and remembered.
    pub async fn run<F>(
        &self,
        request: Request,
        ctx: &CallContext,
        encode: F,
    ) -> Result<EventStream, ProviderError>
    where
        F: Fn(&Request) -> DialectCall + Sync,
    {
        self.try_run(request, ctx, encode)
            .await
            .map_err(|(refusal, _)| refusal.error)
    }

    /// [`run`](Self::run), keeping the refusal's status and body and the request.
    pub async fn try_run<F>(
        &self,
        request: Request,
        ctx: &CallContext,
        encode: F,
    ) -> Result<EventStream, Refused>
    where
        F: Fn(&Request) -> DialectCall + Sync,
    {
        let request = self.prepare(request);
        let refusal = match self.attempt(&request, encode(&request), ctx).await {
            Ok(stream) => return Ok(stream),
            Err(refusal) => refusal,
        };
        if !is_tools_unsupported(refusal.status, &refusal.body) {
            return Err((refusal, request));
        }
        self.learned.set_without_tools(&request.model);
        if !may_drop_tools(&request) {
            return Err((refusal, request));
        }
        let request = without_tools(request);
        match self.attempt(&request, encode(&request), ctx).await {
            Ok(stream) => Ok(stream),
            Err(refusal) => Err((refusal, request)),
        }
    }

    /// How answers of this call are shaped: the request's tools for harmony calls, the ids of
    /// its history, and a lead for a model that writes its reasoning inline (marked
    /// `reasoning` on a local chat or Ollama server, or seen doing it).
    fn shaping(&self, request: &Request, api: ApiKind) -> ShapingOptions {
        let marked = self.spec.model(&request.model).is_some_and(|m| m.reasoning)
            && matches!(api, ApiKind::OpenAiCompletions | ApiKind::Ollama)
            && is_local(&self.spec.id, &self.spec.base_url);
        let lead = marked || self.learned.inline_reasoning(&request.model);
        ShapingOptions {
            splitter: SplitterOptions {
                tools: request.tools.iter().map(|t| t.name.clone()).collect(),
                reasoning_lead: if lead { REASONING_LEAD_BYTES } else { 0 },
            },
            ids: ToolCallIds::from_request(request),
            learn: (!lead).then(|| (self.learned.clone(), request.model.clone())),
            html_entity_arguments: self
                .spec
                .compat_for(&request.model)
                .tool_call_arguments_encoding
                == Some(crate::spec::ToolCallArgumentsEncoding::HtmlEntities),
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

    /// Send one encoded call of a prepared request and return its events.
    async fn attempt(
        &self,
        request: &Request,
        call: DialectCall,
        ctx: &CallContext,
    ) -> Result<EventStream, Refusal> {
        let window = self
            .spec
            .model(&request.model)
            .and_then(|m| m.context_window);
        let decoding = Decoding {
            stream: request.stream,
            framing: call.framing,
            decoder: call.decoder,
            decode_response: call.decode_response,
            fast_response: call.fast_response,
            shaping: self.shaping(request, call.api),
            hint: OverflowHint::new(request, window),
        };
        let prepared = PreparedCall {
            url: call.url,
            headers: call.headers,
            body: call.body,
        };
        let response = send(&self.client, prepared, ctx, &self.secrets).await?;
        Ok(response_events(response, decoding, self.secrets.clone()).await?)
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

    /// POST an empty JSON object to `url` (with the discovery timeout) and say whether the
    /// server has that route at all: `Some(false)` for a "no such route" answer, `Some(true)`
    /// for anything else it answered (a 400 for the missing fields included), `None` when it
    /// did not answer. An empty body asks for nothing, so no model runs.
    pub async fn has_route(&self, url: &str, headers: HeaderMap) -> Option<bool> {
        let response = self
            .client
            .reqwest()
            .post(url)
            .headers(headers)
            .json(&serde_json::json!({}))
            .timeout(DISCOVERY_TIMEOUT)
            .send()
            .await
            .ok()?;
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        Some(!crate::classify::is_missing_endpoint(status, &body))
    }

    async fn json_answer(&self, request: reqwest::RequestBuilder) -> Result<Value, ProviderError> {
        let response = request
            .send()
            .await
            .map_err(|e| classify_transport_error(&e.into(), &self.secrets))?;
        let status = response.status();
        let retry_after = parse_retry_after_headers(response.headers());
        let text = response
            .text()
            .await
            .map_err(|e| classify_transport_error(&e.into(), &self.secrets))?;
        if !status.is_success() {
            return Err(classify_http_error(
                status.as_u16(),
                retry_after,
                &text,
                &self.secrets,
            ));
        }
        serde_json::from_str(&text).map_err(|e| {
            let head: String = text.chars().take(200).collect();
            ProviderError::new(
                FailureKind::ServerError,
                safe_message(
                    &format!("model list is not JSON ({e}): {head}"),
                    &self.secrets,
                ),
            )
            .with_status(status.as_u16())
        })
    }
}
