//! Non-streamed Responses bodies (`object: "response"`), both directions.

use serde_json::Value;

use super::{
    DIALECT, ResponseObject, decode_assistant_item, decode_usage, output_items, response_object,
    status_for, stop_from,
};
use crate::json_at::{At, Result};
use crate::upstream_error::{is_error_envelope, upstream_error};
use crate::{ContentBlock, Response, Usage};

/// Encodes a full response with `created_at` 0 (codecs have no clock); [`write_response`]
/// writes the same object as text, created at a given time.
pub fn encode_response(response: &Response) -> Value {
    // Strings, numbers and values always convert.
    serde_json::to_value(whole_response(response, 0)).unwrap_or_default()
}

/// The `response` object of a whole answer as JSON text, created at `created_at` (Unix
/// seconds): what the gateway sends.
pub fn write_response(response: &Response, created_at: u64) -> String {
    // Strings, numbers and values always serialize.
    serde_json::to_string(&whole_response(response, created_at)).unwrap_or_default()
}

fn whole_response(response: &Response, created_at: u64) -> ResponseObject<'_> {
    let (status, incomplete) = status_for(response.stop_reason);
    let usage = (response.usage != Usage::default()).then_some(&response.usage);
    response_object(
        &response.id,
        &response.model,
        created_at,
        status,
        incomplete,
        output_items(&response.content, &response.id),
        usage,
    )
}

pub fn decode_response(body: &Value) -> Result<Response> {
    let root = At::root(body, DIALECT);
    if root.opt_str("status")? == Some("failed") {
        return Err(match body.get("error") {
            Some(error) if !error.is_null() => upstream_error(error),
            _ => upstream_error(body),
        });
    }
    if is_error_envelope(body) {
        return Err(upstream_error(body));
    }
    let mut content = Vec::new();
    for item in root.req("output")?.items()? {
        decode_assistant_item(&item, &mut content)?;
    }
    let has_calls = content
        .iter()
        .any(|b| matches!(b, ContentBlock::ToolCall { .. }));
    let usage = match root.get("usage") {
        Some(usage) => decode_usage(&usage)?,
        None => Usage::default(),
    };
    Ok(Response {
        id: root.opt_str("id")?.unwrap_or_default().to_owned(),
        model: root.opt_str("model")?.unwrap_or_default().to_owned(),
        content,
        stop_reason: stop_from(&root, has_calls)?,
        usage,
    })
}
