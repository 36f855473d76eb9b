//! Non-streamed answers: one object with `done: true` (`/api/chat` both directions,
//! `/api/generate` encoded).

use serde_json::Value;

use super::{
    DIALECT, Durations, EPOCH, Endpoint, answer_object, decode_tool_call, decode_usage,
    parse_done_reason, put_done, tool_call_json,
};
use crate::json_at::{At, Result};
use crate::upstream_error::{is_error_envelope, upstream_error};
use crate::{ContentBlock, Response, Usage};

pub fn encode_response(response: &Response) -> Value {
    encode_answer(Endpoint::Chat, response, EPOCH, None)
}

/// A whole answer for `endpoint`, created at `created_at` (RFC 3339), with the timings when
/// the server measured them.
pub fn encode_answer(
    endpoint: Endpoint,
    response: &Response,
    created_at: &str,
    durations: Option<&Durations>,
) -> Value {
    let mut text = String::new();
    let mut thinking = String::new();
    let mut calls = Vec::new();
    for block in &response.content {
        match block {
            ContentBlock::Text { text: t } => text.push_str(t),
            ContentBlock::Reasoning {
                text: t,
                redacted: false,
                ..
            } => thinking.push_str(t),
            ContentBlock::ToolCall {
                id,
                name,
                arguments,
            } => calls.push(tool_call_json(id, name, arguments)),
            _ => {}
        }
    }
    let mut body = answer_object(
        endpoint,
        &response.model,
        created_at,
        &text,
        &thinking,
        calls,
    );
    put_done(
        &mut body,
        response.stop_reason,
        Some(&response.usage),
        durations,
    );
    Value::Object(body)
}

pub fn decode_response(body: &Value) -> Result<Response> {
    if is_error_envelope(body) {
        return Err(upstream_error(body));
    }
    let root = At::root(body, DIALECT);
    let mut content = Vec::new();
    if let Some(message) = root.get("message") {
        let thinking = match message.opt_str("thinking")? {
            Some(t) => Some(t),
            None => message.opt_str("reasoning")?,
        };
        if let Some(thinking) = thinking.filter(|t| !t.is_empty()) {
            content.push(ContentBlock::Reasoning {
                text: thinking.to_owned(),
                signature: None,
                redacted: false,
            });
        }
        if let Some(text) = message.opt_str("content")?.filter(|t| !t.is_empty()) {
            content.push(ContentBlock::Text {
                text: text.to_owned(),
            });
        }
        for (n, call) in message.items_at("tool_calls")?.iter().enumerate() {
            let (id, name, arguments) = decode_tool_call(call, n)?;
            content.push(ContentBlock::ToolCall {
                id,
                name,
                arguments,
            });
        }
    }
    let has_calls = content
        .iter()
        .any(|b| matches!(b, ContentBlock::ToolCall { .. }));
    Ok(Response {
        id: String::new(),
        model: root.opt_str("model")?.unwrap_or_default().to_owned(),
        content,
        stop_reason: parse_done_reason(root.opt_str("done_reason")?, has_calls),
        usage: decode_usage(&root)?.unwrap_or_else(Usage::default),
    })
}
