//! `/api/chat` request bodies, both directions.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use super::{DIALECT, decode_tool_call, sniff_media_type, tool_call_json};
use crate::json_at::{At, Result, f32_value, fold_system, put_opt};
use crate::{
    ContentBlock, EncodeOptions, ImageSource, Message, ReasoningEffort, Request, ResponseFormat,
    Role, Think, ToolChoice, ToolSpec,
};

pub fn encode_request(request: &Request, options: &EncodeOptions) -> Value {
    let mut messages = Vec::new();
    if let Some(system) = &request.system {
        messages.push(json!({ "role": "system", "content": system }));
    }
    let mut call_names: Vec<(String, String)> = Vec::new();
    for message in &request.messages {
        encode_message(message, &mut call_names, &mut messages);
    }
    let mut body = Map::new();
    body.insert("model".into(), request.model.clone().into());
    body.insert("messages".into(), Value::Array(messages));
    body.insert("stream".into(), request.stream.into());
    if options.tools && !request.tools.is_empty() && request.tool_choice != ToolChoice::None {
        let tools = request.tools.iter().map(encode_tool).collect();
        body.insert("tools".into(), Value::Array(tools));
    }
    let think = match options.think {
        Some(Think::Off) => Some(Value::Bool(false)),
        Some(Think::On) => Some(Value::Bool(true)),
        Some(Think::Level(effort)) => Some(Value::from(think_level(effort))),
        None => request.reasoning.is_some().then_some(Value::Bool(true)),
    };
    if let Some(think) = think {
        body.insert("think".into(), think);
    }
    match &request.response_format {
        None => {}
        Some(ResponseFormat::Json) => {
            body.insert("format".into(), "json".into());
        }
        Some(ResponseFormat::JsonSchema { schema, .. }) => {
            body.insert("format".into(), schema.clone());
        }
    }
    let mut opts = Map::new();
    // The client's own window wins over the one derived from the model row.
    put_opt(&mut opts, "num_ctx", request.num_ctx.or(options.num_ctx));
    put_opt(&mut opts, "num_predict", request.max_tokens);
    put_opt(&mut opts, "temperature", request.temperature.map(f32_value));
    put_opt(&mut opts, "top_p", request.top_p.map(f32_value));
    put_opt(&mut opts, "top_k", request.top_k);
    put_opt(&mut opts, "seed", request.seed);
    if !request.stop.is_empty() {
        opts.insert("stop".into(), request.stop.clone().into());
    }
    if !opts.is_empty() {
        body.insert("options".into(), Value::Object(opts));
    }
    Value::Object(body)
}

/// gpt-oss knows three levels; "minimal" asks for the least there is.
fn think_level(effort: ReasoningEffort) -> &'static str {
    match effort {
        ReasoningEffort::Minimal | ReasoningEffort::Low => "low",
        ReasoningEffort::Medium => "medium",
        ReasoningEffort::High => "high",
    }
}

fn encode_tool(tool: &ToolSpec) -> Value {
    let mut function = Map::new();
    function.insert("name".into(), tool.name.clone().into());
    put_opt(&mut function, "description", tool.description.clone());
    function.insert("parameters".into(), tool.parameters.clone());
    json!({ "type": "function", "function": function })
}

fn encode_message(message: &Message, call_names: &mut Vec<(String, String)>, out: &mut Vec<Value>) {
    let mut text = String::new();
    let mut thinking = String::new();
    let mut images = Vec::new();
    let mut calls = Vec::new();
    for block in &message.content {
        match block {
            ContentBlock::Text { text: t } => text.push_str(t),
            ContentBlock::Reasoning {
                text: t,
                redacted: false,
                ..
            } => thinking.push_str(t),
            ContentBlock::Image {
                source: ImageSource::Base64 { data, .. },
            } => images.push(Value::from(data.clone())),
            ContentBlock::ToolCall {
                id,
                name,
                arguments,
            } => {
                call_names.push((id.clone(), name.clone()));
                calls.push(tool_call_json(id, name, arguments));
            }
            ContentBlock::ToolResult {
                call_id,
                name,
                content,
                ..
            } => {
                let tool_name = name.clone().or_else(|| {
                    call_names
                        .iter()
                        .find(|(id, _)| id == call_id)
                        .map(|(_, n)| n.clone())
                });
                let mut result = Map::new();
                result.insert("role".into(), "tool".into());
                result.insert("content".into(), content.clone().into());
                put_opt(&mut result, "tool_name", tool_name);
                out.push(Value::Object(result));
            }
            // URL images cannot be sent: Ollama takes base64 only.
            _ => {}
        }
    }
    let role = match message.role {
        Role::Tool => return,
        Role::User => "user",
        Role::Assistant => "assistant",
    };
    let only_results = !message.content.is_empty()
        && message
            .content
            .iter()
            .all(|b| matches!(b, ContentBlock::ToolResult { .. }));
    if only_results {
        return;
    }
    let mut map = Map::new();
    map.insert("role".into(), role.into());
    map.insert("content".into(), text.into());
    if !thinking.is_empty() {
        map.insert("thinking".into(), thinking.into());
    }
    if !images.is_empty() {
        map.insert("images".into(), Value::Array(images));
    }
    if !calls.is_empty() {
        map.insert("tool_calls".into(), Value::Array(calls));
    }
    out.push(Value::Object(map));
}

/// A user message: its text (kept even when empty, unless images stand in for it) and its
/// base64 `images`.
pub(super) fn user_message(content: &str, images: &[At<'_>]) -> Result<Message> {
    let mut blocks = Vec::new();
    if !content.is_empty() || images.is_empty() {
        blocks.push(ContentBlock::Text {
            text: content.to_owned(),
        });
    }
    for image in images {
        let data = image.as_str()?;
        blocks.push(ContentBlock::Image {
            source: ImageSource::Base64 {
                media_type: sniff_media_type(data).to_owned(),
                data: data.to_owned(),
            },
        });
    }
    Ok(Message {
        role: Role::User,
        content: blocks,
    })
}

pub fn decode_request(body: &Value) -> Result<Request> {
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
    // Calls of the latest assistant message are matched first, then any unanswered call.
    let mut calls: Vec<(String, String)> = Vec::new();
    let mut recent: Vec<(String, String)> = Vec::new();
    let mut answered: HashSet<String> = HashSet::new();
    for message in root.items_at("messages")? {
        let content = message.opt_str("content")?.unwrap_or_default();
        match message.req_str("role")? {
            "system" => fold_system(&mut request.system, content),
            "user" => {
                let images = message.items_at("images")?;
                request.messages.push(user_message(content, &images)?);
            }
            "assistant" => {
                let mut blocks = Vec::new();
                recent.clear();
                let thinking = match message.opt_str("thinking")? {
                    Some(t) => Some(t),
                    None => message.opt_str("reasoning")?,
                };
                if let Some(thinking) = thinking.filter(|t| !t.is_empty()) {
                    blocks.push(ContentBlock::Reasoning {
                        text: thinking.to_owned(),
                        signature: None,
                        redacted: false,
                    });
                }
                if !content.is_empty() {
                    blocks.push(ContentBlock::Text {
                        text: content.to_owned(),
                    });
                }
                for call in message.items_at("tool_calls")? {
                    let (id, name, arguments) = decode_tool_call(&call, calls.len())?;
                    calls.push((id.clone(), name.clone()));
                    recent.push((id.clone(), name.clone()));
                    blocks.push(ContentBlock::ToolCall {
                        id,
                        name,
                        arguments,
                    });
                }
                request.messages.push(Message {
                    role: Role::Assistant,
                    content: blocks,
                });
            }
            "tool" => {
                let name = message.opt_str("tool_name")?.map(str::to_owned);
                // The first unanswered call with this name (or any unanswered call).
                let call_id = match message.opt_str("tool_call_id")? {
                    Some(id) => id.to_owned(),
                    None => {
                        let open = |(id, _): &&(String, String)| !answered.contains(id);
                        let named = |(id, n): &&(String, String)| {
                            !answered.contains(id) && Some(n) == name.as_ref()
                        };
                        recent
                            .iter()
                            .find(named)
                            .or_else(|| recent.iter().find(open))
                            .or_else(|| calls.iter().find(named))
                            .or_else(|| calls.iter().find(open))
                            .map(|(id, _)| id.clone())
                            .unwrap_or_else(|| format!("ollama_call_{}", calls.len()))
                    }
                };
                answered.insert(call_id.clone());
                crate::openai_chat::request::push_tool_result(
                    &mut request.messages,
                    ContentBlock::ToolResult {
                        call_id,
                        name,
                        content: content.to_owned(),
                        is_error: false,
                    },
                );
            }
            other => return Err(message.malformed(format!("unknown role `{other}`"))),
        }
    }
    for tool in root.items_at("tools")? {
        let function = tool.req("function")?;
        request.tools.push(ToolSpec {
            name: function.req_str("name")?.to_owned(),
            description: function.opt_str("description")?.map(str::to_owned),
            parameters: function
                .get("parameters")
                .map(|p| p.value.clone())
                .unwrap_or_else(|| json!({ "type": "object", "properties": {} })),
        });
    }
    decode_generation_fields(&root, &mut request)?;
    Ok(request)
}

/// The fields `/api/chat` and `/api/generate` share: `think`, `format` and `options`.
pub(super) fn decode_generation_fields(root: &At<'_>, request: &mut Request) -> Result<()> {
    request.reasoning = match root.get("think") {
        None => None,
        Some(think) => match think.value {
            Value::Bool(true) => Some(ReasoningEffort::Medium),
            Value::Bool(false) => None,
            Value::String(level) => Some(match level.as_str() {
                "low" => ReasoningEffort::Low,
                "medium" => ReasoningEffort::Medium,
                "high" | "max" => ReasoningEffort::High,
                other => {
                    return Err(think.malformed(format!(
                        "unknown thinking level `{other}` (expected true, false, low, medium, \
                         high or max)"
                    )));
                }
            }),
            _ => return Err(think.malformed("expected a boolean or a thinking level")),
        },
    };
    request.response_format = match root.get("format") {
        None => None,
        Some(format) => match format.value {
            Value::String(s) if s.is_empty() => None,
            Value::String(s) if s == "json" => Some(ResponseFormat::Json),
            Value::Object(_) => Some(ResponseFormat::JsonSchema {
                name: None,
                schema: format.value.clone(),
                strict: None,
            }),
            _ => return Err(format.malformed("expected \"json\" or a JSON schema object")),
        },
    };
    if let Some(options) = root.get("options") {
        request.max_tokens = match options.opt_i64("num_predict")? {
            Some(n) if n >= 0 => u32::try_from(n).ok(),
            _ => None,
        };
        request.temperature = options.opt_f32("temperature")?;
        request.top_p = options.opt_f32("top_p")?;
        request.top_k = options.opt_positive_u32("top_k")?;
        request.num_ctx = options.opt_positive_u32("num_ctx")?;
        request.seed = options.opt_i64("seed")?;
        request.stop = match options.get("stop") {
            None => Vec::new(),
            Some(stop) if stop.value.is_string() => vec![stop.as_str()?.to_owned()],
            Some(stop) => stop
                .items()?
                .iter()
                .map(|s| s.as_str().map(str::to_owned))
                .collect::<Result<_>>()?,
        };
    }
    Ok(())
}
