//! OpenAI Chat Completions (`POST /chat/completions`), the dialect most local servers speak
//! (vLLM, llama.cpp, LM Studio, LiteLLM, Ollama's `/v1`). Requests, full responses and SSE
//! streams, both directions.
//!
//! Normal form of this dialect (what `decode(encode(x)) == x` holds for), beyond the canonical
//! one: reasoning blocks in *request* messages are not sent (OpenAI rejects unknown message
//! fields and DeepSeek rejects replayed `reasoning_content`); a tool result's `is_error` has no
//! field here; usage has no cache-write count; `ReasoningSignature` events have no chat shape;
//! a JSON schema without a name is sent with the name `response` (OpenAI requires one); no
//! `num_ctx`. `top_k` is not OpenAI's own field but llama.cpp's, vLLM's and LM Studio's; it is
//! encoded and decoded here, and `clawgate-providers` removes it for api.openai.com.

mod chunk;
mod decoder;
mod encoder;
pub(crate) mod request;
mod response;

pub use decoder::Decoder;
pub use encoder::Encoder;
pub use request::{decode_request, encode_request};
pub use response::{decode_response, decode_response_fast, encode_response, write_response};

use std::borrow::Cow;

use serde::Serialize;
use serde_json::Value;

use crate::json_at::{At, Result};
use crate::{StopReason, Usage};

pub(crate) const DIALECT: &str = "openai_chat";

fn finish_reason(stop: StopReason) -> &'static str {
    match stop {
        StopReason::Stop => "stop",
        StopReason::Length => "length",
        StopReason::ToolUse => "tool_calls",
        StopReason::ContentFilter => "content_filter",
    }
}

/// Unknown reasons (some servers invent `eos`, `end_turn`, ...) count as a normal stop.
fn parse_finish_reason(reason: &str) -> StopReason {
    match reason {
        "length" | "max_tokens" => StopReason::Length,
        "tool_calls" | "function_call" | "tool_use" => StopReason::ToolUse,
        "content_filter" => StopReason::ContentFilter,
        _ => StopReason::Stop,
    }
}

/// `usage` as OpenAI writes it: the counts the answer has, `total_tokens` when both are known.
#[derive(Serialize)]
struct UsageOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    completion_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    total_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt_tokens_details: Option<CachedTokens>,
}

#[derive(Serialize)]
struct CachedTokens {
    cached_tokens: u64,
}

impl UsageOut {
    fn of(usage: &Usage) -> Self {
        Self {
            prompt_tokens: usage.input_tokens,
            completion_tokens: usage.output_tokens,
            total_tokens: usage
                .input_tokens
                .zip(usage.output_tokens)
                .map(|(i, o)| i + o),
            prompt_tokens_details: usage
                .cache_read_tokens
                .map(|cached_tokens| CachedTokens { cached_tokens }),
        }
    }
}

fn decode_usage(at: &At<'_>) -> Result<Usage> {
    let cache_read_tokens = match at.get("prompt_tokens_details") {
        Some(details) => details.opt_u64("cached_tokens")?,
        None => None,
    };
    Ok(Usage {
        input_tokens: at.opt_u64("prompt_tokens")?,
        output_tokens: at.opt_u64("completion_tokens")?,
        cache_read_tokens,
        cache_write_tokens: None,
    })
}

/// Text of a `content` that is a string or an array of `{type:"text", text}` parts.
fn content_text(at: &At<'_>) -> Result<String> {
    match at.value {
        Value::String(s) => Ok(s.clone()),
        Value::Array(_) => {
            let mut out = String::new();
            for part in at.items()? {
                if let Some(text) = part.opt_str("text")? {
                    out.push_str(text);
                }
            }
            Ok(out)
        }
        _ => Err(at.malformed("expected a string or an array of content parts")),
    }
}

/// The reasoning delta/message fields servers use, in order of preference.
const REASONING_FIELDS: [&str; 3] = ["reasoning_content", "reasoning", "reasoning_text"];

/// The first of `REASONING_FIELDS` that holds a non-empty string (others are ignored).
fn reasoning_text<'a>(at: &At<'a>) -> Option<&'a str> {
    REASONING_FIELDS.iter().find_map(|field| {
        at.value
            .get(*field)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    })
}

/// Arguments arrive as JSON text (OpenAI) or, from a few servers, as an object; missing and
/// `null` are no arguments.
fn arguments_text(value: Option<&Value>) -> Cow<'_, str> {
    match value {
        Some(Value::String(s)) => Cow::Borrowed(s),
        Some(Value::Null) | None => Cow::Borrowed(""),
        Some(other) => Cow::Owned(other.to_string()),
    }
}
