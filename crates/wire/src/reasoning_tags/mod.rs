//! Moves reasoning that a model wrote *inline* out of answer text: `<think>…</think>` (and
//! `<thinking>`, `<thought>`, `<antthinking>`), gpt-oss harmony messages, and strips leaked
//! chat-template tokens (`<|im_start|>assistant`, `<|eot_id|>`, `<end_of_turn>`, …) and bare
//! `<final>` tags.
//!
//! Harmony (see `harmony`): `analysis` is reasoning, `final` (and a `commentary` preamble) is
//! answer, and a `commentary to=<tool>` message whose recipient is a tool of the request
//! becomes a structured tool call (`ToolCallStart` + argument deltas, stop reason `tool_use`).
//! Every harmony token is removed; nothing of the markup reaches answer text.
//!
//! It works on a stream whose tags may be cut anywhere across chunks: at the end of a chunk it
//! holds back only the shortest suffix that could still start a token (or a run of backticks
//! that could still grow), so the result never depends on how the text was split. An unclosed
//! reasoning block keeps the rest as reasoning. Text inside Markdown code spans and fences is
//! never touched (fence and span state is tracked across chunks).
//!
//! Whitespace right after an opening or closing reasoning tag is dropped (models put `\n\n`
//! there), so `<think>x</think>\n\nAnswer` gives reasoning `x` and text `Answer`.
//!
//! An orphan `</think>` (no opening tag: vLLM/SGLang reasoning parsers for MiniMax M2, GLM,
//! Qwen3 whose template opens the block in the prompt) means the text before it was
//! reasoning. Only text not yet released can be moved, so the splitter can hold a *lead*: up
//! to [`SplitterOptions::reasoning_lead`] bytes of leading answer text wait until the first
//! reasoning tag. An orphan close turns them into reasoning; an opening tag, harmony markup,
//! a structured reasoning or tool event, the limit or the end of the stream release them as
//! answer text (template tokens are stripped and do not end the lead). Without a lead, a
//! stray closing tag is removed and [`ReasoningTagSplitter::saw_orphan_close`] reports it, so
//! a caller can hold the next answers of that model.
//!
//! Tool-call indices are renumbered in order of first appearance, so calls found in harmony
//! text and calls the upstream sent structurally never share an index.
//!
//! Hand-written: the crates we found either strip with regexes over complete text (no
//! streaming) or parse one tag family; one state machine serves both the streaming splitter
//! and [`split_reasoning_tags`], so the two can never disagree.

mod harmony;
mod output;
mod tokens;

use harmony::{Destination, destination};
use output::{Kind, Output};
use tokens::{CodeState, Match, Token, match_token};

use crate::{Event, StopReason};

/// Role names after `<|im_start|>` / `<|start|>` are short; past this, it was not a header.
const MAX_ROLE_LEN: usize = 32;
/// A harmony header part (`analysis`, `commentary to=functions.x <|constrain|>json`,
/// `assistant to=functions.x`).
const MAX_CHANNEL_LEN: usize = 128;

/// A lead that never gives up before the end (for complete texts).
pub const UNLIMITED_LEAD: usize = usize::MAX;

/// What a splitter knows about the call it splits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SplitterOptions {
    /// Tool names of the request: a harmony `commentary to=<tool>` message becomes a call.
    pub tools: Vec<String>,
    /// Bytes of leading answer text held back until the first reasoning tag decides what it
    /// was (0: none; [`UNLIMITED_LEAD`]: until the end).
    pub reasoning_lead: usize,
}

#[derive(Debug, Clone)]
enum Mode {
    /// Answer text (Markdown code tracked).
    Text,
    /// Inside `<think>…`.
    Tagged,
    /// Inside a harmony message that is not for the user.
    Harmony,
    /// Inside a harmony message addressed to a tool of the request: its arguments.
    HarmonyCall { index: u32 },
    /// Skipping a role name through the end of its line.
    RoleLine { skipped: usize },
    /// Reading a harmony role header up to the next token.
    HarmonyRole { header: String },
    /// Skipping a Llama 3 header up to `<|end_header_id|>`.
    Header { skipped: usize },
    /// Reading a harmony channel header up to `<|message|>` (`role` is the role header).
    ChannelName { name: String, role: String },
}

enum Step {
    Advance(usize),
    NeedMore,
}

/// Streaming splitter over canonical events: `TextDelta`s go through the state machine, every
/// other event passes through (held-back text is flushed before it, so order holds; tool
/// indices are renumbered, and `Finished` says `tool_use` after a harmony call).
#[derive(Debug)]
pub struct ReasoningTagSplitter {
    mode: Mode,
    code: CodeState,
    skip_space: bool,
    pending: String,
    out: Output,
    tools: Vec<String>,
    /// A `<think>`-family tag was seen (opening or closing).
    seen_reasoning_tag: bool,
    orphan_close: bool,
    /// (upstream index, canonical index) of structured tool calls.
    upstream_calls: Vec<(u32, u32)>,
    next_index: u32,
    harmony_calls: u32,
}

impl Default for ReasoningTagSplitter {
    fn default() -> Self {
        Self::new()
    }
}

impl ReasoningTagSplitter {
    /// No tools, no lead.
    pub fn new() -> Self {
        Self::with_options(SplitterOptions::default())
    }

    pub fn with_options(options: SplitterOptions) -> Self {
        Self {
            mode: Mode::Text,
            code: CodeState::new(),
            skip_space: false,
            pending: String::new(),
            out: Output::new(options.reasoning_lead),
            tools: options.tools,
            seen_reasoning_tag: false,
            orphan_close: false,
            upstream_calls: Vec::new(),
            next_index: 0,
            harmony_calls: 0,
        }
    }

    /// True once a closing reasoning tag came before any opening one.
    pub fn saw_orphan_close(&self) -> bool {
        self.orphan_close
    }

    pub fn push(&mut self, event: &Event) -> Vec<Event> {
        match event {
            Event::TextDelta { text } => {
                self.run(text, false);
                self.out.take_events()
            }
            Event::Finished { stop_reason } => {
                // The stream is over: resolve everything before the final event.
                let mut events = self.finish();
                let stop_reason = match stop_reason {
                    StopReason::Stop if self.harmony_calls > 0 => StopReason::ToolUse,
                    other => *other,
                };
                events.push(Event::Finished { stop_reason });
                events
            }
            other => {
                self.run("", true);
                if matches!(
                    other,
                    Event::ReasoningDelta { .. }
                        | Event::ToolCallStart { .. }
                        | Event::ToolCallArgsDelta { .. }
                ) {
                    // The server reports reasoning and calls structurally: the lead is over.
                    self.out.release_lead();
                }
                let mut events = self.out.take_events();
                events.push(self.renumbered(other));
                events
            }
        }
    }

    /// Feeds raw answer text (same as pushing a `TextDelta`).
    pub fn push_text(&mut self, text: &str) -> Vec<Event> {
        self.run(text, false);
        self.out.take_events()
    }

    /// End of stream: whatever was held back is resolved as plain content.
    pub fn finish(&mut self) -> Vec<Event> {
        self.run("", true);
        if let Mode::ChannelName { name, .. } = &mut self.mode {
            // The channel never opened a message: what we took for its name is content.
            let name = std::mem::take(name);
            self.mode = Mode::Harmony;
            self.out.emit(Kind::Reasoning, &name);
        }
        self.out.release_lead();
        self.out.take_events()
    }

    /// An upstream tool event with its index renumbered.
    fn renumbered(&mut self, event: &Event) -> Event {
        let canonical = |this: &mut Self, upstream: u32| match this
            .upstream_calls
            .iter()
            .find(|(u, _)| *u == upstream)
        {
            Some((_, c)) => *c,
            None => {
                let c = this.new_index();
                this.upstream_calls.push((upstream, c));
                c
            }
        };
        match event {
            Event::ToolCallStart { index, id, name } => Event::ToolCallStart {
                index: canonical(self, *index),
                id: id.clone(),
                name: name.clone(),
            },
            Event::ToolCallArgsDelta { index, delta } => Event::ToolCallArgsDelta {
                index: canonical(self, *index),
                delta: delta.clone(),
            },
            other => other.clone(),
        }
    }

    fn new_index(&mut self) -> u32 {
        let index = self.next_index;
        self.next_index += 1;
        index
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
            Mode::HarmonyCall { index } => {
                let index = *index;
                self.call_step(rest, c, index, at_end)
            }
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
            Mode::HarmonyRole { header } => {
                if c != '<' {
                    header.push(c);
                    if header.len() > MAX_CHANNEL_LEN {
                        self.mode = Mode::Text;
                        return Step::Advance(0);
                    }
                    return Step::Advance(width);
                }
                match Self::markup(rest, at_end) {
                    Err(()) => Step::NeedMore,
                    Ok(Some((Token::Channel, n))) => {
                        let role = std::mem::take(header);
                        self.mode = Mode::ChannelName {
                            name: String::new(),
                            role,
                        };
                        Step::Advance(n)
                    }
                    Ok(Some((Token::Message, n))) => {
                        let role = std::mem::take(header);
                        self.open_message(&role, "");
                        Step::Advance(n)
                    }
                    Ok(Some((Token::Noise, n))) => {
                        header.push(' ');
                        Step::Advance(n)
                    }
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
            Mode::ChannelName { name, .. } => {
                if c != '<' {
                    name.push(c);
                    if name.len() > MAX_CHANNEL_LEN {
                        let name = std::mem::take(name);
                        self.mode = Mode::Harmony;
                        self.out.emit(Kind::Reasoning, &name);
                    }
                    return Step::Advance(width);
                }
                match Self::markup(rest, at_end) {
                    Err(()) => Step::NeedMore,
                    Ok(Some((Token::Message, n))) => {
                        let (name, role) = match std::mem::replace(&mut self.mode, Mode::Text) {
                            Mode::ChannelName { name, role } => (name, role),
                            _ => (String::new(), String::new()),
                        };
                        self.open_message(&role, &name);
                        Step::Advance(n)
                    }
                    // `<|constrain|>` and friends separate words of the header.
                    Ok(Some((_, n))) => {
                        name.push(' ');
                        Step::Advance(n)
                    }
                    Ok(None) => {
                        name.push('<');
                        Step::Advance(1)
                    }
                }
            }
        }
    }

    /// `<|message|>` after a harmony header: route the content.
    fn open_message(&mut self, role: &str, channel: &str) {
        self.code.line_start();
        self.mode = match destination(role, channel, &self.tools) {
            Destination::Answer => Mode::Text,
            Destination::Reasoning => Mode::Harmony,
            Destination::Call(name) => {
                let index = self.new_index();
                self.harmony_calls += 1;
                self.out.call_start(index, name);
                Mode::HarmonyCall { index }
            }
        };
    }

    fn text_step(&mut self, rest: &str, c: char, at_end: bool) -> Step {
        if c == '`' || c == '~' {
            let run = rest.bytes().take_while(|b| *b == c as u8).count();
            if run == rest.len() && !at_end {
                return Step::NeedMore; // the run may continue in the next chunk
            }
            self.code.run(c, run);
            self.out.emit(Kind::Text, &rest[..run]);
            return Step::Advance(run);
        }
        if c != '<' || self.code.in_code() {
            self.code.char(c);
            self.out.emit(Kind::Text, &rest[..c.len_utf8()]);
            return Step::Advance(c.len_utf8());
        }
        match Self::markup(rest, at_end) {
            Err(()) => Step::NeedMore,
            Ok(None) => {
                self.code.char('<');
                self.out.emit(Kind::Text, "<");
                Step::Advance(1)
            }
            Ok(Some((token, n))) => {
                match token {
                    Token::ThinkOpen => {
                        self.seen_reasoning_tag = true;
                        self.out.release_lead();
                        self.mode = Mode::Tagged;
                        self.skip_space = true;
                    }
                    Token::ThinkClose => {
                        if !self.seen_reasoning_tag {
                            self.orphan_close = true;
                        }
                        self.seen_reasoning_tag = true;
                        if self.out.lead_was_reasoning() {
                            self.skip_space = true;
                        }
                    }
                    Token::RoleLine => self.mode = Mode::RoleLine { skipped: 0 },
                    Token::HarmonyStart => {
                        self.out.release_lead();
                        self.mode = Mode::HarmonyRole {
                            header: String::new(),
                        }
                    }
                    Token::HeaderStart => self.mode = Mode::Header { skipped: 0 },
                    Token::Channel => {
                        self.out.release_lead();
                        self.mode = Mode::ChannelName {
                            name: String::new(),
                            role: String::new(),
                        }
                    }
                    Token::HeaderEnd => self.skip_space = true,
                    Token::Final | Token::Message => self.out.release_lead(),
                    Token::End | Token::Noise => {}
                }
                Step::Advance(n)
            }
        }
    }

    fn reasoning_step(&mut self, rest: &str, c: char, at_end: bool) -> Step {
        if c != '<' {
            self.out.emit(Kind::Reasoning, &rest[..c.len_utf8()]);
            return Step::Advance(c.len_utf8());
        }
        let harmony = matches!(self.mode, Mode::Harmony);
        match Self::markup(rest, at_end) {
            Err(()) => Step::NeedMore,
            Ok(None) => {
                self.out.emit(Kind::Reasoning, "<");
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
                        self.out.emit(Kind::Reasoning, &rest[..n]);
                    }
                    (token, true) => self.harmony_structure(token),
                    // Template tokens inside reasoning carry nothing.
                    _ => {}
                }
                Step::Advance(n)
            }
        }
    }

    /// Inside a harmony call only harmony markup is structure; everything else (a `<think>`
    /// inside a JSON string included) is argument text.
    fn call_step(&mut self, rest: &str, c: char, index: u32, at_end: bool) -> Step {
        if c != '<' {
            self.out.emit(Kind::Args(index), &rest[..c.len_utf8()]);
            return Step::Advance(c.len_utf8());
        }
        match Self::markup(rest, at_end) {
            Err(()) => Step::NeedMore,
            Ok(Some((
                token @ (Token::End | Token::HarmonyStart | Token::Channel | Token::Noise),
                n,
            ))) => {
                self.harmony_structure(token);
                Step::Advance(n)
            }
            Ok(Some((_, n))) => {
                self.out.emit(Kind::Args(index), &rest[..n]);
                Step::Advance(n)
            }
            Ok(None) => {
                self.out.emit(Kind::Args(index), "<");
                Step::Advance(1)
            }
        }
    }

    /// A harmony token inside a harmony message: a new message, or the end of this one.
    fn harmony_structure(&mut self, token: Token) {
        match token {
            Token::End => {
                self.mode = Mode::Text;
                self.skip_space = true;
                self.code.line_start();
            }
            Token::HarmonyStart => {
                self.mode = Mode::HarmonyRole {
                    header: String::new(),
                }
            }
            Token::Channel => {
                self.mode = Mode::ChannelName {
                    name: String::new(),
                    role: String::new(),
                }
            }
            _ => {}
        }
    }
}

/// Non-streaming form: `(reasoning, text)` of a complete text, by the same state machine.
/// The whole text is known, so an orphan `</think>` always turns what came before it into
/// reasoning (an unlimited lead).
pub fn split_reasoning_tags(text: &str) -> (String, String) {
    split_reasoning_tags_with(
        text,
        SplitterOptions {
            tools: Vec::new(),
            reasoning_lead: UNLIMITED_LEAD,
        },
    )
}

/// [`split_reasoning_tags`] with explicit options (tool calls found in harmony text are
/// dropped from the result: it has no place for them).
pub fn split_reasoning_tags_with(text: &str, options: SplitterOptions) -> (String, String) {
    let mut splitter = ReasoningTagSplitter::with_options(options);
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
