//! The streaming commit rule. An attempt is opened and read until its first content event
//! (`Event::is_content()`, or `Finished` for an answer with no content); `Started`/`Usage`
//! before it are buffered. Until then every failure, including a hang, is the router's to
//! handle by failing over, invisible to the caller. From the commit on the caller owns the
//! stream: a failure (upstream error, idle gap, total time, cancellation, or an end without
//! `Finished`) becomes the stream's last item, an `Err`, which the gateway or agent turns
//! into its dialect's error event. Never a silent truncation, never a second model's text
//! glued onto the first's.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use clawgate_providers::{CallContext, EventStream, FailureKind, Provider, ProviderError};
use clawgate_wire::{Event, Request};
use futures::{Stream, StreamExt};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::attempt::{AttemptRecord, RouteInfo};
use crate::chain::CandidateRef;
use crate::clock::human_duration;
use crate::config::Timeouts;
use crate::penalty::FailureRecorder;

/// An attempt that reached its first content event.
pub(crate) struct Committed {
    pub stream: EventStream,
    pub buffered: Vec<Event>,
    pub started: Instant,
}

/// Opens one attempt and reads it up to the commit point, within the first-event and total
/// timeouts, giving up at once when `cancel` fires.
pub(crate) async fn open_until_commit(
    provider: &dyn Provider,
    request: Request,
    ctx: CallContext,
    timeouts: Timeouts,
    cancel: &CancellationToken,
) -> Result<Committed, ProviderError> {
    let started = Instant::now();
    let deadline = started + timeouts.first_event.min(timeouts.total);
    let opening = async {
        let mut stream = provider.stream(request, ctx).await?;
        let mut buffered = Vec::new();
        loop {
            match stream.next().await {
                Some(Ok(event)) => {
                    let commit = event.is_content() || matches!(event, Event::Finished { .. });
                    buffered.push(event);
                    if commit {
                        return Ok(Committed {
                            stream,
                            buffered,
                            started,
                        });
                    }
                }
                Some(Err(error)) => return Err(error),
                None => {
                    return Err(ProviderError::new(
                        FailureKind::EmptyResponse,
                        "stream ended before any content",
                    ));
                }
            }
        }
    };
    tokio::select! {
        biased;
        _ = cancel.cancelled() => Err(aborted()),
        result = tokio::time::timeout_at(deadline, opening) => match result {
            Ok(outcome) => outcome,
            Err(_) => Err(ProviderError::new(
                FailureKind::Timeout,
                format!("no content within {}", human_duration(timeouts.first_event.min(timeouts.total))),
            )),
        },
    }
}

fn aborted() -> ProviderError {
    ProviderError::new(FailureKind::Aborted, "cancelled by the caller")
}

/// The committed stream of one routed call: canonical events from the answering candidate,
/// then either its end (after `Finished`) or one `Err` item. Also says how it was reached.
pub struct RoutedStream {
    info: RouteInfo,
    inner: Pin<Box<dyn Stream<Item = Result<Event, ProviderError>> + Send>>,
}

impl std::fmt::Debug for RoutedStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoutedStream")
            .field("info", &self.info)
            .finish()
    }
}

impl RoutedStream {
    pub(crate) fn new(
        committed: Committed,
        info: RouteInfo,
        timeouts: Timeouts,
        cancel: CancellationToken,
        recorder: FailureRecorder,
    ) -> Self {
        let live = LiveStream {
            buffered: committed.buffered.into(),
            stream: committed.stream,
            idle: timeouts.idle,
            total: timeouts.total,
            total_deadline: committed.started + timeouts.total,
            cancel,
            recorder,
            provider: info.answered_by.provider.clone(),
            key_index: info.key_index,
            done: false,
        };
        let inner = futures::stream::unfold(live, |mut live| async move {
            let item = live.next_item().await?;
            Some((item, live))
        });
        Self {
            info,
            inner: Box::pin(inner),
        }
    }

    pub fn info(&self) -> &RouteInfo {
        &self.info
    }

    pub fn attempts(&self) -> &[AttemptRecord] {
        &self.info.attempts
    }

    pub fn answered_by(&self) -> &CandidateRef {
        &self.info.answered_by
    }

    pub fn is_fallback(&self) -> bool {
        self.info.fallback
    }

    /// Drops the stream, keeping how it was reached.
    pub fn into_info(self) -> RouteInfo {
        self.info
    }
}

impl Stream for RoutedStream {
    type Item = Result<Event, ProviderError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

struct LiveStream {
    buffered: VecDeque<Event>,
    stream: EventStream,
    idle: Duration,
    total: Duration,
    total_deadline: Instant,
    cancel: CancellationToken,
    recorder: FailureRecorder,
    provider: String,
    key_index: usize,
    done: bool,
}

impl LiveStream {
    async fn next_item(&mut self) -> Option<Result<Event, ProviderError>> {
        if self.done {
            return None;
        }
        if let Some(event) = self.buffered.pop_front() {
            self.done = matches!(event, Event::Finished { .. });
            return Some(Ok(event));
        }
        let idle_deadline = Instant::now() + self.idle;
        let deadline = idle_deadline.min(self.total_deadline);
        let next = tokio::select! {
            biased;
            _ = self.cancel.cancelled() => {
                self.done = true;
                return Some(Err(aborted()));
            }
            next = tokio::time::timeout_at(deadline, self.stream.next()) => next,
        };
        let failure = match next {
            Ok(Some(Ok(event))) => {
                self.done = matches!(event, Event::Finished { .. });
                return Some(Ok(event));
            }
            Ok(Some(Err(error))) => error,
            Ok(None) => ProviderError::new(
                FailureKind::Truncated,
                "stream ended without a finish event",
            ),
            Err(_) if deadline == self.total_deadline => ProviderError::new(
                FailureKind::Timeout,
                format!(
                    "attempt exceeded its total time of {}",
                    human_duration(self.total)
                ),
            ),
            Err(_) => ProviderError::new(
                FailureKind::Timeout,
                format!("no event for {} (idle timeout)", human_duration(self.idle)),
            ),
        };
        self.done = true;
        self.recorder
            .record(&self.provider, self.key_index, &failure.kind);
        Some(Err(failure))
    }
}
