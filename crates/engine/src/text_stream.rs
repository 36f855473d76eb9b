//! Turning a stream of token byte pieces into safe text deltas. Two push-driven state
//! machines, kept free of llama.cpp so they are unit-tested without a model:
//!
//! - [`Utf8Assembler`]: a token's bytes may end in the middle of a UTF-8 sequence (byte-level
//!   vocabularies split emoji and CJK characters across tokens); never emit half a character.
//! - [`StopScanner`]: stop sequences can span tokens, so text that might still become a stop
//!   sequence is held back until it either matches (cut there) or cannot match any more
//!   (released), the same hold-back idea as the reasoning-tag splitter in the wire crate.
//!
//! Hand-written because both are a few lines over `std::str::from_utf8`'s error offsets and
//! `str::find`; a streaming decoder crate would add a dependency for no gain.

/// Collects token bytes and hands out the longest complete UTF-8 prefix.
#[derive(Debug, Default)]
pub struct Utf8Assembler {
    pending: Vec<u8>,
}

impl Utf8Assembler {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds bytes; returns the text that is now complete. Invalid bytes (not a truncated
    /// sequence, really invalid) become U+FFFD so the stream never stalls on them.
    pub fn push(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        let mut out = String::new();
        loop {
            match std::str::from_utf8(&self.pending) {
                Ok(text) => {
                    out.push_str(text);
                    self.pending.clear();
                    return out;
                }
                Err(err) => {
                    let valid = err.valid_up_to();
                    // The prefix up to `valid` is UTF-8 by construction.
                    out.push_str(&String::from_utf8_lossy(&self.pending[..valid]));
                    match err.error_len() {
                        // Truncated sequence at the end: wait for the next token.
                        None => {
                            self.pending.drain(..valid);
                            return out;
                        }
                        Some(bad) => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            self.pending.drain(..valid + bad);
                        }
                    }
                }
            }
        }
    }

    /// End of stream: whatever is left (a truncated sequence) becomes U+FFFD.
    pub fn finish(&mut self) -> String {
        let rest = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        rest
    }
}

/// What the scanner says after a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanOutcome {
    /// Emit this text (may be empty) and keep generating.
    Continue(String),
    /// A stop sequence matched: emit this text (what came before the match) and stop.
    Stopped(String),
}

/// Holds back text that could be the start of a stop sequence.
#[derive(Debug, Default)]
pub struct StopScanner {
    stops: Vec<String>,
    held: String,
}

impl StopScanner {
    pub fn new(stops: &[String]) -> Self {
        Self {
            stops: stops.iter().filter(|s| !s.is_empty()).cloned().collect(),
            held: String::new(),
        }
    }

    pub fn push(&mut self, text: &str) -> ScanOutcome {
        if self.stops.is_empty() {
            return ScanOutcome::Continue(text.to_owned());
        }
        self.held.push_str(text);
        let earliest = self
            .stops
            .iter()
            .filter_map(|stop| self.held.find(stop.as_str()))
            .min();
        if let Some(at) = earliest {
            let before = self.held[..at].to_owned();
            self.held.clear();
            return ScanOutcome::Stopped(before);
        }
        let keep_from = self.partial_match_start();
        let released = self.held[..keep_from].to_owned();
        self.held.drain(..keep_from);
        ScanOutcome::Continue(released)
    }

    /// End of generation without a match: the held text was real output after all.
    pub fn finish(&mut self) -> String {
        std::mem::take(&mut self.held)
    }

    /// Start of the longest suffix of `held` that is a proper prefix of some stop sequence
    /// (`held.len()` when there is none).
    fn partial_match_start(&self) -> usize {
        self.held
            .char_indices()
            .map(|(i, _)| i)
            .find(|&i| {
                let suffix = &self.held[i..];
                self.stops.iter().any(|stop| stop.starts_with(suffix))
            })
            .unwrap_or(self.held.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_multibyte_character_waits_for_its_tail() {
        let mut asm = Utf8Assembler::new();
        let smile = "a😀b".as_bytes();
        assert_eq!(asm.push(&smile[..3]), "a");
        assert_eq!(asm.push(&smile[3..4]), "");
        assert_eq!(asm.push(&smile[4..]), "😀b");
        assert_eq!(asm.finish(), "");
    }

    #[test]
    fn every_byte_split_reassembles_exactly() {
        let text = "héllo ✓ 日本 😀!";
        let bytes = text.as_bytes();
        for cut in 0..=bytes.len() {
            let mut asm = Utf8Assembler::new();
            let mut out = asm.push(&bytes[..cut]);
            out.push_str(&asm.push(&bytes[cut..]));
            out.push_str(&asm.finish());
            assert_eq!(out, text, "cut at {cut}");
        }
    }

    #[test]
    fn invalid_bytes_become_replacement_and_do_not_stall() {
        let mut asm = Utf8Assembler::new();
        assert_eq!(asm.push(b"a\xffb"), "a\u{fffd}b");
        assert_eq!(asm.push(b"\xe2\x82"), "");
        assert_eq!(asm.finish(), "\u{fffd}");
    }

    fn stops(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn stop_sequence_across_pushes_is_cut_and_never_emitted() {
        let mut scan = StopScanner::new(&stops(&["END"]));
        assert_eq!(scan.push("hello E"), ScanOutcome::Continue("hello ".into()));
        assert_eq!(scan.push("N"), ScanOutcome::Continue(String::new()));
        assert_eq!(scan.push("D tail"), ScanOutcome::Stopped(String::new()));
    }

    #[test]
    fn false_start_is_released() {
        let mut scan = StopScanner::new(&stops(&["END"]));
        assert_eq!(scan.push("EN"), ScanOutcome::Continue(String::new()));
        assert_eq!(scan.push("x"), ScanOutcome::Continue("ENx".into()));
        assert_eq!(scan.push("E"), ScanOutcome::Continue(String::new()));
        assert_eq!(scan.finish(), "E");
    }

    #[test]
    fn earliest_of_several_stops_wins() {
        let mut scan = StopScanner::new(&stops(&["world", "lo w"]));
        assert_eq!(scan.push("hello world"), ScanOutcome::Stopped("hel".into()));
    }

    #[test]
    fn no_stops_passes_through_and_empty_stops_are_ignored() {
        let mut scan = StopScanner::new(&stops(&[""]));
        assert_eq!(scan.push("abc"), ScanOutcome::Continue("abc".into()));
        assert_eq!(scan.finish(), "");
    }

    #[test]
    fn multibyte_stop_holds_on_char_boundaries() {
        let mut scan = StopScanner::new(&stops(&["✓✓"]));
        assert_eq!(scan.push("ok ✓"), ScanOutcome::Continue("ok ".into()));
        assert_eq!(scan.push("✓"), ScanOutcome::Stopped(String::new()));
    }
}
