//! Opening an attempt up to its commit point, and the committed stream after it. An attempt
//! is read until the [`CommitRule`] says it commits (first answer text, or `Finished`);
//! everything before it (`Started`, `Usage`, reasoning, unfinished tool calls) is buffered.
//! Until then every failure, including a hang, is the router's to handle by failing over,
//! invisible to the caller. From the commit on the caller owns the stream: a failure
//! (upstream error, idle gap, total time, cancellation, or an end without `Finished`) becomes
//! the stream's last item, an `Err`, which the gateway or agent turns into its dialect's error
//! event. Never a silent truncation, never a second model's text glued onto the first's.
//!
//! Clocks: the first-event limit runs until the first content event (text, reasoning or a
//! tool call, held or not); from then on, held or committed, each event must follow the last
//! within the idle limit, and the whole attempt stays within the total limit.

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
use crate::commit::{CommitRule, HoldSignal};
use crate::config::Timeouts;
use crate::penalty::FailureRecorder;

/// An attempt that reached its commit point.
pub(crate) struct Committed {
    pub stream: EventStream,
    pub buffered: Vec<Event>,
    pub started: Instant,
}

/// An attempt that failed before its commit point.
#[derive(Debug)]
pub(crate) struct Uncommitted {
    pub error: ProviderError,
    /// It failed after a tool call began (the answer had not finished).
    pub partial_tool_call: bool,
}

/// Opens one attempt and reads it up to the commit point within the attempt's clocks, giving
/// up at once when `cancel` fires. `hold` is raised when content starts being held.
pub(crate) async fn open_until_commit(
    provider: &dyn Provider,
    request: Request,
    ctx: CallContext,
    timeouts: Timeouts,
    mut rule: CommitRule,
    hold: Option<&HoldSignal>,
    cancel: &CancellationToken,
) -> Result<Committed, Uncommitted> {
    let started = Instant::now();
    let total_deadline = started + timeouts.total;
    let first_deadline = (started + timeouts.first_event).min(total_deadline);
    let rule = &mut rule;
    let opening = async {
        let Ok(opened) =
            tokio::time::timeout_at(first_deadline, provider.stream(request, ctx)).await
        else {
            return Err(no_content_within(timeouts));
        };
        let mut stream = opened?;
        let mut buffered = Vec::new();
        loop {
            let holding = rule.content_started();
            let deadline = if holding {
                (Instant::now() + timeouts.idle).min(total_deadline)
            } else {
                first_deadline
            };
            let Ok(next) = tokio::time::timeout_at(deadline, stream.next()).await else {
                return Err(if !holding {
                    no_content_within(timeouts)
                } else if deadline == total_deadline {
                    total_exceeded(timeouts.total)
                } else {
                    idle_exceeded(timeouts.idle)
                });
            };
            match next {
                Some(Ok(event)) => {
                    let commit = rule.commits(&event);
                    buffered.push(event);
                    if commit {
                        return Ok(Committed {
                            stream,
                            buffered,
                            started,
                        });
                    }
                    if !holding
                        && rule.content_started()
                        && let Some(hold) = hold
                    {
                        hold.raise();
                    }
                }
                Some(Err(error)) => return Err(error),
                None if rule.content_started() => {
                    return Err(ProviderError::new(
                        FailureKind::Truncated,
                        "stream ended before its answer (no text and no finish)",
                    ));
                }
                None => {
                    return Err(ProviderError::new(
                        FailureKind::EmptyResponse,
                        "stream ended before any content",
                    ));
                }
            }
        }
    };
    let result = tokio::select! {
        biased;
        _ = cancel.cancelled() => Err(aborted()),
        result = opening => result,
    };
    result.map_err(|error| Uncommitted {
        error,
        partial_tool_call: rule.partial_tool_call(),
    })
}

fn no_content_within(timeouts: Timeouts) -> ProviderError {
    ProviderError::new(
        FailureKind::Timeout,
        format!(
            "no content within {}",
            human_duration(timeouts.first_event.min(timeouts.total))
        ),
    )
}

fn total_exceeded(total: Duration) -> ProviderError {
    ProviderError::new(
        FailureKind::Timeout,
        format!(
            "attempt exceeded its total time of {}",
            human_duration(total)
        ),
    )
}

fn idle_exceeded(idle: Duration) -> ProviderError {
    ProviderError::new(
        FailureKind::Timeout,
        format!("no event for {} (idle timeout)", human_duration(idle)),
    )
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
            Err(_) if deadline == self.total_deadline => total_exceeded(self.total),
            Err(_) => idle_exceeded(self.idle),
        };
        self.done = true;
        self.recorder
            .record(&self.provider, self.key_index, &failure.kind);
        Some(Err(failure))
    }
}
