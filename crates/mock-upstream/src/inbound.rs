//! Reads the few things an answer depends on out of a request body, per dialect: the model,
//! whether to stream, the last user text (echoed back), the offered and forced tools, the
//! output-token cap and whether streamed usage was asked for. Everything borrows from the
//! parsed body, so reading a request allocates nothing beyond the JSON parse itself.

use serde_json::Value;

/// The four wire dialects the mock answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `POST /v1/chat/completions`
    OpenAiChat,
    /// `POST /v1/responses`
    OpenAiResponses,
    /// `POST /v1/messages`
    Anthropic,
    /// `POST /api/chat`
    Ollama,
}

/// A tool the request offers: its name and its parameter schema.
#[derive(Debug, Clone, Copy)]
pub struct OfferedTool<'a> {
    pub name: &'a str,
    pub schema: Option<&'a Value>,
}

/// What the answer needs to know about the request.
#[derive(Debug)]
pub struct InboundRequest<'a> {
    pub model: &'a str,
    pub stream: bool,
    pub last_user_text: &'a str,
    /// Rough size of the prompt in characters (for usage numbers).
    pub prompt_chars: usize,
    pub first_tool: Option<OfferedTool<'a>>,
    /// The tool the request forces (`tool_choice` naming a function, or `required`/`any`).
    pub forced_tool: Option<OfferedTool<'a>>,
    pub max_tokens: Option<u64>,
    /// Chat streams: `stream_options.include_usage`.
    pub include_usage: bool,
}

impl<'a> InboundRequest<'a> {
    /// Reads `body` as `dialect`. Missing fields get harmless defaults: the mock answers
    /// anything, like most local servers do.
    pub fn read(dialect: Dialect, body: &'a Value) -> InboundRequest<'a> {
        let model = body.get("model").and_then(Value::as_str).unwrap_or("");
        let stream_default = dialect == Dialect::Ollama;
        let stream = body
            .get("stream")
            .and_then(Value::as_bool)
            .unwrap_or(stream_default);
        let tools = body.get("tools").and_then(Value::as_array);
        let offered = |t: &'a Value| offered_tool(dialect, t);
        let first_tool = tools.and_then(|ts| ts.iter().find_map(offered));
        let forced_tool = forced_tool(dialect, body.get("tool_choice"), tools, first_tool);
        let (last_user_text, prompt_chars) = match dialect {
            Dialect::OpenAiResponses => read_responses_input(body),
            _ => read_messages(body.get("messages")),
        };
        let system_chars = match body.get("system").or_else(|| body.get("instructions")) {
            Some(Value::String(s)) => s.len(),
            Some(v @ Value::Array(_)) => v.to_string().len(),
            _ => 0,
        };
        let max_tokens = match dialect {
            Dialect::OpenAiChat => body
                .get("max_completion_tokens")
                .or_else(|| body.get("max_tokens")),
            Dialect::OpenAiResponses => body.get("max_output_tokens"),
            Dialect::Anthropic => body.get("max_tokens"),
            Dialect::Ollama => body.get("options").and_then(|o| o.get("num_predict")),
        }
        .and_then(Value::as_u64);
        let include_usage = body
            .get("stream_options")
            .and_then(|o| o.get("include_usage"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        InboundRequest {
            model,
            stream,
            last_user_text,
            prompt_chars: prompt_chars + system_chars,
            first_tool,
            forced_tool,
            max_tokens,
            include_usage,
        }
    }

    /// A deterministic prompt-token estimate (about four characters per token).
    pub fn prompt_tokens(&self) -> u64 {
        u64::try_from(self.prompt_chars / 4 + 1).unwrap_or(u64::MAX)
    }
}

fn offered_tool(dialect: Dialect, tool: &Value) -> Option<OfferedTool<'_>> {
    let (name, schema) = match dialect {
        // chat and Ollama: {"type":"function","function":{"name","parameters"}}
        Dialect::OpenAiChat | Dialect::Ollama => {
            let f = tool.get("function")?;
            (f.get("name"), f.get("parameters"))
        }
        // Responses: {"type":"function","name","parameters"}
        Dialect::OpenAiResponses => (tool.get("name"), tool.get("parameters")),
        // Anthropic: {"name","input_schema"}
        Dialect::Anthropic => (tool.get("name"), tool.get("input_schema")),
    };
    Some(OfferedTool {
        name: name?.as_str()?,
        schema,
    })
}

fn forced_tool<'a>(
    dialect: Dialect,
    choice: Option<&'a Value>,
    tools: Option<&'a Vec<Value>>,
    first: Option<OfferedTool<'a>>,
) -> Option<OfferedTool<'a>> {
    let choice = choice?;
    let named = match choice {
        Value::String(s) if s == "required" || s == "any" => return first,
        Value::String(_) => return None,
        Value::Object(_) => match choice.get("type").and_then(Value::as_str) {
            Some("any") | Some("required") => return first,
            Some("tool") => choice.get("name"),
            Some("function") => choice
                .get("function")
                .and_then(|f| f.get("name"))
                .or_else(|| choice.get("name")),
            _ => None,
        },
        _ => None,
    }?
    .as_str()?;
    let schema = tools
        .and_then(|ts| {
            ts.iter()
                .filter_map(|t| offered_tool(dialect, t))
                .find(|t| t.name == named)
        })
        .and_then(|t| t.schema);
    Some(OfferedTool {
        name: named,
        schema,
    })
}

/// chat / Anthropic / Ollama `messages`: the last user text and the total text size.
fn read_messages(messages: Option<&Value>) -> (&str, usize) {
    let Some(messages) = messages.and_then(Value::as_array) else {
        return ("", 0);
    };
    let mut chars = 0;
    let mut last_user = "";
    for m in messages {
        let content = m.get("content");
        chars += content_chars(content);
        if m.get("role").and_then(Value::as_str) == Some("user")
            && let Some(text) = first_text(content)
        {
            last_user = text;
        }
    }
    (last_user, chars)
}

/// Responses `input`: a string, or a list of items (messages with string or part content).
fn read_responses_input(body: &Value) -> (&str, usize) {
    match body.get("input") {
        Some(Value::String(s)) => (s.as_str(), s.len()),
        Some(Value::Array(items)) => {
            let mut chars = 0;
            let mut last_user = "";
            for item in items {
                let content = item.get("content").or_else(|| item.get("output"));
                chars += content_chars(content);
                if item.get("role").and_then(Value::as_str) == Some("user")
                    && let Some(text) = first_text(content)
                {
                    last_user = text;
                }
            }
            (last_user, chars)
        }
        _ => ("", 0),
    }
}

/// The first text of a content value: a string, or the first part with a `text` field.
fn first_text(content: Option<&Value>) -> Option<&str> {
    match content? {
        Value::String(s) => Some(s),
        Value::Array(parts) => parts
            .iter()
            .find_map(|p| p.get("text").and_then(Value::as_str)),
        _ => None,
    }
}

fn content_chars(content: Option<&Value>) -> usize {
    match content {
        Some(Value::String(s)) => s.len(),
        Some(Value::Array(parts)) => parts
            .iter()
            .map(|p| match p.get("text").and_then(Value::as_str) {
                Some(t) => t.len(),
                None => 16,
            })
            .sum(),
        Some(Value::Null) | None => 0,
        Some(other) => other.to_string().len(),
    }
}
