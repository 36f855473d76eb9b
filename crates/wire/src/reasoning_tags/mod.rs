//! Moves reasoning that a model wrote *inline* out of answer text: `<think>…</think>` (and
//! `<thinking>`, `<thought>`, `<antthinking>`), gpt-oss harmony channels (`<|channel|>analysis
//! <|message|>…` is reasoning, the `final` channel is answer), and strips leaked chat-template
//! tokens (`<|im_start|>assistant`, `<|eot_id|>`, `<end_of_turn>`, …) and bare `<final>` tags.
//!
//! It works on a stream whose tags may be cut anywhere across chunks: at the end of a chunk it
//! holds back only the shortest suffix that could still start a token (or a run of backticks
//! that could still grow), so the result never depends on how the text was split. An unclosed
//! reasoning block keeps the rest as reasoning. Text inside Markdown code spans and fences is
//! never touched (fence and span state is tracked across chunks).
//!
//! Whitespace right after an opening or closing reasoning tag is dropped (models put `\n\n`
//! there), so `<think>x</think>\n\nAnswer` gives reasoning `x` and text `Answer`. A stray
//! closing tag with no opening one is removed (the text before it was already delivered).
//!
//! Hand-written: the crates we found either strip with regexes over complete text (no
//! streaming) or parse one tag family; one state machine serves both the streaming splitter
//! and [`split_reasoning_tags`], so the two can never disagree.

mod tokens;

use tokens::{CodeState, Match, Token, match_token};

use crate::Event;

/// Role names after `<|im_start|>` / `<|start|>` are short; past this, it was not a header.
const MAX_ROLE_LEN: usize = 32;
/// A harmony channel name (`analysis`, `commentary to=functions.x <|constrain|>json`).
const MAX_CHANNEL_LEN: usize = 128;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Reasoning,
}

#[derive(Debug, Clone)]
enum Mode {
    /// Answer text (Markdown code tracked).
    Text,
    /// Inside `<think>…`.
    Tagged,
    /// Inside a harmony message on a non-final channel.
    Harmony,
    /// Skipping a role name through the end of its line.
    RoleLine { skipped: usize },
    /// Skipping a harmony role name up to the next token.
    HarmonyRole { skipped: usize },
    /// Skipping a Llama 3 header up to `<|end_header_id|>`.
    Header { skipped: usize },
    /// Reading a harmony channel name up to `<|message|>`.
    ChannelName { name: String },
}

enum Step {
    Advance(usize),
    NeedMore,
}

/// Streaming splitter over canonical events: `TextDelta`s go through the state machine, every
/// other event passes through unchanged (held-back text is flushed before it, so order holds).
#[derive(Debug)]
pub struct ReasoningTagSplitter {
    mode: Mode,
    code: CodeState,
    skip_space: bool,
    pending: String,
    out: Vec<(Kind, String)>,
}

impl Default for ReasoningTagSplitter {
    fn default() -> Self {
        Self::new()
    }
}

impl ReasoningTagSplitter {
    pub fn new() -> Self {
        Self {
            mode: Mode::Text,
            code: CodeState::new(),
            skip_space: false,
            pending: String::new(),
            out: Vec::new(),
        }
    }

    pub fn push(&mut self, event: &Event) -> Vec<Event> {
        match event {
            Event::TextDelta { text } => {
                self.run(text, false);
                self.take_events()
            }
            Event::Finished { .. } => {
                // The stream is over: resolve everything before the final event.
                let mut events = self.finish();
                events.push(event.clone());
                events
            }
            other => {
                self.run("", true);
                let mut events = self.take_events();
                events.push(other.clone());
                events
            }
        }
    }

    /// Feeds raw answer text (same as pushing a `TextDelta`).
    pub fn push_text(&mut self, text: &str) -> Vec<Event> {
        self.run(text, false);
        self.take_events()
    }

    /// End of stream: whatever was held back is resolved as plain content.
    pub fn finish(&mut self) -> Vec<Event> {
        self.run("", true);
        if let Mode::ChannelName { name } = &mut self.mode {
            // The channel never opened a message: what we took for its name is content.
            let name = std::mem::take(name);
            self.mode = Mode::Harmony;
            self.emit(Kind::Reasoning, &name);
        }
        self.take_events()
    }

    fn take_events(&mut self) -> Vec<Event> {
        self.out
            .drain(..)
            .filter(|(_, text)| !text.is_empty())
            .map(|(kind, text)| match kind {
                Kind::Text => Event::TextDelta { text },
                Kind::Reasoning => Event::ReasoningDelta { text },
            })
            .collect()
    }

    fn emit(&mut self, kind: Kind, text: &str) {
        if text.is_empty() {
            return;
        }
        match self.out.last_mut() {
            Some((last, buffer)) if *last == kind => buffer.push_str(text),
            _ => self.out.push((kind, text.to_owned())),
        }
    }

    fn run(&mut self, input: &str, at_end: bool) {
        let buffer = if self.pending.is_empty() {
            input.to_owned()
        } else {
            let mut buffer = std::mem::take(&mut self.pending);
            buffer.push_str(input);
            buffer
        };
        let mut i = 0;
        while i < buffer.len() {
            match self.step(&buffer[i..], at_end) {
                Step::Advance(n) => i += n,
                Step::NeedMore => {
                    self.pending = buffer[i..].to_owned();
                    return;
                }
            }
        }
    }

    /// Matches markup at `rest` (starting with `<`); `None` means "a literal `<`".
    fn markup(rest: &str, at_end: bool) -> Result<Option<(Token, usize)>, ()> {
        match match_token(rest) {
            Match::Full(token, len) => Ok(Some((token, len))),
            Match::Partial if !at_end => Err(()),
            Match::Partial | Match::None => Ok(None),
        }
    }

    fn step(&mut self, rest: &str, at_end: bool) -> Step {
        let Some(c) = rest.chars().next() else {
            return Step::Advance(1);
        };
        let width = c.len_utf8();
        if self.skip_space && matches!(self.mode, Mode::Text | Mode::Tagged | Mode::Harmony) {
            if c.is_whitespace() {
                return Step::Advance(width);
            }
            self.skip_space = false;
        }
        match &mut self.mode {
            Mode::Text => self.text_step(rest, c, at_end),
            Mode::Tagged | Mode::Harmony => self.reasoning_step(rest, c, at_end),
            Mode::RoleLine { skipped } => {
                // A role name never contains template markup: a token here ends the role line
                // and is handled as text, so a skip never stops in the middle of a token.
                if c == '<' {
                    match Self::markup(rest, at_end) {
                        Err(()) => return Step::NeedMore,
                        Ok(Some(_)) => {
                            self.mode = Mode::Text;
                            return Step::Advance(0);
                        }
                        Ok(None) => {}
                    }
                }
                *skipped += 1;
                if c == '\n' {
                    self.mode = Mode::Text;
                    self.code.line_start();
                } else if *skipped > MAX_ROLE_LEN {
                    self.mode = Mode::Text;
                    return Step::Advance(0);
                }
                Step::Advance(width)
            }
            Mode::HarmonyRole { skipped } => {
                if c != '<' {
                    *skipped += 1;
                    if *skipped > MAX_ROLE_LEN {
                        self.mode = Mode::Text;
                        return Step::Advance(0);
                    }
                    return Step::Advance(width);
                }
                match Self::markup(rest, at_end) {
                    Err(()) => Step::NeedMore,
                    Ok(Some((Token::Channel, n))) => {
                        self.mode = Mode::ChannelName {
                            name: String::new(),
                        };
                        Step::Advance(n)
                    }
                    Ok(Some((Token::Message, n))) => {
                        self.mode = Mode::Text;
                        Step::Advance(n)
                    }
                    Ok(Some((Token::Noise, n))) => Step::Advance(n),
                    // Anything else ends the role: handle it as text.
                    Ok(_) => {
                        self.mode = Mode::Text;
                        Step::Advance(0)
                    }
                }
            }
            Mode::Header { skipped } => {
                if c != '<' {
                    *skipped += 1;
                    if *skipped > MAX_ROLE_LEN {
                        self.mode = Mode::Text;
                        return Step::Advance(0);
                    }
                    return Step::Advance(width);
                }
                match Self::markup(rest, at_end) {
                    Err(()) => Step::NeedMore,
                    Ok(Some((Token::HeaderEnd, n))) => {
                        self.mode = Mode::Text;
                        self.skip_space = true;
                        self.code.line_start();
                        Step::Advance(n)
                    }
                    Ok(_) => {
                        self.mode = Mode::Text;
                        Step::Advance(0)
                    }
                }
            }
            Mode::ChannelName { name } => {
                if c != '<' {
                    name.push(c);
                    if name.len() > MAX_CHANNEL_LEN {
                        let name = std::mem::take(name);
                        self.mode = Mode::Harmony;
                        self.emit(Kind::Reasoning, &name);
                    }
                    return Step::Advance(width);
                }
                match Self::markup(rest, at_end) {
                    Err(()) => Step::NeedMore,
                    Ok(Some((Token::Message, n))) => {
                        let is_final = name.trim().starts_with("final");
                        self.mode = if is_final { Mode::Text } else { Mode::Harmony };
                        self.code.line_start();
                        Step::Advance(n)
                    }
                    Ok(Some((_, n))) => Step::Advance(n),
                    Ok(None) => {
                        name.push('<');
                        Step::Advance(1)
                    }
                }
            }
        }
    }

    fn text_step(&mut self, rest: &str, c: char, at_end: bool) -> Step {
        if c == '`' || c == '~' {
            let run = rest.bytes().take_while(|b| *b == c as u8).count();
            if run == rest.len() && !at_end {
                return Step::NeedMore; // the run may continue in the next chunk
            }
            self.code.run(c, run);
            self.emit(Kind::Text, &rest[..run]);
            return Step::Advance(run);
        }
        if c != '<' || self.code.in_code() {
            self.code.char(c);
            self.emit(Kind::Text, &rest[..c.len_utf8()]);
            return Step::Advance(c.len_utf8());
        }
        match Self::markup(rest, at_end) {
            Err(()) => Step::NeedMore,
            Ok(None) => {
                self.code.char('<');
                self.emit(Kind::Text, "<");
                Step::Advance(1)
            }
            Ok(Some((token, n))) => {
                match token {
                    Token::ThinkOpen => {
                        self.mode = Mode::Tagged;
                        self.skip_space = true;
                    }
                    Token::RoleLine => self.mode = Mode::RoleLine { skipped: 0 },
                    Token::HarmonyStart => self.mode = Mode::HarmonyRole { skipped: 0 },
                    Token::HeaderStart => self.mode = Mode::Header { skipped: 0 },
                    Token::Channel => {
                        self.mode = Mode::ChannelName {
                            name: String::new(),
                        }
                    }
                    Token::HeaderEnd => self.skip_space = true,
                    Token::ThinkClose
                    | Token::Final
                    | Token::Message
                    | Token::End
                    | Token::Noise => {}
                }
                Step::Advance(n)
            }
        }
    }

    fn reasoning_step(&mut self, rest: &str, c: char, at_end: bool) -> Step {
        if c != '<' {
            self.emit(Kind::Reasoning, &rest[..c.len_utf8()]);
            return Step::Advance(c.len_utf8());
        }
        let harmony = matches!(self.mode, Mode::Harmony);
        match Self::markup(rest, at_end) {
            Err(()) => Step::NeedMore,
            Ok(None) => {
                self.emit(Kind::Reasoning, "<");
                Step::Advance(1)
            }
            Ok(Some((token, n))) => {
                match (token, harmony) {
                    (Token::ThinkClose, false) => {
                        self.mode = Mode::Text;
                        self.skip_space = true;
                        self.code.line_start();
                    }
                    (Token::ThinkOpen | Token::ThinkClose | Token::Final, _) => {
                        self.emit(Kind::Reasoning, &rest[..n]);
                    }
                    (Token::End, true) => {
                        self.mode = Mode::Text;
                        self.skip_space = true;
                        self.code.line_start();
                    }
                    (Token::HarmonyStart, true) => self.mode = Mode::HarmonyRole { skipped: 0 },
                    (Token::Channel, true) => {
                        self.mode = Mode::ChannelName {
                            name: String::new(),
                        }
                    }
                    // Template tokens inside reasoning carry nothing.
                    _ => {}
                }
                Step::Advance(n)
            }
        }
    }
}

/// Non-streaming form: `(reasoning, text)` of a complete text, by the same state machine.
pub fn split_reasoning_tags(text: &str) -> (String, String) {
    let mut splitter = ReasoningTagSplitter::new();
    let mut events = splitter.push_text(text);
    events.extend(splitter.finish());
    let mut reasoning = String::new();
    let mut answer = String::new();
    for event in events {
        match event {
            Event::TextDelta { text } => answer.push_str(&text),
            Event::ReasoningDelta { text } => reasoning.push_str(&text),
            _ => {}
        }
    }
    (reasoning, answer)
}

#[cfg(test)]
#[path = "../reasoning_tags_tests.rs"]
mod tests;
