//! What reaches the user: final answer text only (OpenClaw §2.4). Per model answer, text goes
//! through three stages, streaming and non-streaming alike (the non-streaming form feeds the
//! whole text through the same machines, so the two cannot disagree):
//! 1. `clawgate_wire::reasoning_tags::ReasoningTagSplitter`: `<think>`-style blocks, harmony
//!    analysis channels and chat-template tokens out of the text (code left alone);
//! 2. [`ScaffoldStripper`]: leaked `<tool_call>`, `<function_calls>`, `<system-reminder>`, …;
//! 3. the silent gate: an answer that starts with the `NO_REPLY` token is not delivered, and its
//!    streamed chunks are held back from the first character (a prefix of `NO_REPLY` is held
//!    until it is decided).
//!
//! Reasoning (structured or from tags) is delivered only when the session turned it on, and
//! then apart from the answer, marked `Reasoning:`.
//!
//! Stage 1 is the agent's one split of an answer: the turn takes the split events for the
//! transcript from here ([`DeliveryFilter::push_split`]) instead of splitting a second time.

use clawgate_wire::Event;
use clawgate_wire::reasoning_tags::ReasoningTagSplitter;

use crate::scaffold::ScaffoldStripper;

pub const SILENT_TOKEN: &str = "NO_REPLY";

/// One piece of output for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    Text(String),
    Reasoning(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gate {
    Undecided,
    Pass,
    Silent,
}

#[derive(Debug)]
pub struct DeliveryFilter {
    splitter: ReasoningTagSplitter,
    scaffold: ScaffoldStripper,
    gate: Gate,
    held: String,
    reasoning_on: bool,
    text: String,
    reasoning: String,
}

/// The filtered form of one complete answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilteredAnswer {
    /// Answer text; `None` when silent or empty.
    pub text: Option<String>,
    /// Reasoning, only when reasoning delivery is on and there was some.
    pub reasoning: Option<String>,
    pub silent: bool,
}

impl DeliveryFilter {
    pub fn new(reasoning_on: bool) -> Self {
        DeliveryFilter {
            splitter: ReasoningTagSplitter::new(),
            scaffold: ScaffoldStripper::new(),
            gate: Gate::Undecided,
            held: String::new(),
            reasoning_on,
            text: String::new(),
            reasoning: String::new(),
        }
    }

    /// Filter a complete answer text (plus any structured reasoning it came with).
    pub fn filter_text(
        text: &str,
        structured_reasoning: &str,
        reasoning_on: bool,
    ) -> FilteredAnswer {
        let mut f = DeliveryFilter::new(reasoning_on);
        if !structured_reasoning.is_empty() {
            f.push(&Event::ReasoningDelta {
                text: structured_reasoning.to_string(),
            });
        }
        f.push(&Event::TextDelta {
            text: text.to_string(),
        });
        f.finish();
        f.answer()
    }

    /// Feed one model event; returns what may be shown now.
    pub fn push(&mut self, event: &Event) -> Vec<Delivered> {
        self.push_split(event).1
    }

    /// End of the answer: flush everything held back.
    pub fn finish(&mut self) -> Vec<Delivered> {
        self.finish_split().1
    }

    /// [`push`](Self::push), also returning the event split into answer text and reasoning:
    /// what the turn keeps for the transcript, so an answer is split once, here.
    pub fn push_split(&mut self, event: &Event) -> (Vec<Event>, Vec<Delivered>) {
        let split = self.splitter.push(event);
        let delivered = self.route(&split, false);
        (split, delivered)
    }

    /// [`finish`](Self::finish), also returning the split events the splitter still held.
    pub fn finish_split(&mut self) -> (Vec<Event>, Vec<Delivered>) {
        let split = self.splitter.finish();
        let delivered = self.route(&split, true);
        (split, delivered)
    }

    fn route(&mut self, events: &[Event], at_end: bool) -> Vec<Delivered> {
        let mut out = Vec::new();
        let mut text = String::new();
        for event in events {
            match event {
                Event::TextDelta { text: t } => text.push_str(&self.scaffold.push(t)),
                Event::ReasoningDelta { text: r } if self.reasoning_on && !r.is_empty() => {
                    self.reasoning.push_str(r);
                    out.push(Delivered::Reasoning(r.clone()));
                }
                _ => {}
            }
        }
        if at_end {
            text.push_str(&self.scaffold.finish());
        }
        let passed = self.gate(&text, at_end);
        if !passed.is_empty() {
            self.text.push_str(&passed);
            out.push(Delivered::Text(passed));
        }
        out
    }

    fn gate(&mut self, text: &str, at_end: bool) -> String {
        match self.gate {
            Gate::Pass => return text.to_string(),
            Gate::Silent => return String::new(),
            Gate::Undecided => {}
        }
        self.held.push_str(text);
        let head = self.held.trim_start();
        let upper: String = head
            .chars()
            .take(SILENT_TOKEN.len() + 1)
            .collect::<String>();
        let upper = upper.to_ascii_uppercase();
        let decided = if let Some(after) = upper.strip_prefix(SILENT_TOKEN) {
            match after.chars().next() {
                Some(c) if c.is_alphanumeric() || c == '_' => Some(Gate::Pass),
                Some(_) => Some(Gate::Silent),
                None if at_end => Some(Gate::Silent),
                None => None,
            }
        } else if head.is_empty() || SILENT_TOKEN.starts_with(upper.as_str()) {
            at_end.then_some(Gate::Pass)
        } else {
            Some(Gate::Pass)
        };
        match decided {
            Some(Gate::Pass) => {
                self.gate = Gate::Pass;
                std::mem::take(&mut self.held)
            }
            Some(Gate::Silent) => {
                self.gate = Gate::Silent;
                self.held.clear();
                String::new()
            }
            _ => String::new(),
        }
    }

    pub fn is_silent(&self) -> bool {
        self.gate == Gate::Silent
    }

    /// The answer as filtered so far (complete after [`finish`](Self::finish)).
    pub fn answer(&self) -> FilteredAnswer {
        let text = self.text.trim();
        let reasoning = self.reasoning.trim();
        FilteredAnswer {
            text: (!self.is_silent() && !text.is_empty()).then(|| text.to_string()),
            reasoning: (self.reasoning_on && !reasoning.is_empty()).then(|| reasoning.to_string()),
            silent: self.is_silent(),
        }
    }
}

/// The separate reasoning message as sent to a chat surface.
pub fn reasoning_message(reasoning: &str) -> String {
    format!("Reasoning:\n{reasoning}")
}
