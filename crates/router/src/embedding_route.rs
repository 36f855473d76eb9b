//! One embeddings call across a candidate chain, with the chat path's admission rules
//! (cooldown skip, head probe, last resort: the same `chain_walk`), its
//! decision table (same-candidate retries, key rotation, penalties) and its cooldown store. Its
//! attempt is not `Router::call`'s because an embeddings answer is one JSON document: there is
//! no stream, no commit point and no held content, so an attempt is just `Provider::embed`
//! under the candidate's total timeout. A candidate whose server cannot embed fails as
//! `format`, which cools nothing down, and the next candidate is tried.

use clawgate_providers::{CallContext, FailureKind, ProviderError};
use clawgate_wire::embeddings::{EmbeddingRequest, EmbeddingResponse};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::attempt::{AttemptOutcome, AttemptRecord, RouteInfo, RouterError};
use crate::chain::{CandidateChain, CandidateRef};
use crate::decision::decide;
use crate::router::{Admission, Router, Step};
use crate::targets::ProviderTarget;

impl Router {
    /// Embeds `request.input` with the first candidate of `chain` that answers;
    /// `request.model` is rewritten to each candidate's upstream model id.
    pub async fn embed(
        &self,
        request: EmbeddingRequest,
        chain: &CandidateChain,
        cancel: &CancellationToken,
    ) -> Result<(EmbeddingResponse, RouteInfo), RouterError> {
        let mut walk = self.walk(chain).ok_or(RouterError::NoCandidates)?;
        while let Some(next) = walk.next(cancel) {
            let step = self
                .embed_candidate(
                    &request,
                    next.candidate,
                    next.target,
                    next.key_index,
                    next.admission,
                    cancel,
                    &mut walk.attempts,
                )
                .await;
            if let Some(result) = finish(step, walk.requested, next.candidate, &mut walk.attempts) {
                return result;
            }
        }
        Err(walk.failure())
    }

    /// Attempts one candidate: same-key retries, then other keys, as the table says.
    #[allow(clippy::too_many_arguments)]
    async fn embed_candidate(
        &self,
        request: &EmbeddingRequest,
        candidate: &CandidateRef,
        target: &ProviderTarget,
        first_key: usize,
        admission: Admission,
        cancel: &CancellationToken,
        attempts: &mut Vec<AttemptRecord>,
    ) -> Step<EmbeddingResponse> {
        let timeouts = target.effective_timeouts(self.config());
        let mut tried_keys = Vec::new();
        let mut key_index = first_key;
        loop {
            tried_keys.push(key_index);
            let mut retry = 0u8;
            let (decision, error) = loop {
                let mut upstream_request = request.clone();
                upstream_request.model = candidate.model.clone();
                let ctx = CallContext {
                    key_index,
                    connect_timeout: Some(timeouts.connect),
                    header_timeout: Some(timeouts.first_event),
                };
                let started = Instant::now();
                let call = tokio::time::timeout(
                    timeouts.total,
                    target.provider.embed(upstream_request, ctx),
                );
                let result = tokio::select! {
                    _ = cancel.cancelled() => return Step::Stop,
                    result = call => result.unwrap_or_else(|_| {
                        Err(ProviderError::new(
                            FailureKind::Timeout,
                            format!("no embeddings within {} ms", timeouts.total.as_millis()),
                        ))
                    }),
                };
                let record = |outcome| AttemptRecord {
                    candidate: candidate.clone(),
                    key_index: Some(key_index),
                    outcome,
                    latency: started.elapsed(),
                    probe: admission == Admission::Probe,
                    last_resort: admission == Admission::LastResort,
                    retry,
                    without_stream: false,
                };
                match result {
                    Ok(answer) => {
                        attempts.push(record(AttemptOutcome::Ok));
                        self.recorder.success(target.id(), key_index);
                        return Step::Answered(answer, key_index);
                    }
                    Err(error) => {
                        attempts.push(record(AttemptOutcome::Failed {
                            kind: error.kind,
                            message: error.message.clone(),
                            status: error.status,
                        }));
                        let decision = decide(&error.kind);
                        let allowed = decision
                            .retry_same
                            .min(self.config().max_same_candidate_retries);
                        if retry < allowed && !cancel.is_cancelled() {
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
}

/// A candidate's outcome as the call's result, or `None` to go on down the chain.
fn finish(
    step: Step<EmbeddingResponse>,
    requested: &CandidateRef,
    candidate: &CandidateRef,
    attempts: &mut Vec<AttemptRecord>,
) -> Option<Result<(EmbeddingResponse, RouteInfo), RouterError>> {
    match step {
        Step::Answered(answer, key_index) => Some(Ok((
            answer,
            RouteInfo {
                requested: requested.clone(),
                answered_by: candidate.clone(),
                key_index,
                fallback: candidate != requested,
                attempts: std::mem::take(attempts),
                notices: Vec::new(),
            },
        ))),
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
