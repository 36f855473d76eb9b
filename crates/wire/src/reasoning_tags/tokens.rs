//! Recognising the markup the splitter acts on: reasoning tags (`<think>`, `<thinking>`,
//! `<thought>`, `<antthinking>`, `<final>`, open or close, case-insensitive, with optional
//! whitespace and attributes as in `<think reason="x">`, like OpenClaw's
//! `<\s*(/?)\s*(?:think(?:ing)?|thought|antthinking)\b[^<>]*>`) and leaked chat-template
//! tokens (ChatML, Llama 3, Gemma, gpt-oss harmony).
//!
//! Matching answers "full match", "could still become one with more input" (so the caller
//! holds the text back) or "no"; every token starts with `<` and contains no other `<`, so the
//! held-back suffix is always the shortest one that could still be a token.

/// What a matched piece of markup means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Token {
    /// `<think>` and friends: reasoning starts.
    ThinkOpen,
    /// `</think>` and friends: reasoning ends.
    ThinkClose,
    /// `<final>` / `</final>`: a bare wrapper around the answer, removed.
    Final,
    /// `<|im_start|>`, `<start_of_turn>`: a role name and newline follow.
    RoleLine,
    /// Harmony `<|start|>`: a role name follows, up to the next token.
    HarmonyStart,
    /// Llama 3 `<|start_header_id|>`: a role name follows, up to `<|end_header_id|>`.
    HeaderStart,
    HeaderEnd,
    /// Harmony `<|channel|>`: a channel name follows, up to `<|message|>`.
    Channel,
    Message,
    /// Ends a turn or a harmony message.
    End,
    /// Carries nothing (`<|constrain|>`, `<|begin_of_text|>`): removed.
    Noise,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Match {
    Full(Token, usize),
    /// The input ends inside something that may still become a token.
    Partial,
    None,
}

const FIXED: &[(&str, Token)] = &[
    ("<|im_start|>", Token::RoleLine),
    ("<start_of_turn>", Token::RoleLine),
    ("<|start|>", Token::HarmonyStart),
    ("<|start_header_id|>", Token::HeaderStart),
    ("<|end_header_id|>", Token::HeaderEnd),
    ("<|channel|>", Token::Channel),
    ("<|message|>", Token::Message),
    ("<|im_end|>", Token::End),
    ("<|end|>", Token::End),
    ("<|return|>", Token::End),
    ("<|call|>", Token::End),
    ("<|eot_id|>", Token::End),
    ("<|eom_id|>", Token::End),
    ("<end_of_turn>", Token::End),
    ("<|endoftext|>", Token::End),
    ("<|end_of_text|>", Token::End),
    ("<|begin_of_text|>", Token::Noise),
    ("<|constrain|>", Token::Noise),
];

const TAG_NAMES: &[&str] = &["think", "thinking", "thought", "antthinking", "final"];

/// A reasoning tag longer than this (attributes included) is taken as plain text, so a stray
/// `<think` followed by prose is not held back forever.
const MAX_TAG_LEN: usize = 64;

/// Matches markup at the start of `rest` (which starts with `<`).
pub(super) fn match_token(rest: &str) -> Match {
    let mut partial = false;
    for (text, token) in FIXED {
        if rest.starts_with(text) {
            return Match::Full(*token, text.len());
        }
        if text.starts_with(rest) {
            partial = true;
        }
    }
    match reasoning_tag(rest) {
        Match::None if partial => Match::Partial,
        other => other,
    }
}

fn is_tag_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn reasoning_tag(rest: &str) -> Match {
    let bytes = rest.as_bytes();
    let len = bytes.len().min(MAX_TAG_LEN + 1);
    let mut i = 1;
    while i < len && is_tag_space(bytes[i]) {
        i += 1;
    }
    if i >= len {
        return within_limit(bytes.len());
    }
    let close = bytes[i] == b'/';
    if close {
        i += 1;
        while i < len && is_tag_space(bytes[i]) {
            i += 1;
        }
        if i >= len {
            return within_limit(bytes.len());
        }
    }
    let name_start = i;
    while i < len && bytes[i].is_ascii_alphabetic() {
        i += 1;
    }
    let name = rest[name_start..i].to_ascii_lowercase();
    if i >= len {
        if bytes.len() > MAX_TAG_LEN {
            return Match::None;
        }
        return if TAG_NAMES.iter().any(|n| n.starts_with(&name)) {
            Match::Partial
        } else {
            Match::None
        };
    }
    if !TAG_NAMES.contains(&name.as_str()) || bytes[i].is_ascii_digit() || bytes[i] == b'_' {
        return Match::None;
    }
    let token = match (name.as_str(), close) {
        ("final", _) => Token::Final,
        (_, false) => Token::ThinkOpen,
        (_, true) => Token::ThinkClose,
    };
    while i < len {
        match bytes[i] {
            b'>' => return Match::Full(token, i + 1),
            b'<' => return Match::None,
            _ => i += 1,
        }
    }
    within_limit(bytes.len())
}

fn within_limit(available: usize) -> Match {
    if available > MAX_TAG_LEN {
        Match::None
    } else {
        Match::Partial
    }
}

/// Markdown code state, so tags inside code spans and fences are left alone. Fences open on a
/// line starting (after at most three spaces) with three or more backticks or tildes and close
/// on a line with at least as many of the same character. A span opens with a run of N
/// backticks and closes at the next run of exactly N; unlike full Markdown, an unclosed span
/// ends at the line break (a streaming scanner cannot look ahead for the closing run).
#[derive(Debug, Clone, Default)]
pub(super) struct CodeState {
    fence: Option<(char, usize)>,
    span: Option<usize>,
    /// `Some(n)`: only `n` spaces since the line started.
    indent: Option<usize>,
}

impl CodeState {
    pub fn new() -> Self {
        Self {
            fence: None,
            span: None,
            indent: Some(0),
        }
    }

    pub fn in_code(&self) -> bool {
        self.fence.is_some() || self.span.is_some()
    }

    pub fn line_start(&mut self) {
        self.indent = Some(0);
        self.span = None;
    }

    pub fn char(&mut self, c: char) {
        match c {
            '\n' => self.line_start(),
            ' ' => self.indent = self.indent.map(|n| n + 1),
            _ => self.indent = None,
        }
    }

    /// A complete run of `len` backticks or tildes.
    pub fn run(&mut self, c: char, len: usize) {
        let at_line_start = matches!(self.indent, Some(n) if n <= 3);
        match self.fence {
            Some((fence_char, fence_len))
                if at_line_start && c == fence_char && len >= fence_len =>
            {
                self.fence = None;
            }
            Some(_) => {}
            None if at_line_start && len >= 3 && self.span.is_none() => {
                self.fence = Some((c, len));
            }
            None if c == '`' => match self.span {
                Some(n) if n == len => self.span = None,
                Some(_) => {}
                None => self.span = Some(len),
            },
            None => {}
        }
        self.indent = None;
    }
}
