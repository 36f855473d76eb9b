//! Shared test plumbing: run bytes through a dialect's framing and decoder, and events through
//! its encoder and framing.

use clawgate_wire::ndjson::{NdjsonParser, write_line};
use clawgate_wire::sse::{SseParser, write_frame};
use clawgate_wire::{
    Event, Frame, StreamDecoder, StreamEncoder, WireError, anthropic, ollama, openai_chat,
    openai_responses,
};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Chat,
    Responses,
    Anthropic,
    Ollama,
}

impl Dialect {
    pub fn parse(name: &str) -> Dialect {
        match name {
            "openai_chat" => Dialect::Chat,
            "openai_responses" => Dialect::Responses,
            "anthropic" => Dialect::Anthropic,
            "ollama" => Dialect::Ollama,
            other => panic!("unknown dialect {other}"),
        }
    }

    pub fn decoder(self) -> Box<dyn StreamDecoder> {
        match self {
            Dialect::Chat => Box::new(openai_chat::Decoder::new()),
            Dialect::Responses => Box::new(openai_responses::Decoder::new()),
            Dialect::Anthropic => Box::new(anthropic::Decoder::new()),
            Dialect::Ollama => Box::new(ollama::Decoder::new()),
        }
    }

    pub fn encoder(self, id: &str, model: &str) -> Box<dyn StreamEncoder> {
        match self {
            Dialect::Chat => Box::new(openai_chat::Encoder::new(id, model)),
            Dialect::Responses => Box::new(openai_responses::Encoder::new(id, model)),
            Dialect::Anthropic => Box::new(anthropic::Encoder::new(id, model)),
            Dialect::Ollama => Box::new(ollama::Encoder::new(id, model)),
        }
    }

    pub fn decode_response(self, body: &Value) -> Result<clawgate_wire::Response, WireError> {
        match self {
            Dialect::Chat => openai_chat::decode_response(body),
            Dialect::Responses => openai_responses::decode_response(body),
            Dialect::Anthropic => anthropic::decode_response(body),
            Dialect::Ollama => ollama::decode_response(body),
        }
    }
}

/// Framing + decoder over `bytes`, fed in chunks of `chunk` bytes (all at once when `None`).
/// Returns the events produced before the first error, and that error.
pub fn decode_stream(
    dialect: Dialect,
    bytes: &[u8],
    chunk: Option<usize>,
) -> (Vec<Event>, Option<WireError>) {
    let mut decoder = dialect.decoder();
    let mut sse = SseParser::new();
    let mut ndjson = NdjsonParser::new();
    let mut frames: Vec<Frame> = Vec::new();
    let size = chunk.unwrap_or(bytes.len().max(1));
    for piece in bytes.chunks(size) {
        frames.extend(match dialect {
            Dialect::Ollama => ndjson.push(piece),
            _ => sse.push(piece),
        });
    }
    frames.extend(match dialect {
        Dialect::Ollama => ndjson.finish(),
        _ => sse.finish(),
    });
    let mut events = Vec::new();
    for frame in &frames {
        match decoder.feed(frame) {
            Ok(more) => events.extend(more),
            Err(err) => return (events, Some(err)),
        }
    }
    match decoder.finish() {
        Ok(more) => events.extend(more),
        Err(err) => return (events, Some(err)),
    }
    (events, None)
}

/// Encoder + framing: the bytes a server of this dialect would send for `events`.
pub fn encode_stream(dialect: Dialect, id: &str, model: &str, events: &[Event]) -> Vec<u8> {
    let mut encoder = dialect.encoder(id, model);
    let mut frames = Vec::new();
    for event in events {
        frames.extend(encoder.encode(event));
    }
    frames.extend(encoder.finish());
    frames_to_bytes(dialect, &frames)
}

pub fn frames_to_bytes(dialect: Dialect, frames: &[Frame]) -> Vec<u8> {
    let mut out = String::new();
    for frame in frames {
        out.push_str(&match dialect {
            Dialect::Ollama => write_line(frame),
            _ => write_frame(frame),
        });
    }
    out.into_bytes()
}

pub fn error_json(error: &WireError) -> Value {
    match error {
        WireError::Malformed { dialect, path, .. } => {
            json!({ "kind": "malformed", "dialect": dialect, "path": path })
        }
        WireError::Upstream {
            status,
            code,
            message,
        } => json!({ "kind": "upstream", "status": status, "code": code, "message": message }),
        WireError::EmptyStream => json!({ "kind": "empty_stream" }),
        WireError::Truncated => json!({ "kind": "truncated" }),
    }
}
