//! Canonical events → Chat Completions SSE chunks (for serving chat clients).
//!
//! Sequence: a role chunk first, then one chunk per delta, a finish chunk, a usage chunk
//! (`choices: []`) when usage was seen, and `data: [DONE]` on `finish()`. Reasoning goes out
//! as `reasoning_content` deltas (what vLLM and DeepSeek clients read) unless turned off.
//!
//! Chunks are written from borrowing structs (`Chunk`, `Delta`) rather than built as JSON
//! trees: every frame of every stream goes through here, and the trees (ordered maps, owned
//! copies of the id and model) were most of the encoder's time.

use serde::Serialize;
use serde_json::json;

use super::{UsageOut, finish_reason};
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

    fn frame(&self, choices: &[Choice<'_>], usage: Option<UsageOut>) -> Frame {
        let chunk = Chunk {
            id: &self.id,
            object: "chat.completion.chunk",
            created: self.created,
            model: &self.model,
            choices,
            usage,
        };
        // A struct of strings and numbers always serializes.
        Frame::data(serde_json::to_string(&chunk).unwrap_or_default())
    }

    fn delta(&self, delta: Delta<'_>) -> Frame {
        self.frame(
            &[Choice {
                index: 0,
                delta,
                logprobs: (),
                finish_reason: None,
            }],
            None,
        )
    }

    fn ensure_started(&mut self, out: &mut Vec<Frame>) {
        if !self.started {
            self.started = true;
            out.push(self.delta(Delta {
                role: Some("assistant"),
                content: Some(""),
                ..Delta::default()
            }));
        }
    }

    fn usage_frame(&self, usage: &Usage) -> Frame {
        self.frame(&[], Some(UsageOut::of(usage)))
    }
}

/// One `chat.completion.chunk`.
#[derive(Serialize)]
struct Chunk<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
    choices: &'a [Choice<'a>],
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<UsageOut>,
}

#[derive(Serialize)]
struct Choice<'a> {
    index: u32,
    delta: Delta<'a>,
    /// Always `null`: written for clients that read the field.
    logprobs: (),
    finish_reason: Option<&'static str>,
}

/// A choice's `delta`; the fields a chunk does not carry are left out (`{}` for none).
#[derive(Serialize, Default)]
struct Delta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_calls: Option<[ToolCallDelta<'a>; 1]>,
}

#[derive(Serialize)]
struct ToolCallDelta<'a> {
    index: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    function: FunctionDelta<'a>,
}

#[derive(Serialize)]
struct FunctionDelta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    arguments: &'a str,
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
                    out.push(self.delta(Delta {
                        content: Some(text),
                        ..Delta::default()
                    }));
                }
            }
            Event::ReasoningDelta { text } => {
                self.ensure_started(&mut out);
                if self.reasoning && !text.is_empty() {
                    out.push(self.delta(Delta {
                        reasoning_content: Some(text),
                        ..Delta::default()
                    }));
                }
            }
            Event::ReasoningSignature { .. } | Event::Notice { .. } => {}
            Event::ToolCallStart { index, id, name } => {
                self.ensure_started(&mut out);
                out.push(self.delta(Delta {
                    tool_calls: Some([ToolCallDelta {
                        index: *index,
                        id: Some(id),
                        kind: Some("function"),
                        function: FunctionDelta {
                            name: Some(name),
                            arguments: "",
                        },
                    }]),
                    ..Delta::default()
                }));
            }
            Event::ToolCallArgsDelta { index, delta } => {
                self.ensure_started(&mut out);
                if !delta.is_empty() {
                    out.push(self.delta(Delta {
                        tool_calls: Some([ToolCallDelta {
                            index: *index,
                            id: None,
                            kind: None,
                            function: FunctionDelta {
                                name: None,
                                arguments: delta,
                            },
                        }]),
                        ..Delta::default()
                    }));
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
                    let finish = Choice {
                        index: 0,
                        delta: Delta::default(),
                        logprobs: (),
                        finish_reason: Some(finish_reason(*stop_reason)),
                    };
                    out.push(self.frame(&[finish], None));
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
