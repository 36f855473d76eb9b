//! The canonical conversation and stream-event types: the only shapes that cross crate lines
//! on the hot path. Every dialect codec decodes into these and encodes from these, so a
//! request can enter in one dialect and leave in another.
//!
//! Normal form (what decoders produce and what round-trip tests compare):
//! - system and developer text lives in [`Request::system`], never in `messages`;
//! - a tool result travels in a [`Role::Tool`] message holding only [`ContentBlock::ToolResult`]
//!   blocks (Anthropic's user-message `tool_result` blocks are split out on decode and merged
//!   back on encode);
//! - tool-call arguments are the JSON *text* the model produced (it may be invalid JSON while
//!   streaming, and a small local model may emit invalid JSON at the end too);
//! - tool-call ids are unique within a conversation (dialects that match results by tool
//!   name, like Ollama's, cannot tell two calls with one id apart). Upstreams do repeat ids;
//!   `clawgate-providers` makes them unique on the way in and out.

use serde::{Deserialize, Serialize};

/// One model call, independent of dialect.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// The model id as the upstream knows it (not a clawgate ref).
    pub model: String,
    /// System prompt (system + developer messages folded together, in order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    pub messages: Vec<Message>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<ToolSpec>,
    #[serde(default)]
    pub tool_choice: ToolChoice,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    /// Sample from the k likeliest tokens only (Ollama `options.top_k`, Anthropic `top_k`,
    /// llama.cpp's and vLLM's `top_k`; the Responses API has no such field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<ReasoningEffort>,
    /// The answer must be JSON (or JSON matching a schema): structured output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
    /// The context window the client asks the server to run the model with (Ollama's
    /// `options.num_ctx`). Only Ollama takes one per request; the other dialects have no field
    /// for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_ctx: Option<u32>,
    #[serde(default)]
    pub stream: bool,
    /// End-user identifier passed by the client (OpenAI `user`, Anthropic `metadata.user_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Assistant,
    Tool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: Vec<ContentBlock>,
}

impl Message {
    pub fn text(role: Role, text: impl Into<String>) -> Self {
        Self {
            role,
            content: vec![ContentBlock::Text { text: text.into() }],
        }
    }

    /// All text blocks joined, reasoning excluded.
    pub fn joined_text(&self) -> String {
        let mut out = String::new();
        for block in &self.content {
            if let ContentBlock::Text { text } = block {
                out.push_str(text);
            }
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentBlock {
    Text {
        text: String,
    },
    Image {
        source: ImageSource,
    },
    /// Model reasoning. Never part of answer text. `signature` carries what a dialect needs to
    /// replay it (Anthropic's thinking signature, or the chat delta field name it came in).
    Reasoning {
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signature: Option<String>,
        /// Anthropic `redacted_thinking`: `text` holds the opaque data.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        redacted: bool,
    },
    ToolCall {
        id: String,
        name: String,
        /// JSON text of the arguments, as produced by the model.
        arguments: String,
    },
    ToolResult {
        call_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        content: String,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        is_error: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ImageSource {
    Base64 { media_type: String, data: String },
    Url { url: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON Schema of the arguments object.
    pub parameters: serde_json::Value,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", content = "name", rename_all = "snake_case")]
pub enum ToolChoice {
    #[default]
    Auto,
    None,
    Required,
    Tool(String),
}

/// Structured output: what the answer text must be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    /// Any JSON value (OpenAI `json_object`, Ollama `"json"`).
    Json,
    /// JSON matching `schema` (OpenAI `json_schema`, Ollama's schema `format`).
    JsonSchema {
        /// OpenAI requires a name; dialects without one leave it out.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        schema: serde_json::Value,
        /// OpenAI's strict schema adherence.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        strict: Option<bool>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasoningEffort {
    Minimal,
    Low,
    Medium,
    High,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_tokens: Option<u64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The model finished its answer (or hit a stop sequence).
    #[default]
    Stop,
    /// The output token cap was reached.
    Length,
    /// The model is waiting for tool results.
    ToolUse,
    /// The upstream withheld content (safety filter, refusal).
    ContentFilter,
}

/// A complete (non-streamed) answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    pub id: String,
    pub model: String,
    /// Assistant content: reasoning, text and tool calls, in the order produced.
    pub content: Vec<ContentBlock>,
    pub stop_reason: StopReason,
    #[serde(default)]
    pub usage: Usage,
}

/// One canonical stream event. A well-formed stream is:
/// `Started`, then any mix of deltas, at most one `Usage` (it may come late), then `Finished`.
/// Reasoning never becomes text: it travels as `ReasoningDelta` and each encoder decides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Started {
        id: String,
        model: String,
    },
    TextDelta {
        text: String,
    },
    ReasoningDelta {
        text: String,
    },
    /// The reasoning block so far is complete and carries this replay signature.
    ReasoningSignature {
        signature: String,
    },
    ToolCallStart {
        index: u32,
        id: String,
        name: String,
    },
    ToolCallArgsDelta {
        index: u32,
        delta: String,
    },
    Usage {
        usage: Usage,
    },
    /// A note from the serving side about this answer, never answer content: what the model
    /// could not do as asked (a base model offered tools answers in text). No dialect has a
    /// field for it, so encoders leave it out; the gateway reports the notices that came
    /// before the answer started in a response header, and agents show them as notices.
    Notice {
        text: String,
    },
    Finished {
        stop_reason: StopReason,
    },
}

impl Event {
    /// True for events that carry answer content (text, reasoning, tool calls): where a
    /// router stops its first-event clock (it commits later, at answer text or the finish).
    pub fn is_content(&self) -> bool {
        matches!(
            self,
            Event::TextDelta { .. }
                | Event::ReasoningDelta { .. }
                | Event::ToolCallStart { .. }
                | Event::ToolCallArgsDelta { .. }
        )
    }
}
