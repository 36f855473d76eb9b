//! Catches 200 answers that are failures: a stream with no event at all, or an answer with no
//! text and no tool call (LiteLLM masks a context overflow as one `delta:{}` chunk with
//! `finish_reason: "stop"`). Such an answer is never passed on as an empty reply: it becomes
//! `EmptyResponse`, or `ContextOverflow` when the request was evidently too big.
//!
//! The "evidently too big" rule (llama.cpp answers an overflowing *stream* with an empty 200,
//! the error only in its log): when the prompt estimate (about four ASCII characters a token,
//! one a CJK character; see [`estimate_prompt_tokens`]) exceeds the model's known context
//! window, an empty answer is classified `ContextOverflow { requested: estimate, limit: window }`. Without a known
//! window it stays `EmptyResponse`.

use clawgate_wire::{Event, Request, StopReason, token_estimate};

use crate::{FailureKind, ProviderError};

/// Rough prompt size in tokens: the workspace's one estimate,
/// [`clawgate_wire::token_estimate::request_tokens`].
pub fn estimate_prompt_tokens(request: &Request) -> u64 {
    token_estimate::request_tokens(request)
}

/// What is known about the request, to tell an overflow from a plain empty answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OverflowHint {
    pub estimated_prompt_tokens: u64,
    pub context_window: Option<u64>,
}

impl OverflowHint {
    pub fn new(request: &Request, context_window: Option<u64>) -> Self {
        Self {
            estimated_prompt_tokens: estimate_prompt_tokens(request),
            context_window,
        }
    }

    /// The error for a 200 answer without content. `what` says what was empty.
    pub fn empty_answer_error(&self, what: &str) -> ProviderError {
        match self.context_window {
            Some(window) if self.estimated_prompt_tokens > window => ProviderError::new(
                FailureKind::ContextOverflow {
                    requested: Some(self.estimated_prompt_tokens),
                    limit: Some(window),
                },
                format!(
                    "{what}; the prompt (~{} tokens estimated) exceeds the model's context window of {window} tokens",
                    self.estimated_prompt_tokens
                ),
            ),
            _ => ProviderError::new(FailureKind::EmptyResponse, what.to_string()),
        }
    }
}

/// Tracks whether a stream carried an answer, so `Finished` can be checked.
#[derive(Debug, Default)]
pub struct AnswerGuard {
    visible_text: bool,
    any_text_or_reasoning: bool,
    tool_call: bool,
}

impl AnswerGuard {
    pub fn observe(&mut self, event: &Event) {
        match event {
            Event::TextDelta { text } => {
                self.any_text_or_reasoning = true;
                if !text.trim().is_empty() {
                    self.visible_text = true;
                }
            }
            Event::ReasoningDelta { .. } => self.any_text_or_reasoning = true,
            Event::ToolCallStart { .. } => self.tool_call = true,
            _ => {}
        }
    }

    /// True when a stream that finished for `stop_reason` carried an answer. An answer cut by
    /// the output cap counts even when it is only whitespace or reasoning (the cap was just
    /// small).
    pub fn has_answer(&self, stop_reason: StopReason) -> bool {
        self.visible_text
            || self.tool_call
            || (stop_reason == StopReason::Length && self.any_text_or_reasoning)
    }

    /// True once any content event went by.
    pub fn saw_content(&self) -> bool {
        self.any_text_or_reasoning || self.tool_call
    }
}

#[cfg(test)]
mod tests {
    use clawgate_wire::{Message, Role};

    use super::*;

    fn request_with(chars: usize) -> Request {
        Request {
            model: "m".into(),
            messages: vec![Message::text(Role::User, "x".repeat(chars))],
            ..Request::default()
        }
    }

    #[test]
    fn estimate_is_the_shared_one_with_message_framing() {
        let framing = token_estimate::MESSAGE_OVERHEAD;
        assert_eq!(estimate_prompt_tokens(&request_with(4000)), 1000 + framing);
        assert_eq!(estimate_prompt_tokens(&request_with(3)), 1 + framing);
        // CJK text is not undercounted (bytes / 4 said 3 for these four ideographs).
        let cjk = Request {
            model: "m".into(),
            messages: vec![Message::text(Role::User, "你好世界")],
            ..Request::default()
        };
        assert_eq!(estimate_prompt_tokens(&cjk), 4 + framing);
    }

    #[test]
    fn empty_answer_is_overflow_only_past_a_known_window() {
        let big = OverflowHint::new(&request_with(40_000), Some(4096));
        assert_eq!(
            big.empty_answer_error("empty").kind,
            FailureKind::ContextOverflow {
                requested: Some(10_000 + token_estimate::MESSAGE_OVERHEAD),
                limit: Some(4096)
            }
        );
        let small = OverflowHint::new(&request_with(400), Some(4096));
        assert_eq!(
            small.empty_answer_error("empty").kind,
            FailureKind::EmptyResponse
        );
        let unknown = OverflowHint::new(&request_with(40_000), None);
        assert_eq!(
            unknown.empty_answer_error("empty").kind,
            FailureKind::EmptyResponse
        );
    }

    #[test]
    fn guard_rules() {
        let mut g = AnswerGuard::default();
        assert!(!g.has_answer(StopReason::Stop));
        g.observe(&Event::TextDelta { text: " \n".into() });
        assert!(!g.has_answer(StopReason::Stop));
        assert!(g.has_answer(StopReason::Length));
        g.observe(&Event::TextDelta { text: "hi".into() });
        assert!(g.has_answer(StopReason::Stop));
        let mut t = AnswerGuard::default();
        t.observe(&Event::ToolCallStart {
            index: 0,
            id: "c".into(),
            name: "f".into(),
        });
        assert!(t.has_answer(StopReason::ToolUse));
    }
}
