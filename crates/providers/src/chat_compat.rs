//! The chat-completions compat flags that reshape the encoded body, as OpenClaw's pi-ai layer
//! does for strict or unusual `/chat/completions` servers. The wire codec stays a plain
//! encoder; this runs on its output (and, for the history, on the canonical request it came
//! from: the codec writes exactly one assistant message per canonical assistant message, so
//! the two line up in order).
//!
//! | flag | effect on the body |
//! |---|---|
//! | `requiresThinkingAsText` | an assistant message's reasoning goes first in its content, as plain text |
//! | `requiresReasoningContentOnAssistantMessages` | every assistant message carries `reasoning_content` (its reasoning, or `""`) |
//! | `requiresToolResultName` | `true`: every `tool` message has the `name` of its call; `false`: none has |
//! | `requiresAssistantAfterToolResult` | a `tool` message followed by a `user` message gets an assistant message between them; an assistant message's `null` content becomes `""` |
//! | `thinkingFormat` | how the request's reasoning effort is sent (models marked `reasoning`; see [`ThinkingFormat`]) |
//! | `reasoningEffortMap` | effort names rewritten (`high` → what the server calls it; `off` is sent when no effort is asked) |
//! | `strictMessageKeys` | every message keeps only `role` and `content` |

use std::collections::HashMap;

use clawgate_wire::{ContentBlock, ReasoningEffort, Request, Role};
use serde_json::{Map, Value, json};

use crate::spec::{CompatFlags, ProviderSpec, ThinkingFormat};

/// The assistant message inserted between tool results and a user message.
pub const TOOL_RESULTS_BRIDGE: &str = "I have processed the tool results.";

/// The effort's name in OpenClaw's `reasoningEffortMap` keys.
pub fn effort_name(effort: ReasoningEffort) -> &'static str {
    match effort {
        ReasoningEffort::Minimal => "minimal",
        ReasoningEffort::Low => "low",
        ReasoningEffort::Medium => "medium",
        ReasoningEffort::High => "high",
    }
}

/// `effort` as the server calls it (`reasoningEffortMap`).
pub fn mapped_effort(compat: &CompatFlags, effort: &str) -> String {
    compat
        .reasoning_effort_map
        .as_ref()
        .and_then(|m| m.get(effort))
        .cloned()
        .unwrap_or_else(|| effort.to_string())
}

/// What the server is told when no effort is asked: the map's `off` entry, if any.
pub fn off_effort(compat: &CompatFlags) -> Option<String> {
    compat
        .reasoning_effort_map
        .as_ref()
        .and_then(|m| m.get("off"))
        .cloned()
}

/// Applies the chat compat flags of `request.model` to `body` (encoded from `request`).
pub fn apply(spec: &ProviderSpec, request: &Request, string_content: bool, body: &mut Value) {
    let compat = spec.compat_for(&request.model);
    let reasoning_model = spec.model(&request.model).is_some_and(|m| m.reasoning);
    let Some(obj) = body.as_object_mut() else {
        return;
    };
    if let Some(Value::Array(messages)) = obj.get_mut("messages") {
        replay_reasoning(&compat, request, string_content, messages);
        tool_result_names(&compat, messages);
        if compat.requires_assistant_after_tool_result == Some(true) {
            bridge_tool_results(messages);
        }
    }
    thinking(&compat, request.reasoning, reasoning_model, obj);
    if compat.strict_message_keys == Some(true)
        && let Some(Value::Array(messages)) = obj.get_mut("messages")
    {
        for message in messages.iter_mut().filter_map(Value::as_object_mut) {
            message.retain(|key, _| key == "role" || key == "content");
        }
    }
}

/// The reasoning text of each canonical assistant message, in order.
fn assistant_reasoning(request: &Request) -> Vec<String> {
    request
        .messages
        .iter()
        .filter(|m| m.role == Role::Assistant)
        .map(|m| {
            let parts: Vec<&str> = m
                .content
                .iter()
                .filter_map(|b| match b {
                    ContentBlock::Reasoning {
                        text,
                        redacted: false,
                        ..
                    } if !text.trim().is_empty() => Some(text.as_str()),
                    _ => None,
                })
                .collect();
            parts.join("\n\n")
        })
        .collect()
}

fn replay_reasoning(
    compat: &CompatFlags,
    request: &Request,
    string_content: bool,
    messages: &mut [Value],
) {
    let as_text = compat.requires_thinking_as_text == Some(true);
    let as_field = compat.requires_reasoning_content_on_assistant_messages == Some(true);
    if !as_text && !as_field {
        return;
    }
    let reasoning = assistant_reasoning(request);
    let assistants = messages.iter_mut().filter(|m| m["role"] == "assistant");
    for (message, thought) in assistants.zip(reasoning) {
        if as_text {
            if !thought.is_empty() {
                prepend_text(message, &thought, string_content);
            }
        } else if let Some(m) = message.as_object_mut() {
            m.insert("reasoning_content".into(), Value::from(thought));
        }
    }
}

fn prepend_text(message: &mut Value, thought: &str, string_content: bool) {
    let mut parts = vec![json!({"type": "text", "text": thought})];
    match message.get("content") {
        Some(Value::String(s)) if !s.is_empty() => parts.push(json!({"type": "text", "text": s})),
        Some(Value::Array(existing)) => parts.extend(existing.iter().cloned()),
        _ => {}
    }
    message["content"] = if string_content {
        let texts: Vec<&str> = parts.iter().filter_map(|p| p["text"].as_str()).collect();
        Value::from(texts.join("\n\n"))
    } else {
        Value::Array(parts)
    };
}

fn tool_result_names(compat: &CompatFlags, messages: &mut [Value]) {
    match compat.requires_tool_result_name {
        Some(true) => {
            let mut names: HashMap<String, String> = HashMap::new();
            for call in messages
                .iter()
                .filter_map(|m| m.get("tool_calls").and_then(Value::as_array))
                .flatten()
            {
                if let (Some(id), Some(name)) =
                    (call["id"].as_str(), call["function"]["name"].as_str())
                {
                    names.insert(id.to_string(), name.to_string());
                }
            }
            for message in messages.iter_mut().filter(|m| m["role"] == "tool") {
                let name = message["tool_call_id"]
                    .as_str()
                    .and_then(|id| names.get(id))
                    .cloned();
                if let (Some(name), Some(m)) = (name, message.as_object_mut()) {
                    m.entry("name").or_insert(Value::from(name));
                }
            }
        }
        Some(false) => {
            for message in messages.iter_mut().filter(|m| m["role"] == "tool") {
                if let Some(m) = message.as_object_mut() {
                    m.remove("name");
                }
            }
        }
        None => {}
    }
}

fn bridge_tool_results(messages: &mut Vec<Value>) {
    let mut out = Vec::with_capacity(messages.len());
    let mut after_tool = false;
    for mut message in messages.drain(..) {
        let role = message["role"].as_str().unwrap_or_default().to_string();
        if after_tool && role == "user" {
            out.push(json!({"role": "assistant", "content": TOOL_RESULTS_BRIDGE}));
        }
        if role == "assistant" && message.get("content") == Some(&Value::Null) {
            message["content"] = Value::from("");
        }
        after_tool = role == "tool";
        out.push(message);
    }
    *messages = out;
}

fn thinking(
    compat: &CompatFlags,
    effort: Option<ReasoningEffort>,
    reasoning_model: bool,
    obj: &mut Map<String, Value>,
) {
    let effort = effort.map(effort_name);
    let mapped = |e: &str| Value::from(mapped_effort(compat, e));
    let format = compat.thinking_format.unwrap_or(ThinkingFormat::OpenAi);
    if format == ThinkingFormat::OpenAi {
        match (obj.get("reasoning_effort").and_then(Value::as_str), effort) {
            (Some(sent), _) => {
                let value = mapped(sent);
                obj.insert("reasoning_effort".into(), value);
            }
            (None, None) if reasoning_model => {
                if let Some(off) = off_effort(compat) {
                    obj.insert("reasoning_effort".into(), Value::from(off));
                }
            }
            _ => {}
        }
        return;
    }
    obj.remove("reasoning_effort");
    if !reasoning_model {
        return;
    }
    let on = effort.is_some();
    match format {
        ThinkingFormat::OpenAi => {}
        ThinkingFormat::Zai | ThinkingFormat::Qwen => {
            obj.insert("enable_thinking".into(), Value::from(on));
        }
        ThinkingFormat::QwenChatTemplate => {
            let slot = obj
                .entry("chat_template_kwargs")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(kwargs) = slot {
                kwargs.insert("enable_thinking".into(), Value::from(on));
                kwargs.insert("preserve_thinking".into(), Value::from(true));
            }
        }
        ThinkingFormat::DeepSeek => {
            let kind = if on { "enabled" } else { "disabled" };
            obj.insert("thinking".into(), json!({ "type": kind }));
            if let Some(e) = effort {
                obj.insert("reasoning_effort".into(), mapped(e));
            }
        }
        ThinkingFormat::OpenRouter => {
            let value = match effort {
                Some(e) => mapped(e),
                None => Value::from(off_effort(compat).unwrap_or_else(|| "none".into())),
            };
            obj.insert("reasoning".into(), json!({ "effort": value }));
        }
        ThinkingFormat::Together => {
            obj.insert("reasoning".into(), json!({ "enabled": on }));
            if let Some(e) = effort
                && compat.supports_reasoning_effort != Some(false)
            {
                obj.insert("reasoning_effort".into(), mapped(e));
            }
        }
    }
}

#[cfg(test)]
#[path = "chat_compat_tests.rs"]
mod tests;
