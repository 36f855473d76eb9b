//! Events ⇄ full response. `EventCollector` folds a canonical event stream into a
//! [`Response`] (serving a non-streaming client from a streaming upstream);
//! [`response_to_events`] replays a full response as events (serving a streaming client from a
//! non-streaming answer, or a cached one).
//!
//! Merging rules: consecutive text deltas extend one text block, consecutive reasoning deltas
//! one reasoning block; a signature closes the reasoning block it follows; tool-call argument
//! deltas are routed by `index` (they may interleave); a later `Usage` overrides the fields it
//! carries.

use std::collections::HashMap;

use crate::{ContentBlock, Event, Response, StopReason, Usage, WireError};

#[derive(Debug, Default)]
pub struct EventCollector {
    id: String,
    model: String,
    content: Vec<ContentBlock>,
    /// Canonical tool index → position of its block in `content`.
    calls: HashMap<u32, usize>,
    /// The last reasoning block was closed by a signature: the next delta opens a new block.
    reasoning_sealed: bool,
    usage: Usage,
    stop: Option<StopReason>,
    any_event: bool,
}

impl EventCollector {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, event: &Event) {
        self.any_event = true;
        match event {
            Event::Started { id, model } => {
                self.id = id.clone();
                self.model = model.clone();
            }
            Event::TextDelta { text } => {
                if let Some(ContentBlock::Text { text: last }) = self.content.last_mut() {
                    last.push_str(text);
                } else if !text.is_empty() {
                    self.content.push(ContentBlock::Text { text: text.clone() });
                }
            }
            Event::ReasoningDelta { text } => {
                if !self.reasoning_sealed
                    && let Some(ContentBlock::Reasoning {
                        text: last,
                        redacted: false,
                        ..
                    }) = self.content.last_mut()
                {
                    last.push_str(text);
                } else if !text.is_empty() {
                    self.reasoning_sealed = false;
                    self.content.push(ContentBlock::Reasoning {
                        text: text.clone(),
                        signature: None,
                        redacted: false,
                    });
                }
            }
            Event::ReasoningSignature { signature } => {
                let last_reasoning = self.content.iter_mut().rev().find_map(|b| match b {
                    ContentBlock::Reasoning { signature: s, .. } => Some(s),
                    _ => None,
                });
                match last_reasoning {
                    Some(slot @ None) => *slot = Some(signature.clone()),
                    _ => self.content.push(ContentBlock::Reasoning {
                        text: String::new(),
                        signature: Some(signature.clone()),
                        redacted: false,
                    }),
                }
                self.reasoning_sealed = true;
            }
            Event::ToolCallStart { index, id, name } => {
                self.calls.insert(*index, self.content.len());
                self.content.push(ContentBlock::ToolCall {
                    id: id.clone(),
                    name: name.clone(),
                    arguments: String::new(),
                });
            }
            Event::ToolCallArgsDelta { index, delta } => {
                let position = match self.calls.get(index) {
                    Some(position) => *position,
                    None => {
                        // Arguments before any start: keep them under a synthetic call.
                        self.calls.insert(*index, self.content.len());
                        self.content.push(ContentBlock::ToolCall {
                            id: format!("call_{index}"),
                            name: String::new(),
                            arguments: String::new(),
                        });
                        self.content.len() - 1
                    }
                };
                if let Some(ContentBlock::ToolCall { arguments, .. }) =
                    self.content.get_mut(position)
                {
                    arguments.push_str(delta);
                }
            }
            Event::Usage { usage } => {
                let merged = &mut self.usage;
                merged.input_tokens = usage.input_tokens.or(merged.input_tokens);
                merged.output_tokens = usage.output_tokens.or(merged.output_tokens);
                merged.cache_read_tokens = usage.cache_read_tokens.or(merged.cache_read_tokens);
                merged.cache_write_tokens = usage.cache_write_tokens.or(merged.cache_write_tokens);
            }
            Event::Finished { stop_reason } => self.stop = Some(*stop_reason),
            // Not answer content: the caller reads notices off the stream itself.
            Event::Notice { .. } => {}
        }
    }

    /// True once a `Finished` event was pushed.
    pub fn is_finished(&self) -> bool {
        self.stop.is_some()
    }

    /// The collected response. `EmptyStream` when no event came, `Truncated` when the stream
    /// never said why it stopped.
    pub fn finish(self) -> Result<Response, WireError> {
        if !self.any_event {
            return Err(WireError::EmptyStream);
        }
        let Some(stop_reason) = self.stop else {
            return Err(WireError::Truncated);
        };
        Ok(Response {
            id: self.id,
            model: self.model,
            content: self.content,
            stop_reason,
            usage: self.usage,
        })
    }
}

/// Replays a full response as a well-formed event stream. Images, tool results and redacted
/// reasoning have no stream event and are skipped; usage is sent when any count is known.
pub fn response_to_events(response: &Response) -> Vec<Event> {
    let mut events = vec![Event::Started {
        id: response.id.clone(),
        model: response.model.clone(),
    }];
    let mut tool_index = 0u32;
    for block in &response.content {
        match block {
            ContentBlock::Text { text } => events.push(Event::TextDelta { text: text.clone() }),
            ContentBlock::Reasoning {
                text,
                signature,
                redacted: false,
            } => {
                if !text.is_empty() {
                    events.push(Event::ReasoningDelta { text: text.clone() });
                }
                if let Some(signature) = signature {
                    events.push(Event::ReasoningSignature {
                        signature: signature.clone(),
                    });
                }
            }
            ContentBlock::ToolCall {
                id,
                name,
                arguments,
            } => {
                events.push(Event::ToolCallStart {
                    index: tool_index,
                    id: id.clone(),
                    name: name.clone(),
                });
                if !arguments.is_empty() {
                    events.push(Event::ToolCallArgsDelta {
                        index: tool_index,
                        delta: arguments.clone(),
                    });
                }
                tool_index += 1;
            }
            ContentBlock::Reasoning { redacted: true, .. }
            | ContentBlock::Image { .. }
            | ContentBlock::ToolResult { .. } => {}
        }
    }
    if response.usage != Usage::default() {
        events.push(Event::Usage {
            usage: response.usage,
        });
    }
    events.push(Event::Finished {
        stop_reason: response.stop_reason,
    });
    events
}
