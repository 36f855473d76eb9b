//! Responses request bodies, both directions: `input` (a string or items), `instructions`,
//! flat function tools, `tool_choice`, `max_output_tokens`, `reasoning.effort`.

use serde_json::{Map, Value, json};

use super::{DIALECT, decode_assistant_item, reasoning_item};
use crate::json_at::{At, Result, f32_value, fold_system, image_from_url, image_to_url, put_opt};
use crate::openai_chat::request::{
    DEFAULT_SCHEMA_NAME, effort_str, parse_effort, push_tool_result,
};
use crate::{
    ContentBlock, EncodeOptions, Message, Request, ResponseFormat, Role, ToolChoice, ToolSpec,
};

pub fn encode_request(request: &Request, options: &EncodeOptions) -> Value {
    let mut input = Vec::new();
    let mut body = Map::new();
    body.insert("model".into(), request.model.clone().into());
    if let Some(system) = &request.system {
        if options.instructions_field {
            body.insert("instructions".into(), system.clone().into());
        } else {
            let role = if options.developer_role {
                "developer"
            } else {
                "system"
            };
            input.push(json!({ "type": "message", "role": role, "content": system }));
        }
    }
    for message in &request.messages {
        encode_message(message, &mut input);
    }
    body.insert("input".into(), Value::Array(input));
    if options.tools && !request.tools.is_empty() {
        let tools = request.tools.iter().map(encode_tool).collect();
        body.insert("tools".into(), Value::Array(tools));
        body.insert(
            "tool_choice".into(),
            match &request.tool_choice {
                ToolChoice::Auto => "auto".into(),
                ToolChoice::None => "none".into(),
                ToolChoice::Required => "required".into(),
                ToolChoice::Tool(name) => json!({ "type": "function", "name": name }),
            },
        );
    }
    put_opt(&mut body, "max_output_tokens", request.max_tokens);
    put_opt(&mut body, "temperature", request.temperature.map(f32_value));
    put_opt(&mut body, "top_p", request.top_p.map(f32_value));
    if let Some(effort) = request.reasoning {
        body.insert(
            "reasoning".into(),
            json!({ "effort": effort_str(effort), "summary": "auto" }),
        );
    }
    if let Some(format) = &request.response_format {
        body.insert(
            "text".into(),
            json!({ "format": encode_response_format(format) }),
        );
    }
    body.insert("stream".into(), request.stream.into());
    put_opt(&mut body, "user", request.user.clone());
    Value::Object(body)
}

/// `text.format`: the chat dialect's `json_schema` object, flattened.
fn encode_response_format(format: &ResponseFormat) -> Value {
    match format {
        ResponseFormat::Json => json!({ "type": "json_object" }),
        ResponseFormat::JsonSchema {
            name,
            schema,
            strict,
        } => {
            let mut map = Map::new();
            map.insert("type".into(), "json_schema".into());
            let name = name.as_deref().unwrap_or(DEFAULT_SCHEMA_NAME);
            map.insert("name".into(), name.into());
            map.insert("schema".into(), schema.clone());
            put_opt(&mut map, "strict", *strict);
            Value::Object(map)
        }
    }
}

/// `text.format` (`text` is no format at all).
fn decode_response_format(root: &At<'_>) -> Result<Option<ResponseFormat>> {
    let Some(format) = root.get("text").and_then(|text| text.get("format")) else {
        return Ok(None);
    };
    match format.req_str("type")? {
        "text" => Ok(None),
        "json_object" => Ok(Some(ResponseFormat::Json)),
        "json_schema" => Ok(Some(ResponseFormat::JsonSchema {
            name: format.opt_str("name")?.map(str::to_owned),
            schema: format.req("schema")?.value.clone(),
            strict: format.opt_bool("strict")?,
        })),
        other => Err(format.malformed(format!(
            "unknown text format type `{other}` (expected text, json_object or json_schema)"
        ))),
    }
}

fn encode_tool(tool: &ToolSpec) -> Value {
    let mut map = Map::new();
    map.insert("type".into(), "function".into());
    map.insert("name".into(), tool.name.clone().into());
    put_opt(&mut map, "description", tool.description.clone());
    map.insert("parameters".into(), tool.parameters.clone());
    Value::Object(map)
}

fn encode_message(message: &Message, input: &mut Vec<Value>) {
    match message.role {
        Role::User => {
            let mut parts = Vec::new();
            for block in &message.content {
                match block {
                    ContentBlock::Text { text } => {
                        parts.push(json!({ "type": "input_text", "text": text }))
                    }
                    ContentBlock::Image { source } => parts.push(json!({
                        "type": "input_image",
                        "image_url": image_to_url(source),
                        "detail": "auto",
                    })),
                    ContentBlock::ToolResult { .. } => encode_result(block, input),
                    _ => {}
                }
            }
            if !parts.is_empty() || message.content.is_empty() {
                input.push(json!({ "type": "message", "role": "user", "content": parts }));
            }
        }
        Role::Tool => {
            for block in &message.content {
                encode_result(block, input);
            }
        }
        Role::Assistant => {
            for block in &message.content {
                match block {
                    ContentBlock::Text { text } => input.push(json!({
                        "type": "message",
                        "role": "assistant",
                        "content": [{ "type": "output_text", "text": text, "annotations": [] }],
                    })),
                    ContentBlock::Reasoning {
                        text,
                        signature,
                        redacted: false,
                    } => {
                        let mut item = reasoning_item("", text, signature.as_deref());
                        // No item id to replay: the API accepts reasoning input without one.
                        if let Value::Object(map) = &mut item {
                            map.remove("id");
                        }
                        input.push(item);
                    }
                    ContentBlock::ToolCall {
                        id,
                        name,
                        arguments,
                    } => input.push(json!({
                        "type": "function_call",
                        "call_id": id,
                        "name": name,
                        "arguments": arguments,
                    })),
                    _ => {}
                }
            }
        }
    }
}

fn encode_result(block: &ContentBlock, input: &mut Vec<Value>) {
    if let ContentBlock::ToolResult {
        call_id, content, ..
    } = block
    {
        input
            .push(json!({ "type": "function_call_output", "call_id": call_id, "output": content }));
    }
}

pub fn decode_request(body: &Value) -> Result<Request> {
    let root = At::root(body, DIALECT);
    if !root.value.is_object() {
        return Err(root.malformed("expected a JSON object"));
    }
    let mut request = Request {
        model: root.req_str("model")?.to_owned(),
        max_tokens: root.opt_u32("max_output_tokens")?,
        temperature: root.opt_f32("temperature")?,
        top_p: root.opt_f32("top_p")?,
        stream: root.opt_bool("stream")?.unwrap_or(false),
        user: root.opt_str("user")?.map(str::to_owned),
        response_format: decode_response_format(&root)?,
        ..Request::default()
    };
    if let Some(instructions) = root.opt_str("instructions")? {
        fold_system(&mut request.system, instructions);
    }
    match root.get("input") {
        None => {}
        Some(input) if input.value.is_string() => {
            request
                .messages
                .push(Message::text(Role::User, input.as_str()?));
        }
        Some(input) => {
            for item in input.items()? {
                decode_item(&item, &mut request)?;
            }
        }
    }
    for tool in root.items_at("tools")? {
        if tool.kind() != Some("function") {
            continue; // web_search, file_search, ...: no canonical form
        }
        request.tools.push(ToolSpec {
            name: tool.req_str("name")?.to_owned(),
            description: tool.opt_str("description")?.map(str::to_owned),
            parameters: tool
                .get("parameters")
                .map(|p| p.value.clone())
                .unwrap_or_else(|| json!({ "type": "object", "properties": {} })),
        });
    }
    if let Some(choice) = root.get("tool_choice")
        && !request.tools.is_empty()
    {
        request.tool_choice = match choice.value {
            Value::String(s) => match s.as_str() {
                "none" => ToolChoice::None,
                "required" => ToolChoice::Required,
                _ => ToolChoice::Auto,
            },
            _ => match choice.opt_str("name")? {
                Some(name) => ToolChoice::Tool(name.to_owned()),
                None => ToolChoice::Auto,
            },
        };
    }
    if let Some(reasoning) = root.get("reasoning") {
        request.reasoning = reasoning.opt_str("effort")?.and_then(parse_effort);
    }
    Ok(request)
}

fn decode_item(item: &At<'_>, request: &mut Request) -> Result<()> {
    if !item.value.is_object() {
        return Err(item.malformed("expected an input item (an object such as a message)"));
    }
    let kind = item.kind().unwrap_or(if item.get("role").is_some() {
        "message"
    } else {
        ""
    });
    match kind {
        "message" => match item.req_str("role")? {
            "system" | "developer" => {
                let text = message_text(item)?;
                fold_system(&mut request.system, &text);
            }
            "user" => {
                let content = user_blocks(item)?;
                request.messages.push(Message {
                    role: Role::User,
                    content,
                });
            }
            "assistant" => {
                let mut blocks = Vec::new();
                decode_assistant_item(item, &mut blocks)?;
                extend_assistant(&mut request.messages, blocks);
            }
            other => return Err(item.malformed(format!("unknown role `{other}`"))),
        },
        "reasoning" | "function_call" => {
            let mut blocks = Vec::new();
            decode_assistant_item(item, &mut blocks)?;
            extend_assistant(&mut request.messages, blocks);
        }
        "function_call_output" => {
            let output = item.req("output")?;
            let content = match output.value {
                Value::String(text) => text.clone(),
                _ => {
                    let mut text = String::new();
                    for part in output.items()? {
                        if let Some(piece) = part.opt_str("text")? {
                            text.push_str(piece);
                        }
                    }
                    text
                }
            };
            push_tool_result(
                &mut request.messages,
                ContentBlock::ToolResult {
                    call_id: item.req_str("call_id")?.to_owned(),
                    name: None,
                    content,
                    is_error: false,
                },
            );
        }
        // item_reference and hosted-tool items have no canonical form.
        _ => {}
    }
    Ok(())
}

/// Consecutive assistant-side items belong to one assistant turn.
fn extend_assistant(messages: &mut Vec<Message>, blocks: Vec<ContentBlock>) {
    if let Some(last) = messages.last_mut()
        && last.role == Role::Assistant
    {
        last.content.extend(blocks);
        return;
    }
    messages.push(Message {
        role: Role::Assistant,
        content: blocks,
    });
}

fn message_text(item: &At<'_>) -> Result<String> {
    let content = item.req("content")?;
    if let Value::String(text) = content.value {
        return Ok(text.clone());
    }
    let mut text = String::new();
    for part in content.items()? {
        if let Some(piece) = part.opt_str("text")? {
            text.push_str(piece);
        }
    }
    Ok(text)
}

fn user_blocks(item: &At<'_>) -> Result<Vec<ContentBlock>> {
    let content = item.req("content")?;
    if let Value::String(text) = content.value {
        return Ok(vec![ContentBlock::Text { text: text.clone() }]);
    }
    let mut blocks = Vec::new();
    for part in content.items()? {
        match part.kind() {
            Some("input_text" | "output_text" | "text") => blocks.push(ContentBlock::Text {
                text: part.req_str("text")?.to_owned(),
            }),
            Some("input_image") => {
                if let Some(url) = part.opt_str("image_url")? {
                    blocks.push(ContentBlock::Image {
                        source: image_from_url(url),
                    });
                }
            }
            _ => {}
        }
    }
    Ok(blocks)
}
