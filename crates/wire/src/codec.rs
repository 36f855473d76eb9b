//! The shapes every dialect codec shares: a streamed body is a sequence of [`Frame`]s (SSE
//! events or NDJSON lines); a stream decoder turns frames into canonical events, a stream
//! encoder turns canonical events into frames. Both are push-driven state machines.

use crate::{Event, WireError};

/// One frame of a streamed body. For SSE, `event` is the `event:` field (if any) and `data`
/// the joined `data:` lines; for NDJSON, `event` is `None` and `data` is one line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frame {
    pub event: Option<String>,
    pub data: String,
}

impl Frame {
    pub fn data(data: impl Into<String>) -> Self {
        Self {
            event: None,
            data: data.into(),
        }
    }

    pub fn named(event: impl Into<String>, data: impl Into<String>) -> Self {
        Self {
            event: Some(event.into()),
            data: data.into(),
        }
    }
}

/// Upstream-request knobs a codec honours when encoding a request for a server. Filled by the
/// providers crate from config `compat` flags and per-server defaults; the codec itself knows
/// nothing about config.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodeOptions {
    /// Chat: send the output cap as `max_completion_tokens` instead of `max_tokens`.
    pub use_max_completion_tokens: bool,
    /// Chat: send the system prompt with role `developer` instead of `system`.
    pub developer_role: bool,
    /// Chat: ask for a usage chunk with `stream_options.include_usage`.
    pub usage_in_streaming: bool,
    /// Send tool schemas at all.
    pub tools: bool,
    /// Chat: flatten content arrays into one string.
    pub string_content: bool,
    /// Responses: put the system prompt in `instructions` (else a leading system input item).
    pub instructions_field: bool,
    /// Ollama: `options.num_ctx`.
    pub num_ctx: Option<u32>,
    /// Ollama: the `think` field. `None` derives it from the request (`true` when it asks
    /// for reasoning, absent otherwise).
    pub think: Option<Think>,
}

/// Ollama's `think`: a switch for most thinking models, a level for gpt-oss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Think {
    Off,
    On,
    Level(crate::ReasoningEffort),
}

impl Default for EncodeOptions {
    fn default() -> Self {
        Self {
            use_max_completion_tokens: false,
            developer_role: false,
            usage_in_streaming: true,
            tools: true,
            string_content: false,
            instructions_field: true,
            num_ctx: None,
            think: None,
        }
    }
}

/// Turns a dialect's stream frames into canonical events.
pub trait StreamDecoder: Send {
    /// Decode one frame. May yield zero, one or several events.
    fn feed(&mut self, frame: &Frame) -> Result<Vec<Event>, WireError>;
    /// The body ended. Yields trailing events, or `EmptyStream` / `Truncated` when the stream
    /// never produced anything or never said why it stopped.
    fn finish(&mut self) -> Result<Vec<Event>, WireError>;
}

/// Turns canonical events into a dialect's stream frames (for serving that dialect).
pub trait StreamEncoder: Send {
    /// Encode one event. May yield zero, one or several frames (Responses needs several).
    fn encode(&mut self, event: &Event) -> Vec<Frame>;
    /// The stream failed after it started: frames that end it with this dialect's error shape.
    fn fail(&mut self, message: &str, code: &str) -> Vec<Frame>;
    /// Closing frames after `Finished` (`[DONE]` for chat).
    fn finish(&mut self) -> Vec<Frame>;
}
