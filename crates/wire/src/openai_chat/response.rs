//! Non-streamed Chat Completions responses (`object: "chat.completion"`), both directions.

use serde_json::{Map, Value, json};

use super::{
    DIALECT, arguments_text, decode_usage, finish_reason, parse_finish_reason, reasoning_text,
    usage_json,
};
use crate::json_at::{At, Result};
use crate::upstream_error::{is_error_envelope, upstream_error};
use crate::{ContentBlock, Response, StopReason, Usage};

/// Encodes a full response. `created` is 0: the gateway sets the real time on the value
/// (codecs have no clock).
pub fn encode_response(response: &Response) -> Value {
    let mut reasoning = String::new();
    let mut text = String::new();
    let mut tool_calls = Vec::new();
    for block in &response.content {
        match block {
            ContentBlock::Reasoning {
                text: r,
                redacted: false,
                ..
            } => reasoning.push_str(r),
            ContentBlock::Text { text: t } => text.push_str(t),
            ContentBlock::ToolCall {
                id,
                name,
                arguments,
            } => tool_calls.push(json!({
                "id": id,
                "type": "function",
                "function": { "name": name, "arguments": arguments },
            })),
            _ => {}
        }
    }
    let mut message = Map::new();
    message.insert("role".into(), "assistant".into());
    let content: Value = if text.is_empty() && !tool_calls.is_empty() {
        Value::Null
    } else {
        text.into()
    };
    message.insert("content".into(), content);
    if !reasoning.is_empty() {
        message.insert("reasoning_content".into(), reasoning.into());
    }
    if !tool_calls.is_empty() {
        message.insert("tool_calls".into(), Value::Array(tool_calls));
    }
    let mut body = Map::new();
    body.insert("id".into(), response.id.clone().into());
    body.insert("object".into(), "chat.completion".into());
    body.insert("created".into(), 0.into());
    body.insert("model".into(), response.model.clone().into());
    body.insert(
        "choices".into(),
        json!([{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": finish_reason(response.stop_reason),
        }]),
    );
    if response.usage != Usage::default() {
        body.insert("usage".into(), usage_json(&response.usage));
    }
    Value::Object(body)
}

pub fn decode_response(body: &Value) -> Result<Response> {
    if is_error_envelope(body) {
        return Err(upstream_error(body));
    }
    let root = At::root(body, DIALECT);
    let choices = root.req("choices")?.items()?;
    let Some(choice) = choices.first() else {
        return Err(root.malformed("`choices` is empty"));
    };
    let message = choice.req("message")?;
    let mut content = Vec::new();
    if let Some(text) = reasoning_text(&message) {
        content.push(ContentBlock::Reasoning {
            text,
            signature: None,
            redacted: false,
        });
    }
    if let Some(body) = message.get("content") {
        let text = super::content_text(&body)?;
        if !text.is_empty() {
            content.push(ContentBlock::Text { text });
        }
    }
    let calls = message.items_at("tool_calls")?;
    for (index, call) in calls.iter().enumerate() {
        let function = call.req("function")?;
        content.push(ContentBlock::ToolCall {
            id: call
                .opt_str("id")?
                .map(str::to_owned)
                .unwrap_or_else(|| format!("call_{index}")),
            name: function.req_str("name")?.to_owned(),
            arguments: arguments_text(function.get("arguments")),
        });
    }
    if calls.is_empty()
        && let Some(function) = message.get("function_call")
    {
        content.push(ContentBlock::ToolCall {
            id: "call_0".to_owned(),
            name: function.req_str("name")?.to_owned(),
            arguments: arguments_text(function.get("arguments")),
        });
    }
    let has_calls = content
        .iter()
        .any(|b| matches!(b, ContentBlock::ToolCall { .. }));
    let stop_reason = match choice.opt_str("finish_reason")? {
        Some(reason) => parse_finish_reason(reason),
        None if has_calls => StopReason::ToolUse,
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
