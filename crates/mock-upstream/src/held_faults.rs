//! Faults in the part of an answer a router holds back before committing to a stream:
//! reasoning with no answer after it (Ollama thinking models asked without `think` stream the
//! whole reply as `thinking` and end with an empty `content`), reasoning cut by an error, and a
//! tool call broken in the middle by llama.cpp's streaming diff
//! (`Invalid diff: now finding less tool calls!`). Kept apart from the other faults so the
//! shape of each answer (what it contains) and the cut of each stream live in one place.

use bytes::Bytes;
use serde_json::json;

use crate::answer::{Answer, Pieces, Stop};
use crate::dialect::{self, Dialect};
use crate::paced::StreamEnd;
use crate::script::{Fault, Plan, ToolCallScript};
use crate::ticks::{StreamTicks, Ticks};

/// The reasoning a thinking-only answer carries when the script gives none.
pub const DEFAULT_REASONING: &str =
    "mock reasoning: the user asked something, let me think it over";

/// llama.cpp's error when its streaming tool-call parser changes its mind mid-stream.
pub const LLAMA_DIFF_ERROR: &str = "Invalid diff: now finding less tool calls!";

fn thinking_only(plan: &Plan) -> bool {
    matches!(
        plan.fault,
        Some(Fault::ThinkingThenEmpty | Fault::ThinkingThenError)
    )
}

/// Fills in what the fault needs before the answer is built: reasoning for the thinking
/// faults, a tool call for the broken tool call.
pub fn prepare(plan: &mut Plan) {
    if thinking_only(plan) && plan.reasoning.is_none() {
        plan.reasoning = Some(DEFAULT_REASONING.to_owned());
    }
    if plan.fault == Some(Fault::ToolCallDiffError) && plan.tool_call.is_none() {
        plan.tool_call = Some(ToolCallScript::default());
    }
}

/// Takes the answer text (and any tool call) out of a thinking-only answer.
pub fn shape(plan: &Plan, answer: &mut Answer) {
    if thinking_only(plan) {
        answer.text = Pieces::default();
        answer.tool_call = None;
        answer.stop = Stop::EndTurn;
        answer.completion_tokens = answer.reasoning.len() as u64;
    }
}

/// Whether a non-streamed request with this fault gets an error status (the whole answer
/// otherwise: llama.cpp's non-streamed path does not diff tool calls).
pub fn fails_whole(plan: &Plan) -> bool {
    plan.fault == Some(Fault::ThinkingThenError)
}

/// The stream cut for `fault` (one of this module's): `ticks` already holds the head; `rest`
/// is the stream's body and tail.
pub fn cut(
    fault: Fault,
    d: Dialect,
    answer: &Answer,
    plan: &Plan,
    rest: StreamTicks,
    ticks: &mut Vec<Bytes>,
) -> StreamEnd {
    match fault {
        Fault::ThinkingThenError => {
            ticks.extend(rest.body);
            ticks.push(dialect::error_tick(d, answer, plan));
        }
        Fault::ToolCallDiffError => {
            let half = rest.body.len() / 2;
            ticks.extend(rest.body.into_iter().take(half));
            ticks.push(match d {
                Dialect::OpenAiChat => llama_diff_error_tick(),
                _ => dialect::error_tick(d, answer, plan),
            });
        }
        _ => {
            ticks.extend(rest.body);
            ticks.extend(rest.tail);
        }
    }
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
