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

use super::chunk::{WireChunk, WireDelta, WireFunction};
use super::{DIALECT, parse_finish_reason};
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

    fn chunk(&mut self, chunk: WireChunk<'_>, out: &mut Vec<Event>) {
        if let Some(usage) = &chunk.usage {
            self.usage = Some(usage.into());
        }
        if !self.started {
            self.started = true;
            out.push(Event::Started {
                id: chunk.id.as_deref().unwrap_or_default().to_owned(),
                model: chunk.model.as_deref().unwrap_or_default().to_owned(),
            });
        }
        let Some(choice) = chunk.into_choice() else {
            return;
        };
        if let Some(delta) = &choice.delta {
            self.delta(delta, out);
        }
        if let Some(reason) = &choice.finish_reason {
            self.flush_unannounced(out);
            self.stop = Some(parse_finish_reason(reason));
        }
    }

    fn delta(&mut self, delta: &WireDelta<'_>, out: &mut Vec<Event>) {
        if let Some(text) = delta.reasoning() {
            self.saw_content = true;
            out.push(Event::ReasoningDelta {
                text: text.to_owned(),
            });
        }
        if let Some(text) = &delta.content
            && !text.is_empty()
        {
            self.saw_content = true;
            out.push(Event::TextDelta {
                text: text.clone().into_owned(),
            });
        }
        let calls = delta.tool_calls.as_deref().unwrap_or_default();
        if !calls.is_empty() {
            self.saw_tool_calls = true;
        }
        for (position, call) in calls.iter().enumerate() {
            let function = call.function.as_ref();
            let name = function.and_then(|f| f.name.as_deref()).unwrap_or_default();
            let args = function.map(WireFunction::arguments).unwrap_or_default();
            let id = call.id.as_deref();
            let index = match call.index {
                Some(index) => index,
                None => self.index_without_field(position, id),
            };
            self.tool_piece(index, id, name, &args, out);
        }
        if !self.saw_tool_calls
            && let Some(function) = &delta.function_call
        {
            let name = function.name.as_deref().unwrap_or_default();
            self.tool_piece(0, None, name, &function.arguments(), out);
        }
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

impl Decoder {
    /// One frame; `fast` lets the well-formed shape skip the path-tracking read (tests turn
    /// it off to compare the two reads).
    fn feed_frame(&mut self, frame: &Frame, fast: bool) -> Result<Vec<Event>> {
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
        let mut out = Vec::new();
        let error_event = frame.event.as_deref() == Some("error");
        if fast
            && !error_event
            && let Some(chunk) = WireChunk::parse(data)
        {
            self.chunk(chunk, &mut out);
            return Ok(out);
        }
        let value = parse_frame_json(data, DIALECT)?;
        if error_event || value.get("error").is_some_and(|e| !e.is_null()) {
            return Err(upstream_error(&value));
        }
        self.chunk(WireChunk::from_at(&At::root(&value, DIALECT))?, &mut out);
        Ok(out)
    }
}

impl StreamDecoder for Decoder {
    fn feed(&mut self, frame: &Frame) -> Result<Vec<Event>> {
        self.feed_frame(frame, true)
    }

    fn finish(&mut self) -> Result<Vec<Event>> {
        self.end()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::sse::SseParser;

    /// Feeds `frames` to two decoders, one with the fast read and one without; they must agree
    /// frame by frame. Returns how many frames the fast read took.
    fn both_reads_agree(frames: &[Frame]) -> usize {
        let (mut fast, mut full) = (Decoder::new(), Decoder::new());
        let mut taken = 0;
        for frame in frames {
            let data = frame.data.trim();
            if data != "[DONE]" && WireChunk::parse(data).is_some() && frame.event.is_none() {
                taken += 1;
            }
            let a = fast.feed_frame(frame, true);
            let b = full.feed_frame(frame, false);
            assert_eq!(a, b, "frame {:?}", frame.data);
        }
        assert_eq!(fast.finish(), full.finish());
        taken
    }

    fn frames_of(body: &[u8]) -> Vec<Frame> {
        let mut parser = SseParser::new();
        let mut frames = parser.push(body);
        frames.extend(parser.finish());
        frames
    }

    #[test]
    fn the_fast_read_agrees_with_the_path_tracking_read_on_every_fixture() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut bodies = Vec::new();
        for dir in ["openai_chat", "recorded"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                let chat_stream = name.ends_with(".sse")
                    || (name.ends_with("stream.body") && name.contains("chat"));
                if chat_stream {
                    bodies.push(std::fs::read(&path).unwrap());
                }
            }
        }
        assert!(bodies.len() >= 10, "{} chat streams", bodies.len());
        let taken: usize = bodies.iter().map(|b| both_reads_agree(&frames_of(b))).sum();
        assert!(taken > 50, "the fast read took {taken} frames");
    }

    #[test]
    fn odd_frames_read_the_same_either_way() {
        let frames = [
            // Escapes, a cached-token count, a reasoning field after an empty one.
            r#"{"id":"c\"1","model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"a\nb \u00e9","reasoning_content":"","reasoning":"why"}}],"usage":{"prompt_tokens":3,"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":2}}}"#,
            // Arguments as an object; a call without an index; a null function name.
            r#"{"choices":[{"delta":{"tool_calls":[{"id":"t1","function":{"name":"read","arguments":{"path":"a"}}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"id":"t1","function":{"name":null,"arguments":"x"}}]}}]}"#,
            // Lenient only: an index that is a string, a reasoning field that is an object,
            // counts as floats. The fast read refuses these and the full read takes them.
            r#"{"choices":[{"index":"0","delta":{"content":"c","reasoning":{"x":1}}}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":3.0,"completion_tokens":4}}"#,
            // A second choice is ignored even when it is odd.
            r#"{"choices":[{"index":1,"delta":{"content":5}},{"index":0,"delta":{"content":"d"},"finish_reason":"stop"}]}"#,
            "[DONE]",
        ];
        let frames: Vec<Frame> = frames.iter().map(|f| Frame::data(*f)).collect();
        assert_eq!(both_reads_agree(&frames), 3);
    }

    #[test]
    fn refusals_name_the_path_whichever_read_saw_them_first() {
        for (data, path) in [
            (
                r#"{"choices":[{"delta":{"content":5}}]}"#,
                "$.choices[0].delta.content",
            ),
            (r#"{"choices":{"a":1}}"#, "$.choices"),
            (
                r#"{"choices":[{"delta":{"tool_calls":[{"index":-1}]}}]}"#,
                "$.choices[0].delta.tool_calls[0].index",
            ),
        ] {
            let error = Decoder::new().feed(&Frame::data(data)).unwrap_err();
            assert!(error.to_string().contains(path), "{data}: {error}");
        }
        let error = Decoder::new()
            .feed(&Frame::data(r#"{"error":{"message":"boom"}}"#))
            .unwrap_err();
        assert!(matches!(error, WireError::Upstream { .. }), "{error:?}");
    }
}
