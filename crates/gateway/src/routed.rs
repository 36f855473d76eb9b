//! Serving a plain model call (a ref or alias, not an agent): resolve the route, let the
//! router find a candidate that commits, then stream the canonical events back in the client's
//! dialect, or collect them into one response. The router holds the stream until its first
//! content event, so every failure before that is an ordinary HTTP error here; after it, the
//! stream ends with the dialect's error event. Response headers say which model answered and
//! whether it was a fallback.

use std::sync::Arc;
use std::time::Instant;

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use clawgate_providers::{FailureKind, ProviderError};
use clawgate_router::{CancellationToken, RoutedStream};
use clawgate_wire::Request;
use clawgate_wire::collect::EventCollector;
use futures::StreamExt;

use crate::dialect::{ApiError, Dialect, StreamOptions};
use crate::error_response::{
    error_response, from_router_error, from_runtime_error, stream_error_code,
};
use crate::metrics::Outcome;
use crate::request_record::RequestRecord;
use crate::server::AppState;
use crate::sse_body::{StreamFailure, sse_response};
use clawgate_runtime::Services;
use clawgate_runtime::model_client::fallback_reason;
use clawgate_runtime::{FallbackMode, ModelRoute};

/// Response header: the model ref that answered.
pub const MODEL_HEADER: &str = "x-clawgate-model";
/// Response header: `true` when a fallback answered, else `false`.
pub const FALLBACK_HEADER: &str = "x-clawgate-fallback";
/// Response header: why the requested model did not answer (only with a fallback).
pub const FALLBACK_REASON_HEADER: &str = "x-clawgate-fallback-reason";
/// Request header: `none` turns the configured fallbacks off for this call.
pub const FALLBACKS_REQUEST_HEADER: &str = "x-clawgate-fallbacks";

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
pub(crate) fn fail(dialect: Dialect, error: &ApiError, record: RequestRecord) -> Response {
    record.finish(outcome_for(error));
    error_response(dialect, error)
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
    let route = match services.resolve_request_model(model) {
        Ok(route) => route,
        Err(error) => return fail(dialect, &from_runtime_error(&error), record),
    };
    record.set_model(route.reference.clone(), route.cost, true);
    let stream_requested = request.stream;
    let cancel = state.streams.child_token();
    let waiting = Instant::now();
    let result = services
        .router()
        .call(request, route.chain(fallback_mode(headers)), &cancel)
        .await;
    record.add_upstream(waiting.elapsed());
    let stream = match result {
        Ok(stream) => stream,
        Err(error) => {
            let now = services.router().clock().now_ms();
            let api = from_router_error(&error, now);
            tracing::warn!(model = %route.reference, status = api.status, "model call failed: {error}");
            return fail(dialect, &api, record);
        }
    };
    let answered_key = stream.answered_by().key();
    let answered = if answered_key.as_str() == &*route.reference {
        route.clone()
    } else {
        services
            .resolve_model(&answered_key)
            .unwrap_or_else(|_| route.clone())
    };
    record.set_model(answered.reference.clone(), answered.cost, true);
    let reason = fallback_reason(stream.info());
    if let Some(reason) = &reason {
        state.metrics.fallback(reason);
        tracing::info!(requested = %route.reference, answered = %answered.reference, reason, "answered by a fallback");
    }
    let id = dialect.new_id();
    let mut response = if stream_requested {
        stream_answer(dialect, &id, &answered, stream, options, record, cancel)
    } else {
        collect_answer(dialect, &id, &answered, stream, record).await
    };
    insert_route_headers(
        response.headers_mut(),
        &answered.reference,
        reason.as_deref(),
    );
    response
}

fn stream_answer(
    dialect: Dialect,
    id: &str,
    answered: &ModelRoute,
    stream: RoutedStream,
    options: StreamOptions,
    record: RequestRecord,
    cancel: CancellationToken,
) -> Response {
    let encoder = dialect.stream_encoder(id, &answered.reference, options);
    let events = stream.map(|item| item.map_err(failure)).boxed();
    sse_response(events, encoder, record, Some(cancel.drop_guard()))
}

async fn collect_answer(
    dialect: Dialect,
    id: &str,
    answered: &ModelRoute,
    mut stream: RoutedStream,
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
    let body = dialect.encode_response(&response);
    record.finish(Outcome::Ok);
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        Bytes::from(body.to_string()),
    )
        .into_response()
}
