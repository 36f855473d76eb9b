//! Anthropic Messages as Anthropic writes it: a `message` body with typed content blocks
//! (thinking with a signature, text, tool_use), and the SSE stream `message_start`, `ping`,
//! `content_block_start/delta/stop` per block, `message_delta` with the stop reason and
//! output usage, `message_stop`. Errors inside a stream are `event: error`.

use bytes::Bytes;
use serde_json::{Value, json};

use crate::answer::{Answer, Stop};
use crate::script::Plan;
use crate::ticks::{StreamTicks, Ticks};

fn msg_id(a: &Answer) -> String {
    format!("msg_mock{}", a.seq)
}
fn tool_id(a: &Answer) -> String {
    match a.tool_call.as_ref().and_then(|t| t.fixed_id.as_ref()) {
        // Anthropic ids have no dots or colons: the repeated one is plain.
        Some(_) => "toolu_0".to_owned(),
        None => format!("toolu_mock{}", a.seq),
    }
}
fn signature(a: &Answer) -> String {
    format!("mock-signature-{}", a.seq)
}

fn stop_reason(stop: Stop) -> &'static str {
    match stop {
        Stop::EndTurn => "end_turn",
        Stop::MaxTokens => "max_tokens",
        Stop::ToolUse => "tool_use",
    }
}

/// Non-streaming body.
pub fn body(a: &Answer, plan: &Plan) -> Value {
    let mut content = Vec::with_capacity(3);
    if !a.reasoning.is_empty() {
        content.push(json!({"type": "thinking", "thinking": a.reasoning.full(),
                            "signature": signature(a)}));
    }
    if !a.text.is_empty() {
        content.push(json!({"type": "text", "text": a.text.full()}));
    }
    if let Some(tc) = &a.tool_call {
        content.push(
            json!({"type": "tool_use", "id": tool_id(a), "name": tc.name,
                            "input": tc.arguments}),
        );
    }
    let mut body = json!({
        "id": msg_id(a),
        "type": "message",
        "role": "assistant",
        "model": a.model,
        "content": content,
        "stop_reason": stop_reason(a.stop),
        "stop_sequence": null,
    });
    if plan.usage {
        body["usage"] =
            json!({"input_tokens": a.prompt_tokens, "output_tokens": a.completion_tokens});
    }
    body
}

fn event(t: &mut Ticks, kind: &str, data: Value) {
    t.sse(Some(kind), &data);
}

/// A normal stream.
pub fn stream(a: &Answer, plan: &Plan) -> StreamTicks {
    let mut t = Ticks::default();
    let mut message = json!({
        "id": msg_id(a), "type": "message", "role": "assistant", "model": a.model,
        "content": [], "stop_reason": null, "stop_sequence": null,
    });
    if plan.usage {
        message["usage"] = json!({"input_tokens": a.prompt_tokens, "output_tokens": 1});
    }
    event(
        &mut t,
        "message_start",
        json!({"type": "message_start", "message": message}),
    );
    event(&mut t, "ping", json!({"type": "ping"}));
    let mut index = 0usize;
    if !a.reasoning.is_empty() {
        event(
            &mut t,
            "content_block_start",
            json!({"type": "content_block_start", "index": index,
                   "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
        );
        for piece in a.reasoning.iter() {
            event(
                &mut t,
                "content_block_delta",
                json!({"type": "content_block_delta", "index": index,
                       "delta": {"type": "thinking_delta", "thinking": piece}}),
            );
            t.tick();
        }
        event(
            &mut t,
            "content_block_delta",
            json!({"type": "content_block_delta", "index": index,
                   "delta": {"type": "signature_delta", "signature": signature(a)}}),
        );
        block_stop(&mut t, index);
        index += 1;
    }
    if !a.text.is_empty() {
        event(
            &mut t,
            "content_block_start",
            json!({"type": "content_block_start", "index": index,
                   "content_block": {"type": "text", "text": ""}}),
        );
        for piece in a.text.iter() {
            event(
                &mut t,
                "content_block_delta",
                json!({"type": "content_block_delta", "index": index,
                       "delta": {"type": "text_delta", "text": piece}}),
            );
            t.tick();
        }
        block_stop(&mut t, index);
        index += 1;
    }
    if let Some(tc) = &a.tool_call {
        event(
            &mut t,
            "content_block_start",
            json!({"type": "content_block_start", "index": index,
                   "content_block": {"type": "tool_use", "id": tool_id(a), "name": tc.name,
                                     "input": {}}}),
        );
        for piece in tc.argument_pieces.iter() {
            event(
                &mut t,
                "content_block_delta",
                json!({"type": "content_block_delta", "index": index,
                       "delta": {"type": "input_json_delta", "partial_json": piece}}),
            );
            t.tick();
        }
        block_stop(&mut t, index);
    }
    t.begin_tail();
    let mut delta = json!({"type": "message_delta",
                           "delta": {"stop_reason": stop_reason(a.stop), "stop_sequence": null}});
    if plan.usage {
        delta["usage"] = json!({"output_tokens": a.completion_tokens});
    }
    event(&mut t, "message_delta", delta);
    event(&mut t, "message_stop", json!({"type": "message_stop"}));
    t.finish()
}

fn block_stop(t: &mut Ticks, index: usize) {
    event(
        t,
        "content_block_stop",
        json!({"type": "content_block_stop", "index": index}),
    );
}

/// An `event: error` inside a 200 stream (what Anthropic sends when overloaded mid-stream).
pub fn error_tick() -> Bytes {
    let mut t = Ticks::default();
    event(
        &mut t,
        "error",
        json!({"type": "error", "error": {"type": "overloaded_error",
                                          "message": crate::errors::MID_STREAM_MESSAGE}}),
    );
    t.finish().head.unwrap_or_default()
}

/// An event whose JSON is cut off.
pub fn malformed_tick() -> Bytes {
    Bytes::from_static(
        b"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"mal\n\n",
    )
}
