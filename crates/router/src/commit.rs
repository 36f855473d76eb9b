//! The commit rule: which event of an attempt makes the router give up the right to fail
//! over. Until the commit every event is held back, so a failure is still the router's to
//! handle; from it on the caller owns the stream.
//!
//! An attempt commits at its first answer text that is not only whitespace, or at its
//! `Finished`. Reasoning does not commit (a thinking model may reason and then end empty or
//! fail: Ollama's thinking-only streams), unless the candidate or the call asks for
//! [`ReasoningStream::Immediate`]. Tool calls do not commit before the finish: a stream may
//! carry several calls, and a server can fail while still re-parsing them (llama.cpp's
//! `Invalid diff: now finding less tool calls!`), so no call counts as complete until the
//! answer is. The hold is bounded ([`HoldLimits`]): past it the attempt commits anyway.
//!
//! A caller that keeps a client waiting can pass a [`HoldSignal`]: it is raised when an
//! attempt that is alive (content is arriving) is being held, so the caller can send its
//! client keep-alives in the meantime.

use std::sync::Arc;

use clawgate_wire::Event;
use tokio::sync::Notify;

use crate::config::{HoldLimits, ReasoningStream};

/// Raised by the router when it starts holding back an attempt's content (reasoning, an
/// unfinished tool call). Cheap to clone; every clone is the same signal.
#[derive(Debug, Clone, Default)]
pub struct HoldSignal(Arc<Notify>);

impl HoldSignal {
    pub fn new() -> Self {
        Self::default()
    }

    pub(crate) fn raise(&self) {
        self.0.notify_one();
    }

    /// Resolves once the router has held content back (at once when it already has). Each
    /// raise is seen by one wait.
    pub async fn holding(&self) {
        self.0.notified().await;
    }
}

/// The commit state of one attempt.
#[derive(Debug)]
pub(crate) struct CommitRule {
    reasoning: ReasoningStream,
    limits: HoldLimits,
    held_bytes: usize,
    held_events: usize,
    /// A content event (text, reasoning or tool call) arrived: the first-event clock stops.
    content: bool,
    /// A tool call began and the answer has not finished.
    tool_call: bool,
}

impl CommitRule {
    pub fn new(reasoning: ReasoningStream, limits: HoldLimits) -> Self {
        Self {
            reasoning,
            limits,
            held_bytes: 0,
            held_events: 0,
            content: false,
            tool_call: false,
        }
    }

    /// Takes the next event; `true` when the attempt commits with it.
    pub fn commits(&mut self, event: &Event) -> bool {
        self.content |= event.is_content();
        let held = match event {
            Event::TextDelta { text } if !text.trim().is_empty() => return true,
            Event::Finished { .. } => return true,
            Event::ReasoningDelta { .. } if self.reasoning == ReasoningStream::Immediate => {
                return true;
            }
            Event::TextDelta { text } | Event::ReasoningDelta { text } => text.len(),
            Event::ReasoningSignature { signature } => signature.len(),
            Event::ToolCallStart { id, name, .. } => {
                self.tool_call = true;
                id.len() + name.len()
            }
            Event::ToolCallArgsDelta { delta, .. } => delta.len(),
            Event::Started { .. } | Event::Usage { .. } | Event::Notice { .. } => 0,
        };
        self.held_bytes += held;
        self.held_events += 1;
        let over =
            self.held_bytes > self.limits.max_bytes || self.held_events > self.limits.max_events;
        if over {
            tracing::debug!(
                bytes = self.held_bytes,
                events = self.held_events,
                "hold limit reached: the stream commits before its answer"
            );
        }
        over
    }

    /// Content has arrived (the attempt is alive and, if not committed, being held).
    pub fn content_started(&self) -> bool {
        self.content
    }

    /// A tool call began and the answer has not finished: a failure now is one "in the
    /// middle of a tool call".
    pub fn partial_tool_call(&self) -> bool {
        self.tool_call
    }
}

#[cfg(test)]
mod tests {
    use clawgate_wire::StopReason;

    use super::*;

    fn text(t: &str) -> Event {
        Event::TextDelta { text: t.into() }
    }

    fn reasoning(t: &str) -> Event {
        Event::ReasoningDelta { text: t.into() }
    }

    fn rule() -> CommitRule {
        CommitRule::new(ReasoningStream::Hold, HoldLimits::default())
    }

    #[test]
    fn reasoning_and_whitespace_are_held_and_text_commits() {
        let mut r = rule();
        assert!(!r.commits(&Event::Started {
            id: "x".into(),
            model: "m".into()
        }));
        assert!(!r.content_started());
        assert!(!r.commits(&reasoning("thinking")));
        assert!(r.content_started());
        assert!(!r.commits(&text("\n\n")));
        assert!(r.commits(&text("answer")));
    }

    #[test]
    fn immediate_reasoning_commits_at_once() {
        let mut r = CommitRule::new(ReasoningStream::Immediate, HoldLimits::default());
        assert!(r.commits(&reasoning("thinking")));
    }

    #[test]
    fn tool_calls_are_held_until_the_finish() {
        let mut r = rule();
        assert!(!r.commits(&Event::ToolCallStart {
            index: 0,
            id: "call_0".into(),
            name: "read".into()
        }));
        assert!(r.partial_tool_call());
        assert!(!r.commits(&Event::ToolCallArgsDelta {
            index: 0,
            delta: "{\"path\":\"a\"}".into()
        }));
        assert!(!r.commits(&Event::ToolCallStart {
            index: 1,
            id: "call_1".into(),
            name: "read".into()
        }));
        assert!(r.commits(&Event::Finished {
            stop_reason: StopReason::ToolUse
        }));
    }

    #[test]
    fn the_hold_is_bounded_by_bytes_and_by_events() {
        let limits = HoldLimits {
            max_bytes: 10,
            max_events: 100,
        };
        let mut r = CommitRule::new(ReasoningStream::Hold, limits);
        assert!(!r.commits(&reasoning("0123456789")));
        assert!(r.commits(&reasoning("x")), "11 bytes > 10");
        let limits = HoldLimits {
            max_bytes: 1000,
            max_events: 3,
        };
        let mut r = CommitRule::new(ReasoningStream::Hold, limits);
        for _ in 0..3 {
            assert!(!r.commits(&reasoning("a")));
        }
        assert!(r.commits(&reasoning("a")), "4 events > 3");
    }
}
