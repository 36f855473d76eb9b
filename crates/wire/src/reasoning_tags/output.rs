//! The splitter's output side: pieces of text, reasoning and harmony tool calls, merged with
//! their neighbour of the same kind so a stream gets few, large deltas; and the *lead*, the
//! leading answer text held back until the first reasoning tag says what it was.

use crate::Event;

/// What a piece of content is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Text,
    Reasoning,
    /// Arguments of the harmony call with this index.
    Args(u32),
}

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Reasoning(String),
    CallStart { index: u32, name: String },
    Args { index: u32, text: String },
}

/// Leading answer text held until the first reasoning tag.
#[derive(Debug)]
struct Lead {
    held: String,
    limit: usize,
}

#[derive(Debug)]
pub(super) struct Output {
    pieces: Vec<Piece>,
    lead: Option<Lead>,
}

impl Output {
    /// An output that holds up to `lead_limit` bytes of leading text (0: none).
    pub(super) fn new(lead_limit: usize) -> Self {
        Self {
            pieces: Vec::new(),
            lead: (lead_limit > 0).then(|| Lead {
                held: String::new(),
                limit: lead_limit,
            }),
        }
    }

    pub(super) fn emit(&mut self, kind: Kind, text: &str) {
        if text.is_empty() {
            return;
        }
        if kind == Kind::Text
            && let Some(lead) = &mut self.lead
        {
            lead.held.push_str(text);
            if lead.held.len() > lead.limit {
                self.release_lead();
            }
            return;
        }
        match (self.pieces.last_mut(), kind) {
            (Some(Piece::Text(buffer)), Kind::Text)
            | (Some(Piece::Reasoning(buffer)), Kind::Reasoning) => buffer.push_str(text),
            (
                Some(Piece::Args {
                    index,
                    text: buffer,
                }),
                Kind::Args(i),
            ) if *index == i => buffer.push_str(text),
            (_, Kind::Text) => self.pieces.push(Piece::Text(text.to_owned())),
            (_, Kind::Reasoning) => self.pieces.push(Piece::Reasoning(text.to_owned())),
            (_, Kind::Args(index)) => self.pieces.push(Piece::Args {
                index,
                text: text.to_owned(),
            }),
        }
    }

    /// A harmony call of `name` starts (its arguments follow as `Kind::Args(index)`).
    pub(super) fn call_start(&mut self, index: u32, name: String) {
        self.pieces.push(Piece::CallStart { index, name });
    }

    /// The lead is over: what it held was answer text.
    pub(super) fn release_lead(&mut self) {
        if let Some(lead) = self.lead.take() {
            self.emit(Kind::Text, &lead.held);
        }
    }

    /// The lead is over: what it held was reasoning. False when there was no lead.
    pub(super) fn lead_was_reasoning(&mut self) -> bool {
        match self.lead.take() {
            Some(lead) => {
                self.emit(Kind::Reasoning, &lead.held);
                true
            }
            None => false,
        }
    }

    /// Everything decided so far, as events.
    pub(super) fn take_events(&mut self) -> Vec<Event> {
        let mut events = Vec::with_capacity(self.pieces.len());
        for piece in self.pieces.drain(..) {
            match piece {
                Piece::Text(text) if !text.is_empty() => events.push(Event::TextDelta { text }),
                Piece::Reasoning(text) if !text.is_empty() => {
                    events.push(Event::ReasoningDelta { text })
                }
                Piece::CallStart { index, name } => events.push(Event::ToolCallStart {
                    index,
                    id: format!("harmony_call_{index}"),
                    name,
                }),
                Piece::Args { index, text } if !text.is_empty() => {
                    events.push(Event::ToolCallArgsDelta { index, delta: text })
                }
                _ => {}
            }
        }
        events
    }
}
