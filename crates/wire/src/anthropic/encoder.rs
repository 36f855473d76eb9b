//! Canonical events → Messages SSE (for serving Anthropic clients), in exactly the order the
//! API uses: `message_start`, `ping`, then per content block `content_block_start`, deltas,
//! `content_block_stop` (blocks indexed from 0), then `message_delta` (stop reason, usage) and
//! `message_stop`. A reasoning signature ends its thinking block (as on Anthropic's wire).
//!
//! Frames are written from borrowing structs ([`Body`]): a piece of an answer costs no JSON
//! tree and no copy of its text.

use serde::Serialize;
use serde_json::Value;

use super::{error_type, stop_reason_str, usage_json};
use crate::json_at::EmptyObject;
use crate::{Event, Frame, StreamEncoder, Usage};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    Text,
    Thinking,
    Tool(u32),
}

#[derive(Debug)]
pub struct Encoder {
    id: String,
    model: String,
    started: bool,
    finished: bool,
    done: bool,
    open: Option<Open>,
    next_block: u64,
    /// Canonical tool index → content block index.
    tool_blocks: Vec<(u32, u64)>,
    usage: Option<Usage>,
}

impl Encoder {
    pub fn new(id: &str, model: &str) -> Self {
        Self {
            id: id.to_owned(),
            model: model.to_owned(),
            started: false,
            finished: false,
            done: false,
            open: None,
            next_block: 0,
            tool_blocks: Vec::new(),
            usage: None,
        }
    }

    fn frame(body: &Body<'_>) -> Frame {
        // Writing these structs to a string cannot fail: no maps with non-string keys.
        let data = serde_json::to_string(body).unwrap_or_default();
        Frame::named(body.name(), data)
    }

    fn ensure_started(&mut self, out: &mut Vec<Frame>) {
        if self.started {
            return;
        }
        self.started = true;
        out.push(Self::frame(&Body::MessageStart {
            message: MessageHead {
                id: &self.id,
                kind: "message",
                role: "assistant",
                model: &self.model,
                content: [],
                stop_reason: None,
                stop_sequence: None,
                usage: StartUsage {
                    input_tokens: 0,
                    output_tokens: 0,
                },
            },
        }));
        out.push(Self::frame(&Body::Ping));
    }

    fn close(&mut self, out: &mut Vec<Frame>) {
        if self.open.take().is_some() {
            out.push(Self::frame(&Body::ContentBlockStop {
                index: self.next_block - 1,
            }));
        }
    }

    fn open(&mut self, kind: Open, block: Block<'_>, out: &mut Vec<Frame>) {
        self.close(out);
        let index = self.next_block;
        self.next_block += 1;
        self.open = Some(kind);
        out.push(Self::frame(&Body::ContentBlockStart {
            index,
            content_block: block,
        }));
    }

    fn delta(&self, index: u64, delta: Piece<'_>) -> Frame {
        Self::frame(&Body::ContentBlockDelta { index, delta })
    }

    fn current_index(&self) -> u64 {
        self.next_block.saturating_sub(1)
    }
}

impl StreamEncoder for Encoder {
    fn encode(&mut self, event: &Event) -> Vec<Frame> {
        let mut out = Vec::new();
        if self.done || self.finished && !matches!(event, Event::Usage { .. }) {
            return out;
        }
        match event {
            Event::Started { .. } => self.ensure_started(&mut out),
            Event::TextDelta { text } => {
                self.ensure_started(&mut out);
                if text.is_empty() {
                    return out;
                }
                if self.open != Some(Open::Text) {
                    self.open(Open::Text, Block::Text { text: "" }, &mut out);
                }
                out.push(self.delta(self.current_index(), Piece::Text { text }));
            }
            Event::ReasoningDelta { text } => {
                self.ensure_started(&mut out);
                if text.is_empty() {
                    return out;
                }
                if self.open != Some(Open::Thinking) {
                    self.open(Open::Thinking, Block::EMPTY_THINKING, &mut out);
                }
                out.push(self.delta(self.current_index(), Piece::Thinking { thinking: text }));
            }
            Event::ReasoningSignature { signature } => {
                self.ensure_started(&mut out);
                if self.open != Some(Open::Thinking) {
                    self.open(Open::Thinking, Block::EMPTY_THINKING, &mut out);
                }
                out.push(self.delta(self.current_index(), Piece::Signature { signature }));
                self.close(&mut out);
            }
            Event::ToolCallStart { index, id, name } => {
                self.ensure_started(&mut out);
                let block = Block::ToolUse {
                    id,
                    name,
                    input: EmptyObject {},
                };
                self.open(Open::Tool(*index), block, &mut out);
                self.tool_blocks.push((*index, self.current_index()));
            }
            Event::ToolCallArgsDelta { index, delta } => {
                self.ensure_started(&mut out);
                if delta.is_empty() {
                    return out;
                }
                // Arguments for a call whose block already closed still go to that block's
                // index: late pieces are rare, dropping them would corrupt the call.
                let Some(&(_, block)) = self.tool_blocks.iter().find(|(i, _)| i == index) else {
                    return out;
                };
                out.push(self.delta(
                    block,
                    Piece::InputJson {
                        partial_json: delta,
                    },
                ));
            }
            Event::Usage { usage } => self.usage = Some(*usage),
            Event::Notice { .. } => {}
            Event::Finished { stop_reason } => {
                self.ensure_started(&mut out);
                self.close(&mut out);
                self.finished = true;
                let usage = self.usage.unwrap_or_default();
                out.push(Self::frame(&Body::MessageDelta {
                    delta: StopDelta {
                        stop_reason: stop_reason_str(*stop_reason),
                        stop_sequence: None,
                    },
                    usage: usage_json(&usage),
                }));
                out.push(Self::frame(&Body::MessageStop));
            }
        }
        out
    }

    fn fail(&mut self, message: &str, code: &str) -> Vec<Frame> {
        if self.done {
            return Vec::new();
        }
        self.done = true;
        vec![Self::frame(&Body::Error {
            error: ErrorBody {
                kind: error_type(code),
                message,
            },
        })]
    }

    fn finish(&mut self) -> Vec<Frame> {
        self.done = true;
        Vec::new()
    }
}

/// One Messages SSE frame's data; the tag is both the `type` field and the SSE event name.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Body<'a> {
    MessageStart {
        message: MessageHead<'a>,
    },
    Ping,
    ContentBlockStart {
        index: u64,
        content_block: Block<'a>,
    },
    ContentBlockDelta {
        index: u64,
        delta: Piece<'a>,
    },
    ContentBlockStop {
        index: u64,
    },
    MessageDelta {
        delta: StopDelta,
        usage: Value,
    },
    MessageStop,
    Error {
        error: ErrorBody<'a>,
    },
}

impl Body<'_> {
    fn name(&self) -> &'static str {
        match self {
            Body::MessageStart { .. } => "message_start",
            Body::Ping => "ping",
            Body::ContentBlockStart { .. } => "content_block_start",
            Body::ContentBlockDelta { .. } => "content_block_delta",
            Body::ContentBlockStop { .. } => "content_block_stop",
            Body::MessageDelta { .. } => "message_delta",
            Body::MessageStop => "message_stop",
            Body::Error { .. } => "error",
        }
    }
}

/// `message_start`'s message: empty, as the API announces it.
#[derive(Serialize)]
struct MessageHead<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    role: &'static str,
    model: &'a str,
    content: [(); 0],
    stop_reason: Option<()>,
    stop_sequence: Option<()>,
    usage: StartUsage,
}

#[derive(Serialize)]
struct StartUsage {
    input_tokens: u64,
    output_tokens: u64,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block<'a> {
    Text {
        text: &'static str,
    },
    Thinking {
        thinking: &'static str,
        signature: &'static str,
    },
    ToolUse {
        id: &'a str,
        name: &'a str,
        /// `{}`: a tool call's input arrives in `input_json_delta` pieces.
        input: EmptyObject,
    },
}

impl Block<'_> {
    const EMPTY_THINKING: Block<'static> = Block::Thinking {
        thinking: "",
        signature: "",
    };
}

/// A `content_block_delta`'s delta.
#[derive(Serialize)]
#[serde(tag = "type")]
enum Piece<'a> {
    #[serde(rename = "text_delta")]
    Text { text: &'a str },
    #[serde(rename = "thinking_delta")]
    Thinking { thinking: &'a str },
    #[serde(rename = "signature_delta")]
    Signature { signature: &'a str },
    #[serde(rename = "input_json_delta")]
    InputJson { partial_json: &'a str },
}

#[derive(Serialize)]
struct StopDelta {
    stop_reason: &'static str,
    stop_sequence: Option<()>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    #[serde(rename = "type")]
    kind: String,
    message: &'a str,
}
