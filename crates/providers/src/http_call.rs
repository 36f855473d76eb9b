//! One HTTP attempt, shared by every adapter: build headers, POST the JSON body under the
//! attempt's connect + header timeout, turn a non-2xx answer into a classified error (its body
//! kept, so an adapter can act on what the server said), and turn a 2xx answer into an
//! [`EventStream`] (streamed body through the framer and the dialect's decoder; or a complete
//! body decoded and replayed as events), shaped by [`AnswerShaper`] either way.

use std::sync::Arc;
use std::time::Duration;

use clawgate_wire::reasoning_tags::UNLIMITED_LEAD;
use clawgate_wire::{Event, Response, StreamDecoder, WireError};
use futures::StreamExt;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

use crate::answer_guard::{AnswerGuard, OverflowHint};
use crate::answer_shaping::{AnswerShaper, ShapingOptions};
use crate::body_events::{BodyEvents, Framing};
use crate::classify::{
    classify_http_error, classify_transport_error, classify_wire_error, parse_retry_after_headers,
    safe_message,
};
use crate::http_client::UpstreamResponse;
use crate::secret::Secret;
use crate::spec::ProviderSpec;
use crate::{CallContext, EventStream, FailureKind, HttpClient, ProviderError};

/// Largest error body read for classification.
const ERROR_BODY_LIMIT: usize = 64 * 1024;
/// Time allowed to read an error body or a complete (non-stream) body when the caller set no
/// header timeout. The router's own total timeout still bounds the attempt.
const BODY_READ_TIMEOUT: Duration = Duration::from_secs(600);
/// Time allowed to read an error body.
const ERROR_BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// Headers every request of a provider carries: provider headers, then the model row's.
pub fn static_headers(spec: &ProviderSpec, model: &str) -> HeaderMap {
    let mut map = HeaderMap::new();
    let model_headers = spec.model(model).map(|m| &m.headers);
    for (name, value) in spec
        .headers
        .iter()
        .chain(model_headers.into_iter().flatten())
    {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            map.insert(n, v);
        }
    }
    map
}

/// A header value holding a key, marked sensitive so it never shows in `Debug`.
pub fn secret_header(value: &str) -> Option<HeaderValue> {
    let mut v = HeaderValue::from_str(value).ok()?;
    v.set_sensitive(true);
    Some(v)
}

/// `Authorization: Bearer <key>`.
pub fn insert_bearer(headers: &mut HeaderMap, key: &Secret) {
    if let Some(v) = secret_header(&format!("Bearer {}", key.expose())) {
        headers.insert(AUTHORIZATION, v);
    }
}

/// A prepared POST.
pub struct PreparedCall {
    pub url: String,
    pub headers: HeaderMap,
    pub body: Value,
}

/// A codec's fast read of a whole body in its dialect's well-formed shape: `None` for
/// anything it does not take, which the dialect's full decoder then reads.
pub type FastResponseRead = fn(&[u8]) -> Option<Response>;

/// Everything needed to turn the answer into events.
pub struct Decoding {
    pub stream: bool,
    pub framing: Framing,
    pub decoder: Box<dyn StreamDecoder>,
    pub decode_response: fn(&Value) -> Result<Response, WireError>,
    /// See `DialectCall::fast_response`.
    pub fast_response: Option<FastResponseRead>,
    /// Reasoning and harmony out of the text, unique tool-call ids.
    pub shaping: ShapingOptions,
    pub hint: OverflowHint,
}

/// A call that failed before any answer: the classified error, and for an HTTP error status
/// the status and (up to 64 KiB of) the body.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub status: Option<u16>,
    pub body: String,
    pub error: ProviderError,
}

impl From<ProviderError> for Refusal {
    fn from(error: ProviderError) -> Self {
        Self {
            status: None,
            body: String::new(),
            error,
        }
    }
}

/// Send the request; `Ok` only for a 2xx response.
pub async fn send(
    client: &HttpClient,
    call: PreparedCall,
    ctx: &CallContext,
    keys: &[Secret],
) -> Result<UpstreamResponse, Refusal> {
    let PreparedCall { url, headers, body } = call;
    let bytes = serde_json::to_vec(&body).map_err(|e| {
        ProviderError::new(
            FailureKind::Format,
            format!("the request could not be written as JSON: {e}"),
        )
    })?;
    // The bytes are what is sent; the tree is a second copy of a request that may be many MiB,
    // for the whole upstream call otherwise.
    drop(body);
    let sending = client.post_json(&url, headers, bytes);
    let wait = match (ctx.connect_timeout, ctx.header_timeout) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or_default() + b.unwrap_or_default()),
    };
    let sent = match wait {
        Some(limit) => match tokio::time::timeout(limit, sending).await {
            Ok(result) => result,
            Err(_) => {
                return Err(ProviderError::new(
                    FailureKind::Timeout,
                    format!("no response headers within {} ms", limit.as_millis()),
                )
                .into());
            }
        },
        None => sending.await,
    };
    let response = sent.map_err(|e| classify_transport_error(&e, keys))?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let retry_after = parse_retry_after_headers(response.headers());
    let body = read_limited(response, ERROR_BODY_LIMIT, ERROR_BODY_TIMEOUT).await;
    let error = classify_http_error(status.as_u16(), retry_after, &body, keys);
    Err(Refusal {
        status: Some(status.as_u16()),
        body,
        error,
    })
}

/// Read at most `limit` bytes of a body as text (lossy), giving up after `timeout`.
async fn read_limited(response: UpstreamResponse, limit: usize, timeout: Duration) -> String {
    let mut body = response.bytes_stream();
    let mut buf: Vec<u8> = Vec::new();
    let read = async {
        while let Some(Ok(chunk)) = body.next().await {
            let room = limit.saturating_sub(buf.len());
            buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if buf.len() >= limit {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(timeout, read).await;
    String::from_utf8_lossy(&buf).into_owned()
}

/// Turn a 2xx response into events, streamed or not.
pub async fn response_events(
    response: UpstreamResponse,
    decoding: Decoding,
    keys: Arc<[Secret]>,
) -> Result<EventStream, ProviderError> {
    if decoding.stream {
        let chunks = response.bytes_stream();
        return Ok(BodyEvents::new(chunks, decoding, keys).into_stream());
    }
    let body = match tokio::time::timeout(BODY_READ_TIMEOUT, response.bytes()).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(e)) => return Err(classify_transport_error(&e, &keys)),
        Err(_) => {
            return Err(ProviderError::new(
                FailureKind::Timeout,
                "timed out reading the response body",
            ));
        }
    };
    let events = complete_body_events(&body, &decoding, &keys)?;
    Ok(futures::stream::iter(events.into_iter().map(Ok)).boxed())
}

/// Decode a complete 2xx body into events (the non-stream path).
pub fn complete_body_events(
    body: &[u8],
    decoding: &Decoding,
    keys: &[Secret],
) -> Result<Vec<Event>, ProviderError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(decoding
            .hint
            .empty_answer_error("upstream answered 200 with an empty body"));
    }
    let fast = decoding.fast_response.and_then(|read| read(body));
    let response = match fast {
        Some(response) => response,
        None => decode_whole_body(body, decoding, keys)?,
    };
    // The whole text is here: an orphan `</think>` anywhere before the first tag counts.
    let mut shaping = decoding.shaping.clone();
    shaping.splitter.reasoning_lead = UNLIMITED_LEAD;
    let mut shaper = AnswerShaper::new(shaping);
    let events: Vec<Event> = clawgate_wire::collect::response_to_events(&response)
        .iter()
        .flat_map(|event| shaper.push(event))
        .collect();
    // The answer check runs after shaping: a reply that was only `<think>…</think>` is empty.
    let mut guard = AnswerGuard::default();
    for event in &events {
        guard.observe(event);
        if let Event::Finished { stop_reason } = event
            && !guard.has_answer(*stop_reason)
        {
            return Err(decoding
                .hint
                .empty_answer_error("upstream answered 200 with no text and no tool call"));
        }
    }
    Ok(events)
}

/// The path-tracking read of a whole body: JSON first (a body cut short is `Truncated`,
/// anything else that is not JSON a server error), then the dialect's decoder.
fn decode_whole_body(
    body: &[u8],
    decoding: &Decoding,
    keys: &[Secret],
) -> Result<Response, ProviderError> {
    let json: Value = serde_json::from_slice(body).map_err(|e| {
        let text = String::from_utf8_lossy(&body[..body.len().min(500)]).into_owned();
        // JSON that stops in the middle is a cut body; anything else is garbage.
        let kind = if e.is_eof() {
            FailureKind::Truncated
        } else {
            FailureKind::ServerError
        };
        ProviderError::new(
            kind,
            safe_message(
                &format!("upstream answered 200 with a body that is not JSON ({e}): {text}"),
                keys,
            ),
        )
    })?;
    (decoding.decode_response)(&json).map_err(|e| classify_wire_error(&e, keys))
}
