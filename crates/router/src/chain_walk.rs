//! The walk of a candidate chain, one for chat calls and embeddings alike: refresh the shared
//! cooldowns, then take the candidates in order, skipping an unknown provider, admitting one
//! that is available (or, at the head, one whose probe is due) and recording why the others
//! were skipped; when nothing reached the network, the soonest-blocked candidate gets one
//! last-resort attempt. The caller attempts each admitted candidate in its own way (a
//! committed stream against one JSON document) and decides whether the step ends the call.
//!
//! A cursor rather than a driver taking the attempt as an async closure: such a closure,
//! borrowing its arguments, made the chat call's future fail to prove `Send`.

use tokio_util::sync::CancellationToken;

use crate::attempt::{AttemptOutcome, AttemptRecord, RouterError};
use crate::chain::{CandidateChain, CandidateRef};
use crate::cooldown::Availability;
use crate::router::{Admission, Router, skipped, skipped_for};
use crate::targets::ProviderTarget;

/// A candidate the walk admitted: try it with `key_index`, as `admission` says.
pub(crate) struct Admitted<'w> {
    pub candidate: &'w CandidateRef,
    pub target: &'w ProviderTarget,
    pub key_index: usize,
    pub admission: Admission,
}

/// Where a walk of one chain stands, and the attempts it has recorded.
pub(crate) struct ChainWalk<'w> {
    router: &'w Router,
    chain: &'w CandidateChain,
    /// The candidate the caller asked for (the chain's head).
    pub requested: &'w CandidateRef,
    next: usize,
    last_resort_taken: bool,
    aborted: bool,
    pub attempts: Vec<AttemptRecord>,
}

impl Router {
    /// Starts a walk of `chain`; `None` for an empty chain, which has nothing to walk.
    pub(crate) fn walk<'w>(&'w self, chain: &'w CandidateChain) -> Option<ChainWalk<'w>> {
        let requested = chain.head()?;
        self.recorder
            .store
            .refresh_if_changed(self.recorder.clock.now_ms());
        Some(ChainWalk {
            router: self,
            chain,
            requested,
            next: 0,
            last_resort_taken: false,
            aborted: false,
            attempts: Vec::new(),
        })
    }
}

impl<'w> ChainWalk<'w> {
    /// The next candidate to attempt; `None` when the chain is done, or cancelled (checked
    /// before each candidate).
    pub(crate) fn next(&mut self, cancel: &CancellationToken) -> Option<Admitted<'w>> {
        let router = self.router;
        while let Some(candidate) = self.chain.candidates().get(self.next) {
            let position = self.next;
            self.next += 1;
            if cancel.is_cancelled() {
                self.aborted = true;
                return None;
            }
            let Some(target) = router.providers().get(&candidate.provider) else {
                let record = skipped(candidate, AttemptOutcome::SkippedUnknownProvider);
                self.attempts.push(record);
                continue;
            };
            let now = router.recorder.clock.now_ms();
            let (key_index, admission) = match router.availability(candidate, target, now) {
                Availability::Ready { key_index } => (key_index, Admission::Available),
                Availability::Blocked { block, soonest_key } => {
                    if position == 0 && router.probe_allowed(target.id(), &block, now) {
                        (soonest_key, Admission::Probe)
                    } else {
                        self.attempts.push(skipped_for(candidate, &block, now));
                        continue;
                    }
                }
            };
            return Some(Admitted {
                candidate,
                target,
                key_index,
                admission,
            });
        }
        if self.last_resort_taken || self.attempts.iter().any(AttemptRecord::is_network_attempt) {
            return None;
        }
        self.last_resort_taken = true;
        router
            .soonest_blocked(self.chain)
            .map(|(candidate, target, key_index)| Admitted {
                candidate,
                target,
                key_index,
                admission: Admission::LastResort,
            })
    }

    /// The call's error once the walk is done: cancelled, or every candidate failed or was
    /// skipped.
    pub(crate) fn failure(self) -> RouterError {
        if self.aborted {
            return RouterError::Aborted {
                attempts: self.attempts,
            };
        }
        RouterError::AllFailed {
            soonest_retry: self.router.soonest_retry(self.chain),
            attempts: self.attempts,
        }
    }
}
