//! Non-streamed Messages responses (`type: "message"`), both directions.

use serde_json::{Value, json};

use super::request::decode_block;
use super::{DIALECT, decode_usage, parse_stop_reason, stop_reason_str, usage_json};
use crate::json_at::{At, Result, arguments_object};
use crate::upstream_error::{is_error_envelope, upstream_error};
use crate::{ContentBlock, Response, StopReason, Usage};

pub fn encode_response(response: &Response) -> Value {
    let content: Vec<Value> = response
        .content
        .iter()
        .filter_map(|block| match block {
            ContentBlock::Text { text } => Some(json!({ "type": "text", "text": text })),
            ContentBlock::Reasoning {
                text,
                redacted: true,
                ..
            } => Some(json!({ "type": "redacted_thinking", "data": text })),
            ContentBlock::Reasoning {
                text, signature, ..
            } => Some(json!({
                "type": "thinking",
                "thinking": text,
                "signature": signature.clone().unwrap_or_default(),
            })),
            ContentBlock::ToolCall {
                id,
                name,
                arguments,
            } => Some(json!({
                "type": "tool_use",
                "id": id,
                "name": name,
                "input": arguments_object(arguments).unwrap_or_else(|| json!({})),
            })),
            ContentBlock::Image { .. } | ContentBlock::ToolResult { .. } => None,
        })
        .collect();
    json!({
        "id": response.id,
        "type": "message",
        "role": "assistant",
        "model": response.model,
        "content": content,
        "stop_reason": stop_reason_str(response.stop_reason),
        "stop_sequence": null,
        "usage": usage_json(&response.usage),
    })
}

pub fn decode_response(body: &Value) -> Result<Response> {
    if is_error_envelope(body) {
        return Err(upstream_error(body));
    }
    let root = At::root(body, DIALECT);
    let mut content = Vec::new();
    for block in root.req("content")?.items()? {
        if let Some(block) = decode_block(&block)? {
            content.push(block);
        }
    }
    let stop_reason = match root.opt_str("stop_reason")? {
        Some(reason) => parse_stop_reason(reason),
        None => StopReason::Stop,
    };
    let usage = match root.get("usage") {
        Some(usage) => decode_usage(&usage)?,
        None => Usage::default(),
    };
    Ok(Response {
        id: root.opt_str("id")?.unwrap_or_default().to_owned(),
        model: root.opt_str("model")?.unwrap_or_default().to_owned(),
        content,
        stop_reason,
        usage,
    })
}
