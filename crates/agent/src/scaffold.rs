//! Removes tool and template scaffolding that a model leaked into its answer text
//! (`<tool_call>…</tool_call>`, `<function_calls>`, `<system-reminder>`, `<previous_response>`,
//! namespaced forms like `<ns:invoke>`): a block is removed from its opening tag through the
//! matching closing tag (an unclosed block hides the rest), a stray closing tag is removed.
//! Code spans and fences are left alone, so an answer that *explains* these formats survives.
//!
//! Streaming: at the end of a chunk only the shortest suffix that could still become a tag (or
//! a backtick run that could still grow) is held back, so the output never depends on how the
//! text was split. Think tags and chat-template tokens are not handled here: that is
//! `clawgate_wire::reasoning_tags`, which runs first.

const SCAFFOLD_TAGS: &[&str] = &[
    "tool_call",
    "tool_calls",
    "tool_use",
    "tool_result",
    "tool_results",
    "tool_response",
    "function_call",
    "function_calls",
    "function_results",
    "invoke",
    "system-reminder",
    "previous_response",
];

/// Longest tag we look at (name, namespace and attributes): past this a `<` is literal.
const MAX_TAG_LEN: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Mode {
    Text,
    /// Inside a scaffold block; the closing tag name we wait for.
    Inside(String),
}

#[derive(Debug)]
pub struct ScaffoldStripper {
    mode: Mode,
    pending: String,
    line_start: bool,
    fence: Option<usize>,
    span: Option<usize>,
}

impl Default for ScaffoldStripper {
    fn default() -> Self {
        Self::new()
    }
}

enum TagMatch {
    /// An opening tag of a scaffold block (name, length); `self_closing` tags open nothing.
    Open(String, usize, bool),
    Close(String, usize),
    Partial,
    None,
}

impl ScaffoldStripper {
    pub fn new() -> Self {
        ScaffoldStripper {
            mode: Mode::Text,
            pending: String::new(),
            line_start: true,
            fence: None,
            span: None,
        }
    }

    pub fn push(&mut self, input: &str) -> String {
        self.run(input, false)
    }

    pub fn finish(&mut self) -> String {
        self.run("", true)
    }

    fn run(&mut self, input: &str, at_end: bool) -> String {
        let mut buffer = std::mem::take(&mut self.pending);
        buffer.push_str(input);
        let mut out = String::with_capacity(buffer.len());
        let mut i = 0;
        while i < buffer.len() {
            let rest = &buffer[i..];
            match self.step(rest, at_end, &mut out) {
                Some(n) => i += n,
                None => {
                    self.pending = rest.to_string();
                    break;
                }
            }
        }
        out
    }

    /// Consumes a prefix of `rest`, returning its length, or `None` to wait for more input.
    fn step(&mut self, rest: &str, at_end: bool, out: &mut String) -> Option<usize> {
        let c = rest.chars().next()?;
        if let Mode::Inside(name) = &self.mode {
            if c != '<' {
                return Some(c.len_utf8());
            }
            return match match_tag(rest) {
                TagMatch::Close(closing, n) if &closing == name => {
                    self.mode = Mode::Text;
                    Some(n)
                }
                TagMatch::Partial if !at_end => None,
                _ => Some(1),
            };
        }
        if c == '`' {
            let run = rest.bytes().take_while(|b| *b == b'`').count();
            if run == rest.len() && !at_end {
                return None;
            }
            self.backticks(run);
            out.push_str(&rest[..run]);
            self.line_start = false;
            return Some(run);
        }
        let in_code = self.fence.is_some() || self.span.is_some();
        if c == '<' && !in_code {
            match match_tag(rest) {
                TagMatch::Open(name, n, self_closing) => {
                    if !self_closing {
                        self.mode = Mode::Inside(name);
                    }
                    return Some(n);
                }
                TagMatch::Close(_, n) => return Some(n),
                TagMatch::Partial if !at_end => return None,
                TagMatch::Partial | TagMatch::None => {}
            }
        }
        if c == '\n' {
            self.line_start = true;
            self.span = None; // an inline span never crosses a line
        } else if !(c == ' ' || c == '\t') {
            self.line_start = false;
        }
        out.push(c);
        Some(c.len_utf8())
    }

    fn backticks(&mut self, run: usize) {
        if let Some(open) = self.fence {
            if self.line_start && run >= open {
                self.fence = None;
            }
            return;
        }
        if self.line_start && run >= 3 {
            self.fence = Some(run);
            return;
        }
        match self.span {
            Some(open) if open == run => self.span = None,
            Some(_) => {}
            None => self.span = Some(run),
        }
    }
}

/// Matches `<name …>`, `<name/>` or `</name>` for a scaffold name (case-insensitive, optional
/// `ns:` prefix) at the start of `rest`.
fn match_tag(rest: &str) -> TagMatch {
    let bytes = rest.as_bytes();
    let mut i = 1;
    let closing = bytes.get(1) == Some(&b'/');
    if closing {
        i = 2;
    }
    let name_start = i;
    while i < bytes.len()
        && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'_' | b'-' | b':'))
    {
        i += 1;
        if i > MAX_TAG_LEN {
            return TagMatch::None;
        }
    }
    let raw = rest[name_start..i].to_ascii_lowercase();
    let name = raw.rsplit(':').next().unwrap_or(&raw).to_string();
    if i == bytes.len() {
        // The name may still grow: partial when some scaffold name could still match.
        let could = SCAFFOLD_TAGS.iter().any(|t| t.starts_with(name.as_str()))
            || (raw.contains(':') && name.is_empty())
            || (!raw.contains(':') && raw.chars().all(|c| c.is_ascii_alphanumeric()));
        return if could {
            TagMatch::Partial
        } else {
            TagMatch::None
        };
    }
    if !SCAFFOLD_TAGS.contains(&name.as_str()) {
        return TagMatch::None;
    }
    let after = bytes[i];
    if !(after == b'>' || after == b'/' || after.is_ascii_whitespace()) {
        return TagMatch::None;
    }
    // Attributes up to `>` (no `<` inside, bounded).
    let mut j = i;
    while j < bytes.len() && bytes[j] != b'>' {
        if bytes[j] == b'<' || j > MAX_TAG_LEN {
            return TagMatch::None;
        }
        j += 1;
    }
    if j == bytes.len() {
        return TagMatch::Partial;
    }
    let len = j + 1;
    if closing {
        TagMatch::Close(name, len)
    } else {
        let self_closing = j > 0 && bytes[j - 1] == b'/';
        TagMatch::Open(name, len, self_closing)
    }
}

/// Non-streaming form.
pub fn strip_scaffolding(text: &str) -> String {
    let mut s = ScaffoldStripper::new();
    let mut out = s.push(text);
    out.push_str(&s.finish());
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn strips_blocks_and_stray_tags() {
        assert_eq!(strip_scaffolding("a<tool_call>x</tool_call>b"), "ab");
        assert_eq!(strip_scaffolding("a</tool_call>b"), "ab");
        assert_eq!(
            strip_scaffolding("a<TOOL_CALL name=\"x\">y</TOOL_CALL>b"),
            "ab"
        );
        assert_eq!(
            strip_scaffolding("keep <b>bold</b> and x<y"),
            "keep <b>bold</b> and x<y"
        );
        assert_eq!(strip_scaffolding("a<system-reminder>never closed"), "a");
        assert_eq!(
            strip_scaffolding("```\n<tool_call>x</tool_call>\n```"),
            "```\n<tool_call>x</tool_call>\n```"
        );
        assert_eq!(strip_scaffolding("<tool_call/>ok"), "ok");
    }

    proptest! {
        #[test]
        fn streaming_equals_whole(text in "[a-z <>/`\n_]{0,80}|(a<tool_call>b</tool_call>c`<invoke>`d)", cut in 0usize..80) {
            let whole = strip_scaffolding(&text);
            let chars: Vec<char> = text.chars().collect();
            let cut = cut.min(chars.len());
            let (a, b): (String, String) = (chars[..cut].iter().collect(), chars[cut..].iter().collect());
            let mut s = ScaffoldStripper::new();
            let mut out = s.push(&a);
            out.push_str(&s.push(&b));
            out.push_str(&s.finish());
            prop_assert_eq!(out, whole);
        }
    }
}
