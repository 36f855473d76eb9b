//! Chat Completions SSE stream → canonical events.
//!
//! Tolerates what real servers do (see the upstream-quirks spec): llama.cpp repeats the tool
//! call's id, type and name on *every* argument chunk and adds a legacy `function_call` delta
//! next to `tool_calls`; some servers omit `index`, send empty names, or put reasoning in
//! `reasoning_content`, `reasoning` or `reasoning_text`; usage may arrive in its own
//! `choices: []` chunk after the finish chunk, in the finish chunk, or never.
//!
//! Ordering: `Usage` and `Finished` are held until `[DONE]` (or the end of the body) so the
//! canonical order "usage, then finished" holds even though OpenAI sends the usage chunk after
//! the finish chunk.

use serde_json::Value;

use super::{DIALECT, arguments_text, decode_usage, parse_finish_reason, reasoning_text};
use crate::json_at::{At, Result, parse_frame_json};
use crate::upstream_error::upstream_error;
use crate::{Event, Frame, StopReason, StreamDecoder, Usage, WireError};

#[derive(Debug, Default)]
pub struct Decoder {
    started: bool,
    saw_content: bool,
    ended: bool,
    /// Tool calls by canonical index (position = canonical index).
    calls: Vec<CallState>,
    /// Once a chunk carried `tool_calls`, legacy `function_call` deltas are echoes: ignored.
    saw_tool_calls: bool,
    stop: Option<StopReason>,
    usage: Option<Usage>,
}

#[derive(Debug)]
struct CallState {
    upstream_index: u64,
    id: String,
    name: String,
    announced: bool,
    /// Argument text received before the name was known.
    pending_args: String,
}

impl Decoder {
    pub fn new() -> Self {
        Self::default()
    }

    fn chunk(&mut self, chunk: &Value, out: &mut Vec<Event>) -> Result<()> {
        if chunk.get("error").is_some_and(|e| !e.is_null()) {
            return Err(upstream_error(chunk));
        }
        let root = At::root(chunk, DIALECT);
        if !self.started {
            self.started = true;
            out.push(Event::Started {
                id: root.opt_str("id")?.unwrap_or_default().to_owned(),
                model: root.opt_str("model")?.unwrap_or_default().to_owned(),
            });
        }
        if let Some(usage) = root.get("usage") {
            self.usage = Some(decode_usage(&usage)?);
        }
        let choices = root.items_at("choices")?;
        // n > 1 is not supported by the canonical stream: only the first choice is read.
        let Some(choice) = choices
            .iter()
            .find(|c| c.value.get("index").and_then(Value::as_u64).unwrap_or(0) == 0)
        else {
            return Ok(());
        };
        if let Some(delta) = choice.get("delta") {
            self.delta(&delta, out)?;
        }
        if let Some(reason) = choice.opt_str("finish_reason")? {
            self.flush_unannounced(out);
            self.stop = Some(parse_finish_reason(reason));
        }
        Ok(())
    }

    fn delta(&mut self, delta: &At<'_>, out: &mut Vec<Event>) -> Result<()> {
        if let Some(text) = reasoning_text(delta) {
            self.saw_content = true;
            out.push(Event::ReasoningDelta { text });
        }
        if let Some(text) = delta.opt_str("content")?
            && !text.is_empty()
        {
            self.saw_content = true;
            out.push(Event::TextDelta {
                text: text.to_owned(),
            });
        }
        let calls = delta.items_at("tool_calls")?;
        if !calls.is_empty() {
            self.saw_tool_calls = true;
        }
        for (position, call) in calls.iter().enumerate() {
            let function = call.get("function");
            let name = match &function {
                Some(f) => f.opt_str("name")?.unwrap_or_default(),
                None => "",
            };
            let args = arguments_text(function.and_then(|f| f.get("arguments")));
            let index = match call.opt_u64("index")? {
                Some(index) => index,
                None => self.index_without_field(position, call.opt_str("id")?),
            };
            self.tool_piece(index, call.opt_str("id")?, name, &args, out);
        }
        if !self.saw_tool_calls
            && let Some(function) = delta.get("function_call")
        {
            let name = function.opt_str("name")?.unwrap_or_default();
            let args = arguments_text(function.get("arguments"));
            self.tool_piece(0, None, name, &args, out);
        }
        Ok(())
    }

    /// A missing `index` means "the call at this position" unless the id says it is a new
    /// call (servers that send each complete call in its own chunk without an index).
    fn index_without_field(&self, position: usize, id: Option<&str>) -> u64 {
        let position = position as u64;
        match (id, self.calls.iter().find(|c| c.upstream_index == position)) {
            (Some(id), Some(existing)) if !id.is_empty() && existing.id != id => self
                .calls
                .iter()
                .map(|c| c.upstream_index)
                .max()
                .unwrap_or(0)
                .saturating_add(1),
            _ => position,
        }
    }

    fn tool_piece(
        &mut self,
        upstream_index: u64,
        id: Option<&str>,
        name: &str,
        args: &str,
        out: &mut Vec<Event>,
    ) {
        self.saw_content = true;
        let position = match self
            .calls
            .iter()
            .position(|c| c.upstream_index == upstream_index)
        {
            Some(position) => position,
            None => {
                self.calls.push(CallState {
                    upstream_index,
                    id: String::new(),
                    name: String::new(),
                    announced: false,
                    pending_args: String::new(),
                });
                self.calls.len() - 1
            }
        };
        let index = position as u32;
        let Some(call) = self.calls.get_mut(position) else {
            return;
        };
        if call.id.is_empty()
            && let Some(id) = id
        {
            call.id = id.to_owned();
        }
        // Names are never concatenated: llama.cpp repeats the full name on every piece.
        if call.name.is_empty() && !name.is_empty() {
            call.name = name.to_owned();
        }
        if !call.announced && !call.name.is_empty() {
            call.announced = true;
            out.push(Event::ToolCallStart {
                index,
                id: call_id(&call.id, index),
                name: call.name.clone(),
            });
            if !call.pending_args.is_empty() {
                out.push(Event::ToolCallArgsDelta {
                    index,
                    delta: std::mem::take(&mut call.pending_args),
                });
            }
        }
        if args.is_empty() {
            return;
        }
        if call.announced {
            out.push(Event::ToolCallArgsDelta {
                index,
                delta: args.to_owned(),
            });
        } else {
            call.pending_args.push_str(args);
        }
    }

    /// Calls whose name never arrived are announced with an empty name at the end rather than
    /// lost: the agent can still answer them with an error.
    fn flush_unannounced(&mut self, out: &mut Vec<Event>) {
        for (position, call) in self.calls.iter_mut().enumerate() {
            if call.announced {
                continue;
            }
            call.announced = true;
            let index = position as u32;
            out.push(Event::ToolCallStart {
                index,
                id: call_id(&call.id, index),
                name: call.name.clone(),
            });
            if !call.pending_args.is_empty() {
                out.push(Event::ToolCallArgsDelta {
                    index,
                    delta: std::mem::take(&mut call.pending_args),
                });
            }
        }
    }

    fn end(&mut self) -> Result<Vec<Event>> {
        if self.ended {
            return Ok(Vec::new());
        }
        self.ended = true;
        let stop = WireError::check_end(self.started, self.stop, self.saw_content)?;
        let mut out = Vec::new();
        self.flush_unannounced(&mut out);
        if let Some(usage) = self.usage.take() {
            out.push(Event::Usage { usage });
        }
        out.push(Event::Finished { stop_reason: stop });
        Ok(out)
    }
}

fn call_id(id: &str, index: u32) -> String {
    if id.is_empty() {
        format!("call_{index}")
    } else {
        id.to_owned()
    }
}

impl StreamDecoder for Decoder {
    fn feed(&mut self, frame: &Frame) -> Result<Vec<Event>> {
        if self.ended {
            return Ok(Vec::new());
        }
        let data = frame.data.trim();
        if data == "[DONE]" {
            return self.end();
        }
        if data.is_empty() {
            return Ok(Vec::new());
        }
        let chunk = parse_frame_json(data, DIALECT)?;
        if frame.event.as_deref() == Some("error") {
            return Err(upstream_error(&chunk));
        }
        let mut out = Vec::new();
        self.chunk(&chunk, &mut out)?;
        Ok(out)
    }

    fn finish(&mut self) -> Result<Vec<Event>> {
        self.end()
    }
}
