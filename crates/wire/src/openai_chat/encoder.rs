//! Canonical events → Chat Completions SSE chunks (for serving chat clients).
//!
//! Sequence: a role chunk first, then one chunk per delta, a finish chunk, a usage chunk
//! (`choices: []`) when usage was seen, and `data: [DONE]` on `finish()`. Reasoning goes out
//! as `reasoning_content` deltas (what vLLM and DeepSeek clients read) unless turned off.

use serde_json::{Value, json};

use super::{finish_reason, usage_json};
use crate::{Event, Frame, StreamEncoder, Usage};

#[derive(Debug)]
pub struct Encoder {
    id: String,
    model: String,
    created: u64,
    reasoning: bool,
    usage_chunk: bool,
    started: bool,
    finished: bool,
    done: bool,
    usage: Option<Usage>,
}

impl Encoder {
    pub fn new(id: &str, model: &str) -> Self {
        Self {
            id: id.to_owned(),
            model: model.to_owned(),
            created: 0,
            reasoning: true,
            usage_chunk: true,
            started: false,
            finished: false,
            done: false,
            usage: None,
        }
    }

    /// Unix seconds for the `created` field (the codec has no clock; default 0).
    pub fn with_created(mut self, created: u64) -> Self {
        self.created = created;
        self
    }

    /// Whether reasoning is sent as `reasoning_content` deltas (default true) or dropped.
    pub fn with_reasoning(mut self, reasoning: bool) -> Self {
        self.reasoning = reasoning;
        self
    }

    /// Whether a final usage chunk is sent (the client asked for
    /// `stream_options.include_usage`; default true).
    pub fn with_usage_chunk(mut self, usage_chunk: bool) -> Self {
        self.usage_chunk = usage_chunk;
        self
    }

    fn chunk(&self, choices: Value) -> Frame {
        let body = json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": choices,
        });
        Frame::data(body.to_string())
    }

    fn delta(&self, delta: Value) -> Frame {
        self.chunk(json!([{ "index": 0, "delta": delta, "logprobs": null, "finish_reason": null }]))
    }

    fn ensure_started(&mut self, out: &mut Vec<Frame>) {
        if !self.started {
            self.started = true;
            out.push(self.delta(json!({ "role": "assistant", "content": "" })));
        }
    }

    fn usage_frame(&self, usage: &Usage) -> Frame {
        let mut body = json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [],
        });
        body["usage"] = usage_json(usage);
        Frame::data(body.to_string())
    }
}

impl StreamEncoder for Encoder {
    fn encode(&mut self, event: &Event) -> Vec<Frame> {
        let mut out = Vec::new();
        if self.done {
            return out;
        }
        match event {
            Event::Started { .. } => self.ensure_started(&mut out),
            Event::TextDelta { text } => {
                self.ensure_started(&mut out);
                if !text.is_empty() {
                    out.push(self.delta(json!({ "content": text })));
                }
            }
            Event::ReasoningDelta { text } => {
                self.ensure_started(&mut out);
                if self.reasoning && !text.is_empty() {
                    out.push(self.delta(json!({ "reasoning_content": text })));
                }
            }
            Event::ReasoningSignature { .. } | Event::Notice { .. } => {}
            Event::ToolCallStart { index, id, name } => {
                self.ensure_started(&mut out);
                out.push(self.delta(json!({ "tool_calls": [{
                    "index": index,
                    "id": id,
                    "type": "function",
                    "function": { "name": name, "arguments": "" },
                }] })));
            }
            Event::ToolCallArgsDelta { index, delta } => {
                self.ensure_started(&mut out);
                if !delta.is_empty() {
                    out.push(self.delta(json!({ "tool_calls": [{
                        "index": index,
                        "function": { "arguments": delta },
                    }] })));
                }
            }
            Event::Usage { usage } => {
                if self.finished {
                    if self.usage_chunk {
                        out.push(self.usage_frame(usage));
                    }
                } else {
                    self.usage = Some(*usage);
                }
            }
            Event::Finished { stop_reason } => {
                self.ensure_started(&mut out);
                if !self.finished {
                    self.finished = true;
                    out.push(self.chunk(json!([{
                        "index": 0,
                        "delta": {},
                        "logprobs": null,
                        "finish_reason": finish_reason(*stop_reason),
                    }])));
                    if let (Some(usage), true) = (self.usage.take(), self.usage_chunk) {
                        out.push(self.usage_frame(&usage));
                    }
                }
            }
        }
        out
    }

    fn fail(&mut self, message: &str, code: &str) -> Vec<Frame> {
        if self.done {
            return Vec::new();
        }
        self.done = true;
        let error =
            json!({ "error": { "message": message, "type": error_type(code), "code": code } });
        vec![Frame::data(error.to_string()), Frame::data("[DONE]")]
    }

    fn finish(&mut self) -> Vec<Frame> {
        if self.done {
            return Vec::new();
        }
        self.done = true;
        vec![Frame::data("[DONE]")]
    }
}

/// OpenAI's error `type` for a machine code: request problems are `invalid_request_error`,
/// everything else a `server_error`.
pub(crate) fn error_type(code: &str) -> &'static str {
    match code {
        "context_length_exceeded"
        | "invalid_request"
        | "invalid_request_error"
        | "model_not_found"
        | "format" => "invalid_request_error",
        "rate_limit" | "rate_limit_exceeded" => "rate_limit_error",
        "auth" | "invalid_api_key" => "authentication_error",
        _ => "server_error",
    }
}
