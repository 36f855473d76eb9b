//! Messages SSE stream → canonical events: `message_start`, `content_block_start` /
//! `content_block_delta` (`text_delta`, `input_json_delta`, `thinking_delta`,
//! `signature_delta`) / `content_block_stop`, `message_delta` (stop reason, output tokens),
//! `message_stop`, `ping`, `error`.
//!
//! Usage from `message_start` and `message_delta` is merged and sent once, before `Finished`.
//! A tool call that received no `input_json_delta` gets its start `input` (normally `{}`) as
//! its arguments, so arguments are always valid JSON text. Redacted thinking has no stream
//! event and is skipped.

use std::collections::HashMap;

use super::{DIALECT, decode_usage, merge_usage, parse_stop_reason};
use crate::json_at::{At, Result, typed_frame};
use crate::upstream_error::upstream_error;
use crate::{Event, Frame, StopReason, StreamDecoder, Usage, WireError};

#[derive(Debug, Default)]
pub struct Decoder {
    started: bool,
    saw_content: bool,
    ended: bool,
    /// Content block index → (canonical tool index, got argument deltas, start input).
    tools: HashMap<u64, (u32, bool, String)>,
    next_tool: u32,
    usage: Usage,
    saw_usage: bool,
    stop: Option<StopReason>,
}

impl Decoder {
    pub fn new() -> Self {
        Self::default()
    }

    fn event(&mut self, kind: &str, root: &At<'_>, out: &mut Vec<Event>) -> Result<()> {
        match kind {
            "message_start" => {
                let message = root.req("message")?;
                if !self.started {
                    self.started = true;
                    out.push(Event::Started {
                        id: message.opt_str("id")?.unwrap_or_default().to_owned(),
                        model: message.opt_str("model")?.unwrap_or_default().to_owned(),
                    });
                }
                if let Some(usage) = message.get("usage") {
                    self.saw_usage = true;
                    merge_usage(&mut self.usage, decode_usage(&usage)?);
                }
            }
            "content_block_start" => {
                self.ensure_started(out);
                let index = root.req("index")?.as_u64()?;
                let block = root.req("content_block")?;
                match block.req_str("type")? {
                    "tool_use" => {
                        self.saw_content = true;
                        let tool = self.next_tool;
                        self.next_tool += 1;
                        let input = match block.get("input") {
                            Some(input) => input.value.to_string(),
                            None => "{}".to_owned(),
                        };
                        self.tools.insert(index, (tool, false, input));
                        out.push(Event::ToolCallStart {
                            index: tool,
                            id: block.req_str("id")?.to_owned(),
                            name: block.req_str("name")?.to_owned(),
                        });
                    }
                    "text" => self.text(block.opt_str("text")?, out),
                    "thinking" => {
                        if let Some(text) = block.opt_str("thinking")?
                            && !text.is_empty()
                        {
                            self.saw_content = true;
                            out.push(Event::ReasoningDelta {
                                text: text.to_owned(),
                            });
                        }
                    }
                    _ => {}
                }
            }
            "content_block_delta" => {
                self.ensure_started(out);
                let index = root.req("index")?.as_u64()?;
                let delta = root.req("delta")?;
                match delta.req_str("type")? {
                    "text_delta" => self.text(delta.opt_str("text")?, out),
                    "thinking_delta" => {
                        let text = delta.req_str("thinking")?;
                        if !text.is_empty() {
                            self.saw_content = true;
                            out.push(Event::ReasoningDelta {
                                text: text.to_owned(),
                            });
                        }
                    }
                    "signature_delta" => out.push(Event::ReasoningSignature {
                        signature: delta.req_str("signature")?.to_owned(),
                    }),
                    "input_json_delta" => {
                        let piece = delta.req_str("partial_json")?;
                        let Some((tool, got_args, _)) = self.tools.get_mut(&index) else {
                            return Err(delta.malformed("input_json_delta for a non-tool block"));
                        };
                        if !piece.is_empty() {
                            *got_args = true;
                            out.push(Event::ToolCallArgsDelta {
                                index: *tool,
                                delta: piece.to_owned(),
                            });
                        }
                    }
                    _ => {} // citations_delta and future kinds
                }
            }
            "content_block_stop" => {
                let index = root.req("index")?.as_u64()?;
                if let Some((tool, got_args, input)) = self.tools.get_mut(&index)
                    && !*got_args
                {
                    *got_args = true;
                    out.push(Event::ToolCallArgsDelta {
                        index: *tool,
                        delta: std::mem::take(input),
                    });
                }
            }
            "message_delta" => {
                if let Some(delta) = root.get("delta")
                    && let Some(reason) = delta.opt_str("stop_reason")?
                {
                    self.stop = Some(parse_stop_reason(reason));
                }
                if let Some(usage) = root.get("usage") {
                    self.saw_usage = true;
                    merge_usage(&mut self.usage, decode_usage(&usage)?);
                }
            }
            "message_stop" => out.extend(self.end()?),
            "error" => return Err(upstream_error(root.value)),
            _ => {} // ping and future event kinds
        }
        Ok(())
    }

    fn ensure_started(&mut self, out: &mut Vec<Event>) {
        if !self.started {
            self.started = true;
            out.push(Event::Started {
                id: String::new(),
                model: String::new(),
            });
        }
    }

    fn text(&mut self, text: Option<&str>, out: &mut Vec<Event>) {
        if let Some(text) = text
            && !text.is_empty()
        {
            self.saw_content = true;
            out.push(Event::TextDelta {
                text: text.to_owned(),
            });
        }
    }

    fn end(&mut self) -> Result<Vec<Event>> {
        if self.ended {
            return Ok(Vec::new());
        }
        self.ended = true;
        let stop_reason = WireError::check_end(self.started, self.stop, self.saw_content)?;
        let mut out = Vec::new();
        if self.saw_usage {
            out.push(Event::Usage { usage: self.usage });
        }
        out.push(Event::Finished { stop_reason });
        Ok(out)
    }
}

impl StreamDecoder for Decoder {
    fn feed(&mut self, frame: &Frame) -> Result<Vec<Event>> {
        if self.ended {
            return Ok(Vec::new());
        }
        let Some((value, kind)) = typed_frame(frame, DIALECT)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        self.event(&kind, &At::root(&value, DIALECT), &mut out)?;
        Ok(out)
    }

    fn finish(&mut self) -> Result<Vec<Event>> {
        // A stream cut after `message_delta` carried its stop reason is complete enough.
        self.end()
    }
}
