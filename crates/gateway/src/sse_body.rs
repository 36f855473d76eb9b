//! The streamed response body: canonical events in, the client dialect's frames out (SSE, or
//! NDJSON lines for Ollama), one `Bytes` chunk per event (all frames an event produces are
//! written together). A failure
//! after the stream started ends it with the dialect's error event (`StreamEncoder::fail`),
//! never a silent cut. Time spent waiting for the next event is booked as upstream time.
//! Dropping the body (the client went away) drops the `DropGuard`, which cancels the routed
//! call so the upstream request is aborted too.

use std::convert::Infallible;
use std::time::Instant;

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use bytes::Bytes;
use clawgate_wire::{Event, Frame, StreamEncoder, ndjson, sse};
use futures::StreamExt;
use futures::stream::BoxStream;
use tokio_util::sync::DropGuard;

use crate::metrics::Outcome;
use crate::request_record::RequestRecord;

/// A failure after the stream started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamFailure {
    pub message: String,
    /// Machine code for the dialect's error event (`timeout`, `context_length_exceeded`, ...).
    pub code: &'static str,
}

pub type EventStream = BoxStream<'static, Result<Event, StreamFailure>>;

/// How a dialect frames a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Server-sent events (`text/event-stream`): OpenAI and Anthropic.
    Sse,
    /// One JSON object per line (`application/x-ndjson`): Ollama.
    Ndjson,
}

impl Framing {
    fn content_type(self) -> &'static str {
        match self {
            Framing::Sse => "text/event-stream",
            Framing::Ndjson => "application/x-ndjson",
        }
    }

    fn write(self, frame: &Frame) -> String {
        match self {
            Framing::Sse => sse::write_frame(frame),
            Framing::Ndjson => ndjson::write_line(frame),
        }
    }
}

struct SseState {
    events: EventStream,
    encoder: Box<dyn StreamEncoder>,
    framing: Framing,
    record: RequestRecord,
    done: bool,
    _cancel_on_drop: Option<DropGuard>,
}

fn push_frames(out: &mut String, framing: Framing, frames: Vec<Frame>) {
    for frame in frames {
        out.push_str(&framing.write(&frame));
    }
}

impl SseState {
    /// The bytes for the next event, or `None` at the end.
    async fn next_chunk(&mut self) -> Option<Bytes> {
        let mut out = String::new();
        while !self.done {
            let waiting = Instant::now();
            let next = self.events.next().await;
            self.record.add_upstream(waiting.elapsed());
            match next {
                Some(Ok(event)) => {
                    if let Event::Usage { usage } = &event {
                        self.record.set_usage(*usage);
                    }
                    let finished = matches!(event, Event::Finished { .. });
                    push_frames(&mut out, self.framing, self.encoder.encode(&event));
                    if finished {
                        push_frames(&mut out, self.framing, self.encoder.finish());
                        self.done = true;
                        self.record.set_outcome(Outcome::Ok);
                    }
                }
                Some(Err(failure)) => {
                    tracing::warn!(
                        code = failure.code,
                        "stream failed after start: {}",
                        failure.message
                    );
                    push_frames(
                        &mut out,
                        self.framing,
                        self.encoder.fail(&failure.message, failure.code),
                    );
                    self.done = true;
                    self.record.set_outcome(Outcome::StreamError);
                }
                None => {
                    push_frames(
                        &mut out,
                        self.framing,
                        self.encoder
                            .fail("the stream ended without a finish event", "truncated"),
                    );
                    self.done = true;
                    self.record.set_outcome(Outcome::StreamError);
                }
            }
            if !out.is_empty() {
                return Some(Bytes::from(out));
            }
        }
        None
    }
}

/// A streamed response of `events` through `encoder`, framed as `framing`. `record` is
/// completed (metrics) when the stream ends or the body is dropped.
pub fn sse_response(
    events: EventStream,
    encoder: Box<dyn StreamEncoder>,
    framing: Framing,
    record: RequestRecord,
    cancel_on_drop: Option<DropGuard>,
) -> Response {
    let state = SseState {
        events,
        encoder,
        framing,
        record,
        done: false,
        _cancel_on_drop: cancel_on_drop,
    };
    let body = futures::stream::unfold(state, |mut state| async move {
        let chunk = state.next_chunk().await?;
        Some((Ok::<_, Infallible>(chunk), state))
    });
    let mut response = Response::new(Body::from_stream(body));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(framing.content_type()),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}
