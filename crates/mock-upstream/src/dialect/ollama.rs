//! Ollama's native `/api/chat` as Ollama writes it: one JSON object per line
//! (`application/x-ndjson`), `message.content` / `message.thinking` pieces with
//! `done:false`, tool calls whole in one line (arguments as an object, not a string), and a
//! last line with `done:true`, `done_reason` and the eval counters. Streaming is the default
//! when the request omits `stream`. Errors are `{"error":"…"}`, also mid-stream.

use bytes::Bytes;
use serde_json::{Value, json};

use crate::answer::{Answer, Stop};
use crate::script::Plan;
use crate::ticks::{StreamTicks, Ticks};

fn done_reason(stop: Stop) -> &'static str {
    match stop {
        // Ollama reports `stop` after tool calls too.
        Stop::EndTurn | Stop::ToolUse => "stop",
        Stop::MaxTokens => "length",
    }
}

fn tool_calls(a: &Answer) -> Option<Value> {
    a.tool_call
        .as_ref()
        .map(|tc| json!([{"function": {"name": tc.name, "arguments": tc.arguments}}]))
}

fn final_fields(a: &Answer, plan: &Plan, line: &mut Value) {
    line["done"] = Value::Bool(true);
    line["done_reason"] = Value::from(done_reason(a.stop));
    if plan.usage {
        line["total_duration"] = Value::from(0);
        line["load_duration"] = Value::from(0);
        line["prompt_eval_count"] = Value::from(a.prompt_tokens);
        line["prompt_eval_duration"] = Value::from(0);
        line["eval_count"] = Value::from(a.completion_tokens);
        line["eval_duration"] = Value::from(0);
    }
}

/// Non-streaming body.
pub fn body(a: &Answer, plan: &Plan) -> Value {
    let mut message = json!({"role": "assistant", "content": a.text.full()});
    if !a.reasoning.is_empty() {
        message["thinking"] = Value::from(a.reasoning.full());
    }
    if let Some(calls) = tool_calls(a) {
        message["tool_calls"] = calls;
    }
    let mut body = json!({"model": a.model, "created_at": rfc3339(a.created), "message": message});
    final_fields(a, plan, &mut body);
    body
}

/// A normal NDJSON stream.
pub fn stream(a: &Answer, plan: &Plan) -> StreamTicks {
    let mut t = Ticks::default();
    let created_at = rfc3339(a.created);
    let line = |message: Value| json!({"model": a.model, "created_at": created_at, "message": message, "done": false});
    for piece in a.reasoning.iter() {
        t.ndjson(&line(
            json!({"role": "assistant", "content": "", "thinking": piece}),
        ));
        t.tick();
    }
    for piece in a.text.iter() {
        t.ndjson(&line(json!({"role": "assistant", "content": piece})));
        t.tick();
    }
    if let Some(calls) = tool_calls(a) {
        t.ndjson(&line(
            json!({"role": "assistant", "content": "", "tool_calls": calls}),
        ));
        t.tick();
    }
    t.begin_tail();
    let mut last = line(json!({"role": "assistant", "content": ""}));
    final_fields(a, plan, &mut last);
    t.ndjson(&last);
    t.finish()
}

/// `{"error":"…"}` as a stream line.
pub fn error_tick() -> Bytes {
    let mut t = Ticks::default();
    t.ndjson(&json!({"error": crate::errors::MID_STREAM_MESSAGE}));
    t.finish().head.unwrap_or_default()
}

/// A line whose JSON is cut off.
pub fn malformed_tick() -> Bytes {
    Bytes::from_static(
        b"{\"model\":\"mock\",\"message\":{\"role\":\"assistant\",\"content\":\"mal\n",
    )
}

/// `2024-05-01T12:00:00Z` from Unix seconds (days-from-civil inverse; no date crate needed
/// for one timestamp format).
pub fn rfc3339(unix: u64) -> String {
    let days = unix / 86_400;
    let secs = unix % 86_400;
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::rfc3339;

    #[test]
    fn rfc3339_matches_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }
}
