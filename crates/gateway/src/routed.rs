//! Serving a plain model call (a ref or alias, not an agent): resolve the route, let the
//! router find a candidate that commits, then stream the canonical events back in the client's
//! dialect, or collect them into one response. The router holds the stream until its answer
//! starts, so every failure before that is an ordinary HTTP error here; after it, the stream
//! ends with the dialect's error event. Response headers say which model answered, whether
//! it was a fallback, and what the model could not do as asked (its notices). One exception:
//! a streamed call the router has held back (reasoning, an unfinished tool call) for
//! `keep_alive_interval` starts its response with keep-alives (`sse_body::Held`), without
//! those headers: the stream's own `model` field names the model.

use std::sync::Arc;
use std::time::Instant;

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use clawgate_providers::{FailureKind, ProviderError};
use clawgate_router::{
    CallOptions, CancellationToken, HoldSignal, ReasoningStream, RoutedStream, RouterError,
};
use clawgate_wire::Request;
use clawgate_wire::collect::EventCollector;
use futures::StreamExt;
use futures::future::BoxFuture;
use serde_json::{Value, json};

use crate::dialect::{ApiError, Dialect, StreamOptions};
use crate::error_response::{
    error_response, from_router_error, from_runtime_error, stream_error_code,
};
use crate::metrics::Outcome;
use crate::request_log::{AttemptView, FallbackView};
use crate::request_record::RequestRecord;
use crate::server::AppState;
use crate::sse_body::{
    Held, HeldOutcome, StreamFailure, StreamItem, events_requested, held_sse_response, sse_response,
};
use clawgate_runtime::Services;
use clawgate_runtime::model_client::fallback_reason;
use clawgate_runtime::{FallbackMode, ModelRoute, ModelRoutes};

/// Response header: the model ref that answered.
pub const MODEL_HEADER: &str = "x-clawgate-model";
/// Response header: `true` when a fallback answered, else `false`.
pub const FALLBACK_HEADER: &str = "x-clawgate-fallback";
/// Response header: why the requested model did not answer (only with a fallback).
pub const FALLBACK_REASON_HEADER: &str = "x-clawgate-fallback-reason";
/// Response header, once per notice: what the answering model could not do as asked (a base
/// model offered tools answers in text). Only notices from before the answer started.
pub const NOTICE_HEADER: &str = "x-clawgate-notice";
/// Request header: `none` turns the configured fallbacks off for this call.
pub const FALLBACKS_REQUEST_HEADER: &str = "x-clawgate-fallbacks";
/// Request header: `immediate` forwards reasoning at once (it commits the stream), `hold`
/// holds it back until the answer starts, for every model of this call.
pub const REASONING_STREAM_HEADER: &str = "x-clawgate-reasoning-stream";

/// This call's reasoning choice from its headers (`None`: each model's configured choice).
fn reasoning_stream(headers: &HeaderMap) -> Result<Option<ReasoningStream>, ApiError> {
    let Some(value) = headers.get(REASONING_STREAM_HEADER) else {
        return Ok(None);
    };
    let bytes = value.as_bytes();
    for mode in [ReasoningStream::Immediate, ReasoningStream::Hold] {
        if bytes.eq_ignore_ascii_case(mode.as_str().as_bytes()) {
            return Ok(Some(mode));
        }
    }
    Err(ApiError::bad_request(format!(
        "header {REASONING_STREAM_HEADER}: {:?} is not a choice (use `immediate` or `hold`)",
        String::from_utf8_lossy(bytes)
    )))
}

pub(crate) fn fallback_mode(headers: &HeaderMap) -> FallbackMode {
    match headers.get(FALLBACKS_REQUEST_HEADER).map(|v| v.as_bytes()) {
        Some(v) if v.eq_ignore_ascii_case(b"none") || v.eq_ignore_ascii_case(b"off") => {
            FallbackMode::None
        }
        _ => FallbackMode::Configured,
    }
}

/// An after-commit failure of a non-streamed answer, as an HTTP error.
fn from_stream_error(error: &ProviderError) -> ApiError {
    match error.kind {
        FailureKind::ContextOverflow { .. } => ApiError::context_overflow(&error.message),
        FailureKind::Timeout => ApiError::gateway_timeout(&error.message),
        FailureKind::RateLimit { .. } => ApiError::rate_limited(&error.message).with_retry_after(1),
        kind => ApiError::bad_gateway(kind.name(), &error.message),
    }
}

fn failure(error: ProviderError) -> StreamFailure {
    StreamFailure {
        code: stream_error_code(&error),
        message: error.message,
    }
}

fn outcome_for(error: &ApiError) -> Outcome {
    match error.status {
        429 => Outcome::RateLimited,
        400..=499 => Outcome::ClientError,
        _ => Outcome::UpstreamError,
    }
}

/// Error response, with the request booked under `outcome`.
pub(crate) fn fail(dialect: Dialect, error: &ApiError, mut record: RequestRecord) -> Response {
    record.set_error(error);
    record.finish(outcome_for(error));
    error_response(dialect, error)
}

/// One `x-clawgate-notice` header per notice (a notice that is not a valid header value,
/// non-ASCII text, is in the request log only).
fn insert_notice_headers(headers: &mut HeaderMap, notices: &[String]) {
    for notice in notices {
        if let Ok(value) = HeaderValue::from_str(notice) {
            headers.append(NOTICE_HEADER, value);
        }
    }
}

pub(crate) fn insert_route_headers(
    headers: &mut HeaderMap,
    answered: &str,
    fallback: Option<&str>,
) {
    if let Ok(value) = HeaderValue::from_str(answered) {
        headers.insert(MODEL_HEADER, value);
    }
    match fallback {
        None => {
            headers.insert(FALLBACK_HEADER, HeaderValue::from_static("false"));
        }
        Some(reason) => {
            headers.insert(FALLBACK_HEADER, HeaderValue::from_static("true"));
            if let Ok(value) = HeaderValue::from_str(reason) {
                headers.insert(FALLBACK_REASON_HEADER, value);
            }
        }
    }
}

/// A routed call in flight.
type RoutedCall = BoxFuture<'static, Result<RoutedStream, RouterError>>;

/// Who answered a routed call: the route of the model that did (the requested one, or the
/// fallback's own route), why a fallback answered, and every attempt (the request log's and
/// the `route` frame's view).
struct Answered {
    route: Arc<ModelRoute>,
    reason: Option<String>,
    fallback: Option<FallbackView>,
    attempts: Vec<AttemptView>,
    /// The answering model's notices from before its answer started.
    notices: Vec<String>,
}

impl Answered {
    /// Books the route in the request log.
    fn record(&self, record: &mut RequestRecord) {
        record.set_model(self.route.reference.clone(), self.route.cost, true);
        record.set_route(
            Some(&self.route.reference),
            self.fallback.clone(),
            self.attempts.clone(),
        );
        record.add_notices(&self.notices);
    }

    /// clawgate's frames sent first when the client asked for them: `route`, then one
    /// `notice` frame per notice (the frames an agent turn sends for its notices).
    fn head_frames(&self, requested: &ModelRoute) -> Vec<Value> {
        let route = json!({
            "type": "route",
            "requested": requested.reference.as_ref(),
            "model": self.route.reference.as_ref(),
            "fallback": self.fallback,
            "attempts": self.attempts,
        });
        std::iter::once(route)
            .chain(
                self.notices
                    .iter()
                    .map(|text| json!({ "type": "notice", "text": text })),
            )
            .collect()
    }
}

/// The model that answered `stream`; a fallback is counted and logged.
fn answered_route(
    routes: &ModelRoutes,
    metrics: &crate::metrics::GatewayMetrics,
    route: &Arc<ModelRoute>,
    stream: &RoutedStream,
) -> Answered {
    let answered_key = stream.answered_by().key();
    let answered = if answered_key.as_str() == &*route.reference {
        route.clone()
    } else {
        routes
            .resolve(&answered_key)
            .unwrap_or_else(|_| route.clone())
    };
    let reason = fallback_reason(stream.info());
    if let Some(reason) = &reason {
        metrics.fallback(reason);
        tracing::info!(requested = %route.reference, answered = %answered.reference, reason, "answered by a fallback");
    }
    let fallback = reason.as_ref().map(|reason| FallbackView {
        requested: route.reference.to_string(),
        reason: reason.clone(),
    });
    let attempts = stream
        .info()
        .attempts
        .iter()
        .map(AttemptView::from_record)
        .collect();
    Answered {
        route: answered,
        reason,
        fallback,
        attempts,
        notices: stream.info().notices.clone(),
    }
}

/// Books a failed call's attempts in the request log.
fn record_failed_attempts(record: &mut RequestRecord, error: &RouterError) {
    let attempts = error
        .attempts()
        .iter()
        .map(AttemptView::from_record)
        .collect();
    record.set_route(None, None, attempts);
}

/// The router's failure as the dialect's error response.
fn router_failure(services: &Services, route: &ModelRoute, error: &RouterError) -> ApiError {
    let now = services.router().clock().now_ms();
    let api = from_router_error(error, now);
    tracing::warn!(model = %route.reference, status = api.status, "model call failed: {error}");
    api
}

/// Serves one routed model call.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn serve_model(
    state: &Arc<AppState>,
    services: &Services,
    dialect: Dialect,
    model: &str,
    request: Request,
    options: StreamOptions,
    headers: &HeaderMap,
    mut record: RequestRecord,
) -> Response {
    record.set_asked(model, request.stream);
    let route = match services.resolve_request_model(model) {
        Ok(route) => route,
        Err(error) => return fail(dialect, &from_runtime_error(&error), record),
    };
    record.set_model(route.reference.clone(), route.cost, true);
    let reasoning = match reasoning_stream(headers) {
        Ok(reasoning) => reasoning,
        Err(error) => return fail(dialect, &error, record),
    };
    let stream_requested = request.stream;
    let hold = stream_requested.then(HoldSignal::new);
    let call_options = CallOptions {
        reasoning,
        hold: hold.clone(),
    };
    let cancel = state.streams.child_token();
    let router = services.router().clone();
    let mode = fallback_mode(headers);
    let call_route = route.clone();
    let call_cancel = cancel.clone();
    let mut call: RoutedCall = Box::pin(async move {
        router
            .call_with(request, call_route.chain(mode), &call_cancel, &call_options)
            .await
    });
    let waiting = Instant::now();
    let result = match hold {
        Some(hold) => {
            let held_long = async {
                hold.holding().await;
                tokio::time::sleep(state.limits.keep_alive_interval).await;
            };
            tokio::select! {
                biased;
                result = &mut call => result,
                () = held_long => {
                    record.add_upstream(waiting.elapsed());
                    let extensions = events_requested(headers);
                    return keep_alive_while_held(state, services, dialect, route, options, call, record, cancel, extensions);
                }
            }
        }
        None => call.await,
    };
    record.add_upstream(waiting.elapsed());
    // The router answers once the stream's first content event is in.
    let first_content = Instant::now();
    let stream = match result {
        Ok(stream) => stream,
        Err(error) => {
            record_failed_attempts(&mut record, &error);
            return fail(dialect, &router_failure(services, &route, &error), record);
        }
    };
    let answered = answered_route(services.routes(), &state.metrics, &route, &stream);
    answered.record(&mut record);
    let id = dialect.new_id();
    let mut response = if stream_requested {
        let head = events_requested(headers).then(|| answered.head_frames(&route));
        stream_answer(
            dialect,
            &id,
            &answered.route,
            stream,
            options,
            record,
            cancel,
            head,
        )
    } else {
        collect_answer(
            dialect,
            &id,
            &answered.route,
            stream,
            (&options, first_content),
            record,
        )
        .await
    };
    insert_route_headers(
        response.headers_mut(),
        &answered.route.reference,
        answered.reason.as_deref(),
    );
    insert_notice_headers(response.headers_mut(), &answered.notices);
    response
}

/// Starts the response of a call the router is holding back: keep-alives until it commits,
/// then its events encoded for the model that answered, or the dialect's error event.
#[allow(clippy::too_many_arguments)]
fn keep_alive_while_held(
    state: &Arc<AppState>,
    services: &Services,
    dialect: Dialect,
    route: Arc<ModelRoute>,
    options: StreamOptions,
    call: RoutedCall,
    record: RequestRecord,
    cancel: CancellationToken,
    extensions: bool,
) -> Response {
    tracing::debug!(model = %route.reference, "answer held back: keep-alives until it starts");
    let id = dialect.new_id();
    let encoder = dialect.stream_encoder(&id, &route.reference, options);
    let deadline = tokio::time::Instant::from_std(record.started()) + state.limits.request_timeout;
    let routes = services.routes().clone();
    let metrics = state.metrics.clone();
    let clock = services.router().clock().clone();
    let outcome = async move {
        match call.await {
            Ok(stream) => {
                let answered = answered_route(&routes, &metrics, &route, &stream);
                let frames = if extensions {
                    answered.head_frames(&route)
                } else {
                    Vec::new()
                };
                let head = frames
                    .into_iter()
                    .map(|frame| Ok(StreamItem::Extension(frame)));
                let events = futures::stream::iter(head)
                    .chain(stream.map(|item| item.map(StreamItem::Event).map_err(failure)))
                    .boxed();
                HeldOutcome::Committed {
                    encoder: dialect.stream_encoder(&id, &answered.route.reference, options),
                    events,
                    book: Box::new(move |record: &mut RequestRecord| answered.record(record)),
                }
            }
            Err(error) => {
                let api = from_router_error(&error, clock.now_ms());
                tracing::warn!(model = %route.reference, status = api.status, "model call failed: {error}");
                HeldOutcome::Failed {
                    outcome: outcome_for(&api),
                    failure: StreamFailure {
                        message: api.message,
                        code: api.code,
                    },
                }
            }
        }
    };
    let held = Held {
        call: Box::pin(outcome),
        keep_alive: dialect.keep_alive(),
        interval: state.limits.keep_alive_interval,
        deadline,
        encoder,
    };
    held_sse_response(
        held,
        dialect.framing(),
        record,
        Some(cancel.drop_guard()),
        extensions,
    )
}

/// `head`: clawgate's `route` and `notice` frames, sent first when the client asked for its
/// frames.
#[allow(clippy::too_many_arguments)]
fn stream_answer(
    dialect: Dialect,
    id: &str,
    answered: &ModelRoute,
    stream: RoutedStream,
    options: StreamOptions,
    record: RequestRecord,
    cancel: CancellationToken,
    head: Option<Vec<Value>>,
) -> Response {
    let encoder = dialect.stream_encoder(id, &answered.reference, options);
    let extensions = head.is_some();
    let head = futures::stream::iter(
        head.unwrap_or_default()
            .into_iter()
            .map(|v| Ok(StreamItem::Extension(v))),
    );
    let events = head
        .chain(stream.map(|item| item.map(StreamItem::Event).map_err(failure)))
        .boxed();
    sse_response(
        events,
        encoder,
        dialect.framing(),
        record,
        Some(cancel.drop_guard()),
        extensions,
    )
}

async fn collect_answer(
    dialect: Dialect,
    id: &str,
    answered: &ModelRoute,
    mut stream: RoutedStream,
    (options, first_content): (&StreamOptions, Instant),
    mut record: RequestRecord,
) -> Response {
    let mut collector = EventCollector::new();
    loop {
        let waiting = Instant::now();
        let next = stream.next().await;
        record.add_upstream(waiting.elapsed());
        match next {
            Some(Ok(event)) => collector.push(&event),
            Some(Err(error)) => return fail(dialect, &from_stream_error(&error), record),
            None => break,
        }
    }
    let mut response = match collector.finish() {
        Ok(response) => response,
        Err(error) => {
            let api = ApiError::bad_gateway("truncated", error.to_string());
            return fail(dialect, &api, record);
        }
    };
    response.id = id.to_string();
    response.model = answered.reference.to_string();
    record.set_usage(response.usage);
    let body = dialect.response_body(&response, options, Some(first_content));
    record.finish(Outcome::Ok);
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        Bytes::from(body),
    )
        .into_response()
}
