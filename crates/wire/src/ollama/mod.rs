//! Ollama's native API: `POST /api/chat` requests, full responses and NDJSON streams, both
//! directions, and `POST /api/generate` (a prompt rather than a conversation) for serving it:
//! its requests decoded, its answers encoded ([`Endpoint::Generate`]).
//!
//! Normal form of this dialect, beyond the canonical one: no `tool_choice` (`none` is sent by
//! leaving tools out), no `user`, no cache counts, no content-filter stop; reasoning effort is
//! only on/off (`think: true` reads back as `Medium`; the levels `low`/`medium`/`high` are
//! read, `max` as `High`); images are base64 only (their media type is sniffed back from the
//! data); a message has at most one text and one reasoning piece; tool-call arguments are JSON
//! objects on this wire (compact object text canonically; text that is not an object is sent
//! as a JSON string and read back verbatim); responses have no id; a JSON schema `format` has
//! no name and no strictness. Tool calls have no ids in Ollama's documentation: we send ours
//! as an extra `id` field (Ollama ignores unknown fields), read it back when present and
//! otherwise synthesise `ollama_call_<n>`; tool results are matched to calls by `tool_name`.

mod generate;
mod request;
mod response;
mod stream;

pub use generate::decode_generate_request;
pub use request::{decode_request, encode_request};
pub use response::{decode_response, encode_answer, encode_response};
pub use stream::{Decoder, Encoder};

use serde_json::{Map, Value, json};

use crate::json_at::{At, Result, arguments_object};
use crate::{StopReason, Usage};

/// Which of Ollama's generation endpoints an answer is for. `/api/chat` answers carry a
/// `message` object; `/api/generate` answers carry `response` (and `thinking`, `tool_calls`)
/// at the top level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Endpoint {
    #[default]
    Chat,
    Generate,
}

/// The timing fields of a final answer, in nanoseconds. The codec has no clock: whoever
/// serves the answer measures them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Durations {
    pub total_ns: u64,
    pub load_ns: u64,
    pub prompt_eval_ns: u64,
    pub eval_ns: u64,
}

/// One answer object without its `done` fields: `model`, `created_at` and the content in the
/// endpoint's shape. `calls` are `tool_calls` entries.
fn answer_object(
    endpoint: Endpoint,
    model: &str,
    created_at: &str,
    text: &str,
    thinking: &str,
    calls: Vec<Value>,
) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("model".into(), model.into());
    body.insert("created_at".into(), created_at.into());
    let mut content = Map::new();
    let target = match endpoint {
        Endpoint::Chat => {
            content.insert("role".into(), "assistant".into());
            content.insert("content".into(), text.into());
            &mut content
        }
        Endpoint::Generate => {
            body.insert("response".into(), text.into());
            &mut body
        }
    };
    if !thinking.is_empty() {
        target.insert("thinking".into(), thinking.into());
    }
    if !calls.is_empty() {
        target.insert("tool_calls".into(), Value::Array(calls));
    }
    if endpoint == Endpoint::Chat {
        body.insert("message".into(), Value::Object(content));
    }
    body
}

/// The fields of a final object: `done`, `done_reason`, the timings (when measured) and the
/// token counts (when known), in Ollama's order.
fn put_done(
    body: &mut Map<String, Value>,
    stop: StopReason,
    usage: Option<&Usage>,
    durations: Option<&Durations>,
) {
    body.insert("done".into(), true.into());
    body.insert("done_reason".into(), done_reason(stop).into());
    if let Some(d) = durations {
        body.insert("total_duration".into(), d.total_ns.into());
        body.insert("load_duration".into(), d.load_ns.into());
    }
    if let Some(n) = usage.and_then(|u| u.input_tokens) {
        body.insert("prompt_eval_count".into(), n.into());
    }
    if let Some(d) = durations {
        body.insert("prompt_eval_duration".into(), d.prompt_eval_ns.into());
    }
    if let Some(n) = usage.and_then(|u| u.output_tokens) {
        body.insert("eval_count".into(), n.into());
    }
    if let Some(d) = durations {
        body.insert("eval_duration".into(), d.eval_ns.into());
    }
}

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
