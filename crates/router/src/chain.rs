//! The candidate chain: which models one logical call may use, in order (spec §3.5).
//! Alias and ref resolution happen in the config crate; this module takes resolved
//! `provider/model` refs and applies the ordering rules: requested model first, then the
//! fallbacks, de-duplicated, then the configured primary again so the chain can settle back
//! on the default. An explicit empty override list means "no fallbacks" (strict mode).

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A resolved model ref: the provider id from config and the model id that upstream knows,
/// and, when the caller pinned one (a ref's `@profile`), the only API key of the provider this
/// candidate may use: a pinned candidate never rotates to another key (OpenClaw's user pins are
/// strict; on failure the chain goes on to the next model).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CandidateRef {
    pub provider: String,
    pub model: String,
    /// Index into the provider's keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<usize>,
}

impl CandidateRef {
    pub fn new(provider: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            provider: provider.into(),
            model: model.into(),
            key: None,
        }
    }

    /// This candidate restricted to key `index` of its provider.
    pub fn with_key(mut self, index: usize) -> Self {
        self.key = Some(index);
        self
    }

    /// Splits `provider/model` on the first `/` (`openrouter/moonshotai/kimi-k2` keeps the
    /// rest as the model id). `None` when there is no `/` or either side is empty.
    pub fn parse(text: &str) -> Option<Self> {
        let (provider, model) = text.trim().split_once('/')?;
        if provider.is_empty() || model.is_empty() {
            return None;
        }
        Some(Self::new(provider, model))
    }

    /// Canonical key used for de-duplication: `provider/model`.
    pub fn key(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for CandidateRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.provider, self.model)
    }
}

/// The ordered, de-duplicated list of candidates for one logical call. The first entry is
/// the model the caller asked for (or the configured primary): it is the one the router
/// probes near the end of a cooldown so the chain returns to it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CandidateChain {
    candidates: Vec<CandidateRef>,
}

impl CandidateChain {
    /// Builds the chain from configuration (spec §3.5):
    /// - `requested`: a session/request override; `None` uses `primary`;
    /// - `configured_fallbacks`: `agents.defaults.model.fallbacks`;
    /// - `fallbacks_override`: a per-call list that replaces the configured one; `Some(&[])`
    ///   switches fallbacks off (strict: only the requested model is tried).
    ///
    /// Without an override, when the requested model's provider differs from the primary's
    /// and the requested model is not itself one of the fallbacks, the configured fallbacks
    /// are not used (baseline rule), and the primary is appended last so the chain settles
    /// back on the default.
    pub fn build(
        primary: &CandidateRef,
        configured_fallbacks: &[CandidateRef],
        requested: Option<&CandidateRef>,
        fallbacks_override: Option<&[CandidateRef]>,
    ) -> Self {
        let head = requested.unwrap_or(primary);
        let mut ordered = vec![head.clone()];
        match fallbacks_override {
            Some(list) => ordered.extend(list.iter().cloned()),
            None => {
                let foreign_request = head.provider != primary.provider
                    && !configured_fallbacks.iter().any(|f| f.key() == head.key());
                if !foreign_request {
                    ordered.extend(configured_fallbacks.iter().cloned());
                }
                ordered.push(primary.clone());
            }
        }
        Self::from_refs(ordered)
    }

    /// A literal chain (`models test --chain a,b,c`), de-duplicated, order kept.
    pub fn from_refs(refs: impl IntoIterator<Item = CandidateRef>) -> Self {
        let mut seen = HashSet::new();
        let candidates = refs
            .into_iter()
            .filter(|candidate| seen.insert(candidate.key()))
            .collect();
        Self { candidates }
    }

    /// Only this model, no fallbacks.
    pub fn strict(candidate: CandidateRef) -> Self {
        Self {
            candidates: vec![candidate],
        }
    }

    /// The chain from `candidate` onwards (the whole chain when it is not in it): what an
    /// agent calls again with after compacting for a context overflow on `candidate`.
    pub fn starting_at(&self, candidate: &CandidateRef) -> Self {
        match self.candidates.iter().position(|c| c == candidate) {
            Some(index) => Self {
                candidates: self.candidates[index..].to_vec(),
            },
            None => self.clone(),
        }
    }

    pub fn candidates(&self) -> &[CandidateRef] {
        &self.candidates
    }

    pub fn head(&self) -> Option<&CandidateRef> {
        self.candidates.first()
    }

    pub fn len(&self) -> usize {
        self.candidates.len()
    }

    pub fn is_empty(&self) -> bool {
        self.candidates.is_empty()
    }
}

impl fmt::Display for CandidateChain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.candidates.iter().map(|c| c.to_string()).collect();
        f.write_str(&parts.join(" -> "))
    }
}
