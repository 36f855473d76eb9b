//! The classification table: one row per rule, checked in order, first match wins. A row is a
//! status matcher, an optional text matcher over the lower-cased `code type message` of the
//! upstream's error, and the resulting kind. Kept as data so it reads like OpenClaw's §3.2 and
//! can be tested row by row (`classify_tests.rs`).
//!
//! Order matters: context overflow first (it is never a fallback matter: the runner compacts),
//! then the wordings that pin a precise kind whatever the status (billing, revoked keys,
//! unknown models, rate limits, overload, auth), then plain status rules, then statusless
//! wordings (errors inside a 200 stream), then `Unknown`.
//!
//! Deviation from OpenClaw, on purpose: `invalid_api_key` / "incorrect api key" is `auth`
//! (a wrong key, may work after a fix), not `auth_permanent` (that is for revoked keys and
//! deactivated accounts), because that is what `FailureKind` documents.

use crate::FailureKind;

/// Which statuses a row applies to.
#[derive(Debug, Clone, Copy)]
pub enum StatusMatch {
    /// Any status, and also no status.
    Any,
    /// Only errors that came without a status (inside a 200 stream).
    NoStatus,
    /// One of these statuses.
    Codes(&'static [u16]),
    /// A status in `lo..=hi`.
    Range(u16, u16),
    /// No status, or a status in `lo..=hi`.
    NoStatusOrRange(u16, u16),
}

impl StatusMatch {
    pub fn matches(self, status: Option<u16>) -> bool {
        match (self, status) {
            (StatusMatch::Any, _) => true,
            (StatusMatch::NoStatus, s) => s.is_none(),
            (StatusMatch::Codes(codes), Some(s)) => codes.contains(&s),
            (StatusMatch::Range(lo, hi), Some(s)) => (lo..=hi).contains(&s),
            (StatusMatch::NoStatusOrRange(_, _), None) => true,
            (StatusMatch::NoStatusOrRange(lo, hi), Some(s)) => (lo..=hi).contains(&s),
            (StatusMatch::Codes(_) | StatusMatch::Range(..), None) => false,
        }
    }
}

/// What a row requires of the error text (already lower-cased).
#[derive(Debug, Clone, Copy)]
pub enum TextMatch {
    /// No requirement.
    Any,
    /// Any of these substrings.
    Contains(&'static [&'static str]),
    /// A regular expression (compiled once, see `classify::rule_regex`).
    Regex(&'static str),
}

#[derive(Debug, Clone, Copy)]
pub struct ClassifyRule {
    /// Short name for tests and logs.
    pub name: &'static str,
    pub status: StatusMatch,
    pub text: TextMatch,
    /// For `RateLimit` and `ContextOverflow` the fields are filled in afterwards (retry-after
    /// header, token counts parsed from the message).
    pub kind: FailureKind,
}

const OVERFLOW: FailureKind = FailureKind::ContextOverflow {
    requested: None,
    limit: None,
};
const RATE_LIMIT: FailureKind = FailureKind::RateLimit { retry_after: None };

/// Context-overflow wordings of llama.cpp, llama-cpp-python, vLLM, SGLang, LM Studio, Ollama,
/// OpenAI (chat and Responses), Anthropic, OpenRouter, LiteLLM, Mistral, xAI, Groq, Gemini.
/// The local servers' strings are read from their sources (see `docs/upstream-quirks.md`
/// for where each one comes from); each is tested in `classify_tests.rs`.
const OVERFLOW_WORDING: &[&str] = &[
    "context_length_exceeded",
    "context length exceeded",
    "context_window_exceeded",
    "contextwindowexceedederror",
    "maximum context length",
    "exceed context window",
    "exceeds the context window",
    "exceeds context window",
    "context length of only",
    "when context the overflows",
    "prompt is too long",
    "request_too_large",
    "input exceeds the maximum number of tokens",
    "input token count exceeds the maximum",
    "input is too long",
    "exceeds the context length",
    "longer than the model's context length",
    "longer than the maximum model length",
    "maximum prompt length is",
    "reduce the length of the messages",
    "available context size",
    "context window exceeds limit",
    // llama.cpp server when generation fills the context (HTTP 500, or an SSE error event);
    // LM Studio passes it on, as a 400 or inside "Engine protocol predict stream …".
    "context size has been exceeded",
    "exceed_context_size_error",
    // Older llama.cpp server builds (500).
    "compared to kv size",
    // LM Studio: "The number of tokens to keep from the initial prompt is greater than the
    // context length (n_keep: … >= n_ctx: …)".
    "greater than the context length",
    // Ollama: "the prompt is longer than the context length currently available …",
    // "input after truncation exceeds maximum context length", and older builds'
    // "prompt too long; exceeded max context length by N tokens".
    "longer than the context length",
    "exceeds maximum context length",
    "exceeded max context length",
    // vLLM's scheduler: "Input prompt (N tokens) is too long and exceeds limit of M".
    "is too long and exceeds limit of",
    // SGLang's scheduler: "Input length (N tokens) exceeds the maximum allowed length (M
    // tokens). Use a shorter input or enable --allow-auto-truncate."
    "exceeds the maximum allowed length (",
];

const BILLING_WORDING: &[&str] = &[
    "insufficient credits",
    "insufficient balance",
    "insufficient_balance",
    "credit balance",
    "payment required",
    "plans & billing",
    "requires more credits",
    "out of credits",
    "billing_hard_limit",
    "billing hard limit",
];

const AUTH_PERMANENT_WORDING: &[&str] = &[
    "revoked",
    "deactivated",
    "has been disabled",
    "key has been deleted",
    "account has been suspended",
    "permission_error",
    "not allowed for this organization",
];

const MODEL_NOT_FOUND_REGEX: &str = r"model_not_found|unknown model|no such model|invalid model name|is not a valid model|model\b.{0,120}\b(does not exist|not found)";

const RATE_LIMIT_WORDING: &[&str] = &[
    "rate limit",
    "rate_limit",
    "ratelimit",
    "too many requests",
    "quota exceeded",
    "exceeded your current quota",
    "resource_exhausted",
    "resource has been exhausted",
    "tokens per minute",
    "requests per minute",
    "usage limit",
    "model_cooldown",
    "throttlingexception",
    "too many concurrent requests",
    "concurrency limit",
];

const OVERLOADED_WORDING: &[&str] = &[
    "overloaded",
    "high demand",
    "over capacity",
    "at capacity",
    "server is busy",
    "modelnotreadyexception",
];

const AUTH_WORDING: &[&str] = &[
    "invalid api key",
    "invalid_api_key",
    "incorrect api key",
    "invalid x-api-key",
    "api key not valid",
    "invalid token",
    "invalid_token",
    "authentication",
    "unauthorized",
    "no api key",
    "missing api key",
    "token has expired",
    "token expired",
    "credentials found",
    "access denied",
    "forbidden",
    "missing scope",
    "insufficient permission",
    // LiteLLM with a wrong key and no database: 400 "No connected db."
    "no_db_connection",
    "no connected db",
];

/// Ollama's answer for a model without tool support: `"<model> does not support tools"`
/// (400). `format`: the request shape is what the model cannot take; the adapter retries once
/// without tools first when the request allows it.
const TOOLS_UNSUPPORTED_WORDING: &[&str] = &["does not support tools"];

/// The name of that row (`classify::is_tools_unsupported` looks for it).
pub const TOOLS_UNSUPPORTED_RULE: &str = "model without tool support";

const TIMEOUT_WORDING: &[&str] = &["timed out", "timeout", "deadline exceeded"];

const SERVER_ERROR_WORDING: &[&str] = &[
    "internal server error",
    "internal_server_error",
    "internal_error",
    "internal error",
    "server_error",
    "api_error",
    "upstream error",
    "bad gateway",
    "service unavailable",
    "an unknown error occurred",
    "provider returned error",
];

const FORMAT_WORDING: &[&str] = &[
    "invalid_request_error",
    "invalid request",
    "string should match pattern",
    "tool_use_id",
    "tool_use.id",
    "tool call id",
];

pub static RULES: &[ClassifyRule] = &[
    ClassifyRule {
        name: "overflow wording",
        status: StatusMatch::Any,
        text: TextMatch::Contains(OVERFLOW_WORDING),
        kind: OVERFLOW,
    },
    ClassifyRule {
        name: "413 payload too large",
        status: StatusMatch::Codes(&[413]),
        text: TextMatch::Any,
        kind: OVERFLOW,
    },
    ClassifyRule {
        name: "billing wording",
        status: StatusMatch::Any,
        text: TextMatch::Contains(BILLING_WORDING),
        kind: FailureKind::Billing,
    },
    ClassifyRule {
        name: "402 payment required",
        status: StatusMatch::Codes(&[402]),
        text: TextMatch::Any,
        kind: FailureKind::Billing,
    },
    ClassifyRule {
        name: "revoked or disabled credentials",
        status: StatusMatch::Any,
        text: TextMatch::Contains(AUTH_PERMANENT_WORDING),
        kind: FailureKind::AuthPermanent,
    },
    ClassifyRule {
        name: "unknown model wording",
        status: StatusMatch::Any,
        text: TextMatch::Regex(MODEL_NOT_FOUND_REGEX),
        kind: FailureKind::ModelNotFound,
    },
    ClassifyRule {
        name: TOOLS_UNSUPPORTED_RULE,
        status: StatusMatch::NoStatusOrRange(400, 499),
        text: TextMatch::Contains(TOOLS_UNSUPPORTED_WORDING),
        kind: FailureKind::Format,
    },
    ClassifyRule {
        name: "rate limit wording",
        status: StatusMatch::Any,
        text: TextMatch::Contains(RATE_LIMIT_WORDING),
        kind: RATE_LIMIT,
    },
    ClassifyRule {
        name: "429 too many requests",
        status: StatusMatch::Codes(&[429]),
        text: TextMatch::Any,
        kind: RATE_LIMIT,
    },
    ClassifyRule {
        name: "overload wording",
        status: StatusMatch::Any,
        text: TextMatch::Contains(OVERLOADED_WORDING),
        kind: FailureKind::Overloaded,
    },
    ClassifyRule {
        name: "503/529 unavailable",
        status: StatusMatch::Codes(&[503, 529]),
        text: TextMatch::Any,
        kind: FailureKind::Overloaded,
    },
    ClassifyRule {
        name: "401/403",
        status: StatusMatch::Codes(&[401, 403]),
        text: TextMatch::Any,
        kind: FailureKind::Auth,
    },
    ClassifyRule {
        name: "auth wording",
        status: StatusMatch::Any,
        text: TextMatch::Contains(AUTH_WORDING),
        kind: FailureKind::Auth,
    },
    ClassifyRule {
        name: "401/403 code in a statusless error",
        status: StatusMatch::NoStatus,
        text: TextMatch::Regex(r"\b40[13]\b"),
        kind: FailureKind::Auth,
    },
    ClassifyRule {
        name: "408/504 timeout",
        status: StatusMatch::Codes(&[408, 504]),
        text: TextMatch::Any,
        kind: FailureKind::Timeout,
    },
    ClassifyRule {
        name: "timeout wording (no status or 5xx)",
        status: StatusMatch::NoStatusOrRange(500, 599),
        text: TextMatch::Contains(TIMEOUT_WORDING),
        kind: FailureKind::Timeout,
    },
    ClassifyRule {
        name: "404/410 not found",
        status: StatusMatch::Codes(&[404, 410]),
        text: TextMatch::Any,
        kind: FailureKind::ModelNotFound,
    },
    ClassifyRule {
        name: "400/422 bad request",
        status: StatusMatch::Codes(&[400, 409, 415, 422]),
        text: TextMatch::Any,
        kind: FailureKind::Format,
    },
    ClassifyRule {
        name: "5xx server error",
        status: StatusMatch::Range(500, 599),
        text: TextMatch::Any,
        kind: FailureKind::ServerError,
    },
    ClassifyRule {
        name: "server error wording (no status)",
        status: StatusMatch::NoStatus,
        text: TextMatch::Contains(SERVER_ERROR_WORDING),
        kind: FailureKind::ServerError,
    },
    ClassifyRule {
        name: "429 code in a statusless error",
        status: StatusMatch::NoStatus,
        text: TextMatch::Regex(r"\b429\b"),
        kind: RATE_LIMIT,
    },
    ClassifyRule {
        name: "request format wording (no status)",
        status: StatusMatch::NoStatus,
        text: TextMatch::Contains(FORMAT_WORDING),
        kind: FailureKind::Format,
    },
];
