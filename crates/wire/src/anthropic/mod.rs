//! Anthropic Messages (`POST /v1/messages`): requests, full responses and SSE streams, both
//! directions. Also spoken by MiniMax, Kimi and Anthropic-compatible proxies.
//!
//! Normal form of this dialect, beyond the canonical one: `max_tokens` is always present (the
//! API requires it; 4096 is sent when the request has none); tool-call arguments are the
//! compact JSON text of an object (`input` is an object on this wire; text that is not an
//! object is sent as `{}`); reasoning blocks carry a signature (unsigned reasoning, e.g. from a
//! local model, cannot be replayed to Anthropic and is dropped); tool results have no `name`;
//! there is no `seed`; `Required` tool choice is `any`; usage is always reported in streams;
//! with thinking on, `temperature`, `top_p` and `top_k` are not sent (the API rejects them);
//! no `num_ctx`; no response format (Anthropic's structured outputs take only a schema, in
//! `output_config`, and are not mapped: a format is not sent to this dialect).

mod decoder;
mod encoder;
mod request;
mod response;

pub use decoder::Decoder;
pub use encoder::Encoder;
pub use request::{DEFAULT_MAX_TOKENS, decode_request, encode_request};
pub use response::{decode_response, encode_response};

use serde_json::{Map, Value};

use crate::json_at::{At, Result};
use crate::{StopReason, Usage};

pub(crate) const DIALECT: &str = "anthropic";

fn stop_reason_str(stop: StopReason) -> &'static str {
    match stop {
        StopReason::Stop => "end_turn",
        StopReason::Length => "max_tokens",
        StopReason::ToolUse => "tool_use",
        StopReason::ContentFilter => "refusal",
    }
}

fn parse_stop_reason(reason: &str) -> StopReason {
    match reason {
        "max_tokens" | "model_context_window_exceeded" => StopReason::Length,
        "tool_use" => StopReason::ToolUse,
        "refusal" => StopReason::ContentFilter,
        // end_turn, stop_sequence, pause_turn
        _ => StopReason::Stop,
    }
}

fn usage_json(usage: &Usage) -> Value {
    let mut map = Map::new();
    map.insert(
        "input_tokens".into(),
        usage.input_tokens.unwrap_or(0).into(),
    );
    if let Some(n) = usage.cache_write_tokens {
        map.insert("cache_creation_input_tokens".into(), n.into());
    }
    if let Some(n) = usage.cache_read_tokens {
        map.insert("cache_read_input_tokens".into(), n.into());
    }
    map.insert(
        "output_tokens".into(),
        usage.output_tokens.unwrap_or(0).into(),
    );
    Value::Object(map)
}

fn decode_usage(at: &At<'_>) -> Result<Usage> {
    Ok(Usage {
        input_tokens: at.opt_u64("input_tokens")?,
        output_tokens: at.opt_u64("output_tokens")?,
        cache_read_tokens: at.opt_u64("cache_read_input_tokens")?,
        cache_write_tokens: at.opt_u64("cache_creation_input_tokens")?,
    })
}

/// Later fields win (a `message_delta` usage refines the `message_start` one).
fn merge_usage(into: &mut Usage, later: Usage) {
    into.input_tokens = later.input_tokens.or(into.input_tokens);
    into.output_tokens = later.output_tokens.or(into.output_tokens);
    into.cache_read_tokens = later.cache_read_tokens.or(into.cache_read_tokens);
    into.cache_write_tokens = later.cache_write_tokens.or(into.cache_write_tokens);
}

/// Anthropic's error `type` for a machine code from the gateway.
pub(crate) fn error_type(code: &str) -> String {
    match code {
        "" => "api_error".to_owned(),
        "rate_limit" | "rate_limit_exceeded" => "rate_limit_error".to_owned(),
        "overloaded" => "overloaded_error".to_owned(),
        "auth" => "authentication_error".to_owned(),
        "context_length_exceeded" | "invalid_request" | "format" => {
            "invalid_request_error".to_owned()
        }
        "model_not_found" => "not_found_error".to_owned(),
        "permission" | "forbidden" => "permission_error".to_owned(),
        // Only the types Anthropic documents pass through (`server_error` is OpenAI's).
        known @ ("invalid_request_error"
        | "authentication_error"
        | "permission_error"
        | "not_found_error"
        | "request_too_large"
        | "rate_limit_error"
        | "api_error"
        | "overloaded_error") => known.to_owned(),
        _ => "api_error".to_owned(),
    }
}
