//! Newline-delimited JSON framing (Ollama's streaming format): a push parser over byte chunks
//! and a line writer. Hand-written because it is a dozen lines of logic and must stay pure and
//! sync (see `sse` for the same reasoning). Lines end in LF (a CR before it is dropped); blank
//! lines are ignored; a last line without a newline is flushed by `finish`; a leading BOM is
//! ignored. The parser does not parse JSON: that is the dialect decoder's job.

use crate::Frame;

const BOM: &str = "\u{FEFF}";

#[derive(Debug, Default)]
pub struct NdjsonParser {
    /// Bytes of the current, incomplete line (a UTF-8 sequence may be split across chunks).
    line: Vec<u8>,
    started: bool,
}

impl NdjsonParser {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, bytes: &[u8]) -> Vec<Frame> {
        let mut frames = Vec::new();
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\n' {
                if self.line.is_empty() {
                    self.emit(&bytes[start..i], &mut frames);
                } else {
                    self.line.extend_from_slice(&bytes[start..i]);
                    let line = std::mem::take(&mut self.line);
                    self.emit(&line, &mut frames);
                }
                start = i + 1;
            }
        }
        self.line.extend_from_slice(&bytes[start..]);
        frames
    }

    pub fn finish(&mut self) -> Vec<Frame> {
        let mut frames = Vec::new();
        let line = std::mem::take(&mut self.line);
        self.emit(&line, &mut frames);
        frames
    }

    fn emit(&mut self, line: &[u8], frames: &mut Vec<Frame>) {
        let text = String::from_utf8_lossy(line);
        let mut text: &str = &text;
        if !self.started && !text.is_empty() {
            self.started = true;
            text = text.strip_prefix(BOM).unwrap_or(text);
        }
        let text = text.strip_suffix('\r').unwrap_or(text);
        if text.trim().is_empty() {
            return;
        }
        frames.push(Frame::data(text));
    }
}

/// Serialises one frame as one line. A line break inside the data would split the record, so
/// it is escaped (`\n` is never valid raw inside a JSON string anyway).
pub fn write_line(frame: &Frame) -> String {
    let mut out = String::new();
    write_line_into(frame, &mut out);
    out
}

/// [`write_line`], appended to `out` (a response chunk gathering several lines).
pub fn write_line_into(frame: &Frame, out: &mut String) {
    out.reserve(frame.data.len() + 1);
    // Serialized JSON has its line breaks escaped already: the common case is one copy.
    if !frame.data.contains(['\n', '\r']) {
        out.push_str(&frame.data);
    } else {
        for c in frame.data.chars() {
            match c {
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                c => out.push(c),
            }
        }
    }
    out.push('\n');
}

#[cfg(test)]
#[path = "ndjson_tests.rs"]
mod tests;
