//! Stream bodies as "ticks": each tick is the bytes one pacing step sends (one answer piece
//! plus whatever structural events travel with it). Tick 0 carries the preamble and the
//! first answer piece, so "after the first chunk" faults cut right after it; the trailing
//! ticks (finish, usage, `[DONE]`) are kept apart so truncation can drop them. SSE and NDJSON
//! framing is written by hand here on purpose: the mock must not share code with the codecs
//! it is testing.

use bytes::Bytes;
use serde::Serialize;

/// A stream body under construction.
#[derive(Debug, Default)]
pub struct Ticks {
    done: Vec<Bytes>,
    current: Vec<u8>,
    /// Index of the first trailing tick, once `begin_tail` was called.
    tail_start: Option<usize>,
}

/// A finished stream body, in three parts.
#[derive(Debug, Default)]
pub struct StreamTicks {
    /// Tick 0: preamble + first answer piece.
    pub head: Option<Bytes>,
    /// The other answer ticks.
    pub body: Vec<Bytes>,
    /// Finish / usage / end-of-stream ticks.
    pub tail: Vec<Bytes>,
}

impl Ticks {
    /// Appends an SSE event (`event:` line only when `event` is given).
    pub fn sse<T: Serialize + ?Sized>(&mut self, event: Option<&str>, data: &T) {
        if let Some(e) = event {
            self.current.extend_from_slice(b"event: ");
            self.current.extend_from_slice(e.as_bytes());
            self.current.push(b'\n');
        }
        self.current.extend_from_slice(b"data: ");
        // Writing JSON into a Vec cannot fail for serde_json::Value and derived types.
        let _ = serde_json::to_writer(&mut self.current, data);
        self.current.extend_from_slice(b"\n\n");
    }

    /// Appends an SSE `data:` line with raw text (for `[DONE]` and malformed frames).
    pub fn sse_raw(&mut self, data: &str) {
        self.current.extend_from_slice(b"data: ");
        self.current.extend_from_slice(data.as_bytes());
        self.current.extend_from_slice(b"\n\n");
    }

    /// Appends one NDJSON line.
    pub fn ndjson<T: Serialize + ?Sized>(&mut self, data: &T) {
        let _ = serde_json::to_writer(&mut self.current, data);
        self.current.push(b'\n');
    }

    /// Closes the current tick (no-op when nothing was written since the last one).
    pub fn tick(&mut self) {
        if !self.current.is_empty() {
            let bytes = Bytes::from(std::mem::take(&mut self.current));
            self.done.push(bytes);
        }
    }

    /// Everything from here on is trailer (finish / usage / end marker).
    pub fn begin_tail(&mut self) {
        self.tick();
        self.tail_start = Some(self.done.len());
    }

    /// Splits into head / body / tail.
    pub fn finish(mut self) -> StreamTicks {
        self.tick();
        let tail_start = self.tail_start.unwrap_or(self.done.len());
        let tail = self.done.split_off(tail_start);
        let mut answer = self.done.into_iter();
        let head = answer.next();
        StreamTicks {
            head,
            body: answer.collect(),
            tail,
        }
    }
}

/// The content types the dialects stream with.
pub const SSE_CONTENT_TYPE: &str = "text/event-stream; charset=utf-8";
pub const NDJSON_CONTENT_TYPE: &str = "application/x-ndjson";
pub const JSON_CONTENT_TYPE: &str = "application/json";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_split_into_head_body_and_tail() {
        let mut t = Ticks::default();
        t.sse(Some("a"), &serde_json::json!({"x": 1}));
        t.tick();
        t.sse_raw("two");
        t.tick();
        t.begin_tail();
        t.sse_raw("[DONE]");
        let s = t.finish();
        assert_eq!(
            s.head.as_deref(),
            Some(&b"event: a\ndata: {\"x\":1}\n\n"[..])
        );
        assert_eq!(s.body, vec![Bytes::from_static(b"data: two\n\n")]);
        assert_eq!(s.tail, vec![Bytes::from_static(b"data: [DONE]\n\n")]);
    }
}
