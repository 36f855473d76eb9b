//! Server-sent events framing: a push parser over byte chunks and a frame writer.
//!
//! Hand-written on purpose: the SSE crates we looked at are tied to async I/O (`sse-codec` is
//! a `futures_codec` codec over an `AsyncRead`, MPL-2.0; `async-sse` needs async-std;
//! `eventsource-stream` adapts a `Stream` of bytes), while this crate is pure and sync so it can
//! be fuzzed and fed byte-by-byte in tests. The
//! format is small (WHATWG HTML §9.2 "event stream interpretation"): lines end in CRLF, LF or
//! CR; `field: value` with one optional space stripped; `data` lines join with `\n`; a line
//! starting with `:` is a comment; a blank line dispatches; a leading BOM is ignored.
//!
//! One deliberate deviation: at end of body a pending event is dispatched even without the
//! final blank line, because real servers close streams right after `data: [DONE]\n`.

use crate::Frame;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Push parser: feed byte chunks as they arrive, get complete frames back.
#[derive(Debug, Default)]
pub struct SseParser {
    /// Bytes of the current, incomplete line (kept as bytes so a UTF-8 sequence split across
    /// chunks is decoded only once the line is whole).
    line: Vec<u8>,
    /// The previous chunk ended in CR: a LF at the start of the next chunk belongs to it.
    after_cr: bool,
    /// Bytes seen so far, up to the BOM length (to strip a BOM split across chunks).
    prefix_seen: usize,
    event: Option<String>,
    data: String,
    has_data: bool,
    last_event_id: Option<String>,
    retry_ms: Option<u64>,
}

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// The last `id:` field seen (what a client would send as `Last-Event-ID`).
    pub fn last_event_id(&self) -> Option<&str> {
        self.last_event_id.as_deref()
    }

    /// The last valid `retry:` field seen, in milliseconds.
    pub fn retry_ms(&self) -> Option<u64> {
        self.retry_ms
    }

    pub fn push(&mut self, mut bytes: &[u8]) -> Vec<Frame> {
        let mut frames = Vec::new();
        // Strip a BOM at the very start of the body, even when it arrives split.
        while self.prefix_seen < BOM.len() && !bytes.is_empty() {
            if bytes[0] == BOM[self.prefix_seen] {
                self.prefix_seen += 1;
                bytes = &bytes[1..];
                continue;
            }
            // Not a BOM after all: give back the bytes we swallowed.
            let swallowed = BOM[..self.prefix_seen].to_vec();
            self.prefix_seen = BOM.len();
            self.feed(&swallowed, &mut frames);
        }
        self.feed(bytes, &mut frames);
        frames
    }

    /// The body ended: dispatch whatever is pending.
    pub fn finish(&mut self) -> Vec<Frame> {
        let mut frames = Vec::new();
        if self.prefix_seen < BOM.len() {
            let swallowed = BOM[..self.prefix_seen].to_vec();
            self.prefix_seen = BOM.len();
            if swallowed.len() < BOM.len() {
                self.feed(&swallowed, &mut frames);
            }
        }
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.process_line(&line, &mut frames);
        }
        self.dispatch(&mut frames);
        self.after_cr = false;
        frames
    }

    fn feed(&mut self, bytes: &[u8], frames: &mut Vec<Frame>) {
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            if self.after_cr {
                self.after_cr = false;
                if b == b'\n' && i == start {
                    start = i + 1;
                    continue;
                }
            }
            if b == b'\n' || b == b'\r' {
                if self.line.is_empty() {
                    self.process_line(&bytes[start..i], frames);
                } else {
                    self.line.extend_from_slice(&bytes[start..i]);
                    let line = std::mem::take(&mut self.line);
                    self.process_line(&line, frames);
                }
                start = i + 1;
                self.after_cr = b == b'\r';
            }
        }
        self.line.extend_from_slice(&bytes[start..]);
    }

    fn process_line(&mut self, line: &[u8], frames: &mut Vec<Frame>) {
        if line.is_empty() {
            self.dispatch(frames);
            return;
        }
        if line[0] == b':' {
            return; // comment (keep-alive)
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        let value = String::from_utf8_lossy(value);
        match field {
            b"event" => self.event = Some(value.into_owned()),
            b"data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(&value);
                self.has_data = true;
            }
            b"id" if !value.contains('\0') => self.last_event_id = Some(value.into_owned()),
            b"retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                self.retry_ms = value.parse().ok();
            }
            _ => {} // unknown fields are ignored, as the spec says
        }
    }

    fn dispatch(&mut self, frames: &mut Vec<Frame>) {
        let event = self.event.take();
        if !self.has_data {
            // An event with no data is not dispatched (spec), only reset.
            return;
        }
        self.has_data = false;
        frames.push(Frame {
            event,
            data: std::mem::take(&mut self.data),
        });
    }
}

/// Serialises one frame: `event:` (when named), one `data:` line per data line, blank line.
pub fn write_frame(frame: &Frame) -> String {
    let mut out = String::new();
    write_frame_into(frame, &mut out);
    out
}

/// [`write_frame`], appended to `out` (a response chunk gathering several frames).
pub fn write_frame_into(frame: &Frame, out: &mut String) {
    out.reserve(frame.data.len() + 32);
    if let Some(event) = &frame.event {
        out.push_str("event: ");
        // A line break would end the field early; event names never contain one.
        if event.contains(['\n', '\r']) {
            out.extend(event.chars().filter(|c| *c != '\n' && *c != '\r'));
        } else {
            out.push_str(event);
        }
        out.push('\n');
    }
    for line in split_lines(&frame.data) {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
}

/// Splits on CRLF, LF and CR, as the parser does, so `write_frame` → parse is lossless for
/// data whose line breaks are `\n`.
fn split_lines(data: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(data);
    std::iter::from_fn(move || {
        let current = rest?;
        match current.find(['\n', '\r']) {
            Some(i) => {
                let skip = if current[i..].starts_with("\r\n") {
                    2
                } else {
                    1
                };
                rest = Some(&current[i + skip..]);
                Some(&current[..i])
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

#[cfg(test)]
#[path = "sse_tests.rs"]
mod tests;
