//! Canonical events → Messages SSE (for serving Anthropic clients), in exactly the order the
//! API uses: `message_start`, `ping`, then per content block `content_block_start`, deltas,
//! `content_block_stop` (blocks indexed from 0), then `message_delta` (stop reason, usage) and
//! `message_stop`. A reasoning signature ends its thinking block (as on Anthropic's wire).

use serde_json::{Value, json};

use super::{error_type, stop_reason_str, usage_json};
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

    fn frame(kind: &str, body: Value) -> Frame {
        Frame::named(kind, body.to_string())
    }

    fn ensure_started(&mut self, out: &mut Vec<Frame>) {
        if self.started {
            return;
        }
        self.started = true;
        out.push(Self::frame(
            "message_start",
            json!({
                "type": "message_start",
                "message": {
                    "id": self.id,
                    "type": "message",
                    "role": "assistant",
                    "model": self.model,
                    "content": [],
                    "stop_reason": null,
                    "stop_sequence": null,
                    "usage": { "input_tokens": 0, "output_tokens": 0 },
                },
            }),
        ));
        out.push(Self::frame("ping", json!({ "type": "ping" })));
    }

    fn close(&mut self, out: &mut Vec<Frame>) {
        if self.open.take().is_some() {
            out.push(Self::frame(
                "content_block_stop",
                json!({ "type": "content_block_stop", "index": self.next_block - 1 }),
            ));
        }
    }

    fn open(&mut self, kind: Open, block: Value, out: &mut Vec<Frame>) {
        self.close(out);
        let index = self.next_block;
        self.next_block += 1;
        self.open = Some(kind);
        out.push(Self::frame(
            "content_block_start",
            json!({ "type": "content_block_start", "index": index, "content_block": block }),
        ));
    }

    fn delta(&self, index: u64, delta: Value) -> Frame {
        Self::frame(
            "content_block_delta",
            json!({ "type": "content_block_delta", "index": index, "delta": delta }),
        )
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
                    self.open(Open::Text, json!({ "type": "text", "text": "" }), &mut out);
                }
                out.push(self.delta(
                    self.current_index(),
                    json!({ "type": "text_delta", "text": text }),
                ));
            }
            Event::ReasoningDelta { text } => {
                self.ensure_started(&mut out);
                if text.is_empty() {
                    return out;
                }
                if self.open != Some(Open::Thinking) {
                    let block = json!({ "type": "thinking", "thinking": "", "signature": "" });
                    self.open(Open::Thinking, block, &mut out);
                }
                out.push(self.delta(
                    self.current_index(),
                    json!({ "type": "thinking_delta", "thinking": text }),
                ));
            }
            Event::ReasoningSignature { signature } => {
                self.ensure_started(&mut out);
                if self.open != Some(Open::Thinking) {
                    let block = json!({ "type": "thinking", "thinking": "", "signature": "" });
                    self.open(Open::Thinking, block, &mut out);
                }
                out.push(self.delta(
                    self.current_index(),
                    json!({ "type": "signature_delta", "signature": signature }),
                ));
                self.close(&mut out);
            }
            Event::ToolCallStart { index, id, name } => {
                self.ensure_started(&mut out);
                let block = json!({ "type": "tool_use", "id": id, "name": name, "input": {} });
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
                    json!({ "type": "input_json_delta", "partial_json": delta }),
                ));
            }
            Event::Usage { usage } => self.usage = Some(*usage),
            Event::Notice { .. } => {}
            Event::Finished { stop_reason } => {
                self.ensure_started(&mut out);
                self.close(&mut out);
                self.finished = true;
                let usage = self.usage.unwrap_or_default();
                out.push(Self::frame(
                    "message_delta",
                    json!({
                        "type": "message_delta",
                        "delta": { "stop_reason": stop_reason_str(*stop_reason), "stop_sequence": null },
                        "usage": usage_json(&usage),
                    }),
                ));
                out.push(Self::frame(
                    "message_stop",
                    json!({ "type": "message_stop" }),
                ));
            }
        }
        out
    }

    fn fail(&mut self, message: &str, code: &str) -> Vec<Frame> {
        if self.done {
            return Vec::new();
        }
        self.done = true;
        vec![Self::frame(
            "error",
            json!({ "type": "error", "error": { "type": error_type(code), "message": message } }),
        )]
    }

    fn finish(&mut self) -> Vec<Frame> {
        self.done = true;
        Vec::new()
    }
}
