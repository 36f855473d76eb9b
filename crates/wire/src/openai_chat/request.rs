//! Chat Completions request bodies, both directions.

use serde_json::{Map, Value, json};

use super::{DIALECT, arguments_text, content_text, reasoning_text};
use crate::json_at::{At, Result, f32_value, fold_system, image_from_url, image_to_url, put_opt};
use crate::{
    ContentBlock, EncodeOptions, Message, ReasoningEffort, Request, ResponseFormat, Role,
    ToolChoice, ToolSpec,
};

/// The `json_schema.name` sent when the request's schema has none (OpenAI requires one).
pub(crate) const DEFAULT_SCHEMA_NAME: &str = "response";

pub fn encode_request(request: &Request, options: &EncodeOptions) -> Value {
    let mut messages = Vec::new();
    if let Some(system) = &request.system {
        let role = if options.developer_role {
            "developer"
        } else {
            "system"
        };
        messages.push(json!({ "role": role, "content": system }));
    }
    for message in &request.messages {
        encode_message(message, options, &mut messages);
    }
    let mut body = Map::new();
    body.insert("model".into(), request.model.clone().into());
    body.insert("messages".into(), Value::Array(messages));
    if options.tools && !request.tools.is_empty() {
        let tools = request.tools.iter().map(encode_tool).collect();
        body.insert("tools".into(), Value::Array(tools));
        body.insert(
            "tool_choice".into(),
            encode_tool_choice(&request.tool_choice),
        );
    }
    let max_field = if options.use_max_completion_tokens {
        "max_completion_tokens"
    } else {
        "max_tokens"
    };
    put_opt(&mut body, max_field, request.max_tokens);
    put_opt(&mut body, "temperature", request.temperature.map(f32_value));
    put_opt(&mut body, "top_p", request.top_p.map(f32_value));
    // Not OpenAI's own field: llama.cpp, vLLM, LM Studio and OpenRouter read it (the providers
    // crate removes it for api.openai.com).
    put_opt(&mut body, "top_k", request.top_k);
    if !request.stop.is_empty() {
        body.insert("stop".into(), request.stop.clone().into());
    }
    put_opt(&mut body, "seed", request.seed);
    put_opt(
        &mut body,
        "reasoning_effort",
        request.reasoning.map(effort_str),
    );
    if let Some(format) = &request.response_format {
        body.insert("response_format".into(), encode_response_format(format));
    }
    body.insert("stream".into(), request.stream.into());
    if request.stream && options.usage_in_streaming {
        body.insert("stream_options".into(), json!({ "include_usage": true }));
    }
    put_opt(&mut body, "user", request.user.clone());
    Value::Object(body)
}

fn encode_tool(tool: &ToolSpec) -> Value {
    let mut function = Map::new();
    function.insert("name".into(), tool.name.clone().into());
    put_opt(&mut function, "description", tool.description.clone());
    function.insert("parameters".into(), tool.parameters.clone());
    json!({ "type": "function", "function": function })
}

fn encode_tool_choice(choice: &ToolChoice) -> Value {
    match choice {
        ToolChoice::Auto => "auto".into(),
        ToolChoice::None => "none".into(),
        ToolChoice::Required => "required".into(),
        ToolChoice::Tool(name) => json!({ "type": "function", "function": { "name": name } }),
    }
}

fn encode_response_format(format: &ResponseFormat) -> Value {
    match format {
        ResponseFormat::Json => json!({ "type": "json_object" }),
        ResponseFormat::JsonSchema {
            name,
            schema,
            strict,
        } => {
            let mut spec = Map::new();
            let name = name.as_deref().unwrap_or(DEFAULT_SCHEMA_NAME);
            spec.insert("name".into(), name.into());
            spec.insert("schema".into(), schema.clone());
            put_opt(&mut spec, "strict", *strict);
            json!({ "type": "json_schema", "json_schema": spec })
        }
    }
}

/// `response_format` (`text` is no format at all).
fn decode_response_format(root: &At<'_>) -> Result<Option<ResponseFormat>> {
    let Some(format) = root.get("response_format") else {
        return Ok(None);
    };
    match format.req_str("type")? {
        "text" => Ok(None),
        "json_object" => Ok(Some(ResponseFormat::Json)),
        "json_schema" => {
            let spec = format.req("json_schema")?;
            Ok(Some(ResponseFormat::JsonSchema {
                name: spec.opt_str("name")?.map(str::to_owned),
                schema: spec.req("schema")?.value.clone(),
                strict: spec.opt_bool("strict")?,
            }))
        }
        other => Err(format.malformed(format!(
            "unknown response format type `{other}` (expected text, json_object or json_schema)"
        ))),
    }
}

pub(crate) fn effort_str(effort: ReasoningEffort) -> &'static str {
    match effort {
        ReasoningEffort::Minimal => "minimal",
        ReasoningEffort::Low => "low",
        ReasoningEffort::Medium => "medium",
        ReasoningEffort::High => "high",
    }
}

/// Unknown or "off" efforts mean "no explicit effort": servers differ too much to guess.
pub(crate) fn parse_effort(effort: &str) -> Option<ReasoningEffort> {
    match effort {
        "minimal" => Some(ReasoningEffort::Minimal),
        "low" => Some(ReasoningEffort::Low),
        "medium" => Some(ReasoningEffort::Medium),
        "high" | "xhigh" => Some(ReasoningEffort::High),
        _ => None,
    }
}

fn encode_message(message: &Message, options: &EncodeOptions, out: &mut Vec<Value>) {
    // Tool results always travel as their own `role:"tool"` messages, whatever message holds them.
    for block in &message.content {
        if let ContentBlock::ToolResult {
            call_id,
            name,
            content,
            ..
        } = block
        {
            let mut tool = Map::new();
            tool.insert("role".into(), "tool".into());
            tool.insert("tool_call_id".into(), call_id.clone().into());
            tool.insert("content".into(), content.clone().into());
            put_opt(&mut tool, "name", name.clone());
            out.push(Value::Object(tool));
        }
    }
    match message.role {
        Role::Tool => {}
        Role::User => {
            let content = user_content(&message.content, options);
            if let Some(content) = content {
                out.push(json!({ "role": "user", "content": content }));
            }
        }
        Role::Assistant => out.push(assistant_message(&message.content, options)),
    }
}

/// `None` when the message held only tool results (already sent as tool messages).
fn user_content(blocks: &[ContentBlock], options: &EncodeOptions) -> Option<Value> {
    let parts: Vec<&ContentBlock> = blocks
        .iter()
        .filter(|b| matches!(b, ContentBlock::Text { .. } | ContentBlock::Image { .. }))
        .collect();
    if parts.is_empty() && !blocks.is_empty() {
        return None;
    }
    if options.string_content {
        let text: String = parts
            .iter()
            .filter_map(|b| match b {
                ContentBlock::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        return Some(text.into());
    }
    match parts.as_slice() {
        [] => Some("".into()),
        [ContentBlock::Text { text }] => Some(text.clone().into()),
        _ => Some(Value::Array(
            parts
                .iter()
                .filter_map(|b| match b {
                    ContentBlock::Text { text } => Some(json!({ "type": "text", "text": text })),
                    ContentBlock::Image { source } => Some(json!({
                        "type": "image_url",
                        "image_url": { "url": image_to_url(source) },
                    })),
                    _ => None,
                })
                .collect(),
        )),
    }
}

fn assistant_message(blocks: &[ContentBlock], options: &EncodeOptions) -> Value {
    let texts: Vec<&str> = blocks
        .iter()
        .filter_map(|b| match b {
            ContentBlock::Text { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    let tool_calls: Vec<Value> = blocks
        .iter()
        .filter_map(|b| match b {
            ContentBlock::ToolCall {
                id,
                name,
                arguments,
            } => Some(json!({
                "id": id,
                "type": "function",
                "function": { "name": name, "arguments": arguments },
            })),
            _ => None,
        })
        .collect();
    let content: Value = match texts.as_slice() {
        [] if tool_calls.is_empty() => "".into(),
        [] => Value::Null,
        [one] => (*one).into(),
        many if options.string_content => many.concat().into(),
        many => Value::Array(
            many.iter()
                .map(|text| json!({ "type": "text", "text": text }))
                .collect(),
        ),
    };
    let mut message = Map::new();
    message.insert("role".into(), "assistant".into());
    message.insert("content".into(), content);
    if !tool_calls.is_empty() {
        message.insert("tool_calls".into(), Value::Array(tool_calls));
    }
    Value::Object(message)
}

pub fn decode_request(body: &Value) -> Result<Request> {
    let root = At::root(body, DIALECT);
    if !root.value.is_object() {
        return Err(root.malformed("expected a JSON object"));
    }
    let mut request = Request {
        model: root.req_str("model")?.to_owned(),
        ..Request::default()
    };
    let mut legacy_calls = 0usize;
    let mut last_legacy_id: Option<String> = None;
    for message in root.req("messages")?.items()? {
        let role = message.req_str("role")?;
        match role {
            "system" | "developer" => {
                if let Some(content) = message.get("content") {
                    fold_system(&mut request.system, &content_text(&content)?);
                }
            }
            "user" => {
                let content = match message.get("content") {
                    Some(content) => user_blocks(&content)?,
                    None => Vec::new(),
                };
                request.messages.push(Message {
                    role: Role::User,
                    content,
                });
            }
            "assistant" => {
                let mut content = Vec::new();
                if let Some(text) = reasoning_text(&message) {
                    content.push(ContentBlock::Reasoning {
                        text: text.to_owned(),
                        signature: None,
                        redacted: false,
                    });
                }
                if let Some(body) = message.get("content") {
                    assistant_text_blocks(&body, &mut content)?;
                }
                let calls = message.items_at("tool_calls")?;
                for call in &calls {
                    let function = call.req("function")?;
                    content.push(ContentBlock::ToolCall {
                        id: call.opt_str("id")?.unwrap_or_default().to_owned(),
                        name: function.req_str("name")?.to_owned(),
                        arguments: arguments_text(function.get("arguments").map(|a| a.value))
                            .into_owned(),
                    });
                }
                if calls.is_empty()
                    && let Some(function) = message.get("function_call")
                {
                    let id = format!("call_legacy_{legacy_calls}");
                    legacy_calls += 1;
                    last_legacy_id = Some(id.clone());
                    content.push(ContentBlock::ToolCall {
                        id,
                        name: function.req_str("name")?.to_owned(),
                        arguments: arguments_text(function.get("arguments").map(|a| a.value))
                            .into_owned(),
                    });
                }
                request.messages.push(Message {
                    role: Role::Assistant,
                    content,
                });
            }
            "tool" | "function" => {
                let content = match message.get("content") {
                    Some(content) => content_text(&content)?,
                    None => String::new(),
                };
                let call_id = match (role, message.opt_str("tool_call_id")?) {
                    (_, Some(id)) => id.to_owned(),
                    ("function", None) => last_legacy_id.clone().unwrap_or_default(),
                    _ => return Err(message.malformed("tool message without `tool_call_id`")),
                };
                push_tool_result(
                    &mut request.messages,
                    ContentBlock::ToolResult {
                        call_id,
                        name: message.opt_str("name")?.map(str::to_owned),
                        content,
                        is_error: false,
                    },
                );
            }
            other => return Err(message.malformed(format!("unknown role `{other}`"))),
        }
    }
    for tool in root.items_at("tools")? {
        if tool.kind().is_some_and(|k| k != "function") {
            continue; // built-in tools of other vendors have no canonical form
        }
        request.tools.push(decode_tool(&tool.req("function")?)?);
    }
    if request.tools.is_empty() {
        for function in root.items_at("functions")? {
            request.tools.push(decode_tool(&function)?);
        }
    }
    let choice = root
        .get("tool_choice")
        .or_else(|| root.get("function_call"));
    if let Some(choice) = choice
        && !request.tools.is_empty()
    {
        request.tool_choice = decode_tool_choice(&choice)?;
    }
    request.max_tokens = match root.opt_u32("max_completion_tokens")? {
        Some(n) => Some(n),
        None => root.opt_u32("max_tokens")?,
    };
    request.temperature = root.opt_f32("temperature")?;
    request.top_p = root.opt_f32("top_p")?;
    request.top_k = root.opt_positive_u32("top_k")?;
    request.stop = match root.get("stop") {
        None => Vec::new(),
        Some(stop) => match stop.value {
            Value::String(s) => vec![s.clone()],
            _ => stop
                .items()?
                .iter()
                .map(|s| s.as_str().map(str::to_owned))
                .collect::<Result<_>>()?,
        },
    };
    request.seed = root.opt_i64("seed")?;
    request.reasoning = root.opt_str("reasoning_effort")?.and_then(parse_effort);
    request.response_format = decode_response_format(&root)?;
    request.stream = root.opt_bool("stream")?.unwrap_or(false);
    request.user = root.opt_str("user")?.map(str::to_owned);
    Ok(request)
}

/// Appends a tool result, merging consecutive tool messages into one canonical Tool message.
pub(crate) fn push_tool_result(messages: &mut Vec<Message>, block: ContentBlock) {
    if let Some(last) = messages.last_mut()
        && last.role == Role::Tool
    {
        last.content.push(block);
        return;
    }
    messages.push(Message {
        role: Role::Tool,
        content: vec![block],
    });
}

fn user_blocks(content: &At<'_>) -> Result<Vec<ContentBlock>> {
    if let Value::String(text) = content.value {
        return Ok(vec![ContentBlock::Text { text: text.clone() }]);
    }
    let mut blocks = Vec::new();
    for part in content.items()? {
        match part.kind() {
            Some("text" | "input_text") => blocks.push(ContentBlock::Text {
                text: part.req_str("text")?.to_owned(),
            }),
            Some("image_url") => {
                let image = part.req("image_url")?;
                let url = match image.value {
                    Value::String(url) => url.as_str(),
                    _ => image.req_str("url")?,
                };
                blocks.push(ContentBlock::Image {
                    source: image_from_url(url),
                });
            }
            // Audio and file parts have no canonical form yet.
            _ => {}
        }
    }
    Ok(blocks)
}

fn assistant_text_blocks(content: &At<'_>, out: &mut Vec<ContentBlock>) -> Result<()> {
    match content.value {
        Value::String(text) if text.is_empty() => {}
        Value::String(text) => out.push(ContentBlock::Text { text: text.clone() }),
        _ => {
            for part in content.items()? {
                if let Some(text) = part.opt_str("text")? {
                    out.push(ContentBlock::Text {
                        text: text.to_owned(),
                    });
                }
            }
        }
    }
    Ok(())
}

fn decode_tool(function: &At<'_>) -> Result<ToolSpec> {
    Ok(ToolSpec {
        name: function.req_str("name")?.to_owned(),
        description: function.opt_str("description")?.map(str::to_owned),
        parameters: function
            .get("parameters")
            .map(|p| p.value.clone())
            .unwrap_or_else(|| json!({ "type": "object", "properties": {} })),
    })
}

fn decode_tool_choice(choice: &At<'_>) -> Result<ToolChoice> {
    match choice.value {
        Value::String(s) => Ok(match s.as_str() {
            "none" => ToolChoice::None,
            "required" | "any" => ToolChoice::Required,
            _ => ToolChoice::Auto,
        }),
        _ => {
            let name = match choice.get("function") {
                Some(function) => function.req_str("name")?,
                None => choice.req_str("name")?,
            };
            Ok(ToolChoice::Tool(name.to_owned()))
        }
    }
}
