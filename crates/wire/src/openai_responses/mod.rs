//! OpenAI Responses (`POST /responses`): requests, full responses and the semantic SSE event
//! family, both directions. Spoken by api.openai.com, LM Studio and vLLM's `/v1/responses`,
//! and LiteLLM's bridge onto chat servers.
//!
//! Normal form of this dialect, beyond the canonical one: no `stop`, `seed`, `top_k` or
//! `num_ctx` (the API has none of them); a JSON schema format always has a name (`response`
//! when the request's had none); consecutive assistant items (messages, reasoning, function
//! calls) form one assistant message; tool results carry no `name` or `is_error`; reasoning
//! text travels as a single summary part and its signature as `encrypted_content`; `Stop` vs
//! `ToolUse` is decided by whether the output holds a function call (the wire has only
//! `completed`); usage has input and output counts, no cache-write count, and a cached count
//! of 0 reads as "unknown".

mod decoder;
mod encoder;
mod request;
mod response;

pub use decoder::Decoder;
pub use encoder::Encoder;
pub use request::{decode_request, encode_request};
pub use response::{decode_response, encode_response, write_response};

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::json_at::{At, EmptyObject, Result};
use crate::{ContentBlock, StopReason, Usage};

pub(crate) const DIALECT: &str = "openai_responses";

fn usage_json(usage: &Usage) -> Value {
    let input = usage.input_tokens.unwrap_or(0);
    let output = usage.output_tokens.unwrap_or(0);
    json!({
        "input_tokens": input,
        "input_tokens_details": { "cached_tokens": usage.cache_read_tokens.unwrap_or(0) },
        "output_tokens": output,
        "output_tokens_details": { "reasoning_tokens": 0 },
        "total_tokens": input + output,
    })
}

fn decode_usage(at: &At<'_>) -> Result<Usage> {
    let cache_read_tokens = match at.get("input_tokens_details") {
        Some(details) => details.opt_u64("cached_tokens")?.filter(|n| *n > 0),
        None => None,
    };
    Ok(Usage {
        input_tokens: at.opt_u64("input_tokens")?,
        output_tokens: at.opt_u64("output_tokens")?,
        cache_read_tokens,
        cache_write_tokens: None,
    })
}

/// `(status, incomplete_details)` for a stop reason.
fn status_for(stop: StopReason) -> (&'static str, Value) {
    match stop {
        StopReason::Stop | StopReason::ToolUse => ("completed", Value::Null),
        StopReason::Length => ("incomplete", json!({ "reason": "max_output_tokens" })),
        StopReason::ContentFilter => ("incomplete", json!({ "reason": "content_filter" })),
    }
}

/// The stop reason of a finished response object (`failed` is handled by the caller).
fn stop_from(response: &At<'_>, has_tool_calls: bool) -> Result<StopReason> {
    let status = response.opt_str("status")?.unwrap_or("completed");
    if status == "incomplete" {
        let reason = match response.get("incomplete_details") {
            Some(details) => details.opt_str("reason")?,
            None => None,
        };
        return Ok(match reason {
            Some("content_filter") => StopReason::ContentFilter,
            _ => StopReason::Length,
        });
    }
    Ok(if has_tool_calls {
        StopReason::ToolUse
    } else {
        StopReason::Stop
    })
}

/// Item ids derived from the response id (`resp_abc` → `msg_abc_0`), stable and unique per
/// response without a random source.
fn item_id(prefix: &str, response_id: &str, output_index: usize) -> String {
    let base = response_id.strip_prefix("resp_").unwrap_or(response_id);
    format!("{prefix}_{base}_{output_index}")
}

fn message_item(id: &str, text: &str, status: &str) -> Value {
    json!({
        "id": id,
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": [{ "type": "output_text", "text": text, "annotations": [] }],
    })
}

fn reasoning_item(id: &str, text: &str, signature: Option<&str>) -> Value {
    let summary: Vec<Value> = if text.is_empty() {
        Vec::new()
    } else {
        vec![json!({ "type": "summary_text", "text": text })]
    };
    let mut item = Map::new();
    item.insert("id".into(), id.into());
    item.insert("type".into(), "reasoning".into());
    item.insert("summary".into(), Value::Array(summary));
    if let Some(signature) = signature {
        item.insert("encrypted_content".into(), signature.into());
    }
    Value::Object(item)
}

fn function_call_item(id: &str, call_id: &str, name: &str, arguments: &str, status: &str) -> Value {
    json!({
        "id": id,
        "type": "function_call",
        "status": status,
        "arguments": arguments,
        "call_id": call_id,
        "name": name,
    })
}

/// Output items for assistant content blocks (one item per block).
fn output_items(content: &[ContentBlock], response_id: &str) -> Vec<Value> {
    let mut items = Vec::new();
    for block in content {
        let index = items.len();
        match block {
            ContentBlock::Text { text } => items.push(message_item(
                &item_id("msg", response_id, index),
                text,
                "completed",
            )),
            ContentBlock::Reasoning {
                text, signature, ..
            } => items.push(reasoning_item(
                &item_id("rs", response_id, index),
                text,
                signature.as_deref(),
            )),
            ContentBlock::ToolCall {
                id,
                name,
                arguments,
            } => items.push(function_call_item(
                &item_id("fc", response_id, index),
                id,
                name,
                arguments,
                "completed",
            )),
            ContentBlock::Image { .. } | ContentBlock::ToolResult { .. } => {}
        }
    }
    items
}

/// Reasoning text of a `reasoning` item: raw `content` (open-weight models) when present,
/// else the summary parts joined by blank lines.
fn reasoning_text(item: &At<'_>) -> Result<String> {
    let mut content = String::new();
    for part in item.items_at("content")? {
        if let Some(text) = part.opt_str("text")? {
            content.push_str(text);
        }
    }
    if !content.is_empty() {
        return Ok(content);
    }
    let mut parts = Vec::new();
    for part in item.items_at("summary")? {
        if let Some(text) = part.opt_str("text")? {
            parts.push(text);
        }
    }
    Ok(parts.join("\n\n"))
}

/// Appends the content blocks of one assistant-side item (`message`, `reasoning`,
/// `function_call`). Returns false for other item kinds.
fn decode_assistant_item(item: &At<'_>, out: &mut Vec<ContentBlock>) -> Result<bool> {
    match item.kind() {
        Some("message") => {
            match item.get("content") {
                Some(content) if content.value.is_string() => {
                    out.push(ContentBlock::Text {
                        text: content.as_str()?.to_owned(),
                    });
                }
                Some(content) => {
                    for part in content.items()? {
                        if let Some("output_text" | "text" | "input_text") = part.kind() {
                            out.push(ContentBlock::Text {
                                text: part.req_str("text")?.to_owned(),
                            });
                        }
                    }
                }
                None => {}
            }
            Ok(true)
        }
        Some("reasoning") => {
            out.push(ContentBlock::Reasoning {
                text: reasoning_text(item)?,
                signature: item.opt_str("encrypted_content")?.map(str::to_owned),
                redacted: false,
            });
            Ok(true)
        }
        Some("function_call") => {
            let call_id = match item.opt_str("call_id")? {
                Some(id) => id,
                None => item.req_str("id")?,
            };
            out.push(ContentBlock::ToolCall {
                id: call_id.to_owned(),
                name: item.req_str("name")?.to_owned(),
                arguments: item.opt_str("arguments")?.unwrap_or_default().to_owned(),
            });
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// The `response` object, as the non-stream body and the stream's lifecycle events carry it,
/// in the field order OpenAI writes it.
fn response_object<'a>(
    id: &'a str,
    model: &'a str,
    created_at: u64,
    status: &'a str,
    incomplete_details: Value,
    output: Vec<Value>,
    usage: Option<&Usage>,
) -> ResponseObject<'a> {
    ResponseObject {
        id,
        object: "response",
        created_at,
        status,
        error: None,
        incomplete_details,
        instructions: None,
        max_output_tokens: None,
        model,
        output,
        parallel_tool_calls: true,
        previous_response_id: None,
        store: false,
        text: TextConfig {
            format: TextFormat { kind: "text" },
        },
        tool_choice: "auto",
        tools: [],
        truncation: "disabled",
        usage: usage.map(usage_json),
        metadata: EmptyObject {},
    }
}

#[derive(Serialize)]
pub(super) struct ResponseObject<'a> {
    id: &'a str,
    object: &'static str,
    created_at: u64,
    status: &'a str,
    /// `{code, message}` of a failed response.
    error: Option<Value>,
    incomplete_details: Value,
    instructions: Option<()>,
    max_output_tokens: Option<()>,
    model: &'a str,
    output: Vec<Value>,
    parallel_tool_calls: bool,
    previous_response_id: Option<()>,
    store: bool,
    text: TextConfig,
    tool_choice: &'static str,
    tools: [(); 0],
    truncation: &'static str,
    usage: Option<Value>,
    metadata: EmptyObject,
}

#[derive(Serialize)]
struct TextConfig {
    format: TextFormat,
}

#[derive(Serialize)]
struct TextFormat {
    #[serde(rename = "type")]
    kind: &'static str,
}
