//! Flattening a canonical [`Request`] into the text turns a built-in template or a base
//! model's transcript renders (Jinja templates get structured messages instead, see
//! `chat_template::messages`). Those formats have no markup for tool calls or images, so
//! they are written into the text in a readable form: earlier tool calls and results stay in
//! the conversation.

use clawgate_wire::{ContentBlock, Message, Request, Role};

use crate::EngineError;
use crate::templates::{ChatTurn, TurnRole};

/// The conversation as turns: the system prompt first (when there is one), then the
/// messages in order, with consecutive turns of the same role merged (several templates,
/// gemma's among them, require strict user/assistant alternation).
pub(crate) fn conversation_turns(request: &Request) -> Result<Vec<ChatTurn>, EngineError> {
    let mut turns: Vec<ChatTurn> = Vec::new();
    if let Some(system) = request.system.as_deref().filter(|s| !s.trim().is_empty()) {
        turns.push(ChatTurn::new(TurnRole::System, system));
    }
    for message in &request.messages {
        let role = match message.role {
            Role::User | Role::Tool => TurnRole::User,
            Role::Assistant => TurnRole::Assistant,
        };
        let text = message_text(message);
        if text.is_empty() {
            continue;
        }
        match turns.last_mut() {
            Some(last) if last.role == role => {
                last.text.push_str("\n\n");
                last.text.push_str(&text);
            }
            _ => turns.push(ChatTurn::new(role, text)),
        }
    }
    if !turns.iter().any(|t| t.role == TurnRole::User) {
        return Err(EngineError::Unsupported(
            "the request has no user message".into(),
        ));
    }
    Ok(turns)
}

fn message_text(message: &Message) -> String {
    let mut parts: Vec<String> = Vec::new();
    for block in &message.content {
        match block {
            ContentBlock::Text { text } => parts.push(text.clone()),
            // Reasoning is never replayed as text.
            ContentBlock::Reasoning { .. } => {}
            ContentBlock::Image { .. } => parts.push("[image omitted]".into()),
            // The way the `generic` tool format asks the model to write a call.
            ContentBlock::ToolCall {
                name, arguments, ..
            } => parts.push(crate::chat_template::messages::call_as_text(
                name, arguments,
            )),
            ContentBlock::ToolResult {
                name,
                content,
                is_error,
                ..
            } => {
                let label = if *is_error { "error" } else { "result" };
                match name {
                    Some(name) => parts.push(format!("[tool {name} {label}]\n{content}")),
                    None => parts.push(format!("[tool {label}]\n{content}")),
                }
            }
        }
    }
    parts.join("\n")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn request(messages: Vec<Message>) -> Request {
        Request {
            model: "m".into(),
            messages,
            ..Request::default()
        }
    }

    #[test]
    fn system_then_alternating_turns() {
        let mut req = request(vec![
            Message::text(Role::User, "a"),
            Message::text(Role::Assistant, "b"),
            Message::text(Role::User, "c"),
        ]);
        req.system = Some("sys".into());
        let turns = conversation_turns(&req).unwrap();
        let roles: Vec<_> = turns.iter().map(|t| t.role).collect();
        assert_eq!(
            roles,
            [
                TurnRole::System,
                TurnRole::User,
                TurnRole::Assistant,
                TurnRole::User
            ]
        );
    }

    #[test]
    fn tool_round_trip_becomes_text_and_merges_with_the_next_user_turn() {
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
            Message::text(Role::User, "thanks"),
        ]);
        let turns = conversation_turns(&req).unwrap();
        assert_eq!(turns.len(), 3);
        assert!(turns[1].text.contains("get_weather"));
        assert_eq!(turns[2].text, "[tool get_weather result]\nsunny\n\nthanks");
    }

    #[test]
    fn no_user_message_is_refused() {
        let mut req = request(vec![]);
        req.system = Some("only system".into());
        assert!(conversation_turns(&req).is_err());
    }
}
