//! Ollama's native chat API (`POST /api/chat`): requests, full responses and NDJSON streams,
//! both directions.
//!
//! Normal form of this dialect, beyond the canonical one: no `tool_choice` (`none` is sent by
//! leaving tools out), no `user`, no cache counts, no content-filter stop; reasoning effort is
//! only on/off (`think: true` reads back as `Medium`); images are base64 only (their media
//! type is sniffed back from the data); a message has at most one text and one reasoning
//! piece; tool-call arguments are JSON objects on this wire (compact object text
//! canonically; text that is not an object is sent as a JSON string and read back verbatim);
//! responses have no id. Tool calls have no ids in Ollama's documentation: we send ours as an
//! extra `id` field (Ollama ignores unknown fields), read it back when present and otherwise
//! synthesise `ollama_call_<n>`; tool results are matched to calls by `tool_name`.

mod request;
mod response;
mod stream;

pub use request::{decode_request, encode_request};
pub use response::{decode_response, encode_response};
pub use stream::{Decoder, Encoder};

use serde_json::{Value, json};

use crate::json_at::{At, Result, arguments_object};
use crate::{StopReason, Usage};

pub(crate) const DIALECT: &str = "ollama";

/// What an encoder writes in `created_at` when it was given no time (codecs have no clock).
pub const EPOCH: &str = "1970-01-01T00:00:00Z";

fn done_reason(stop: StopReason) -> &'static str {
    match stop {
        StopReason::Length => "length",
        _ => "stop",
    }
}

fn parse_done_reason(reason: Option<&str>, has_tool_calls: bool) -> StopReason {
    match reason {
        Some("length") => StopReason::Length,
        _ if has_tool_calls => StopReason::ToolUse,
        _ => StopReason::Stop,
    }
}

fn tool_call_json(id: &str, name: &str, arguments: &str) -> Value {
    let arguments = arguments_object(arguments).unwrap_or_else(|| arguments.into());
    json!({ "id": id, "function": { "name": name, "arguments": arguments } })
}

/// `(id, name, arguments text)` of one `tool_calls` entry; `n` numbers synthesised ids.
fn decode_tool_call(call: &At<'_>, n: usize) -> Result<(String, String, String)> {
    let function = call.req("function")?;
    let id = match call.opt_str("id")? {
        Some(id) if !id.is_empty() => id.to_owned(),
        _ => format!("ollama_call_{n}"),
    };
    let arguments = match function.get("arguments").map(|a| a.value) {
        None => "{}".to_owned(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    };
    Ok((id, function.req_str("name")?.to_owned(), arguments))
}

fn decode_usage(root: &At<'_>) -> Result<Option<Usage>> {
    let input_tokens = root.opt_u64("prompt_eval_count")?;
    let output_tokens = root.opt_u64("eval_count")?;
    if input_tokens.is_none() && output_tokens.is_none() {
        return Ok(None);
    }
    Ok(Some(Usage {
        input_tokens,
        output_tokens,
        ..Usage::default()
    }))
}

/// Ollama images are bare base64: guess the media type from the data's first bytes.
fn sniff_media_type(data: &str) -> &'static str {
    if data.starts_with("/9j/") {
        "image/jpeg"
    } else if data.starts_with("R0lGOD") {
        "image/gif"
    } else if data.starts_with("UklGR") {
        "image/webp"
    } else {
        "image/png"
    }
}
