//! A streamed 2xx body → canonical events: bytes through the SSE or NDJSON framer, frames
//! through the dialect's decoder, every event through the [`AnswerShaper`] (reasoning and
//! harmony out of text, unique tool-call ids), and past the [`AnswerGuard`]. Pull-driven (a `futures::stream::unfold`), so nothing runs
//! when the caller stops polling, and dropping the stream drops the connection.
//!
//! After `Finished` the rest of the body (`data: [DONE]`, the chunked terminator) is read too,
//! so the pooled connection can be reused: at once as far as it has already arrived (callers
//! often drop the stream right after `Finished`), the rest when the caller polls on. Events
//! after `Finished` are ignored.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;
use clawgate_wire::ndjson::NdjsonParser;
use clawgate_wire::sse::SseParser;
use clawgate_wire::{Event, Frame, StreamDecoder, WireError};
use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt};

use crate::answer_guard::{AnswerGuard, OverflowHint};
use crate::answer_shaping::AnswerShaper;
use crate::classify::{classify_transport_error, classify_wire_error};
use crate::http_call::Decoding;
use crate::http_client::TransportError;
use crate::secret::Secret;
use crate::{EventStream, ProviderError};

/// How a dialect frames its stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    Sse,
    Ndjson,
}

enum Framer {
    Sse(SseParser),
    Ndjson(NdjsonParser),
}

impl Framer {
    fn new(framing: Framing) -> Self {
        match framing {
            Framing::Sse => Framer::Sse(SseParser::new()),
            Framing::Ndjson => Framer::Ndjson(NdjsonParser::new()),
        }
    }

    fn push(&mut self, bytes: &[u8]) -> Vec<Frame> {
        match self {
            Framer::Sse(p) => p.push(bytes),
            Framer::Ndjson(p) => p.push(bytes),
        }
    }

    fn finish(&mut self) -> Vec<Frame> {
        match self {
            Framer::Sse(p) => p.finish(),
            Framer::Ndjson(p) => p.finish(),
        }
    }
}

type Item = Result<Event, ProviderError>;

/// The decoding state of one streamed body.
pub struct BodyEvents {
    body: BoxStream<'static, Result<Bytes, TransportError>>,
    framer: Framer,
    decoder: Box<dyn StreamDecoder>,
    shaper: AnswerShaper,
    guard: AnswerGuard,
    hint: OverflowHint,
    keys: Arc<[Secret]>,
    queue: VecDeque<Item>,
    /// `Finished` or an error was queued: later events are dropped.
    ended: bool,
    /// The body is fully read (or failed): nothing more to pull.
    drained: bool,
}

impl BodyEvents {
    pub fn new(
        body: BoxStream<'static, Result<Bytes, TransportError>>,
        decoding: Decoding,
        keys: Arc<[Secret]>,
    ) -> Self {
        Self {
            body,
            framer: Framer::new(decoding.framing),
            decoder: decoding.decoder,
            shaper: AnswerShaper::new(decoding.shaping),
            guard: AnswerGuard::default(),
            hint: decoding.hint,
            keys,
            queue: VecDeque::new(),
            ended: false,
            drained: false,
        }
    }

    pub fn into_stream(self) -> EventStream {
        futures::stream::unfold(self, |mut state| async move {
            let item = state.next_item().await?;
            Some((item, state))
        })
        .boxed()
    }

    async fn next_item(&mut self) -> Option<Item> {
        loop {
            if let Some(item) = self.queue.pop_front() {
                return Some(item);
            }
            if self.drained {
                return None;
            }
            match self.body.next().await {
                Some(Ok(chunk)) => {
                    let frames = self.framer.push(&chunk);
                    self.feed_frames(&frames);
                    if self.ended {
                        self.drain_ready();
                    }
                }
                Some(Err(e)) => {
                    self.drained = true;
                    if !self.ended {
                        let err = classify_transport_error(&e, &self.keys);
                        self.fail(err);
                    }
                }
                None => {
                    self.drained = true;
                    let frames = self.framer.finish();
                    self.feed_frames(&frames);
                    self.finish_decoder();
                }
            }
        }
    }

    /// Read whatever of the body has already arrived, without waiting.
    fn drain_ready(&mut self) {
        while !self.drained {
            match self.body.next().now_or_never() {
                Some(Some(Ok(_))) => {}
                Some(Some(Err(_)) | None) => self.drained = true,
                None => break,
            }
        }
    }

    fn feed_frames(&mut self, frames: &[Frame]) {
        for frame in frames {
            if self.ended {
                return;
            }
            match self.decoder.feed(frame) {
                Ok(events) => self.accept(events),
                Err(e) => {
                    let err = classify_wire_error(&e, &self.keys);
                    self.fail(err);
                }
            }
        }
    }

    fn finish_decoder(&mut self) {
        if self.ended {
            return;
        }
        match self.decoder.finish() {
            Ok(events) => self.accept(events),
            Err(WireError::EmptyStream) => {
                let err = self
                    .hint
                    .empty_answer_error("upstream answered 200 with an empty stream (no event)");
                self.fail(err);
            }
            Err(WireError::Truncated) if !self.guard.saw_content() => {
                let err = self.hint.empty_answer_error(
                    "upstream stream ended with no content and no finish reason",
                );
                self.fail(err);
            }
            Err(e) => {
                let err = classify_wire_error(&e, &self.keys);
                self.fail(err);
            }
        }
        if !self.ended {
            // The decoder ended cleanly without a `Finished` event.
            let err = if self.guard.saw_content() {
                classify_wire_error(&WireError::Truncated, &self.keys)
            } else {
                self.hint.empty_answer_error(
                    "upstream stream ended with no content and no finish reason",
                )
            };
            self.fail(err);
        }
    }

    /// Decoded events: shape, then check and queue.
    fn accept(&mut self, events: Vec<Event>) {
        for event in events {
            for shaped in self.shaper.push(&event) {
                self.queue_checked(shaped);
            }
        }
    }

    fn queue_checked(&mut self, event: Event) {
        if self.ended {
            return;
        }
        self.guard.observe(&event);
        if let Event::Finished { stop_reason } = &event
            && !self.guard.has_answer(*stop_reason)
        {
            let err = self
                .hint
                .empty_answer_error("upstream stream finished with no text and no tool call");
            self.fail(err);
            return;
        }
        let finished = matches!(event, Event::Finished { .. });
        self.queue.push_back(Ok(event));
        if finished {
            self.ended = true;
        }
    }

    /// Queue the stream's one error and stop reading: the connection is not reused.
    fn fail(&mut self, err: ProviderError) {
        if !self.ended {
            self.queue.push_back(Err(err));
            self.ended = true;
        }
        self.drained = true;
    }
}
