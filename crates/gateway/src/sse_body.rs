//! The streamed response body: canonical events in, the client dialect's SSE frames out, one
//! `Bytes` chunk per event (all frames an event produces are written together). A failure
//! after the stream started ends it with the dialect's error event (`StreamEncoder::fail`),
//! never a silent cut. Time spent waiting for the next event is booked as upstream time.
//! Dropping the body (the client went away) drops the `DropGuard`, which cancels the routed
//! call so the upstream request is aborted too.
//!
//! With the `x-clawgate-events: on` request header, the stream also carries clawgate's own
//! frames, `event: clawgate` with a JSON object whose `type` says what it is (`route`,
//! `tool_call`, `tool_result`, `notice`, `compacted`, and `done` right before the dialect's
//! end frames, with the request id and usage). Without it they are never produced.

use std::convert::Infallible;
use std::time::Instant;

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use bytes::Bytes;
use clawgate_wire::sse::write_frame;
use clawgate_wire::{Event, Frame, StreamEncoder, Usage};
use futures::StreamExt;
use futures::stream::BoxStream;
use serde_json::{Value, json};
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

/// Request header that turns clawgate's own stream frames on (`on`, `1`, `true`).
pub const EVENTS_HEADER: &str = "x-clawgate-events";
/// The SSE event name of clawgate's own frames.
pub const EVENT_NAME: &str = "clawgate";

/// Whether the client asked for clawgate's own frames.
pub fn events_requested(headers: &axum::http::HeaderMap) -> bool {
    headers.get(EVENTS_HEADER).is_some_and(|v| {
        let v = v.as_bytes();
        v.eq_ignore_ascii_case(b"on") || v == b"1" || v.eq_ignore_ascii_case(b"true")
    })
}

/// One item of a response stream: a canonical event, or one of clawgate's own frames.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamItem {
    Event(Event),
    /// A JSON object with a `type`; sent as `event: clawgate`.
    Extension(Value),
}

pub type EventStream = BoxStream<'static, Result<StreamItem, StreamFailure>>;

struct SseState {
    events: EventStream,
    encoder: Box<dyn StreamEncoder>,
    record: RequestRecord,
    done: bool,
    /// Send `Extension` items and the `done` frame (the client asked for them).
    extensions: bool,
    usage: Option<Usage>,
    _cancel_on_drop: Option<DropGuard>,
}

fn push_frames(out: &mut String, frames: Vec<Frame>) {
    for frame in frames {
        out.push_str(&write_frame(&frame));
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
                Some(Ok(StreamItem::Extension(value))) => {
                    if self.extensions {
                        push_frames(&mut out, vec![extension_frame(&value)]);
                    }
                }
                Some(Ok(StreamItem::Event(event))) => {
                    if let Event::Usage { usage } = &event {
                        self.record.set_usage(*usage);
                        self.usage = Some(*usage);
                    }
                    let finished = matches!(event, Event::Finished { .. });
                    if finished && self.extensions {
                        let done = json!({
                            "type": "done",
                            "requestId": self.record.id(),
                            "usage": self.usage,
                        });
                        push_frames(&mut out, vec![extension_frame(&done)]);
                    }
                    push_frames(&mut out, self.encoder.encode(&event));
                    if finished {
                        push_frames(&mut out, self.encoder.finish());
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
                    push_frames(&mut out, self.encoder.fail(&failure.message, failure.code));
                    self.done = true;
                    self.record.set_outcome(Outcome::StreamError);
                }
                None => {
                    push_frames(
                        &mut out,
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

/// `event: clawgate` with the object as data.
fn extension_frame(value: &Value) -> Frame {
    Frame {
        event: Some(EVENT_NAME.to_string()),
        data: value.to_string(),
    }
}

/// An SSE response streaming `events` through `encoder`. `record` is completed (metrics) when
/// the stream ends or the body is dropped. `extensions`: send clawgate's own frames.
pub fn sse_response(
    events: EventStream,
    encoder: Box<dyn StreamEncoder>,
    record: RequestRecord,
    cancel_on_drop: Option<DropGuard>,
    extensions: bool,
) -> Response {
    let state = SseState {
        events,
        encoder,
        record,
        done: false,
        extensions,
        usage: None,
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
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}
