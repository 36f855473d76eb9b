//! Messages request bodies, both directions. Tool results live in user messages on this wire;
//! canonically they are their own Tool message (split on decode, merged back on encode).

use serde_json::{Map, Value, json};

use super::DIALECT;
use crate::json_at::{At, Result, arguments_object, f32_value, fold_system, put_opt};
use crate::{
    ContentBlock, EncodeOptions, ImageSource, Message, ReasoningEffort, Request, Role, ToolChoice,
    ToolSpec,
};

/// Sent when the request has no output cap (the API requires one).
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// Anthropic's minimum thinking budget.
const MIN_BUDGET: u32 = 1024;

fn budget_for(effort: ReasoningEffort) -> u32 {
    match effort {
        ReasoningEffort::Minimal => 1024,
        ReasoningEffort::Low => 4096,
        ReasoningEffort::Medium => 10_000,
        ReasoningEffort::High => 32_000,
    }
}

fn effort_for(budget: u64) -> ReasoningEffort {
    match budget {
        0..4096 => ReasoningEffort::Minimal,
        4096..10_000 => ReasoningEffort::Low,
        10_000..32_000 => ReasoningEffort::Medium,
        _ => ReasoningEffort::High,
    }
}

pub fn encode_request(request: &Request, options: &EncodeOptions) -> Value {
    let mut body = Map::new();
    body.insert("model".into(), request.model.clone().into());
    let max_tokens = request.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS);
    body.insert("max_tokens".into(), max_tokens.into());
    put_opt(&mut body, "system", request.system.clone());
    body.insert(
        "messages".into(),
        Value::Array(encode_messages(&request.messages)),
    );
    if options.tools && !request.tools.is_empty() {
        let tools = request.tools.iter().map(encode_tool).collect();
        body.insert("tools".into(), Value::Array(tools));
        body.insert(
            "tool_choice".into(),
            encode_tool_choice(&request.tool_choice),
        );
    }
    if !request.stop.is_empty() {
        body.insert("stop_sequences".into(), request.stop.clone().into());
    }
    let mut thinking = false;
    if let Some(effort) = request.reasoning {
        // budget_tokens must be >= 1024 and < max_tokens; below that thinking cannot be on.
        let budget = budget_for(effort).min(max_tokens.saturating_sub(1));
        if budget >= MIN_BUDGET {
            thinking = true;
            body.insert(
                "thinking".into(),
                json!({ "type": "enabled", "budget_tokens": budget }),
            );
        }
    }
    // With thinking on, the API rejects a custom temperature, top_p or top_k.
    if !thinking {
        put_opt(&mut body, "temperature", request.temperature.map(f32_value));
        put_opt(&mut body, "top_p", request.top_p.map(f32_value));
        put_opt(&mut body, "top_k", request.top_k);
    }
    body.insert("stream".into(), request.stream.into());
    if let Some(user) = &request.user {
        body.insert("metadata".into(), json!({ "user_id": user }));
    }
    Value::Object(body)
}

fn encode_tool(tool: &ToolSpec) -> Value {
    let mut map = Map::new();
    map.insert("name".into(), tool.name.clone().into());
    put_opt(&mut map, "description", tool.description.clone());
    map.insert("input_schema".into(), tool.parameters.clone());
    Value::Object(map)
}

fn encode_tool_choice(choice: &ToolChoice) -> Value {
    match choice {
        ToolChoice::Auto => json!({ "type": "auto" }),
        ToolChoice::None => json!({ "type": "none" }),
        ToolChoice::Required => json!({ "type": "any" }),
        ToolChoice::Tool(name) => json!({ "type": "tool", "name": name }),
    }
}

fn encode_messages(messages: &[Message]) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    // A Tool message followed by a User message become one user message (results first, as
    // the API requires).
    let mut pending_results: Vec<Value> = Vec::new();
    for message in messages {
        let blocks: Vec<Value> = message.content.iter().filter_map(encode_block).collect();
        match message.role {
            Role::Tool => pending_results.extend(blocks),
            Role::User => {
                let mut content = std::mem::take(&mut pending_results);
                let only_text = match message.content.as_slice() {
                    [ContentBlock::Text { text }] if content.is_empty() => Some(text.clone()),
                    _ => None,
                };
                match only_text {
                    Some(text) => out.push(json!({ "role": "user", "content": text })),
                    None => {
                        content.extend(blocks);
                        out.push(json!({ "role": "user", "content": content }));
                    }
                }
            }
            Role::Assistant => {
                if !pending_results.is_empty() {
                    let content = std::mem::take(&mut pending_results);
                    out.push(json!({ "role": "user", "content": content }));
                }
                out.push(json!({ "role": "assistant", "content": blocks }));
            }
        }
    }
    if !pending_results.is_empty() {
        out.push(json!({ "role": "user", "content": pending_results }));
    }
    out
}

fn encode_block(block: &ContentBlock) -> Option<Value> {
    Some(match block {
        ContentBlock::Text { text } => json!({ "type": "text", "text": text }),
        ContentBlock::Image { source } => json!({ "type": "image", "source": match source {
            ImageSource::Base64 { media_type, data } =>
                json!({ "type": "base64", "media_type": media_type, "data": data }),
            ImageSource::Url { url } => json!({ "type": "url", "url": url }),
        } }),
        ContentBlock::Reasoning {
            text,
            redacted: true,
            ..
        } => json!({ "type": "redacted_thinking", "data": text }),
        ContentBlock::Reasoning {
            text,
            signature: Some(signature),
            ..
        } => json!({ "type": "thinking", "thinking": text, "signature": signature }),
        // Unsigned reasoning (from another dialect) would be rejected by the API.
        ContentBlock::Reasoning { .. } => return None,
        ContentBlock::ToolCall {
            id,
            name,
            arguments,
        } => json!({
            "type": "tool_use",
            "id": id,
            "name": name,
            "input": arguments_object(arguments).unwrap_or_else(|| json!({})),
        }),
        ContentBlock::ToolResult {
            call_id,
            content,
            is_error,
            ..
        } => {
            let mut map = Map::new();
            map.insert("type".into(), "tool_result".into());
            map.insert("tool_use_id".into(), call_id.clone().into());
            map.insert("content".into(), content.clone().into());
            if *is_error {
                map.insert("is_error".into(), true.into());
            }
            Value::Object(map)
        }
    })
}

pub fn decode_request(body: &Value) -> Result<Request> {
    let root = At::root(body, DIALECT);
    if !root.value.is_object() {
        return Err(root.malformed("expected a JSON object"));
    }
    let mut request = Request {
        model: root.req_str("model")?.to_owned(),
        max_tokens: root.opt_u32("max_tokens")?,
        temperature: root.opt_f32("temperature")?,
        top_p: root.opt_f32("top_p")?,
        top_k: root.opt_positive_u32("top_k")?,
        stream: root.opt_bool("stream")?.unwrap_or(false),
        ..Request::default()
    };
    if let Some(system) = root.get("system") {
        match system.value {
            Value::String(text) => fold_system(&mut request.system, text),
            _ => {
                for block in system.items()? {
                    fold_system(&mut request.system, block.req_str("text")?);
                }
            }
        }
    }
    for message in root.req("messages")?.items()? {
        decode_message(&message, &mut request.messages)?;
    }
    for tool in root.items_at("tools")? {
        // Server tools (`web_search_20250305`, ...) have a type and no schema: skipped.
        if tool.get("input_schema").is_none() {
            continue;
        }
        request.tools.push(ToolSpec {
            name: tool.req_str("name")?.to_owned(),
            description: tool.opt_str("description")?.map(str::to_owned),
            parameters: tool.req("input_schema")?.value.clone(),
        });
    }
    if let Some(choice) = root.get("tool_choice")
        && !request.tools.is_empty()
    {
        request.tool_choice = match choice.req_str("type")? {
            "none" => ToolChoice::None,
            "any" => ToolChoice::Required,
            "tool" => ToolChoice::Tool(choice.req_str("name")?.to_owned()),
            _ => ToolChoice::Auto,
        };
    }
    request.stop = root
        .items_at("stop_sequences")?
        .iter()
        .map(|s| s.as_str().map(str::to_owned))
        .collect::<Result<_>>()?;
    if let Some(thinking) = root.get("thinking")
        && thinking.opt_str("type")? == Some("enabled")
    {
        let budget = thinking.opt_u64("budget_tokens")?.unwrap_or(0);
        request.reasoning = Some(effort_for(budget));
    }
    if let Some(metadata) = root.get("metadata") {
        request.user = metadata.opt_str("user_id")?.map(str::to_owned);
    }
    Ok(request)
}

fn decode_message(message: &At<'_>, out: &mut Vec<Message>) -> Result<()> {
    let role = match message.req_str("role")? {
        "user" => Role::User,
        "assistant" => Role::Assistant,
        other => return Err(message.malformed(format!("unknown role `{other}`"))),
    };
    let content = message.req("content")?;
    if let Value::String(text) = content.value {
        out.push(Message::text(role, text.clone()));
        return Ok(());
    }
    let mut results = Vec::new();
    let mut blocks = Vec::new();
    for block in content.items()? {
        match decode_block(&block)? {
            Some(result @ ContentBlock::ToolResult { .. }) => results.push(result),
            Some(other) => blocks.push(other),
            None => {}
        }
    }
    if !results.is_empty() {
        out.push(Message {
            role: Role::Tool,
            content: results,
        });
        if blocks.is_empty() {
            return Ok(());
        }
    }
    out.push(Message {
        role,
        content: blocks,
    });
    Ok(())
}

pub(super) fn decode_block(block: &At<'_>) -> Result<Option<ContentBlock>> {
    Ok(Some(match block.req_str("type")? {
        "text" => ContentBlock::Text {
            text: block.req_str("text")?.to_owned(),
        },
        "image" => {
            let source = block.req("source")?;
            ContentBlock::Image {
                source: match source.req_str("type")? {
                    "base64" => ImageSource::Base64 {
                        media_type: source.req_str("media_type")?.to_owned(),
                        data: source.req_str("data")?.to_owned(),
                    },
                    "url" => ImageSource::Url {
                        url: source.req_str("url")?.to_owned(),
                    },
                    _ => return Ok(None),
                },
            }
        }
        "tool_use" => ContentBlock::ToolCall {
            id: block.req_str("id")?.to_owned(),
            name: block.req_str("name")?.to_owned(),
            arguments: match block.get("input") {
                Some(input) => input.value.to_string(),
                None => "{}".to_owned(),
            },
        },
        "tool_result" => ContentBlock::ToolResult {
            call_id: block.req_str("tool_use_id")?.to_owned(),
            name: None,
            content: match block.get("content") {
                None => String::new(),
                Some(content) => match content.value {
                    Value::String(text) => text.clone(),
                    _ => {
                        let mut text = String::new();
                        for part in content.items()? {
                            if let Some(piece) = part.opt_str("text")? {
                                text.push_str(piece);
                            }
                        }
                        text
                    }
                },
            },
            is_error: block.opt_bool("is_error")?.unwrap_or(false),
        },
        "thinking" => ContentBlock::Reasoning {
            text: block.req_str("thinking")?.to_owned(),
            signature: block.opt_str("signature")?.map(str::to_owned),
            redacted: false,
        },
        "redacted_thinking" => ContentBlock::Reasoning {
            text: block.req_str("data")?.to_owned(),
            signature: None,
            redacted: true,
        },
        // Documents, search results, server tool blocks: no canonical form yet.
        _ => return Ok(None),
    }))
}
