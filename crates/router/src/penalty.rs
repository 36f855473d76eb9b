//! Writes the decision table's penalty for a failure into the cooldown store, on the key or
//! the provider as the table says. Shared by the router (failures before commit) and the
//! committed stream (failures after it).

use std::sync::Arc;

use clawgate_providers::FailureKind;

use crate::clock::Clock;
use crate::cooldown::{CooldownKey, CooldownStore};
use crate::decision::{Scope, decide};

#[derive(Clone)]
pub(crate) struct FailureRecorder {
    pub store: Arc<CooldownStore>,
    pub clock: Arc<dyn Clock>,
}

impl FailureRecorder {
    /// Applies the penalty for `kind`; returns the new "unusable until" when one was set.
    pub fn record(&self, provider: &str, key_index: usize, kind: &FailureKind) -> Option<u64> {
        let decision = decide(kind);
        let key = match decision.scope {
            Scope::Key => CooldownKey::api_key(provider, key_index),
            Scope::Provider => CooldownKey::provider(provider),
        };
        self.store
            .record_failure(&key, kind, decision.penalty, self.clock.now_ms())
    }

    pub fn success(&self, provider: &str, key_index: usize) {
        self.store
            .record_success(provider, key_index, self.clock.now_ms());
    }
}
