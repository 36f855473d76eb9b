//! `/api/generate` requests, decoded (clawgate serves this endpoint and never calls it; its
//! answers are encoded with [`super::Endpoint::Generate`]). A prompt, not a conversation:
//! `system` and `prompt` (with its `images`) become a one-message canonical request, and
//! `think`, `format` and `options` read as on `/api/chat`. `raw: true` passes the prompt as
//! the only message with no system prompt (a raw request with `system`, `template` or
//! `context` is refused, as Ollama refuses it); the upstream's own chat template still wraps
//! it, since every upstream is spoken to in a chat dialect. Fields with no canonical form are
//! refused with their path rather than dropped: a non-empty `suffix` (fill-in-the-middle),
//! `template` (Ollama's prompt template) and `context` (token ids of an earlier answer, which
//! clawgate never returns). An empty prompt gives a request without messages: Ollama's "load
//! the model" call, which the server answers itself.

use serde_json::Value;

use super::DIALECT;
use super::request::{decode_generation_fields, user_message};
use crate::Request;
use crate::json_at::{At, Result};

/// Refuses `key` when it is present and not empty.
fn refuse_non_empty(root: &At<'_>, key: &str, why: &str) -> Result<()> {
    let Some(value) = root.get(key) else {
        return Ok(());
    };
    let empty = match value.value {
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    };
    if empty {
        return Ok(());
    }
    Err(value.malformed(format!("`{key}` is not supported: {why}")))
}

pub fn decode_generate_request(body: &Value) -> Result<Request> {
    let root = At::root(body, DIALECT);
    if !root.value.is_object() {
        return Err(root.malformed("expected a JSON object"));
    }
    let mut request = Request {
        model: root.req_str("model")?.to_owned(),
        // Ollama streams unless told otherwise.
        stream: root.opt_bool("stream")?.unwrap_or(true),
        ..Request::default()
    };
    refuse_non_empty(
        &root,
        "suffix",
        "fill-in-the-middle needs the model's own insert template; send the code before the \
         gap as the prompt",
    )?;
    refuse_non_empty(
        &root,
        "template",
        "the upstream applies its own chat template",
    )?;
    refuse_non_empty(
        &root,
        "context",
        "clawgate returns no `context`; send the conversation to /api/chat instead",
    )?;
    let system = root.opt_str("system")?.filter(|s| !s.is_empty());
    if root.opt_bool("raw")? == Some(true)
        && let Some(at) = system.and_then(|_| root.get("system"))
    {
        return Err(at.malformed("raw mode does not take a system prompt"));
    }
    request.system = system.map(str::to_owned);
    let prompt = root.opt_str("prompt")?.unwrap_or_default();
    let images = root.items_at("images")?;
    if !prompt.is_empty() || !images.is_empty() {
        request.messages.push(user_message(prompt, &images)?);
    }
    decode_generation_fields(&root, &mut request)?;
    Ok(request)
}
