//! OpenAI chat completions as servers write them: `chat.completion` bodies and
//! `chat.completion.chunk` SSE streams ending in `data: [DONE]`, with reasoning in
//! `reasoning_content` (or `reasoning`), tool-call deltas keyed by `index`, and the optional
//! usage chunk with empty `choices`. Also llama-cpp-python's tool-call quirk.

use bytes::Bytes;
use serde_json::{Value, json};

use crate::answer::{Answer, Stop};
use crate::script::{Plan, Quirk};
use crate::ticks::{StreamTicks, Ticks};

fn id(a: &Answer) -> String {
    format!("chatcmpl-mock{}", a.seq)
}

/// The tool call id (shared with the Responses `call_id`).
pub fn call_id(a: &Answer) -> String {
    match a.tool_call.as_ref().and_then(|t| t.fixed_id.clone()) {
        Some(id) => id,
        None => format!("call_mock{}", a.seq),
    }
}

fn finish_reason(stop: Stop) -> &'static str {
    match stop {
        Stop::EndTurn => "stop",
        Stop::MaxTokens => "length",
        Stop::ToolUse => "tool_calls",
    }
}

fn usage(a: &Answer) -> Value {
    json!({
        "prompt_tokens": a.prompt_tokens,
        "completion_tokens": a.completion_tokens,
        "total_tokens": a.total_tokens(),
    })
}

fn reasoning_key(plan: &Plan) -> &'static str {
    if plan.has(Quirk::ReasoningField) {
        "reasoning"
    } else {
        "reasoning_content"
    }
}

/// Non-streaming body.
pub fn body(a: &Answer, plan: &Plan) -> Value {
    let mut message = json!({"role": "assistant"});
    message["content"] = if a.text.is_empty() {
        Value::Null
    } else {
        Value::from(a.text.full())
    };
    if !a.reasoning.is_empty() {
        message[reasoning_key(plan)] = Value::from(a.reasoning.full());
    }
    if let Some(tc) = &a.tool_call {
        let args = tc.argument_pieces.full();
        message["tool_calls"] = json!([{
            "id": call_id(a),
            "type": "function",
            "function": {"name": tc.name, "arguments": args},
        }]);
        if plan.has(Quirk::RepeatToolCallHeader) {
            message["function_call"] = json!({"name": tc.name, "arguments": args});
        }
    }
    let mut body = json!({
        "id": id(a),
        "object": "chat.completion",
        "created": a.created,
        "model": a.model,
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": finish_reason(a.stop),
        }],
    });
    if plan.usage {
        body["usage"] = usage(a);
    }
    body
}

struct ChunkWriter<'a> {
    id: String,
    a: &'a Answer,
    ticks: Ticks,
}

impl ChunkWriter<'_> {
    fn chunk(&mut self, delta: Value, finish: Option<&str>) {
        let chunk = json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.a.created,
            "model": self.a.model,
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
        });
        self.ticks.sse(None, &chunk);
    }
}

/// A normal stream: role chunk, reasoning, text, tool call, finish, usage (when asked), `[DONE]`.
pub fn stream(a: &Answer, plan: &Plan, include_usage: bool) -> StreamTicks {
    let mut w = ChunkWriter {
        id: id(a),
        a,
        ticks: Ticks::default(),
    };
    w.chunk(json!({"role": "assistant", "content": ""}), None);
    let rkey = reasoning_key(plan);
    for piece in a.reasoning.iter() {
        w.chunk(json!({ rkey: piece }), None);
        w.ticks.tick();
    }
    for piece in a.text.iter() {
        w.chunk(json!({ "content": piece }), None);
        w.ticks.tick();
    }
    if let Some(tc) = &a.tool_call {
        let call_id = call_id(a);
        if plan.has(Quirk::RepeatToolCallHeader) {
            // llama-cpp-python: every chunk repeats id/type/name, plus a legacy function_call.
            for piece in tc.argument_pieces.iter() {
                w.chunk(
                    json!({
                        "tool_calls": [{"index": 0, "id": call_id, "type": "function",
                                        "function": {"name": tc.name, "arguments": piece}}],
                        "function_call": {"name": tc.name, "arguments": piece},
                    }),
                    None,
                );
                w.ticks.tick();
            }
        } else {
            w.chunk(
                json!({"tool_calls": [{"index": 0, "id": call_id, "type": "function",
                                       "function": {"name": tc.name, "arguments": ""}}]}),
                None,
            );
            for piece in tc.argument_pieces.iter() {
                w.chunk(
                    json!({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}),
                    None,
                );
                w.ticks.tick();
            }
        }
    }
    w.ticks.begin_tail();
    w.chunk(json!({}), Some(finish_reason(a.stop)));
    if plan.usage && include_usage {
        let chunk = json!({
            "id": w.id,
            "object": "chat.completion.chunk",
            "created": a.created,
            "model": a.model,
            "choices": [],
            "usage": usage(a),
        });
        w.ticks.sse(None, &chunk);
    }
    w.ticks.sse_raw("[DONE]");
    w.ticks.finish()
}

/// An error event inside a 200 stream (OpenAI / vLLM shape), then `[DONE]`.
pub fn error_tick() -> Bytes {
    let mut t = Ticks::default();
    t.sse(
        None,
        &json!({"error": {"message": crate::errors::MID_STREAM_MESSAGE, "type": "server_error",
                          "param": null, "code": "internal_error"}}),
    );
    t.sse_raw("[DONE]");
    t.finish().head.unwrap_or_default()
}

/// A `data:` line whose JSON is cut off.
pub fn malformed_tick(a: &Answer) -> Bytes {
    Bytes::from(format!(
        "data: {{\"id\":\"{}\",\"object\":\"chat.completion.chunk\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"mal\n\n",
        id(a)
    ))
}

/// LiteLLM's answer to an overflowing streamed request: one empty `stop` chunk and `[DONE]`.
pub fn masked_overflow_stream(a: &Answer) -> StreamTicks {
    let mut w = ChunkWriter {
        id: id(a),
        a,
        ticks: Ticks::default(),
    };
    w.chunk(json!({}), Some("stop"));
    w.ticks.sse_raw("[DONE]");
    w.ticks.finish()
}
