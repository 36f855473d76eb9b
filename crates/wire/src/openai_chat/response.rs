//! Non-streamed Chat Completions responses (`object: "chat.completion"`), both directions.

use std::borrow::Cow;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::chunk::{WireDelta, WireFunction, WireToolCall, WireUsage};
use super::{DIALECT, UsageOut, decode_usage, finish_reason, parse_finish_reason, reasoning_text};
use crate::json_at::{At, Result};
use crate::upstream_error::{is_error_envelope, upstream_error};
use crate::{ContentBlock, Response, StopReason, Usage};

/// Encodes a full response. `created` is 0: the gateway sets the real time on the value
/// (codecs have no clock). [`write_response`] writes the same object as text.
pub fn encode_response(response: &Response) -> Value {
    // Strings, numbers and options always convert.
    serde_json::to_value(Completion::of(response, 0)).unwrap_or_default()
}

/// The `chat.completion` object of a whole answer as JSON text, created at `created` (Unix
/// seconds): what the gateway sends, written without a JSON tree.
pub fn write_response(response: &Response, created: u64) -> String {
    // Strings, numbers and options always serialize.
    serde_json::to_string(&Completion::of(response, created)).unwrap_or_default()
}

/// A whole answer as OpenAI writes it, borrowing from the canonical response.
#[derive(Serialize)]
struct Completion<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
    choices: [AnswerChoice<'a>; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<UsageOut>,
}

#[derive(Serialize)]
struct AnswerChoice<'a> {
    index: u32,
    message: AnswerMessage<'a>,
    /// Always `null`: written for clients that read the field.
    logprobs: (),
    finish_reason: &'static str,
}

#[derive(Serialize)]
struct AnswerMessage<'a> {
    role: &'static str,
    /// `null` for an answer that is only tool calls.
    content: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_content: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<AnswerToolCall<'a>>,
}

#[derive(Serialize)]
struct AnswerToolCall<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    function: AnswerFunction<'a>,
}

#[derive(Serialize)]
struct AnswerFunction<'a> {
    name: &'a str,
    arguments: &'a str,
}

impl<'a> Completion<'a> {
    fn of(response: &'a Response, created: u64) -> Self {
        let mut reasoning: Option<Cow<'a, str>> = None;
        let mut text: Option<Cow<'a, str>> = None;
        let mut tool_calls = Vec::new();
        for block in &response.content {
            match block {
                ContentBlock::Reasoning {
                    text: r,
                    redacted: false,
                    ..
                } => append(&mut reasoning, r),
                ContentBlock::Text { text: t } => append(&mut text, t),
                ContentBlock::ToolCall {
                    id,
                    name,
                    arguments,
                } => tool_calls.push(AnswerToolCall {
                    id,
                    kind: "function",
                    function: AnswerFunction { name, arguments },
                }),
                _ => {}
            }
        }
        let text = text.unwrap_or_default();
        let content = (!text.is_empty() || tool_calls.is_empty()).then_some(text);
        Completion {
            id: &response.id,
            object: "chat.completion",
            created,
            model: &response.model,
            choices: [AnswerChoice {
                index: 0,
                message: AnswerMessage {
                    role: "assistant",
                    content,
                    reasoning_content: reasoning.filter(|r| !r.is_empty()),
                    tool_calls,
                },
                logprobs: (),
                finish_reason: finish_reason(response.stop_reason),
            }],
            usage: (response.usage != Usage::default()).then(|| UsageOut::of(&response.usage)),
        }
    }
}

/// Appends `piece` to the text so far, borrowing while there is only one piece.
fn append<'a>(text: &mut Option<Cow<'a, str>>, piece: &'a str) {
    match text {
        None => *text = Some(Cow::Borrowed(piece)),
        Some(so_far) => so_far.to_mut().push_str(piece),
    }
}

/// A whole response, read either way (see `chunk`: the fast read of the well-formed shape,
/// the path-tracking read of everything else); the first choice is the answer.
#[derive(Debug, Deserialize)]
struct WireResponse<'a> {
    #[serde(default)]
    error: Option<IgnoredAny>,
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    model: Option<Cow<'a, str>>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(borrow)]
    choices: Vec<WireAnswer<'a>>,
}

#[derive(Debug, Deserialize)]
struct WireAnswer<'a> {
    #[serde(borrow)]
    message: WireDelta<'a>,
    #[serde(borrow, default)]
    finish_reason: Option<Cow<'a, str>>,
}

/// The fast read of a body (the chat adapter's `fast_response`); `None` for anything it
/// does not take whole, which then goes through [`decode_response`].
pub fn decode_response_fast(body: &[u8]) -> Option<Response> {
    let wire: WireResponse<'_> = serde_json::from_slice(body).ok()?;
    if wire.error.is_some() || wire.kind.as_deref() == Some("error") {
        return None;
    }
    wire.into_response()
}

pub fn decode_response(body: &Value) -> Result<Response> {
    if is_error_envelope(body) {
        return Err(upstream_error(body));
    }
    let root = At::root(body, DIALECT);
    let wire = WireResponse::from_at(&root)?;
    // `from_at` checked what `into_response` needs.
    wire.into_response()
        .ok_or_else(|| root.malformed("not a chat completion"))
}

impl<'a> WireResponse<'a> {
    /// The path-tracking read: the first choice's message must be there, and each tool
    /// call's function and name; `content` may also be an array of text parts.
    fn from_at(root: &At<'a>) -> Result<Self> {
        let choices = root.req("choices")?.items()?;
        let Some(choice) = choices.first() else {
            return Err(root.malformed("`choices` is empty"));
        };
        let message = choice.req("message")?;
        let content = match message.get("content") {
            Some(content) => Some(Cow::Owned(super::content_text(&content)?)),
            None => None,
        };
        let function = |f: &At<'a>| -> Result<WireFunction<'a>> {
            Ok(WireFunction {
                name: Some(Cow::Borrowed(f.req_str("name")?)),
                arguments: f.get("arguments").map(|a| a.value.clone()),
            })
        };
        let tool_calls = message
            .items_at("tool_calls")?
            .iter()
            .map(|call| {
                Ok(WireToolCall {
                    index: None,
                    id: call.opt_str("id")?.map(Cow::Borrowed),
                    function: Some(function(&call.req("function")?)?),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let function_call = match message.get("function_call") {
            Some(f) if tool_calls.is_empty() => Some(function(&f)?),
            _ => None,
        };
        let usage = match root.get("usage") {
            Some(usage) => Some(WireUsage::from(decode_usage(&usage)?)),
            None => None,
        };
        Ok(WireResponse {
            error: None,
            kind: None,
            id: root.opt_str("id")?.map(Cow::Borrowed),
            model: root.opt_str("model")?.map(Cow::Borrowed),
            usage,
            choices: vec![WireAnswer {
                message: WireDelta {
                    content,
                    reasoning_content: None,
                    reasoning: None,
                    reasoning_text: reasoning_text(&message).map(Cow::Borrowed),
                    tool_calls: Some(tool_calls),
                    function_call,
                },
                finish_reason: choice.opt_str("finish_reason")?.map(Cow::Borrowed),
            }],
        })
    }

    /// The canonical response; `None` when the first choice lacks what an answer needs (no
    /// choice, a tool call without a function or a name).
    fn into_response(self) -> Option<Response> {
        let usage = self.usage.as_ref().map(Usage::from).unwrap_or_default();
        let answer = self.choices.into_iter().next()?;
        let message = answer.message;
        let mut content = Vec::new();
        if let Some(text) = message.reasoning() {
            content.push(ContentBlock::Reasoning {
                text: text.to_owned(),
                signature: None,
                redacted: false,
            });
        }
        if let Some(text) = message.content.filter(|t| !t.is_empty()) {
            content.push(ContentBlock::Text {
                text: text.into_owned(),
            });
        }
        let calls = message.tool_calls.unwrap_or_default();
        let legacy = message.function_call.filter(|_| calls.is_empty());
        let calls = calls
            .into_iter()
            .map(|call| (call.id, call.function))
            .chain(legacy.map(|f| (Some(Cow::Borrowed("call_0")), Some(f))));
        for (index, (id, function)) in calls.enumerate() {
            let function = function?;
            content.push(ContentBlock::ToolCall {
                id: id.map_or_else(|| format!("call_{index}"), Cow::into_owned),
                name: function.name.clone()?.into_owned(),
                arguments: function.arguments().into_owned(),
            });
        }
        let has_calls = content
            .iter()
            .any(|b| matches!(b, ContentBlock::ToolCall { .. }));
        let stop_reason = match answer.finish_reason.as_deref() {
            Some(reason) => parse_finish_reason(reason),
            None if has_calls => StopReason::ToolUse,
            None => StopReason::Stop,
        };
        Some(Response {
            id: self.id.unwrap_or_default().into_owned(),
            model: self.model.unwrap_or_default().into_owned(),
            content,
            stop_reason,
            usage,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The fast read, where it takes a body, gives what the path-tracking read gives.
    fn agree(body: &[u8]) -> bool {
        let fast = decode_response_fast(body);
        let full = serde_json::from_slice::<Value>(body)
            .ok()
            .map(|value| decode_response(&value));
        if let Some(fast) = &fast {
            assert_eq!(
                Some(Ok(fast.clone())),
                full,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        fast.is_some()
    }

    #[test]
    fn the_fast_read_agrees_with_the_path_tracking_read_on_every_fixture() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut taken = 0;
        let mut seen = 0;
        for (dir, wanted) in [("openai_chat", "response_"), ("recorded", "-chat")] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                let body = name.ends_with(".body") || name.ends_with("reasoning.json");
                if body && name.contains(wanted) && !name.contains("stream") {
                    seen += 1;
                    taken += usize::from(agree(&std::fs::read(&path).unwrap()));
                }
            }
        }
        assert!(seen >= 5, "{seen} chat bodies");
        // The answers; the error bodies (overflow, bad JSON) are left to the full read.
        assert!(taken >= 3, "the fast read took {taken} of {seen}");
    }

    #[test]
    fn odd_bodies_read_the_same_either_way() {
        let taken = [
            r#"{"id":"c","model":"m","choices":[{"message":{"role":"assistant","content":"a\nb","reasoning":"r"},"finish_reason":"stop"}],"usage":{"prompt_tokens":2,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":1}}}"#,
            r#"{"choices":[{"message":{"content":null,"tool_calls":[{"id":"t","type":"function","function":{"name":"read","arguments":{"path":"a"}}},{"function":{"name":"","arguments":null}}]}}]}"#,
            r#"{"choices":[{"message":{"content":"","function_call":{"name":"f","arguments":"{}"}},"finish_reason":"function_call"}]}"#,
        ];
        let full_only = [
            r#"{"choices":[{"message":{"content":[{"type":"text","text":"parts"}]}}]}"#,
            r#"{"choices":[{"message":{"content":"x"}}],"usage":{"prompt_tokens":2.0}}"#,
            r#"{"choices":[{"message":{"content":"x"}},{"finish_reason":"stop"}]}"#,
            r#"{"choices":[{"message":{"tool_calls":[{"function":{"arguments":"{}"}}]}}]}"#,
            r#"{"choices":[]}"#,
            r#"{"error":{"message":"boom"}}"#,
        ];
        for body in taken {
            assert!(agree(body.as_bytes()), "{body}");
        }
        for body in full_only {
            assert!(!agree(body.as_bytes()), "{body}");
        }
    }
}
