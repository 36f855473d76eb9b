//! The OpenAI Responses API as OpenAI writes it: a `response` object with typed output items
//! (reasoning, message, function_call), and a stream of typed events, each with an `event:`
//! line and a `sequence_number`, from `response.created` to `response.completed` (or
//! `response.incomplete`). Reasoning uses the open-weight servers' form (`reasoning_text`
//! content and `response.reasoning_text.delta`). The `responses_data_only` quirk writes
//! LiteLLM's bridge form instead: `data:` lines only, no sequence numbers, `[DONE]` last.

use bytes::Bytes;
use serde_json::{Map, Value, json};

use crate::answer::{Answer, Stop};
use crate::dialect::openai_chat::call_id;
use crate::script::{Plan, Quirk};
use crate::ticks::{StreamTicks, Ticks};

fn resp_id(a: &Answer) -> String {
    format!("resp_mock{}", a.seq)
}
fn msg_id(a: &Answer) -> String {
    format!("msg_mock{}", a.seq)
}
fn rs_id(a: &Answer) -> String {
    format!("rs_mock{}", a.seq)
}
fn fc_id(a: &Answer) -> String {
    format!("fc_mock{}", a.seq)
}

fn usage(a: &Answer) -> Value {
    json!({
        "input_tokens": a.prompt_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": a.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": a.reasoning.len()},
        "total_tokens": a.total_tokens(),
    })
}

fn reasoning_item(a: &Answer) -> Value {
    json!({"id": rs_id(a), "type": "reasoning", "summary": [],
           "content": [{"type": "reasoning_text", "text": a.reasoning.full()}]})
}

fn text_part(text: &str) -> Value {
    json!({"type": "output_text", "text": text, "annotations": []})
}

fn message_item(a: &Answer, status: &str) -> Value {
    json!({"id": msg_id(a), "type": "message", "status": status, "role": "assistant",
           "content": [text_part(a.text.full())]})
}

fn function_call_item(a: &Answer, name: &str, arguments: &str, status: &str) -> Value {
    json!({"id": fc_id(a), "type": "function_call", "status": status, "call_id": call_id(a),
           "name": name, "arguments": arguments})
}

fn output(a: &Answer) -> Vec<Value> {
    let mut out = Vec::with_capacity(3);
    if !a.reasoning.is_empty() {
        out.push(reasoning_item(a));
    }
    if !a.text.is_empty() {
        out.push(message_item(a, item_status(a)));
    }
    if let Some(tc) = &a.tool_call {
        out.push(function_call_item(
            a,
            &tc.name,
            tc.argument_pieces.full(),
            "completed",
        ));
    }
    out
}

fn item_status(a: &Answer) -> &'static str {
    if a.stop == Stop::MaxTokens {
        "incomplete"
    } else {
        "completed"
    }
}

fn response(a: &Answer, plan: &Plan, status: &str, output: Vec<Value>, final_: bool) -> Value {
    let incomplete =
        (final_ && a.stop == Stop::MaxTokens).then(|| json!({"reason": "max_output_tokens"}));
    json!({
        "id": resp_id(a),
        "object": "response",
        "created_at": a.created,
        "status": status,
        "error": null,
        "incomplete_details": incomplete,
        "model": a.model,
        "output": output,
        "usage": if final_ && plan.usage { usage(a) } else { Value::Null },
    })
}

fn final_status(a: &Answer) -> &'static str {
    if a.stop == Stop::MaxTokens {
        "incomplete"
    } else {
        "completed"
    }
}

/// Non-streaming body.
pub fn body(a: &Answer, plan: &Plan) -> Value {
    response(a, plan, final_status(a), output(a), true)
}

struct EventWriter {
    ticks: Ticks,
    seq: u64,
    data_only: bool,
}

impl EventWriter {
    /// Writes `{"type": kind, "sequence_number": n, ...fields}` (the field order OpenAI uses).
    fn event(&mut self, kind: &str, fields: Value) {
        let mut data = Map::with_capacity(8);
        data.insert("type".to_owned(), Value::from(kind));
        if !self.data_only {
            data.insert("sequence_number".to_owned(), Value::from(self.seq));
            self.seq += 1;
        }
        if let Value::Object(fields) = fields {
            data.extend(fields);
        }
        let event = (!self.data_only).then_some(kind);
        self.ticks.sse(event, &data);
    }
}

/// A normal event stream.
pub fn stream(a: &Answer, plan: &Plan) -> StreamTicks {
    let data_only = plan.has(Quirk::ResponsesDataOnly);
    let mut w = EventWriter {
        ticks: Ticks::default(),
        seq: 0,
        data_only,
    };
    let in_progress = response(a, plan, "in_progress", Vec::new(), false);
    w.event("response.created", json!({"response": in_progress}));
    w.event("response.in_progress", json!({"response": in_progress}));
    let mut index = 0usize;
    if !a.reasoning.is_empty() {
        let item_id = rs_id(a);
        w.event(
            "response.output_item.added",
            json!({"output_index": index,
                   "item": {"id": item_id, "type": "reasoning", "summary": [], "content": []}}),
        );
        for piece in a.reasoning.iter() {
            w.event(
                "response.reasoning_text.delta",
                json!({"item_id": item_id, "output_index": index, "content_index": 0, "delta": piece}),
            );
            w.ticks.tick();
        }
        w.event(
            "response.reasoning_text.done",
            json!({"item_id": item_id, "output_index": index, "content_index": 0,
                   "text": a.reasoning.full()}),
        );
        w.event(
            "response.output_item.done",
            json!({"output_index": index, "item": reasoning_item(a)}),
        );
        index += 1;
    }
    if !a.text.is_empty() {
        let item_id = msg_id(a);
        w.event(
            "response.output_item.added",
            json!({"output_index": index,
                   "item": {"id": item_id, "type": "message", "status": "in_progress",
                            "role": "assistant", "content": []}}),
        );
        w.event(
            "response.content_part.added",
            json!({"item_id": item_id, "output_index": index, "content_index": 0,
                   "part": text_part("")}),
        );
        for piece in a.text.iter() {
            w.event(
                "response.output_text.delta",
                json!({"item_id": item_id, "output_index": index, "content_index": 0,
                       "delta": piece, "logprobs": []}),
            );
            w.ticks.tick();
        }
        let full = a.text.full();
        w.event(
            "response.output_text.done",
            json!({"item_id": item_id, "output_index": index, "content_index": 0,
                   "text": full, "logprobs": []}),
        );
        w.event(
            "response.content_part.done",
            json!({"item_id": item_id, "output_index": index, "content_index": 0,
                   "part": text_part(full)}),
        );
        w.event(
            "response.output_item.done",
            json!({"output_index": index, "item": message_item(a, item_status(a))}),
        );
        index += 1;
    }
    if let Some(tc) = &a.tool_call {
        let item_id = fc_id(a);
        w.event(
            "response.output_item.added",
            json!({"output_index": index,
                   "item": function_call_item(a, &tc.name, "", "in_progress")}),
        );
        for piece in tc.argument_pieces.iter() {
            w.event(
                "response.function_call_arguments.delta",
                json!({"item_id": item_id, "output_index": index, "delta": piece}),
            );
            w.ticks.tick();
        }
        let args = tc.argument_pieces.full();
        w.event(
            "response.function_call_arguments.done",
            json!({"item_id": item_id, "output_index": index, "name": tc.name, "arguments": args}),
        );
        w.event(
            "response.output_item.done",
            json!({"output_index": index,
                   "item": function_call_item(a, &tc.name, args, "completed")}),
        );
    }
    w.ticks.begin_tail();
    let status = final_status(a);
    let kind = if status == "incomplete" {
        "response.incomplete"
    } else {
        "response.completed"
    };
    w.event(
        kind,
        json!({"response": response(a, plan, status, output(a), true)}),
    );
    if data_only {
        w.ticks.sse_raw("[DONE]");
    }
    w.ticks.finish()
}

/// A `response.failed` event inside a 200 stream.
pub fn error_tick(a: &Answer, plan: &Plan) -> Bytes {
    let mut failed = response(a, plan, "failed", Vec::new(), false);
    failed["error"] = json!({"code": "server_error", "message": crate::errors::MID_STREAM_MESSAGE});
    let mut w = EventWriter {
        ticks: Ticks::default(),
        // Past any number the head could have used; only its growth matters to clients.
        seq: 1000,
        data_only: plan.has(Quirk::ResponsesDataOnly),
    };
    w.event("response.failed", json!({"response": failed}));
    if w.data_only {
        w.ticks.sse_raw("[DONE]");
    }
    w.ticks.finish().head.unwrap_or_default()
}

/// An event whose JSON is cut off.
pub fn malformed_tick() -> Bytes {
    Bytes::from_static(
        b"event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"mal\n\n",
    )
}
