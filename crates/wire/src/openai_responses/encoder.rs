//! Canonical events → Responses SSE, framed exactly as OpenAI does: `event: <type>` plus a
//! `data:` JSON carrying the same `type` and a `sequence_number` on every event; items are
//! announced with `response.output_item.added` and closed with `response.output_item.done`
//! (message items also get `content_part.added`/`done`, reasoning items a summary part);
//! reasoning becomes a `reasoning` item with `reasoning_summary_text` deltas; the stream ends
//! with `response.completed` (or `response.incomplete` for a length or content-filter stop)
//! carrying the full response object with usage. No `[DONE]` (OpenAI sends none).
//!
//! The pieces of an answer (text, reasoning and argument deltas) are written from borrowing
//! structs; the once-per-item frames keep their JSON values. Both go through [`frame`], which
//! writes `type` first and `sequence_number` last without building another tree.

use serde::Serialize;
use serde_json::{Value, json};

use super::{
    function_call_item, item_id, message_item, reasoning_item, response_object, status_for,
};
use crate::{Event, Frame, StreamEncoder, Usage};

#[derive(Debug)]
enum ItemKind {
    Message,
    Reasoning {
        signature: Option<String>,
    },
    FunctionCall {
        tool: u32,
        call_id: String,
        name: String,
    },
}

#[derive(Debug)]
struct Item {
    output_index: usize,
    id: String,
    kind: ItemKind,
    /// Text (message, reasoning) or arguments (function call) so far.
    text: String,
    open: bool,
}

#[derive(Debug)]
pub struct Encoder {
    id: String,
    model: String,
    created_at: u64,
    sequence: u64,
    started: bool,
    done: bool,
    items: Vec<Item>,
    usage: Option<Usage>,
}

impl Encoder {
    pub fn new(id: &str, model: &str) -> Self {
        Self {
            id: id.to_owned(),
            model: model.to_owned(),
            created_at: 0,
            sequence: 0,
            started: false,
            done: false,
            items: Vec::new(),
            usage: None,
        }
    }

    /// Unix seconds for `created_at` (the codec has no clock; default 0).
    pub fn with_created_at(mut self, created_at: u64) -> Self {
        self.created_at = created_at;
        self
    }

    fn ensure_started(&mut self, out: &mut Vec<Frame>) {
        if self.started {
            return;
        }
        self.started = true;
        let response = response_object(
            &self.id,
            &self.model,
            self.created_at,
            "in_progress",
            Value::Null,
            Vec::new(),
            None,
        );
        let created = frame(
            &mut self.sequence,
            "response.created",
            Envelope {
                response: &response,
            },
        );
        out.push(created);
        let progress = frame(
            &mut self.sequence,
            "response.in_progress",
            Envelope {
                response: &response,
            },
        );
        out.push(progress);
    }

    fn item_value(item: &Item, status: &str) -> Value {
        match &item.kind {
            ItemKind::Message => message_item(&item.id, &item.text, status),
            ItemKind::Reasoning { signature } => {
                reasoning_item(&item.id, &item.text, signature.as_deref())
            }
            ItemKind::FunctionCall { call_id, name, .. } => {
                function_call_item(&item.id, call_id, name, &item.text, status)
            }
        }
    }

    fn close_all(&mut self, out: &mut Vec<Frame>) {
        for position in 0..self.items.len() {
            self.close(position, out);
        }
    }

    fn close(&mut self, position: usize, out: &mut Vec<Frame>) {
        let Some(item) = self.items.get_mut(position) else {
            return;
        };
        if !item.open {
            return;
        }
        item.open = false;
        let (index, id, text) = (item.output_index, item.id.clone(), item.text.clone());
        let done_item = Self::item_value(item, "completed");
        match &item.kind {
            ItemKind::Message => {
                let part = json!({ "type": "output_text", "text": text, "annotations": [] });
                let f = frame(
                    &mut self.sequence,
                    "response.output_text.done",
                    json!({
                        "item_id": id, "output_index": index, "content_index": 0, "text": text, "logprobs": [],
                    }),
                );
                out.push(f);
                let f = frame(
                    &mut self.sequence,
                    "response.content_part.done",
                    json!({
                        "item_id": id, "output_index": index, "content_index": 0, "part": part,
                    }),
                );
                out.push(f);
            }
            ItemKind::Reasoning { .. } => {
                if !text.is_empty() {
                    let f = frame(
                        &mut self.sequence,
                        "response.reasoning_summary_text.done",
                        json!({
                            "item_id": id, "output_index": index, "summary_index": 0, "text": text,
                        }),
                    );
                    out.push(f);
                    let f = frame(
                        &mut self.sequence,
                        "response.reasoning_summary_part.done",
                        json!({
                            "item_id": id, "output_index": index, "summary_index": 0,
                            "part": { "type": "summary_text", "text": text },
                        }),
                    );
                    out.push(f);
                }
            }
            ItemKind::FunctionCall { name, .. } => {
                let name = name.clone();
                let f = frame(
                    &mut self.sequence,
                    "response.function_call_arguments.done",
                    json!({
                        "item_id": id, "output_index": index, "name": name, "arguments": text,
                    }),
                );
                out.push(f);
            }
        }
        let f = frame(
            &mut self.sequence,
            "response.output_item.done",
            json!({ "output_index": index, "item": done_item }),
        );
        out.push(f);
    }

    /// Opens a new item (closing open ones, except that consecutive function calls stay open
    /// so their argument pieces may interleave by index).
    fn open(&mut self, kind: ItemKind, out: &mut Vec<Frame>) -> usize {
        let keep_calls = matches!(kind, ItemKind::FunctionCall { .. });
        for position in 0..self.items.len() {
            let is_call = matches!(self.items[position].kind, ItemKind::FunctionCall { .. });
            if !(keep_calls && is_call) {
                self.close(position, out);
            }
        }
        let output_index = self.items.len();
        let prefix = match kind {
            ItemKind::Message => "msg",
            ItemKind::Reasoning { .. } => "rs",
            ItemKind::FunctionCall { .. } => "fc",
        };
        let item = Item {
            output_index,
            id: item_id(prefix, &self.id, output_index),
            kind,
            text: String::new(),
            open: true,
        };
        let added = Self::item_value(&item, "in_progress");
        let id = item.id.clone();
        let is_message = matches!(item.kind, ItemKind::Message);
        let is_reasoning = matches!(item.kind, ItemKind::Reasoning { .. });
        let added = match (&item.kind, added) {
            // Announced empty, as OpenAI does: content arrives through deltas.
            (ItemKind::Message, mut value) => {
                value["content"] = json!([]);
                value
            }
            (_, value) => value,
        };
        self.items.push(item);
        let f = frame(
            &mut self.sequence,
            "response.output_item.added",
            json!({ "output_index": output_index, "item": added }),
        );
        out.push(f);
        if is_message {
            let f = frame(
                &mut self.sequence,
                "response.content_part.added",
                json!({
                    "item_id": id, "output_index": output_index, "content_index": 0,
                    "part": { "type": "output_text", "text": "", "annotations": [] },
                }),
            );
            out.push(f);
        }
        if is_reasoning {
            let f = frame(
                &mut self.sequence,
                "response.reasoning_summary_part.added",
                json!({
                    "item_id": id, "output_index": output_index, "summary_index": 0,
                    "part": { "type": "summary_text", "text": "" },
                }),
            );
            out.push(f);
        }
        self.items.len() - 1
    }

    /// The open item of this kind that new content extends, if the last item is one.
    fn current(&self, message: bool) -> Option<usize> {
        let last = self.items.len().checked_sub(1)?;
        let item = &self.items[last];
        let fits = match item.kind {
            ItemKind::Message => message,
            ItemKind::Reasoning { ref signature } => !message && signature.is_none(),
            ItemKind::FunctionCall { .. } => false,
        };
        (item.open && fits).then_some(last)
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
            Event::TextDelta { text } | Event::ReasoningDelta { text } => {
                self.ensure_started(&mut out);
                if text.is_empty() {
                    return out;
                }
                let message = matches!(event, Event::TextDelta { .. });
                let position = match self.current(message) {
                    Some(position) => position,
                    None if message => self.open(ItemKind::Message, &mut out),
                    None => self.open(ItemKind::Reasoning { signature: None }, &mut out),
                };
                let item = &mut self.items[position];
                item.text.push_str(text);
                let (item_id, output_index) = (item.id.as_str(), item.output_index);
                let f = if message {
                    let body = TextDelta {
                        item_id,
                        output_index,
                        content_index: 0,
                        delta: text,
                        logprobs: [],
                    };
                    frame(&mut self.sequence, "response.output_text.delta", &body)
                } else {
                    let body = SummaryDelta {
                        item_id,
                        output_index,
                        summary_index: 0,
                        delta: text,
                    };
                    frame(
                        &mut self.sequence,
                        "response.reasoning_summary_text.delta",
                        &body,
                    )
                };
                out.push(f);
            }
            Event::ReasoningSignature { signature } => {
                self.ensure_started(&mut out);
                let position = match self.current(false) {
                    Some(position) => position,
                    None => self.open(ItemKind::Reasoning { signature: None }, &mut out),
                };
                self.items[position].kind = ItemKind::Reasoning {
                    signature: Some(signature.clone()),
                };
                // The signature seals the reasoning item, as on Anthropic's wire.
                self.close(position, &mut out);
            }
            Event::ToolCallStart { index, id, name } => {
                self.ensure_started(&mut out);
                let kind = ItemKind::FunctionCall {
                    tool: *index,
                    call_id: id.clone(),
                    name: name.clone(),
                };
                self.open(kind, &mut out);
            }
            Event::ToolCallArgsDelta { index, delta } => {
                self.ensure_started(&mut out);
                let found = self.items.iter().rposition(
                    |i| matches!(i.kind, ItemKind::FunctionCall { tool, .. } if tool == *index),
                );
                let Some(position) = found else {
                    return out;
                };
                if delta.is_empty() {
                    return out;
                }
                let item = &mut self.items[position];
                item.text.push_str(delta);
                let body = ArgumentsDelta {
                    item_id: &item.id,
                    output_index: item.output_index,
                    delta,
                };
                let f = frame(
                    &mut self.sequence,
                    "response.function_call_arguments.delta",
                    &body,
                );
                out.push(f);
            }
            Event::Usage { usage } => self.usage = Some(*usage),
            Event::Notice { .. } => {}
            Event::Finished { stop_reason } => {
                self.ensure_started(&mut out);
                self.close_all(&mut out);
                self.done = true;
                let (status, incomplete) = status_for(*stop_reason);
                let output = self
                    .items
                    .iter()
                    .map(|item| Self::item_value(item, "completed"))
                    .collect();
                let response = response_object(
                    &self.id,
                    &self.model,
                    self.created_at,
                    status,
                    incomplete,
                    output,
                    self.usage.as_ref(),
                );
                let kind = if status == "completed" {
                    "response.completed"
                } else {
                    "response.incomplete"
                };
                let f = frame(
                    &mut self.sequence,
                    kind,
                    Envelope {
                        response: &response,
                    },
                );
                out.push(f);
            }
        }
        out
    }

    fn fail(&mut self, message: &str, code: &str) -> Vec<Frame> {
        if self.done {
            return Vec::new();
        }
        let mut out = Vec::new();
        self.ensure_started(&mut out);
        self.done = true;
        let mut response = response_object(
            &self.id,
            &self.model,
            self.created_at,
            "failed",
            Value::Null,
            Vec::new(),
            self.usage.as_ref(),
        );
        response.error = Some(json!({ "code": code, "message": message }));
        let f = frame(
            &mut self.sequence,
            "response.failed",
            Envelope {
                response: &response,
            },
        );
        out.push(f);
        out
    }

    fn finish(&mut self) -> Vec<Frame> {
        self.done = true;
        Vec::new()
    }
}

/// One Responses SSE frame: `event: <kind>` and data with `type` first, the body's fields, and
/// the stream's next `sequence_number` last (OpenAI's order).
fn frame(sequence: &mut u64, kind: &str, body: impl Serialize) -> Frame {
    #[derive(Serialize)]
    struct Framed<'a, T> {
        #[serde(rename = "type")]
        kind: &'a str,
        #[serde(flatten)]
        body: T,
        sequence_number: u64,
    }
    let framed = Framed {
        kind,
        body,
        sequence_number: *sequence,
    };
    *sequence += 1;
    // Writing these bodies to a string cannot fail: no maps with non-string keys.
    Frame::named(kind, serde_json::to_string(&framed).unwrap_or_default())
}

/// `response.output_text.delta`.
#[derive(Serialize)]
struct TextDelta<'a> {
    item_id: &'a str,
    output_index: usize,
    content_index: u32,
    delta: &'a str,
    logprobs: [(); 0],
}

/// `response.reasoning_summary_text.delta`.
#[derive(Serialize)]
struct SummaryDelta<'a> {
    item_id: &'a str,
    output_index: usize,
    summary_index: u32,
    delta: &'a str,
}

/// `response.function_call_arguments.delta`.
#[derive(Serialize)]
struct ArgumentsDelta<'a> {
    item_id: &'a str,
    output_index: usize,
    delta: &'a str,
}

/// The frames that carry the whole response object (`response.created`, `…completed`, …).
#[derive(Serialize)]
struct Envelope<'a, T> {
    response: &'a T,
}
