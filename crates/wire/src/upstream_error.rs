//! Extracts what an upstream said when it put an error *inside* a body or stream (a 200 SSE
//! stream carrying `{"error":{...}}`, Anthropic's `event: error`, Responses' `response.failed`,
//! Ollama's `{"error":"..."}`). The codec only reports the words; classification into a
//! failure kind happens in the providers crate.

use serde_json::Value;

use crate::WireError;

/// Builds [`WireError::Upstream`] from any of the error shapes the dialects use. `value` is the
/// error object itself or an envelope holding it under `error`.
pub(crate) fn upstream_error(value: &Value) -> WireError {
    let inner = match value.get("error") {
        Some(inner @ (Value::Object(_) | Value::String(_))) => inner,
        _ => value,
    };
    if let Value::String(message) = inner {
        return WireError::Upstream {
            status: None,
            code: None,
            message: message.clone(),
        };
    }
    let message = inner
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| inner.to_string());
    let kind = inner
        .get("type")
        .and_then(Value::as_str)
        .filter(|t| *t != "error");
    // `code` is a string (`context_length_exceeded`), a number (`429`) or a numeric string
    // (LiteLLM's `"400"`): a number is an HTTP-like status, not a machine code.
    let (code_text, code_status) = match inner.get("code") {
        Some(Value::String(s)) => match s.parse::<u16>() {
            Ok(n) => (None, Some(n)),
            Err(_) => (Some(s.clone()), None),
        },
        Some(Value::Number(n)) => (None, n.as_u64().and_then(|n| u16::try_from(n).ok())),
        _ => (None, None),
    };
    let status = code_status.or_else(|| {
        inner
            .get("status")
            .and_then(Value::as_u64)
            .and_then(|n| u16::try_from(n).ok())
    });
    WireError::Upstream {
        status,
        code: code_text.or_else(|| kind.map(str::to_owned)),
        message,
    }
}

/// True when a decoded body is an error envelope rather than the dialect's normal shape.
pub(crate) fn is_error_envelope(value: &Value) -> bool {
    match value.get("error") {
        Some(Value::Object(_) | Value::String(_)) => true,
        _ => value.get("type").and_then(Value::as_str) == Some("error"),
    }
}
