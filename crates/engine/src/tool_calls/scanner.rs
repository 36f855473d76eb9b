//! Spotting where a tool call starts in streamed output. Text before the call streams on as
//! answer text; from the call's start marker ([`Trigger`]) on, everything is captured and
//! parsed when the answer ends (a call is only useful whole). Text that might still become a
//! marker is held back until it either does or cannot, the same hold-back as the stop-sequence
//! scanner in `text_stream`.

use super::format::Trigger;

#[derive(Debug)]
pub struct ToolCallScanner {
    anywhere: Vec<&'static str>,
    at_start: Vec<&'static str>,
    /// Nothing but blanks released so far (an `AtStart` trigger can still match).
    at_beginning: bool,
    held: String,
    captured: Option<String>,
}

impl ToolCallScanner {
    pub fn new(triggers: &[Trigger]) -> Self {
        let mut anywhere = Vec::new();
        let mut at_start = Vec::new();
        for trigger in triggers {
            match *trigger {
                Trigger::Anywhere(marker) => anywhere.push(marker),
                Trigger::AtStart(prefix) => at_start.push(prefix),
            }
        }
        Self {
            anywhere,
            at_start,
            at_beginning: true,
            held: String::new(),
            captured: None,
        }
    }

    /// A scanner that captures everything (a forced call: the whole answer is the call).
    pub fn capture_all() -> Self {
        Self {
            anywhere: Vec::new(),
            at_start: Vec::new(),
            at_beginning: false,
            held: String::new(),
            captured: Some(String::new()),
        }
    }

    /// Whether a call has started.
    pub fn capturing(&self) -> bool {
        self.captured.is_some()
    }

    /// Adds generated text; returns the answer text that is now safe to emit.
    pub fn push(&mut self, text: &str) -> String {
        if let Some(captured) = &mut self.captured {
            captured.push_str(text);
            return String::new();
        }
        self.held.push_str(text);
        if self.at_beginning {
            let content = self.held.trim_start();
            if content.is_empty() {
                return String::new();
            }
            if self.at_start.iter().any(|p| content.starts_with(p)) {
                self.captured = Some(std::mem::take(&mut self.held));
                return String::new();
            }
            if self.at_start.iter().any(|p| p.starts_with(content)) {
                return String::new();
            }
            self.at_beginning = false;
        }
        if let Some(at) = self
            .anywhere
            .iter()
            .filter_map(|marker| self.held.find(marker))
            .min()
        {
            let before = self.held[..at].to_owned();
            self.captured = Some(self.held[at..].to_owned());
            self.held.clear();
            return before;
        }
        let keep_from = self.partial_marker_start();
        let released = self.held[..keep_from].to_owned();
        self.held.drain(..keep_from);
        released
    }

    /// End of the answer: the held-back answer text, and the captured call text (if any).
    pub fn finish(&mut self) -> (String, Option<String>) {
        (std::mem::take(&mut self.held), self.captured.take())
    }

    /// Start of the longest suffix of `held` that is a proper prefix of a marker.
    fn partial_marker_start(&self) -> usize {
        self.held
            .char_indices()
            .map(|(i, _)| i)
            .find(|&i| {
                let suffix = &self.held[i..];
                self.anywhere.iter().any(|m| m.starts_with(suffix))
            })
            .unwrap_or(self.held.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(scanner: &mut ToolCallScanner, pieces: &[&str]) -> String {
        pieces.iter().map(|p| scanner.push(p)).collect()
    }

    #[test]
    fn text_then_marker_split_across_pieces() {
        let mut scan = ToolCallScanner::new(&[Trigger::Anywhere("<tool_call>")]);
        let text = feed(
            &mut scan,
            &["Let me check. <tool", "_ca", "ll>\n{\"name\"", ": 1}"],
        );
        assert_eq!(text, "Let me check. ");
        assert_eq!(
            scan.finish(),
            (String::new(), Some("<tool_call>\n{\"name\": 1}".into()))
        );
    }

    #[test]
    fn false_start_is_released() {
        let mut scan = ToolCallScanner::new(&[Trigger::Anywhere("<tool_call>")]);
        assert_eq!(scan.push("a <tool"), "a ");
        assert_eq!(scan.push("kit> b"), "<toolkit> b");
        assert_eq!(scan.finish(), (String::new(), None));
    }

    #[test]
    fn at_start_only_matches_the_beginning() {
        let mut scan = ToolCallScanner::new(&[Trigger::AtStart("{")]);
        assert_eq!(feed(&mut scan, &["  ", "\n{\"name\""]), "");
        assert_eq!(scan.finish().1.as_deref(), Some("  \n{\"name\""));

        let mut scan = ToolCallScanner::new(&[Trigger::AtStart("{")]);
        assert_eq!(feed(&mut scan, &["The set {1, 2}"]), "The set {1, 2}");
        assert_eq!(scan.finish(), (String::new(), None));
    }

    #[test]
    fn multi_char_at_start_prefix_waits() {
        let mut scan = ToolCallScanner::new(&[Trigger::AtStart("<|python_tag|>")]);
        assert_eq!(scan.push("<|pyt"), "");
        assert_eq!(scan.push("hon_tag|>{"), "");
        assert!(scan.capturing());
    }

    #[test]
    fn capture_all_takes_everything() {
        let mut scan = ToolCallScanner::capture_all();
        assert_eq!(scan.push("{\"a\""), "");
        assert_eq!(scan.finish(), (String::new(), Some("{\"a\"".into())));
    }
}
