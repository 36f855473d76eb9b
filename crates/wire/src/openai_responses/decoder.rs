//! Responses SSE stream → canonical events.
//!
//! Works with or without `event:` lines (the type is read from the JSON `type` field; LiteLLM
//! sends only `data:` lines), with or without `sequence_number`, and ignores a trailing
//! `data: [DONE]`. Text and arguments are taken from deltas; a `.done` event or
//! `output_item.done` only fills in content that no delta carried (some servers skip deltas),
//! and a terminal response whose items were never streamed is replayed from its `output`.

use std::collections::HashMap;

use super::{DIALECT, decode_assistant_item, decode_usage, stop_from};
use crate::json_at::{At, Result, typed_frame};
use crate::upstream_error::upstream_error;
use crate::{ContentBlock, Event, Frame, StreamDecoder, WireError};

#[derive(Debug, Default)]
pub struct Decoder {
    started: bool,
    ended: bool,
    saw_content: bool,
    saw_items: bool,
    saw_tool_call: bool,
    items: HashMap<u64, ItemState>,
    item_ids: HashMap<String, u64>,
    next_tool: u32,
}

#[derive(Debug, Default)]
struct ItemState {
    tool_index: Option<u32>,
    got_content: bool,
}

impl Decoder {
    pub fn new() -> Self {
        Self::default()
    }

    fn started(&mut self, response: Option<&At<'_>>, out: &mut Vec<Event>) -> Result<()> {
        if self.started {
            return Ok(());
        }
        self.started = true;
        let (id, model) = match response {
            Some(r) => (r.opt_str("id")?, r.opt_str("model")?),
            None => (None, None),
        };
        out.push(Event::Started {
            id: id.unwrap_or_default().to_owned(),
            model: model.unwrap_or_default().to_owned(),
        });
        Ok(())
    }

    /// The output index an event refers to (by `output_index`, else by `item_id`).
    fn output_index(&self, at: &At<'_>) -> Result<u64> {
        if let Some(index) = at.opt_u64("output_index")? {
            return Ok(index);
        }
        if let Some(id) = at.opt_str("item_id")?
            && let Some(index) = self.item_ids.get(id)
        {
            return Ok(*index);
        }
        Ok(self.items.keys().max().copied().unwrap_or(0))
    }

    fn item(&mut self, index: u64) -> &mut ItemState {
        self.saw_items = true;
        self.items.entry(index).or_default()
    }

    fn start_call(&mut self, index: u64, call_id: &str, name: &str, out: &mut Vec<Event>) -> u32 {
        if let Some(tool) = self.items.get(&index).and_then(|i| i.tool_index) {
            return tool;
        }
        let tool = self.next_tool;
        self.next_tool += 1;
        self.saw_tool_call = true;
        self.saw_content = true;
        self.item(index).tool_index = Some(tool);
        out.push(Event::ToolCallStart {
            index: tool,
            id: call_id.to_owned(),
            name: name.to_owned(),
        });
        tool
    }

    fn text(&mut self, index: u64, text: &str, reasoning: bool, out: &mut Vec<Event>) {
        self.item(index).got_content = true;
        if text.is_empty() {
            return;
        }
        self.saw_content = true;
        out.push(if reasoning {
            Event::ReasoningDelta {
                text: text.to_owned(),
            }
        } else {
            Event::TextDelta {
                text: text.to_owned(),
            }
        });
    }

    fn args(&mut self, index: u64, item_id: &str, delta: &str, out: &mut Vec<Event>) {
        let tool = self.start_call(index, item_id, "", out);
        self.item(index).got_content = true;
        if !delta.is_empty() {
            out.push(Event::ToolCallArgsDelta {
                index: tool,
                delta: delta.to_owned(),
            });
        }
    }

    /// Emits the content of a whole item that no delta carried.
    fn whole_item(&mut self, index: u64, item: &At<'_>, out: &mut Vec<Event>) -> Result<()> {
        let mut blocks = Vec::new();
        decode_assistant_item(item, &mut blocks)?;
        for block in blocks {
            match block {
                ContentBlock::Text { text } => self.text(index, &text, false, out),
                ContentBlock::Reasoning {
                    text, signature, ..
                } => {
                    self.text(index, &text, true, out);
                    if let Some(signature) = signature {
                        out.push(Event::ReasoningSignature { signature });
                    }
                }
                ContentBlock::ToolCall {
                    id,
                    name,
                    arguments,
                } => {
                    let tool = self.start_call(index, &id, &name, out);
                    self.item(index).got_content = true;
                    if !arguments.is_empty() {
                        out.push(Event::ToolCallArgsDelta {
                            index: tool,
                            delta: arguments,
                        });
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn event(&mut self, kind: &str, root: &At<'_>, out: &mut Vec<Event>) -> Result<()> {
        match kind {
            "response.created" | "response.in_progress" | "response.queued" => {
                self.started(root.get("response").as_ref(), out)?;
            }
            "response.output_item.added" => {
                self.started(None, out)?;
                let item = root.req("item")?;
                let index = self.output_index(root)?;
                if let Some(id) = item.opt_str("id")? {
                    self.item_ids.insert(id.to_owned(), index);
                }
                self.item(index);
                if item.kind() == Some("function_call") {
                    let call_id = match item.opt_str("call_id")? {
                        Some(id) => id,
                        None => item.opt_str("id")?.unwrap_or_default(),
                    };
                    let name = item.opt_str("name")?.unwrap_or_default();
                    self.start_call(index, call_id, name, out);
                    let args = item.opt_str("arguments")?.unwrap_or_default();
                    if !args.is_empty() {
                        self.args(index, call_id, args, out);
                    }
                }
            }
            "response.output_text.delta" | "response.refusal.delta" => {
                self.started(None, out)?;
                let index = self.output_index(root)?;
                self.text(index, root.req_str("delta")?, false, out);
            }
            "response.reasoning_text.delta"
            | "response.reasoning_summary_text.delta"
            | "response.reasoning.delta"
            | "response.reasoning_summary.delta" => {
                self.started(None, out)?;
                let index = self.output_index(root)?;
                self.text(index, root.req_str("delta")?, true, out);
            }
            // Summary parts are paragraphs: keep them apart in the joined text.
            "response.reasoning_summary_part.added"
                if root.opt_u64("summary_index")?.unwrap_or(0) > 0 =>
            {
                let index = self.output_index(root)?;
                self.text(index, "\n\n", true, out);
            }
            "response.output_text.done"
            | "response.reasoning_text.done"
            | "response.reasoning_summary_text.done" => {
                let index = self.output_index(root)?;
                let reasoning = kind != "response.output_text.done";
                let got = self.items.get(&index).is_some_and(|i| i.got_content);
                if !got && let Some(text) = root.opt_str("text")? {
                    self.text(index, text, reasoning, out);
                }
            }
            "response.function_call_arguments.delta" => {
                self.started(None, out)?;
                let index = self.output_index(root)?;
                let item_id = root.opt_str("item_id")?.unwrap_or_default();
                self.args(index, item_id, root.req_str("delta")?, out);
            }
            "response.function_call_arguments.done" => {
                let index = self.output_index(root)?;
                let got = self.items.get(&index).is_some_and(|i| i.got_content);
                if !got {
                    let item_id = root.opt_str("item_id")?.unwrap_or_default();
                    let args = root.opt_str("arguments")?.unwrap_or_default();
                    self.args(index, item_id, args, out);
                }
            }
            "response.output_item.done" => {
                self.started(None, out)?;
                let item = root.req("item")?;
                let index = self.output_index(root)?;
                let state = self.items.get(&index);
                let got = state.is_some_and(|i| i.got_content);
                if !got {
                    self.whole_item(index, &item, out)?;
                } else if item.kind() == Some("reasoning")
                    && let Some(signature) = item.opt_str("encrypted_content")?
                {
                    out.push(Event::ReasoningSignature {
                        signature: signature.to_owned(),
                    });
                }
                if let Some(state) = self.items.get_mut(&index) {
                    state.got_content = true;
                }
            }
            "response.completed" | "response.incomplete" => {
                let response = root.req("response")?;
                self.started(Some(&response), out)?;
                if !self.saw_items {
                    // A server that sent no item events: replay the final output.
                    for (index, item) in response.items_at("output")?.iter().enumerate() {
                        self.whole_item(index as u64, item, out)?;
                    }
                }
                if let Some(usage) = response.get("usage") {
                    out.push(Event::Usage {
                        usage: decode_usage(&usage)?,
                    });
                }
                let stop_reason = stop_from(&response, self.saw_tool_call)?;
                out.push(Event::Finished { stop_reason });
                self.ended = true;
            }
            "response.failed" => {
                let error = root
                    .get("response")
                    .and_then(|r| r.get("error"))
                    .or_else(|| root.get("error"));
                return Err(match error {
                    Some(error) => upstream_error(error.value),
                    None => WireError::Upstream {
                        status: None,
                        code: None,
                        message: "response failed".to_owned(),
                    },
                });
            }
            "error" => return Err(upstream_error(root.value)),
            _ => {}
        }
        if out.iter().any(Event::is_content) {
            self.saw_content = true;
        }
        Ok(())
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
        if self.ended {
            return Ok(Vec::new());
        }
        self.ended = true;
        Err(WireError::unfinished(self.saw_content))
    }
}
