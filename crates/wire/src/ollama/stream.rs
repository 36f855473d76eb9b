//! `/api/chat` NDJSON streams, both directions.
//!
//! Decoding: `message.content` → text, `message.thinking` (or `reasoning`) → reasoning,
//! `message.tool_calls` collected from *every* chunk (Ollama sends complete calls, often in a
//! non-final chunk), `done: true` ends with usage from `prompt_eval_count`/`eval_count`;
//! `{"error": "..."}` is an upstream error.
//!
//! Encoding (for `/api/chat` or `/api/generate`, see [`Endpoint`]): one line per text or
//! reasoning delta; tool calls are buffered until complete (Ollama has no argument deltas) and
//! written in one chunk before the next content or the final `done: true` line, which carries
//! `done_reason`, the token counts and, when the server measured them, the timings.

use serde_json::{Value, json};

use super::{
    DIALECT, Durations, EPOCH, Endpoint, answer_object, decode_tool_call, decode_usage,
    parse_done_reason, put_done, tool_call_json,
};
use crate::json_at::{At, Result, parse_frame_json};
use crate::upstream_error::upstream_error;
use crate::{Event, Frame, StreamDecoder, StreamEncoder, Usage, WireError};

#[derive(Debug, Default)]
pub struct Decoder {
    started: bool,
    ended: bool,
    saw_content: bool,
    calls: u32,
}

impl Decoder {
    pub fn new() -> Self {
        Self::default()
    }

    fn line(&mut self, root: &At<'_>, out: &mut Vec<Event>) -> Result<()> {
        if root.value.get("error").is_some_and(|e| !e.is_null()) {
            return Err(upstream_error(root.value));
        }
        if !self.started {
            self.started = true;
            out.push(Event::Started {
                id: String::new(),
                model: root.opt_str("model")?.unwrap_or_default().to_owned(),
            });
        }
        if let Some(message) = root.get("message") {
            let thinking = match message.opt_str("thinking")? {
                Some(t) => Some(t),
                None => message.opt_str("reasoning")?,
            };
            if let Some(text) = thinking.filter(|t| !t.is_empty()) {
                self.saw_content = true;
                out.push(Event::ReasoningDelta {
                    text: text.to_owned(),
                });
            }
            if let Some(text) = message.opt_str("content")?.filter(|t| !t.is_empty()) {
                self.saw_content = true;
                out.push(Event::TextDelta {
                    text: text.to_owned(),
                });
            }
            for call in message.items_at("tool_calls")? {
                let index = self.calls;
                let (id, name, arguments) = decode_tool_call(&call, index as usize)?;
                self.calls += 1;
                self.saw_content = true;
                out.push(Event::ToolCallStart { index, id, name });
                out.push(Event::ToolCallArgsDelta {
                    index,
                    delta: arguments,
                });
            }
        }
        if root.opt_bool("done")? == Some(true) {
            self.ended = true;
            if let Some(usage) = decode_usage(root)? {
                out.push(Event::Usage { usage });
            }
            out.push(Event::Finished {
                stop_reason: parse_done_reason(root.opt_str("done_reason")?, self.calls > 0),
            });
        }
        Ok(())
    }
}

impl StreamDecoder for Decoder {
    fn feed(&mut self, frame: &Frame) -> Result<Vec<Event>> {
        if self.ended {
            return Ok(Vec::new());
        }
        let data = frame.data.trim();
        if data.is_empty() {
            return Ok(Vec::new());
        }
        let value = parse_frame_json(data, DIALECT)?;
        let mut out = Vec::new();
        self.line(&At::root(&value, DIALECT), &mut out)?;
        Ok(out)
    }

    fn finish(&mut self) -> Result<Vec<Event>> {
        if self.ended {
            return Ok(Vec::new());
        }
        self.ended = true;
        Err(WireError::unfinished(self.saw_content))
    }
}

#[derive(Debug)]
pub struct Encoder {
    endpoint: Endpoint,
    model: String,
    created_at: String,
    reasoning: bool,
    done: bool,
    /// Tool calls being assembled: (canonical index, id, name, arguments).
    calls: Vec<(u32, String, String, String)>,
    usage: Option<Usage>,
    durations: Option<Durations>,
}

impl Encoder {
    /// Ollama responses have no id; `id` is accepted for the shared constructor shape.
    pub fn new(_id: &str, model: &str) -> Self {
        Self {
            endpoint: Endpoint::Chat,
            model: model.to_owned(),
            created_at: EPOCH.to_owned(),
            reasoning: true,
            done: false,
            calls: Vec::new(),
            usage: None,
            durations: None,
        }
    }

    /// RFC 3339 time for `created_at` (the codec has no clock).
    pub fn with_created_at(mut self, created_at: &str) -> Self {
        self.created_at = created_at.to_owned();
        self
    }

    /// Lines in `/api/generate`'s shape instead of `/api/chat`'s.
    pub fn with_endpoint(mut self, endpoint: Endpoint) -> Self {
        self.endpoint = endpoint;
        self
    }

    /// Send reasoning as `thinking` (default) or drop it.
    pub fn with_reasoning(mut self, reasoning: bool) -> Self {
        self.reasoning = reasoning;
        self
    }

    /// The timings the final line reports (measured by the server; set before `Finished`).
    pub fn set_durations(&mut self, durations: Durations) {
        self.durations = Some(durations);
    }

    fn line(&self, text: &str, thinking: &str, calls: Vec<Value>) -> Frame {
        let mut body = answer_object(
            self.endpoint,
            &self.model,
            &self.created_at,
            text,
            thinking,
            calls,
        );
        body.insert("done".into(), false.into());
        Frame::data(Value::Object(body).to_string())
    }

    fn flush_calls(&mut self, out: &mut Vec<Frame>) {
        if self.calls.is_empty() {
            return;
        }
        let calls: Vec<Value> = self
            .calls
            .drain(..)
            .map(|(_, id, name, arguments)| tool_call_json(&id, &name, &arguments))
            .collect();
        out.push(self.line("", "", calls));
    }
}

impl StreamEncoder for Encoder {
    fn encode(&mut self, event: &Event) -> Vec<Frame> {
        let mut out = Vec::new();
        if self.done {
            return out;
        }
        match event {
            Event::Started { .. } | Event::ReasoningSignature { .. } | Event::Notice { .. } => {}
            Event::TextDelta { text } => {
                self.flush_calls(&mut out);
                if !text.is_empty() {
                    out.push(self.line(text, "", Vec::new()));
                }
            }
            Event::ReasoningDelta { text } => {
                if self.reasoning && !text.is_empty() {
                    self.flush_calls(&mut out);
                    out.push(self.line("", text, Vec::new()));
                }
            }
            Event::ToolCallStart { index, id, name } => {
                self.calls
                    .push((*index, id.clone(), name.clone(), String::new()));
            }
            Event::ToolCallArgsDelta { index, delta } => {
                if let Some(call) = self.calls.iter_mut().find(|c| c.0 == *index) {
                    call.3.push_str(delta);
                }
            }
            Event::Usage { usage } => self.usage = Some(*usage),
            Event::Finished { stop_reason } => {
                self.flush_calls(&mut out);
                self.done = true;
                let mut body = answer_object(
                    self.endpoint,
                    &self.model,
                    &self.created_at,
                    "",
                    "",
                    Vec::new(),
                );
                put_done(
                    &mut body,
                    *stop_reason,
                    self.usage.as_ref(),
                    self.durations.as_ref(),
                );
                out.push(Frame::data(Value::Object(body).to_string()));
            }
        }
        out
    }

    fn fail(&mut self, message: &str, _code: &str) -> Vec<Frame> {
        if self.done {
            return Vec::new();
        }
        self.done = true;
        vec![Frame::data(json!({ "error": message }).to_string())]
    }

    fn finish(&mut self) -> Vec<Frame> {
        self.done = true;
        Vec::new()
    }
}
