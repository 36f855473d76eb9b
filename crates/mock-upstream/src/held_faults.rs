//! A fault in the part of an answer a router holds back before committing to a stream: a tool
//! call broken in the middle by llama.cpp's streaming diff (`Invalid diff: now finding less
//! tool calls!`), after part of its arguments, while the same request not streamed gets the
//! whole answer (llama.cpp's non-streamed path does not diff). Kept apart from the other
//! faults so the shape of the answer and the cut of the stream live in one place. (A
//! thinking-only answer is `Quirk::ThinkingOnly`; with `Fault::ErrorInStream` it fails after
//! its first reasoning piece.)

use bytes::Bytes;
use serde_json::json;

use crate::answer::Answer;
use crate::dialect::{self, Dialect};
use crate::paced::StreamEnd;
use crate::script::{Fault, Plan, ToolCallScript};
use crate::ticks::{StreamTicks, Ticks};

/// llama.cpp's error when its streaming tool-call parser changes its mind mid-stream.
pub const LLAMA_DIFF_ERROR: &str = "Invalid diff: now finding less tool calls!";

/// Gives the broken tool call a call to break when the script names none.
pub fn prepare(plan: &mut Plan) {
    if plan.fault == Some(Fault::ToolCallDiffError) && plan.tool_call.is_none() {
        plan.tool_call = Some(ToolCallScript::default());
    }
}

/// The stream cut for `fault` (this module's): `ticks` already holds the head; `rest` is the
/// stream's body and tail. The tool call and the first half of its argument pieces, then
/// llama.cpp's error in its own shape (chat) or the dialect's error event, then the end.
pub fn cut(
    d: Dialect,
    answer: &Answer,
    plan: &Plan,
    rest: StreamTicks,
    ticks: &mut Vec<Bytes>,
) -> StreamEnd {
    let half = rest.body.len() / 2;
    ticks.extend(rest.body.into_iter().take(half));
    ticks.push(match d {
        Dialect::OpenAiChat => llama_diff_error_tick(),
        _ => dialect::error_tick(d, answer, plan),
    });
    StreamEnd::Close
}

/// llama.cpp's mid-stream error: a `data:` event holding `{"error":{code,message,type}}`,
/// and the end of the body (no `[DONE]`).
fn llama_diff_error_tick() -> Bytes {
    let mut t = Ticks::default();
    t.sse(
        None,
        &json!({"error": {"code": 500, "message": LLAMA_DIFF_ERROR, "type": "server_error"}}),
    );
    t.finish().head.unwrap_or_default()
}
