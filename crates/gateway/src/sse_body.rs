//! The streamed response body: canonical events in, the client dialect's frames out (SSE, or
//! NDJSON lines for Ollama), one `Bytes` chunk per event (all frames an event produces are
//! written together). A failure
//! after the stream started ends it with the dialect's error event (`StreamEncoder::fail`),
//! never a silent cut. Time spent waiting for the next event is booked as upstream time.
//! Dropping the body (the client went away) drops the `DropGuard`, which cancels the routed
//! call so the upstream request is aborted too.
//!
//! A body may also start before the routed call committed ([`Held`]): while the router holds
//! a candidate's reasoning or unfinished tool call back, the only bytes sent are the dialect's
//! keep-alive, one at once and one per interval; then the committed events, or the dialect's
//! error event when no candidate answered (or the gateway's request timeout ran out first).
//! This is the one place keep-alives are written.
//!
//! With the `x-clawgate-events: on` request header, the stream also carries clawgate's own
//! frames, `event: clawgate` with a JSON object whose `type` says what it is (`route`,
//! `tool_call`, `tool_result`, `notice`, `compacted`, and `done` right before the dialect's
//! end frames, with the request id and usage). Without it they are never produced.

use std::convert::Infallible;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use bytes::Bytes;
use clawgate_wire::{Event, Frame, StreamEncoder, Usage, ndjson, sse};
use futures::StreamExt;
use futures::future::BoxFuture;
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

    fn write_into(self, frame: &Frame, out: &mut String) {
        match self {
            Framing::Sse => sse::write_frame_into(frame, out),
            Framing::Ndjson => ndjson::write_line_into(frame, out),
        }
    }
}

/// How a held call ended.
pub enum HeldOutcome {
    /// A candidate committed: its events, encoded for the model that answered.
    Committed {
        events: EventStream,
        encoder: Box<dyn StreamEncoder>,
        /// Books who answered (model, cost, fallback, attempts) in the request's record.
        book: Box<dyn FnOnce(&mut RequestRecord) + Send>,
    },
    /// No candidate answered.
    Failed {
        failure: StreamFailure,
        outcome: Outcome,
    },
}

/// A routed call that has not committed yet, and how to keep the client waiting for it.
pub struct Held {
    pub call: BoxFuture<'static, HeldOutcome>,
    /// The dialect's keep-alive bytes.
    pub keep_alive: &'static [u8],
    pub interval: Duration,
    /// The gateway's request timeout: the call must commit before it.
    pub deadline: tokio::time::Instant,
    /// Encodes a failure before the commit (for the requested model).
    pub encoder: Box<dyn StreamEncoder>,
}

enum Phase {
    Held {
        held: Held,
        next_keep_alive: tokio::time::Instant,
    },
    Streaming {
        events: EventStream,
        encoder: Box<dyn StreamEncoder>,
    },
    Done,
}

struct SseState {
    phase: Phase,
    framing: Framing,
    record: RequestRecord,
    /// Send `Extension` items and the `done` frame (the client asked for them).
    extensions: bool,
    usage: Option<Usage>,
    _cancel_on_drop: Option<DropGuard>,
}

fn push_frames(out: &mut String, framing: Framing, frames: Vec<Frame>) {
    for frame in &frames {
        framing.write_into(frame, out);
    }
}

/// Writes the last frames of a stream that failed (before or after its commit) into `out`.
fn failed(
    framing: Framing,
    encoder: &mut dyn StreamEncoder,
    record: &mut RequestRecord,
    failure: &StreamFailure,
    outcome: Outcome,
    out: &mut String,
) {
    tracing::warn!(
        code = failure.code,
        "stream failed after start: {}",
        failure.message
    );
    push_frames(out, framing, encoder.fail(&failure.message, failure.code));
    record.set_outcome(outcome);
}

impl SseState {
    /// The bytes for the next chunk, or `None` at the end.
    async fn next_chunk(&mut self) -> Option<Bytes> {
        loop {
            match self.phase {
                Phase::Done => return None,
                Phase::Held { .. } => {
                    if let Some(bytes) = self.next_held().await {
                        return Some(bytes);
                    }
                }
                Phase::Streaming { .. } => {
                    if let Some(bytes) = self.next_streamed().await {
                        return Some(bytes);
                    }
                }
            }
        }
    }

    /// While held: a keep-alive, or the failure; `None` when the call committed (the phase
    /// is then `Streaming`) or a silent keep-alive interval passed (still `Held`).
    async fn next_held(&mut self) -> Option<Bytes> {
        let Phase::Held {
            held,
            next_keep_alive,
        } = &mut self.phase
        else {
            return None;
        };
        let waiting = Instant::now();
        let outcome = tokio::select! {
            biased;
            outcome = &mut held.call => Some(outcome),
            () = tokio::time::sleep_until(held.deadline) => None,
            () = tokio::time::sleep_until(*next_keep_alive) => {
                *next_keep_alive += held.interval;
                self.record.add_upstream(waiting.elapsed());
                // A dialect without keep-alive bytes (Ollama's NDJSON) just keeps waiting.
                return (!held.keep_alive.is_empty()).then(|| Bytes::from_static(held.keep_alive));
            }
        };
        self.record.add_upstream(waiting.elapsed());
        let (failure, result) = match outcome {
            Some(HeldOutcome::Committed {
                events,
                encoder,
                book,
            }) => {
                book(&mut self.record);
                self.phase = Phase::Streaming { events, encoder };
                return None;
            }
            Some(HeldOutcome::Failed { failure, outcome }) => (failure, outcome),
            None => (
                StreamFailure {
                    message: "no answer within the gateway's request timeout".to_string(),
                    code: "timeout",
                },
                Outcome::UpstreamError,
            ),
        };
        let mut out = String::new();
        failed(
            self.framing,
            held.encoder.as_mut(),
            &mut self.record,
            &failure,
            result,
            &mut out,
        );
        self.phase = Phase::Done;
        Some(Bytes::from(out))
    }

    /// While streaming: the frames of the next event(s); `None` at the end.
    async fn next_streamed(&mut self) -> Option<Bytes> {
        let Phase::Streaming { events, encoder } = &mut self.phase else {
            return None;
        };
        let mut out = String::new();
        loop {
            let waiting = Instant::now();
            let next = events.next().await;
            self.record.add_upstream(waiting.elapsed());
            let failure = match next {
                Some(Ok(StreamItem::Extension(value))) => {
                    if self.extensions {
                        push_frames(&mut out, self.framing, vec![extension_frame(&value)]);
                        return Some(Bytes::from(out));
                    }
                    continue;
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
                        push_frames(&mut out, self.framing, vec![extension_frame(&done)]);
                    }
                    push_frames(&mut out, self.framing, encoder.encode(&event));
                    if finished {
                        push_frames(&mut out, self.framing, encoder.finish());
                        self.record.set_outcome(Outcome::Ok);
                        self.phase = Phase::Done;
                        return Some(Bytes::from(out));
                    }
                    if !out.is_empty() {
                        return Some(Bytes::from(out));
                    }
                    continue;
                }
                Some(Err(failure)) => failure,
                None => StreamFailure {
                    message: "the stream ended without a finish event".to_string(),
                    code: "truncated",
                },
            };
            failed(
                self.framing,
                encoder.as_mut(),
                &mut self.record,
                &failure,
                Outcome::StreamError,
                &mut out,
            );
            self.phase = Phase::Done;
            return Some(Bytes::from(out));
        }
    }
}

/// `event: clawgate` with the object as data.
fn extension_frame(value: &Value) -> Frame {
    Frame {
        event: Some(EVENT_NAME.to_string()),
        data: value.to_string(),
    }
}

fn response(state: SseState) -> Response {
    let content_type = state.framing.content_type();
    let body = futures::stream::unfold(state, |mut state| async move {
        let chunk = state.next_chunk().await?;
        Some((Ok::<_, Infallible>(chunk), state))
    });
    let mut response = Response::new(Body::from_stream(body));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// An SSE response streaming `events` through `encoder`. `record` is completed (metrics) when
/// the stream ends or the body is dropped. `extensions`: send clawgate's own frames.
pub fn sse_response(
    events: EventStream,
    encoder: Box<dyn StreamEncoder>,
    framing: Framing,
    record: RequestRecord,
    cancel_on_drop: Option<DropGuard>,
    extensions: bool,
) -> Response {
    response(SseState {
        phase: Phase::Streaming { events, encoder },
        framing,
        record,
        extensions,
        usage: None,
        _cancel_on_drop: cancel_on_drop,
    })
}

/// An SSE response that starts before its routed call committed: keep-alives at once and then
/// every `held.interval` until it does, then its events.
pub fn held_sse_response(
    held: Held,
    framing: Framing,
    record: RequestRecord,
    cancel_on_drop: Option<DropGuard>,
    extensions: bool,
) -> Response {
    let next_keep_alive = tokio::time::Instant::now();
    response(SseState {
        phase: Phase::Held {
            held,
            next_keep_alive,
        },
        framing,
        record,
        extensions,
        usage: None,
        _cancel_on_drop: cancel_on_drop,
    })
}
