//! The `messages` and `tools` a Jinja chat template reads, built from a canonical
//! [`Request`], in the OpenAI shape real templates are written against (the shape
//! transformers and llama.cpp pass them in):
//!
//! - the system prompt first, as a `system` message;
//! - assistant tool calls as `tool_calls: [{id, type: "function", function: {name,
//!   arguments}}]`, `arguments` as a JSON object (what most templates `tojson`; a template
//!   that wants the string gets it through [`ArgumentsAs::String`]);
//! - each tool result as its own `tool` message with `tool_call_id`, `name` and `content`;
//! - reasoning as `reasoning_content` (Qwen3) and `thinking` (gpt-oss);
//! - consecutive user (or assistant) messages merged, since several templates raise on
//!   anything but strict alternation.

use clawgate_wire::{ContentBlock, Message, Request, Role, ToolSpec};
use serde_json::{Map, Value as Json, json};

use crate::EngineError;

/// How earlier tool-call arguments are given to the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgumentsAs {
    /// Parsed JSON (falls back to the string when the model wrote invalid JSON).
    Object,
    /// The JSON text as the model produced it.
    String,
}

/// What tool-call ids look like to the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdStyle {
    AsGiven,
    /// Mistral templates reject anything but 9 alphanumerics: a stable 9-character digest
    /// of the real id (the same for a call and its result).
    NineAlphanumeric,
}

/// How a template takes the conversation (probed once per template, see `prompt_plan`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageStyle {
    pub arguments_as: ArgumentsAs,
    pub ids: IdStyle,
    /// The template has no tool markup: earlier calls and results are written as text (a
    /// call as the JSON object the `generic` format asks for, a result as a user turn).
    pub tools_as_text: bool,
    /// The template rejects a `system` message: its text opens the first user message.
    pub system_in_first_user: bool,
}

impl Default for MessageStyle {
    fn default() -> Self {
        Self {
            arguments_as: ArgumentsAs::Object,
            ids: IdStyle::AsGiven,
            tools_as_text: false,
            system_in_first_user: false,
        }
    }
}

/// The template's `messages`, system prompt included (with `extra_system` after it).
pub fn template_messages(
    request: &Request,
    extra_system: Option<&str>,
    style: MessageStyle,
) -> Result<Vec<Json>, EngineError> {
    let mut out: Vec<Json> = Vec::new();
    let system = [request.system.as_deref(), extra_system]
        .into_iter()
        .flatten()
        .filter(|s| !s.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n\n");
    for message in &request.messages {
        push_message(&mut out, message, style);
    }
    if !out.iter().any(|m| m["role"] == "user") {
        return Err(EngineError::Unsupported(
            "the request has no user message".into(),
        ));
    }
    if !system.is_empty() {
        match out.iter_mut().find(|m| m["role"] == "user") {
            Some(first_user) if style.system_in_first_user => {
                let text = first_user["content"].as_str().unwrap_or_default();
                first_user["content"] = Json::String(format!("{system}\n\n{text}"));
            }
            _ => out.insert(0, json!({"role": "system", "content": system})),
        }
    }
    Ok(out)
}

/// The template's `tools`.
pub fn template_tools(tools: &[ToolSpec]) -> Vec<Json> {
    tools
        .iter()
        .map(|tool| {
            let mut function = Map::new();
            function.insert("name".into(), Json::String(tool.name.clone()));
            if let Some(description) = &tool.description {
                function.insert("description".into(), Json::String(description.clone()));
            }
            function.insert("parameters".into(), tool.parameters.clone());
            json!({"type": "function", "function": function})
        })
        .collect()
}

fn push_message(out: &mut Vec<Json>, message: &Message, style: MessageStyle) {
    let role = match message.role {
        Role::Assistant => "assistant",
        // Text beside tool results (Anthropic puts both in user turns) is the user's.
        Role::User | Role::Tool => "user",
    };
    let mut text: Vec<String> = Vec::new();
    let mut reasoning: Vec<String> = Vec::new();
    let mut calls: Vec<Json> = Vec::new();
    for block in &message.content {
        match block {
            ContentBlock::Text { text: t } => text.push(t.clone()),
            ContentBlock::Image { .. } => text.push("[image omitted]".into()),
            ContentBlock::Reasoning { text: t, .. } => reasoning.push(t.clone()),
            ContentBlock::ToolCall {
                name, arguments, ..
            } if style.tools_as_text => text.push(call_as_text(name, arguments)),
            ContentBlock::ToolCall {
                id,
                name,
                arguments,
            } => calls.push(tool_call(id, name, arguments, style)),
            ContentBlock::ToolResult {
                name,
                content,
                is_error,
                ..
            } if style.tools_as_text => {
                let label = if *is_error { "error" } else { "result" };
                let name = name.as_deref().unwrap_or("tool");
                merge_or_push(
                    out,
                    "user",
                    format!("[{name} {label}]\n{content}"),
                    Vec::new(),
                    None,
                );
            }
            ContentBlock::ToolResult {
                call_id,
                name,
                content,
                ..
            } => out.push(json!({
                "role": "tool",
                "tool_call_id": call_id_for(call_id, style.ids),
                "name": name.clone().unwrap_or_default(),
                "content": content,
            })),
        }
    }
    let content = text.join("\n");
    if content.is_empty() && calls.is_empty() && reasoning.is_empty() {
        return;
    }
    let reasoning = (!reasoning.is_empty()).then(|| reasoning.join("\n"));
    merge_or_push(out, role, content, calls, reasoning);
}

/// Appends a message, merged into the previous one when both have the same role (and the
/// previous one made no tool calls).
fn merge_or_push(
    out: &mut Vec<Json>,
    role: &str,
    content: String,
    calls: Vec<Json>,
    reasoning: Option<String>,
) {
    if let Some(last) = out.last_mut()
        && last["role"] == role
        && last.get("tool_calls").is_none()
        && reasoning.is_none()
    {
        let merged = match last["content"].as_str() {
            Some(before) if !before.is_empty() && !content.is_empty() => {
                format!("{before}\n\n{content}")
            }
            Some(before) if content.is_empty() => before.to_owned(),
            _ => content,
        };
        last["content"] = Json::String(merged);
        if !calls.is_empty() {
            last["tool_calls"] = Json::Array(calls);
        }
        return;
    }
    let mut entry = Map::new();
    entry.insert("role".into(), Json::String(role.into()));
    entry.insert("content".into(), Json::String(content));
    if let Some(reasoning) = reasoning {
        entry.insert("reasoning_content".into(), Json::String(reasoning.clone()));
        entry.insert("thinking".into(), Json::String(reasoning));
    }
    if !calls.is_empty() {
        entry.insert("tool_calls".into(), Json::Array(calls));
    }
    out.push(Json::Object(entry));
}

fn tool_call(id: &str, name: &str, arguments: &str, style: MessageStyle) -> Json {
    let arguments = match style.arguments_as {
        ArgumentsAs::Object => serde_json::from_str::<Json>(arguments)
            .ok()
            .filter(Json::is_object)
            .unwrap_or_else(|| Json::String(arguments.to_owned())),
        ArgumentsAs::String => Json::String(arguments.to_owned()),
    };
    json!({
        "id": call_id_for(id, style.ids),
        "type": "function",
        "function": {"name": name, "arguments": arguments},
    })
}

/// An earlier call written the way the `generic` format asks the model to write one.
pub fn call_as_text(name: &str, arguments: &str) -> String {
    let arguments = serde_json::from_str::<Json>(arguments)
        .unwrap_or_else(|_| Json::String(arguments.to_owned()));
    crate::chat_template::py_json::dumps(
        &json!({"name": name, "arguments": arguments}),
        &crate::chat_template::py_json::PyJsonStyle::default(),
    )
}

pub(crate) fn call_id_for(id: &str, style: IdStyle) -> String {
    match style {
        IdStyle::AsGiven => id.to_owned(),
        IdStyle::NineAlphanumeric => {
            const ALPHABET: &[u8] =
                b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
            // FNV-1a: stable across runs and platforms (std's hasher is not).
            let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
            for byte in id.bytes() {
                hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
            }
            (0..9)
                .map(|_| {
                    let c = ALPHABET[(hash % 62) as usize] as char;
                    hash /= 62;
                    c
                })
                .collect()
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn request(messages: Vec<Message>) -> Request {
        Request {
            model: "m".into(),
            system: Some("Be brief.".into()),
            messages,
            ..Request::default()
        }
    }

    #[test]
    fn tool_round_trip_in_openai_shape() {
        let req = request(vec![
            Message::text(Role::User, "weather?"),
            Message {
                role: Role::Assistant,
                content: vec![ContentBlock::ToolCall {
                    id: "c1".into(),
                    name: "get_weather".into(),
                    arguments: "{\"city\":\"Paris\"}".into(),
                }],
            },
            Message {
                role: Role::Tool,
                content: vec![ContentBlock::ToolResult {
                    call_id: "c1".into(),
                    name: Some("get_weather".into()),
                    content: "sunny".into(),
                    is_error: false,
                }],
            },
        ]);
        let messages = template_messages(&req, None, MessageStyle::default()).unwrap();
        assert_eq!(
            Json::Array(messages),
            json!([
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "weather?"},
                {"role": "assistant", "content": "", "tool_calls": [{"id": "c1", "type": "function",
                    "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
                {"role": "tool", "tool_call_id": "c1", "name": "get_weather", "content": "sunny"},
            ])
        );
        let as_string = template_messages(
            &req,
            None,
            MessageStyle {
                arguments_as: ArgumentsAs::String,
                ..MessageStyle::default()
            },
        )
        .unwrap();
        assert_eq!(
            as_string[2]["tool_calls"][0]["function"]["arguments"],
            "{\"city\":\"Paris\"}"
        );
    }

    #[test]
    fn consecutive_user_turns_merge_and_extra_system_is_appended() {
        let req = request(vec![
            Message::text(Role::User, "a"),
            Message::text(Role::User, "b"),
        ]);
        let messages = template_messages(&req, Some("Tools: x"), MessageStyle::default()).unwrap();
        assert_eq!(
            Json::Array(messages),
            json!([
                {"role": "system", "content": "Be brief.\n\nTools: x"},
                {"role": "user", "content": "a\n\nb"},
            ])
        );
    }

    #[test]
    fn no_user_message_is_refused() {
        let req = request(vec![]);
        assert!(template_messages(&req, None, MessageStyle::default()).is_err());
    }

    #[test]
    fn tools_in_openai_shape() {
        let tools = template_tools(&[ToolSpec {
            name: "t".into(),
            description: Some("does t".into()),
            parameters: json!({"type": "object"}),
        }]);
        assert_eq!(
            Json::Array(tools),
            json!([{"type": "function", "function": {"name": "t", "description": "does t",
                "parameters": {"type": "object"}}}])
        );
    }
}
