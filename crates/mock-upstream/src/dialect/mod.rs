//! One module per wire dialect, each writing the shapes directly with `serde_json::json!`
//! (never through clawgate's codecs, so a bug shared by an encoder and its decoder cannot
//! hide). This file only dispatches on the dialect.

pub mod anthropic;
pub mod ollama;
pub mod openai_chat;
pub mod openai_responses;

use bytes::Bytes;
use serde_json::Value;

use crate::answer::Answer;
pub use crate::inbound::Dialect;
use crate::script::Plan;
use crate::ticks::{JSON_CONTENT_TYPE, NDJSON_CONTENT_TYPE, SSE_CONTENT_TYPE, StreamTicks};

/// The non-streaming body.
pub fn body(d: Dialect, a: &Answer, plan: &Plan) -> Value {
    match d {
        Dialect::OpenAiChat => openai_chat::body(a, plan),
        Dialect::OpenAiResponses => openai_responses::body(a, plan),
        Dialect::Anthropic => anthropic::body(a, plan),
        Dialect::Ollama => ollama::body(a, plan),
    }
}

/// The normal stream.
pub fn stream(d: Dialect, a: &Answer, plan: &Plan, include_usage: bool) -> StreamTicks {
    match d {
        Dialect::OpenAiChat => openai_chat::stream(a, plan, include_usage),
        Dialect::OpenAiResponses => openai_responses::stream(a, plan),
        Dialect::Anthropic => anthropic::stream(a, plan),
        Dialect::Ollama => ollama::stream(a, plan),
    }
}

/// The error event a 200 stream carries for `error_in_stream`.
pub fn error_tick(d: Dialect, a: &Answer, plan: &Plan) -> Bytes {
    match d {
        Dialect::OpenAiChat => openai_chat::error_tick(),
        Dialect::OpenAiResponses => openai_responses::error_tick(a, plan),
        Dialect::Anthropic => anthropic::error_tick(),
        Dialect::Ollama => ollama::error_tick(),
    }
}

/// A frame that does not parse, for `malformed_sse`.
pub fn malformed_tick(d: Dialect, a: &Answer) -> Bytes {
    match d {
        Dialect::OpenAiChat => openai_chat::malformed_tick(a),
        Dialect::OpenAiResponses => openai_responses::malformed_tick(),
        Dialect::Anthropic => anthropic::malformed_tick(),
        Dialect::Ollama => ollama::malformed_tick(),
    }
}

/// The response content type.
pub fn content_type(d: Dialect, stream: bool) -> &'static str {
    match (d, stream) {
        (_, false) => JSON_CONTENT_TYPE,
        (Dialect::Ollama, true) => NDJSON_CONTENT_TYPE,
        (_, true) => SSE_CONTENT_TYPE,
    }
}
