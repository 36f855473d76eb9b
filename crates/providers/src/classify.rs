//! The one place upstream failures become a [`FailureKind`]: HTTP error responses
//! ([`classify_http_error`]), errors inside a 200 body or stream ([`classify_wire_error`]),
//! and transport errors ([`classify_transport_error`]). The rules themselves are data, in
//! `classify_table`; this module extracts what to match on (status, `code`, `type`, message
//! out of the many error-body shapes), runs the table, and fills in the kind's details (token
//! counts of an overflow, retry-after of a rate limit). Every message is redacted before it
//! leaves, so keys an upstream echoes never reach logs.

use std::sync::LazyLock;
use std::time::Duration;

use clawgate_config::decode::redact_url;
use clawgate_wire::WireError;
use regex::Regex;
use serde_json::Value;

use crate::classify_table::{RULES, TOOLS_UNSUPPORTED_RULE, TextMatch};
use crate::http_client::TransportError;
use crate::secret::{Secret, redact_secrets};
use crate::{FailureKind, NetworkCause, ProviderError};

/// Longest upstream message kept in a `ProviderError` (bodies can be whole HTML pages).
const MAX_MESSAGE_CHARS: usize = 1000;

/// What an upstream said about a failure, in the fields every dialect has in some form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpstreamErrorFields {
    pub status: Option<u16>,
    /// Machine code (`context_length_exceeded`, `invalid_api_key`, `"429"`).
    pub code: Option<String>,
    /// Error type (`invalid_request_error`, `overloaded_error`).
    pub error_type: Option<String>,
    pub message: String,
    /// Token counts an error body states as fields (llama.cpp's `n_prompt_tokens` / `n_ctx`).
    pub prompt_tokens: Option<u64>,
    pub context_tokens: Option<u64>,
}

static RULE_REGEXES: LazyLock<Vec<Option<Regex>>> = LazyLock::new(|| {
    RULES
        .iter()
        .map(|rule| match rule.text {
            TextMatch::Regex(pattern) => Regex::new(pattern).ok(),
            _ => None,
        })
        .collect()
});

/// Index of the first table row matching this error, if any (exposed for the table tests).
pub fn matching_rule(fields: &UpstreamErrorFields) -> Option<usize> {
    let haystack = format!(
        "{} {} {}",
        fields.code.as_deref().unwrap_or(""),
        fields.error_type.as_deref().unwrap_or(""),
        fields.message
    )
    .to_lowercase();
    RULES.iter().enumerate().position(|(i, rule)| {
        rule.status.matches(fields.status)
            && match rule.text {
                TextMatch::Any => true,
                TextMatch::Contains(words) => words.iter().any(|w| haystack.contains(w)),
                TextMatch::Regex(_) => RULE_REGEXES
                    .get(i)
                    .and_then(Option::as_ref)
                    .is_some_and(|re| re.is_match(&haystack)),
            }
    })
}

/// Run the table and fill in the kind's details (overflow token counts, retry-after).
pub fn classify_fields(
    fields: &UpstreamErrorFields,
    retry_after_header: Option<Duration>,
) -> FailureKind {
    let kind = matching_rule(fields)
        .and_then(|i| RULES.get(i))
        .map(|r| r.kind)
        .unwrap_or(FailureKind::Unknown);
    match kind {
        FailureKind::ContextOverflow { .. } => {
            let (requested, limit) = parse_overflow_counts(&fields.message);
            FailureKind::ContextOverflow {
                requested: requested.or(fields.prompt_tokens),
                limit: limit.or(fields.context_tokens),
            }
        }
        FailureKind::RateLimit { .. } => FailureKind::RateLimit {
            retry_after: retry_after_header.or_else(|| parse_retry_after_text(&fields.message)),
        },
        other => other,
    }
}

/// Pull status/code/type/message out of an error body: OpenAI `{"error":{message,type,code}}`,
/// Anthropic `{"type":"error","error":{type,message}}`, OpenRouter (`error.metadata.raw`),
/// Ollama / LM Studio `{"error":"…"}`, FastAPI `{"detail":…}`, or plain text.
pub fn extract_error_fields(status: Option<u16>, body: &str) -> UpstreamErrorFields {
    let mut fields = UpstreamErrorFields {
        status,
        ..UpstreamErrorFields::default()
    };
    let Ok(json) = serde_json::from_str::<Value>(body.trim()) else {
        fields.message = body.trim().to_string();
        return fields;
    };
    let error = json.get("error");
    match error {
        Some(Value::Object(obj)) => {
            fields.message = obj
                .get("message")
                .map(value_text)
                .unwrap_or_else(|| Value::Object(obj.clone()).to_string());
            fields.code = obj.get("code").map(value_text);
            fields.error_type = obj.get("type").map(value_text);
            fields.prompt_tokens = obj.get("n_prompt_tokens").and_then(Value::as_u64);
            fields.context_tokens = obj.get("n_ctx").and_then(Value::as_u64);
            if let Some(raw) = obj.get("metadata").and_then(|m| m.get("raw")) {
                fields.message = format!("{} ({})", fields.message, value_text(raw));
            }
        }
        Some(Value::String(text)) => fields.message = text.clone(),
        _ => {
            if let Some(detail) = json.get("detail") {
                fields.message = value_text(detail);
            } else if let Some(message) = json.get("message") {
                fields.message = value_text(message);
            } else {
                fields.message = json.to_string();
            }
            fields.code = json.get("code").map(value_text);
            fields.error_type = json.get("type").map(value_text);
        }
    }
    fields
}

fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Shorten and redact an upstream message so it can go into logs and errors.
pub fn safe_message(message: &str, keys: &[Secret]) -> String {
    let redacted = redact_secrets(message, keys);
    let trimmed = redacted.trim();
    if trimmed.chars().count() <= MAX_MESSAGE_CHARS {
        return trimmed.to_string();
    }
    let mut out: String = trimmed.chars().take(MAX_MESSAGE_CHARS).collect();
    out.push('…');
    out
}

/// A non-2xx HTTP response, classified. `retry_after` is the parsed `Retry-After` header.
pub fn classify_http_error(
    status: u16,
    retry_after: Option<Duration>,
    body: &str,
    keys: &[Secret],
) -> ProviderError {
    let fields = extract_error_fields(Some(status), body);
    let kind = classify_fields(&fields, retry_after);
    let detail = if fields.message.is_empty() {
        "(empty body)".to_string()
    } else {
        fields.message.clone()
    };
    let code = fields
        .code
        .as_deref()
        .filter(|c| !c.is_empty() && *c != status.to_string())
        .map(|c| format!(" ({c})"))
        .unwrap_or_default();
    ProviderError::new(
        kind,
        safe_message(&format!("HTTP {status}{code}: {detail}"), keys),
    )
    .with_status(status)
}

/// An error the codec found inside a 200 body or stream, or the stream's end state.
pub fn classify_wire_error(err: &WireError, keys: &[Secret]) -> ProviderError {
    match err {
        WireError::Upstream {
            status,
            code,
            message,
        } => {
            let fields = UpstreamErrorFields {
                status: *status,
                code: code.clone(),
                message: message.clone(),
                ..UpstreamErrorFields::default()
            };
            // An error the upstream reports inside a 200 body, after accepting the request, is
            // its own failure: wording no rule knows is a server error, not `Unknown`.
            let kind = match classify_fields(&fields, None) {
                FailureKind::Unknown => FailureKind::ServerError,
                other => other,
            };
            let code = code
                .as_deref()
                .map(|c| format!(" ({c})"))
                .unwrap_or_default();
            let error = ProviderError::new(
                kind,
                safe_message(&format!("upstream error in body{code}: {message}"), keys),
            );
            match status {
                Some(s) => error.with_status(*s),
                None => error,
            }
        }
        WireError::EmptyStream => ProviderError::new(
            FailureKind::EmptyResponse,
            "upstream answered 200 with an empty stream (no event)",
        ),
        WireError::Truncated => ProviderError::new(
            FailureKind::Truncated,
            "upstream stream ended without a finish reason",
        ),
        WireError::Malformed { .. } => ProviderError::new(
            FailureKind::ServerError,
            safe_message(&format!("upstream sent a malformed payload: {err}"), keys),
        ),
    }
}

/// `Retry-After` (seconds) or `retry-after-ms` header values.
pub fn parse_retry_after_headers(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = text("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        return duration_from_secs(ms / 1000.0);
    }
    text("retry-after")
        .and_then(|v| v.parse::<f64>().ok())
        .and_then(duration_from_secs)
}

fn duration_from_secs(secs: f64) -> Option<Duration> {
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

static RETRY_TEXT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)try again in\s+([0-9]+(?:\.[0-9]+)?)\s*(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?)\b").ok()
});

/// "Please try again in 2.5s" / "Try again in 5 seconds" in a rate-limit message.
pub fn parse_retry_after_text(message: &str) -> Option<Duration> {
    let caps = RETRY_TEXT.as_ref()?.captures(message)?;
    let value: f64 = caps.get(1)?.as_str().parse().ok()?;
    let unit = caps.get(2)?.as_str().to_ascii_lowercase();
    let secs = if unit.starts_with("ms") || unit.starts_with("milli") {
        value / 1000.0
    } else if unit.starts_with('m') {
        value * 60.0
    } else {
        value
    };
    duration_from_secs(secs)
}

/// Overflow wordings that state the counts. `req` = tokens asked for, `lim` = the window.
const OVERFLOW_COUNT_PATTERNS: &[&str] = &[
    r"maximum context length is (?P<lim>[\d,]+) tokens?\.? however,? you requested (?:about )?(?P<req>[\d,]+) tokens",
    r"maximum context length is (?P<lim>[\d,]+) tokens?(?: and|,) your request has (?P<req>[\d,]+) input tokens",
    r"requested tokens \((?P<req>[\d,]+)\) exceed context window of (?P<lim>[\d,]+)",
    r"prompt is too long: (?P<req>[\d,]+) tokens > (?P<lim>[\d,]+) maximum",
    r"trying to keep the first (?P<req>[\d,]+) tokens.*?context length of only (?P<lim>[\d,]+) tokens",
    r"the input \((?P<req>[\d,]+) tokens\) is longer than the model's context length \((?P<lim>[\d,]+) tokens\)",
    r"prompt \(length (?P<req>[\d,]+)\) is longer than the maximum model length of (?P<lim>[\d,]+)",
    r"maximum context length of (?P<lim>[\d,]+) tokens\. you requested a total of (?P<req>[\d,]+) tokens",
    r"prompt contains (?P<req>[\d,]+) tokens.*?too large for model with (?P<lim>[\d,]+) maximum context length",
    r"maximum prompt length is (?P<lim>[\d,]+) but the request contains (?P<req>[\d,]+) tokens",
    r"maximum context length is (?P<lim>[\d,]+) tokens?\.? however,? you requested [\d,]+ output tokens and your prompt contains at least [\d,]+ input tokens,? for a total of at least (?P<req>[\d,]+) tokens",
    r"request \((?P<req>[\d,]+) tokens\) exceeds the available context size \((?P<lim>[\d,]+) tokens\)",
    r"n_keep: (?P<req>[\d,]+) >= n_ctx: (?P<lim>[\d,]+)",
    r"input prompt \((?P<req>[\d,]+) tokens\) is too long and exceeds limit of (?P<lim>[\d,]+)",
    r"input length \((?P<req>[\d,]+) tokens\) exceeds the maximum allowed length \((?P<lim>[\d,]+) tokens\)",
    // Partial wordings: whichever count they state.
    r"your messages resulted in (?P<req>[\d,]+) tokens",
    r"your request has (?P<req>[\d,]+) input tokens",
    r"you requested (?:about )?(?P<req>[\d,]+) tokens",
    r"context length of only (?P<lim>[\d,]+)",
    r"maximum context length is (?P<lim>[\d,]+)",
    r"context window of (?P<lim>[\d,]+)",
    r"maximum model length of (?P<lim>[\d,]+)",
];

static OVERFLOW_COUNTS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    OVERFLOW_COUNT_PATTERNS
        .iter()
        .filter_map(|p| Regex::new(&format!("(?is){p}")).ok())
        .collect()
});

fn parse_count(caps: &regex::Captures<'_>, name: &str) -> Option<u64> {
    caps.name(name)?.as_str().replace(',', "").parse().ok()
}

/// `(requested, limit)` token counts stated in an overflow message, when it states them.
pub fn parse_overflow_counts(message: &str) -> (Option<u64>, Option<u64>) {
    let (mut requested, mut limit) = (None, None);
    for re in OVERFLOW_COUNTS.iter() {
        if requested.is_some() && limit.is_some() {
            break;
        }
        if let Some(caps) = re.captures(message) {
            requested = requested.or_else(|| parse_count(&caps, "req"));
            limit = limit.or_else(|| parse_count(&caps, "lim"));
        }
    }
    (requested, limit)
}

/// True when a non-2xx answer means "this server has no such route" rather than anything
/// about the request: 404, 405 or 501 with an empty body, a framework's bare "not found" /
/// "method not allowed" (FastAPI's `{"detail":"Not Found"}` from llama-cpp-python, Go's
/// `404 page not found` from Ollama), or LiteLLM's 404 that wraps such an answer from the
/// server behind it (`litellm.NotFoundError: … {"detail":"Not Found"}`).
pub fn is_missing_endpoint(status: u16, body: &str) -> bool {
    if !matches!(status, 404 | 405 | 501) {
        return false;
    }
    let fields = extract_error_fields(Some(status), body);
    let message = fields.message.trim().to_lowercase();
    const BARE: &[&str] = &[
        "",
        "not found",
        "404 page not found",
        "method not allowed",
        "405 method not allowed",
        "not implemented",
        "501 not implemented",
    ];
    BARE.contains(&message.as_str())
        || (message.contains("notfounderror") && message.contains("\"detail\":\"not found\""))
}

/// True when an error says the model cannot take tools (Ollama's 400).
pub fn is_tools_unsupported(status: Option<u16>, body: &str) -> bool {
    let fields = extract_error_fields(status, body);
    matching_rule(&fields)
        .and_then(|i| RULES.get(i))
        .is_some_and(|rule| rule.name == TOOLS_UNSUPPORTED_RULE)
}

/// A reqwest/hyper/io failure (no HTTP status): connect refused, reset, DNS, TLS, timeouts.
pub fn classify_transport_error(err: &TransportError, keys: &[Secret]) -> ProviderError {
    let mut chain = Vec::new();
    let mut io_kind = None;
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        chain.push(e.to_string());
        if io_kind.is_none()
            && let Some(io) = e.downcast_ref::<std::io::Error>()
        {
            io_kind = Some(io.kind());
        }
        source = e.source();
    }
    let mut text = chain.join(": ");
    // reqwest names the URL; a base URL may carry credentials (`user:pass@`, `?key=`).
    if let Some(url) = err.url() {
        text = text.replace(url.as_str(), &redact_url(url.as_str()));
    }
    let kind = transport_kind(err.is_timeout(), io_kind, &text.to_lowercase());
    let message = safe_message(&text, keys);
    ProviderError::new(kind, message)
}

/// The decision of [`classify_transport_error`], on plain inputs so it can be tested.
pub fn transport_kind(
    is_timeout: bool,
    io_kind: Option<std::io::ErrorKind>,
    text: &str,
) -> FailureKind {
    use std::io::ErrorKind;
    let network = |cause| FailureKind::Network { cause };
    if is_timeout || io_kind == Some(ErrorKind::TimedOut) {
        return FailureKind::Timeout;
    }
    match io_kind {
        Some(ErrorKind::ConnectionRefused) => return network(NetworkCause::Refused),
        Some(
            ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::BrokenPipe
            | ErrorKind::UnexpectedEof,
        ) => return network(NetworkCause::Reset),
        _ => {}
    }
    let has = |words: &[&str]| words.iter().any(|w| text.contains(w));
    if has(&[
        "dns error",
        "failed to lookup address",
        "name or service not known",
        "no such host",
        "nodename nor servname",
    ]) {
        network(NetworkCause::Dns)
    } else if has(&["connection refused"]) {
        network(NetworkCause::Refused)
    } else if has(&[
        "tls",
        "certificate",
        "rustls",
        "handshake",
        "received corrupt message",
        "invalidcontenttype",
    ]) {
        network(NetworkCause::Tls)
    } else if has(&[
        "connection reset",
        "connection closed",
        "incomplete message",
        "incompletemessage",
        "unexpected eof",
        "broken pipe",
        "connection aborted",
    ]) {
        network(NetworkCause::Reset)
    } else {
        network(NetworkCause::Other)
    }
}

#[cfg(test)]
#[path = "classify_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "classify_hosted_tests.rs"]
mod hosted_tests;

#[cfg(test)]
#[path = "classify_local_tests.rs"]
mod local_tests;
