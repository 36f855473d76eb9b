//! Failures → HTTP answers in the client's dialect. The status comes from what went wrong
//! (the router's failure kinds across every attempt, the agent's error, a bad request); the
//! body from [`Dialect::error_body`]; a `Retry-After` header rides along for 429 and 503.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use clawgate_agent::{AgentError, ModelCallError};
use clawgate_providers::{FailureKind, ProviderError};
use clawgate_router::{AttemptOutcome, RouterError};

use crate::dialect::{ApiError, Dialect};
use clawgate_runtime::RuntimeError;

/// The error as an HTTP response in `dialect`'s shape.
pub fn error_response(dialect: Dialect, error: &ApiError) -> Response {
    let body = dialect.error_body(error);
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        Bytes::from(body.to_string()),
    )
        .into_response();
    if let Some(seconds) = error.retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// A 500 whose details (an I/O error naming a file under the state dir, a panic) go to the
/// log under a fresh request id; the client gets the id and a generic message, never a path of
/// the gateway's machine.
pub fn internal_error(detail: &str) -> ApiError {
    let id = format!("req_{}", uuid::Uuid::new_v4().simple());
    tracing::error!(request_id = %id, "internal error: {detail}");
    ApiError::internal(format!(
        "internal error in the gateway (request id {id}; the gateway log has the details)"
    ))
}

fn seconds_until(epoch_ms: u64, now_ms: u64) -> u64 {
    epoch_ms.saturating_sub(now_ms).div_ceil(1000).max(1)
}

/// What the attempts of an all-failed call had in common, if anything. Attempts that reached
/// an upstream decide when there are any (a cooled-down candidate that was then tried as a
/// last resort answered for itself); otherwise the reasons candidates were skipped.
fn common_kind(error: &RouterError) -> Option<&'static str> {
    let attempts = error.attempts();
    let tried: Vec<&'static str> = attempts
        .iter()
        .filter_map(|a| match &a.outcome {
            AttemptOutcome::Failed { kind, .. } => Some(kind.name()),
            _ => None,
        })
        .collect();
    let kinds: Vec<&'static str> = if tried.is_empty() {
        attempts
            .iter()
            .filter_map(|a| match &a.outcome {
                AttemptOutcome::SkippedForCooldown { reason, .. } if reason == "rate_limit" => {
                    Some("rate_limit")
                }
                AttemptOutcome::SkippedForCooldown { .. } => Some("cooldown"),
                AttemptOutcome::SkippedUnknownProvider => Some("unavailable"),
                AttemptOutcome::Ok | AttemptOutcome::Failed { .. } => None,
            })
            .collect()
    } else {
        tried
    };
    let first = *kinds.first()?;
    kinds.iter().all(|k| *k == first).then_some(first)
}

/// The longest `Retry-After` an upstream asked for, in seconds.
fn upstream_retry_after(error: &RouterError) -> Option<u64> {
    error
        .attempts()
        .iter()
        .filter_map(|a| match &a.outcome {
            AttemptOutcome::Failed {
                kind:
                    FailureKind::RateLimit {
                        retry_after: Some(d),
                    },
                ..
            } => Some(d.as_secs().max(1)),
            _ => None,
        })
        .max()
}

/// Maps a routing failure. `now_ms` is the router clock's now (for `Retry-After`).
pub fn from_router_error(error: &RouterError, now_ms: u64) -> ApiError {
    let message = error.to_string();
    match error {
        RouterError::NoCandidates => ApiError::unavailable(message),
        RouterError::ContextOverflow { .. } => ApiError::context_overflow(message),
        RouterError::Aborted { .. } => ApiError::bad_gateway("aborted", message),
        RouterError::AllFailed { soonest_retry, .. } => {
            let retry = soonest_retry
                .map(|until| seconds_until(until, now_ms))
                .or_else(|| upstream_retry_after(error));
            match common_kind(error) {
                Some("rate_limit") => ApiError::rate_limited(message)
                    .with_retry_after(upstream_retry_after(error).or(retry).unwrap_or(1)),
                Some("cooldown") | Some("overloaded") => {
                    let api = ApiError::overloaded(message);
                    match retry {
                        Some(seconds) => api.with_retry_after(seconds),
                        None => api,
                    }
                }
                Some("model_not_found") => ApiError::not_found("model_not_found", message),
                Some("format") => ApiError::bad_request(message),
                Some("timeout") => ApiError::gateway_timeout(message),
                _ => ApiError::bad_gateway("upstream_error", message),
            }
        }
    }
}

/// The machine code a mid-stream failure is reported with (the encoder's `fail`).
pub fn stream_error_code(error: &ProviderError) -> &'static str {
    match error.kind {
        FailureKind::ContextOverflow { .. } => "context_length_exceeded",
        FailureKind::RateLimit { .. } => "rate_limit_exceeded",
        kind => kind.name(),
    }
}

/// Maps a failed agent turn.
pub fn from_agent_error(error: &AgentError) -> ApiError {
    let message = error.to_string();
    match error {
        AgentError::ContextOverflow { .. } | AgentError::ContextWindowTooSmall { .. } => {
            ApiError::context_overflow(message)
        }
        AgentError::UnknownModel(_) => ApiError::not_found("model_not_found", message),
        AgentError::SessionLocked { .. } | AgentError::SessionBusy { .. } => {
            ApiError::conflict(message)
        }
        AgentError::StoreUnavailable(_) => ApiError::state_unavailable(message),
        AgentError::InvalidSessionKey(_) => ApiError::bad_request(message),
        AgentError::Model(ModelCallError::ContextOverflow { .. }) => {
            ApiError::context_overflow(message)
        }
        AgentError::Model(_) | AgentError::Aborted => {
            ApiError::bad_gateway("upstream_error", message)
        }
        AgentError::TurnTimeout { .. } => ApiError::gateway_timeout(message),
        _ => internal_error(&message),
    }
}

/// Maps a service-level failure met while serving a request.
pub fn from_runtime_error(error: &RuntimeError) -> ApiError {
    let message = error.to_string();
    match error {
        RuntimeError::Config(clawgate_config::ConfigError::UnknownModel { .. })
        | RuntimeError::Config(clawgate_config::ConfigError::UnknownProvider(_)) => {
            ApiError::not_found("model_not_found", message)
        }
        RuntimeError::Config(
            clawgate_config::ConfigError::AmbiguousModel { .. }
            | clawgate_config::ConfigError::ModelNotAllowed { .. }
            | clawgate_config::ConfigError::UnknownProfile { .. },
        ) => ApiError::bad_request(message),
        RuntimeError::UnknownAgent { .. } => ApiError::not_found("model_not_found", message),
        RuntimeError::Agent { source, .. } => from_agent_error(source),
        _ => internal_error(&message),
    }
}
