//! One logical model call across a candidate chain: admission (cooldown skip, head probe,
//! last resort), attempts with per-provider timeouts, same-candidate retries and API-key
//! rotation from the decision table, the retry without streaming after a stream broke in the
//! middle of a tool call, and the hand-off to a [`RoutedStream`] at the commit point. See
//! `docs/failover.md` for the user-facing description.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clawgate_providers::{CallContext, FailureKind, ProviderError};
use clawgate_wire::{Event, Request};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::attempt::{AttemptOutcome, AttemptRecord, RouteInfo, RouterError};
use crate::chain::{CandidateChain, CandidateRef};
use crate::clock::Clock;
use crate::commit::{CommitRule, HoldSignal};
use crate::config::{ReasoningStream, RouterConfig};
use crate::cooldown::{Availability, Blocked, CooldownKey, CooldownStore};
use crate::decision::{Decision, Then, decide};
use crate::penalty::FailureRecorder;
use crate::routed_stream::{Committed, RoutedStream, Uncommitted, open_until_commit};
use crate::targets::{ProviderSet, ProviderTarget};

/// Why a candidate was admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    Available,
    Probe,
    LastResort,
}

/// How trying one candidate ended: its answer `A` (a committed stream, an embeddings
/// response) with the key index that got it, or why there is none.
pub(crate) enum Step<A> {
    Answered(A, usize),
    Failed,
    HandBack(ProviderError),
    Stop,
}

/// Per-call choices beyond the request and the chain.
#[derive(Debug, Clone, Default)]
pub struct CallOptions {
    /// How reasoning travels before the answer, for every candidate of this call; `None`
    /// keeps each candidate's configured choice (`RouterConfig::immediate_reasoning`).
    pub reasoning: Option<ReasoningStream>,
    /// Raised when the router starts holding back a live candidate's content, so the caller
    /// can keep its client's connection alive.
    pub hold: Option<HoldSignal>,
}

/// Routes calls. Cheap to share: wrap it in an `Arc`.
pub struct Router {
    providers: ProviderSet,
    config: RouterConfig,
    pub(crate) recorder: FailureRecorder,
    /// Last probe per provider (epoch ms). In memory only, like OpenClaw's probe throttle.
    probes: Mutex<HashMap<String, u64>>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("providers", &self.providers)
            .field("config", &self.config)
            .finish()
    }
}

impl Router {
    pub fn new(
        providers: ProviderSet,
        cooldowns: impl Into<Arc<CooldownStore>>,
        config: RouterConfig,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            providers,
            config,
            recorder: FailureRecorder {
                store: cooldowns.into(),
                clock,
            },
            probes: Mutex::new(HashMap::new()),
        }
    }

    pub fn providers(&self) -> &ProviderSet {
        &self.providers
    }

    pub fn config(&self) -> &RouterConfig {
        &self.config
    }

    pub fn cooldowns(&self) -> &Arc<CooldownStore> {
        &self.recorder.store
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.recorder.clock
    }

    /// Routes `request` across `chain` and returns the first stream that commits (reaches
    /// answer text or its finish, see `commit`). `request.model` is rewritten to each
    /// candidate's upstream model id. Cancelling `cancel` stops the chain (before commit) or
    /// ends the stream (after it).
    pub async fn call(
        &self,
        request: Request,
        chain: &CandidateChain,
        cancel: &CancellationToken,
    ) -> Result<RoutedStream, RouterError> {
        self.call_with(request, chain, cancel, &CallOptions::default())
            .await
    }

    /// [`Router::call`] with this call's own [`CallOptions`].
    pub async fn call_with(
        &self,
        request: Request,
        chain: &CandidateChain,
        cancel: &CancellationToken,
        options: &CallOptions,
    ) -> Result<RoutedStream, RouterError> {
        let mut walk = self.walk(chain).ok_or(RouterError::NoCandidates)?;
        while let Some(next) = walk.next(cancel) {
            let step = self
                .try_candidate(
                    &request,
                    next.candidate,
                    next.target,
                    next.key_index,
                    next.admission,
                    cancel,
                    options,
                    &mut walk.attempts,
                )
                .await;
            let requested = walk.requested;
            if let Some(result) =
                self.finish_step(step, requested, next.candidate, &mut walk.attempts, cancel)
            {
                return result;
            }
        }
        Err(walk.failure())
    }

    /// After a failed attempt on `candidate` (retries of the same key are spent): records the
    /// failure and says what comes next, by the decision table: `Ok(key)` to try the candidate
    /// again with another key, or the step that ends the candidate. Shared by streamed calls
    /// and embeddings.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn after_failure<A>(
        &self,
        target: &ProviderTarget,
        candidate: &CandidateRef,
        key_index: usize,
        decision: &Decision,
        error: ProviderError,
        tried_keys: &[usize],
        cancel: &CancellationToken,
    ) -> Result<usize, Step<A>> {
        self.recorder.record(target.id(), key_index, &error.kind);
        match decision.then {
            Then::HandBack => return Err(Step::HandBack(error)),
            Then::Stop => return Err(Step::Stop),
            Then::NextCandidate => {}
        }
        if cancel.is_cancelled() {
            return Err(Step::Stop);
        }
        let now = self.recorder.clock.now_ms();
        // A pinned key (`@profile`) is the only one this candidate may use.
        (decision.rotate_key && candidate.key.is_none())
            .then(|| {
                self.recorder
                    .store
                    .next_key(target.id(), target.key_count, now, tried_keys)
            })
            .flatten()
            .ok_or(Step::Failed)
    }

    /// Turns a candidate's outcome into the call's result, or `None` to go on down the chain.
    fn finish_step(
        &self,
        step: Step<Committed>,
        requested: &CandidateRef,
        candidate: &CandidateRef,
        attempts: &mut Vec<AttemptRecord>,
        cancel: &CancellationToken,
    ) -> Option<Result<RoutedStream, RouterError>> {
        match step {
            Step::Answered(committed, key_index) => {
                let timeouts = self
                    .providers
                    .get(&candidate.provider)
                    .map(|target| target.effective_timeouts(&self.config))
                    .unwrap_or(self.config.hosted_timeouts);
                let notices = committed
                    .buffered
                    .iter()
                    .filter_map(|event| match event {
                        Event::Notice { text } => Some(text.clone()),
                        _ => None,
                    })
                    .collect();
                let info = RouteInfo {
                    requested: requested.clone(),
                    answered_by: candidate.clone(),
                    key_index,
                    fallback: candidate != requested,
                    attempts: std::mem::take(attempts),
                    notices,
                };
                Some(Ok(RoutedStream::new(
                    committed,
                    info,
                    timeouts,
                    cancel.clone(),
                    self.recorder.clone(),
                )))
            }
            Step::Failed => None,
            Step::HandBack(error) => {
                let (requested_tokens, limit) = match error.kind {
                    FailureKind::ContextOverflow { requested, limit } => (requested, limit),
                    _ => (None, None),
                };
                Some(Err(RouterError::ContextOverflow {
                    candidate: candidate.clone(),
                    requested: requested_tokens,
                    limit,
                    message: error.message,
                    attempts: std::mem::take(attempts),
                }))
            }
            Step::Stop => Some(Err(RouterError::Aborted {
                attempts: std::mem::take(attempts),
            })),
        }
    }

    /// How `candidate`'s reasoning travels in this call.
    fn reasoning_for(&self, candidate: &CandidateRef, options: &CallOptions) -> ReasoningStream {
        options.reasoning.unwrap_or_else(|| {
            let configured = !self.config.immediate_reasoning.is_empty()
                && self.config.immediate_reasoning.contains(&candidate.key());
            if configured {
                ReasoningStream::Immediate
            } else {
                ReasoningStream::Hold
            }
        })
    }

    /// Attempts one candidate: same-key retries (and the retry without streaming after a
    /// stream broke in the middle of a tool call), then other keys, as the table says.
    #[allow(clippy::too_many_arguments)]
    async fn try_candidate(
        &self,
        request: &Request,
        candidate: &CandidateRef,
        target: &ProviderTarget,
        first_key: usize,
        admission: Admission,
        cancel: &CancellationToken,
        options: &CallOptions,
        attempts: &mut Vec<AttemptRecord>,
    ) -> Step<Committed> {
        let timeouts = target.effective_timeouts(&self.config);
        let reasoning = self.reasoning_for(candidate, options);
        let mut tried_keys = Vec::new();
        let mut key_index = first_key;
        loop {
            tried_keys.push(key_index);
            let mut retry = 0u8;
            let mut without_stream = false;
            let (decision, error) = loop {
                let mut upstream_request = request.clone();
                upstream_request.model = candidate.model.clone();
                if without_stream {
                    upstream_request.stream = false;
                }
                let ctx = CallContext {
                    key_index,
                    connect_timeout: Some(timeouts.connect),
                    header_timeout: Some(timeouts.first_event),
                };
                let started = Instant::now();
                let result = open_until_commit(
                    target.provider.as_ref(),
                    upstream_request,
                    ctx,
                    timeouts,
                    CommitRule::new(reasoning, self.config.hold),
                    options.hold.as_ref(),
                    cancel,
                )
                .await;
                let latency = started.elapsed();
                let record = |outcome| AttemptRecord {
                    candidate: candidate.clone(),
                    key_index: Some(key_index),
                    outcome,
                    latency,
                    probe: admission == Admission::Probe,
                    last_resort: admission == Admission::LastResort,
                    retry,
                    without_stream,
                };
                match result {
                    Ok(committed) => {
                        attempts.push(record(AttemptOutcome::Ok));
                        self.recorder.success(target.id(), key_index);
                        return Step::Answered(committed, key_index);
                    }
                    Err(Uncommitted {
                        error,
                        partial_tool_call,
                    }) => {
                        attempts.push(record(AttemptOutcome::Failed {
                            kind: error.kind,
                            message: error.message.clone(),
                            status: error.status,
                        }));
                        tracing::debug!(
                            candidate = %candidate,
                            key_index,
                            kind = error.kind.name(),
                            "attempt failed: {}",
                            error.message
                        );
                        let decision = decide(&error.kind);
                        if cancel.is_cancelled() {
                            break (decision, error);
                        }
                        // A stream that broke in the middle of a tool call (llama.cpp's
                        // "Invalid diff") is asked once more, whole: the server's non-streamed
                        // path does not re-parse partial calls.
                        let unstreamed_retry = partial_tool_call
                            && request.stream
                            && !without_stream
                            && decision.then == Then::NextCandidate
                            && retry < self.config.max_same_candidate_retries;
                        if unstreamed_retry {
                            without_stream = true;
                            retry += 1;
                            continue;
                        }
                        let allowed = decision
                            .retry_same
                            .min(self.config.max_same_candidate_retries);
                        if retry < allowed {
                            retry += 1;
                            continue;
                        }
                        break (decision, error);
                    }
                }
            };
            key_index = match self.after_failure(
                target,
                candidate,
                key_index,
                &decision,
                error,
                &tried_keys,
                cancel,
            ) {
                Ok(next) => next,
                Err(step) => return step,
            };
        }
    }

    /// Head-of-chain probe near the end of its cooldown (spec §3.6), throttled per provider.
    /// The failure that started the cooldown counts as the last attempt for the throttle.
    pub(crate) fn probe_allowed(&self, provider: &str, block: &Blocked, now: u64) -> bool {
        if block.reason == "auth_permanent" {
            return false;
        }
        let policy = &self.config.probe;
        let span = block.until.saturating_sub(block.since);
        let window =
            (policy.window.as_millis() as u64).max((span as f64 * policy.window_fraction) as u64);
        if now + window < block.until {
            return false;
        }
        let mut probes = self
            .probes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let last = probes.get(provider).copied().unwrap_or(0).max(block.since);
        if now.saturating_sub(last) < policy.throttle.as_millis() as u64 {
            return false;
        }
        probes.insert(provider.to_string(), now);
        true
    }

    /// The chain's candidate whose cooldown ends first (chain order breaks ties).
    pub(crate) fn soonest_blocked<'c>(
        &self,
        chain: &'c CandidateChain,
    ) -> Option<(&'c CandidateRef, &ProviderTarget, usize)> {
        let now = self.recorder.clock.now_ms();
        let mut best: Option<(u64, &CandidateRef, &ProviderTarget, usize)> = None;
        for candidate in chain.candidates() {
            let Some(target) = self.providers.get(&candidate.provider) else {
                continue;
            };
            if let Availability::Blocked { block, soonest_key } =
                self.availability(candidate, target, now)
                && best.is_none_or(|(until, ..)| block.until < until)
            {
                best = Some((block.until, candidate, target, soonest_key));
            }
        }
        best.map(|(_, candidate, target, key)| (candidate, target, key))
    }

    /// Epoch ms when the first candidate of `chain` leaves its cooldown.
    pub fn soonest_retry(&self, chain: &CandidateChain) -> Option<u64> {
        let now = self.recorder.clock.now_ms();
        chain
            .candidates()
            .iter()
            .filter_map(|candidate| {
                let target = self.providers.get(&candidate.provider)?;
                match self.availability(candidate, target, now) {
                    Availability::Blocked { block, .. } => Some(block.until),
                    Availability::Ready { .. } => None,
                }
            })
            .min()
    }

    /// Whether `candidate` can be called at `now`: with any key of its provider, or, when it
    /// pins one, with that key only.
    pub(crate) fn availability(
        &self,
        candidate: &CandidateRef,
        target: &ProviderTarget,
        now: u64,
    ) -> Availability {
        let store = &self.recorder.store;
        let Some(index) = candidate.key else {
            return store.availability(target.id(), target.key_count, now);
        };
        let blocks = [
            store.blocked(&CooldownKey::provider(target.id()), now),
            store.blocked(&CooldownKey::api_key(target.id(), index), now),
        ];
        match blocks.into_iter().flatten().max_by_key(|b| b.until) {
            None => Availability::Ready { key_index: index },
            Some(block) => Availability::Blocked {
                block,
                soonest_key: index,
            },
        }
    }
}

pub(crate) fn skipped(candidate: &CandidateRef, outcome: AttemptOutcome) -> AttemptRecord {
    AttemptRecord {
        candidate: candidate.clone(),
        key_index: None,
        outcome,
        latency: Duration::ZERO,
        probe: false,
        last_resort: false,
        retry: 0,
        without_stream: false,
    }
}

pub(crate) fn skipped_for(candidate: &CandidateRef, block: &Blocked, now: u64) -> AttemptRecord {
    skipped(
        candidate,
        AttemptOutcome::SkippedForCooldown {
            until: block.until,
            remaining: Duration::from_millis(block.until.saturating_sub(now)),
            reason: block.reason.clone(),
            disabled: block.disabled,
        },
    )
}
