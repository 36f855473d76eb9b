//! What happened on the way to an answer: one [`AttemptRecord`] per candidate tried or
//! skipped, the [`RouteInfo`] of a committed stream, and the [`RouterError`] a caller gets
//! when no candidate answered. The `all models failed (N): …` text (or, when only one model
//! was tried, that model's own error) lives here.

use std::time::Duration;

use clawgate_providers::FailureKind;
use serde::Serialize;
use thiserror::Error;

use crate::chain::CandidateRef;
use crate::clock::human_duration;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum AttemptOutcome {
    /// The stream committed (first content event arrived).
    Ok,
    Failed {
        kind: FailureKind,
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
    },
    /// Not called: the provider (or every key of it) is cooling down or disabled.
    SkippedForCooldown {
        /// Epoch ms when it becomes usable again.
        until: u64,
        /// How long that was from the moment of the skip.
        #[serde(with = "millis")]
        remaining: Duration,
        /// The failure kind (or disabled reason) behind the cooldown.
        reason: String,
        disabled: bool,
    },
    /// Not called: the chain names a provider the router does not know.
    SkippedUnknownProvider,
}

/// One step of one routed call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttemptRecord {
    pub candidate: CandidateRef,
    /// The API key used (index into the provider's key list); `None` when skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_index: Option<usize>,
    #[serde(flatten)]
    pub outcome: AttemptOutcome,
    /// Start of the attempt to commit or failure (zero when skipped).
    #[serde(with = "millis")]
    pub latency: Duration,
    /// Attempted while cooling down because it heads the chain and its cooldown is nearly over.
    pub probe: bool,
    /// Attempted while cooling down because every candidate was, and its cooldown ends first.
    pub last_resort: bool,
    /// Same-candidate retry number (0 for the first try).
    pub retry: u8,
    /// Asked without streaming: the retry after a stream failed in the middle of a tool call.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub without_stream: bool,
}

impl AttemptRecord {
    pub fn is_network_attempt(&self) -> bool {
        matches!(
            self.outcome,
            AttemptOutcome::Ok | AttemptOutcome::Failed { .. }
        )
    }

    /// `local/x: connection refused (network)`.
    pub fn summary(&self) -> String {
        format!("{}: {}", self.candidate, self.detail())
    }

    /// The outcome without the candidate: `connection refused (network)`.
    pub fn detail(&self) -> String {
        match &self.outcome {
            AttemptOutcome::Ok => "ok".to_string(),
            AttemptOutcome::Failed { kind, message, .. } => format!("{message} ({})", kind.name()),
            AttemptOutcome::SkippedForCooldown {
                remaining,
                reason,
                disabled,
                ..
            } => {
                let state = if *disabled {
                    "disabled"
                } else {
                    "cooling down"
                };
                format!("{state} for {} ({reason})", human_duration(*remaining))
            }
            AttemptOutcome::SkippedUnknownProvider => "provider not configured".to_string(),
        }
    }
}

/// How a committed stream was reached.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouteInfo {
    /// Head of the chain: what the caller asked for.
    pub requested: CandidateRef,
    pub answered_by: CandidateRef,
    pub key_index: usize,
    /// Answered by a candidate other than the requested one.
    pub fallback: bool,
    pub attempts: Vec<AttemptRecord>,
    /// The answering model's notices that came before its answer started (`Event::Notice`:
    /// what it could not do as asked). They stay in the stream too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<String>,
}

impl RouteInfo {
    /// `↪️ Model Fallback: hosted/y (selected local/x; timeout)`, when a fallback answered.
    /// An operational notice, never assistant content.
    pub fn fallback_notice(&self) -> Option<String> {
        if !self.fallback {
            return None;
        }
        let reason = self
            .attempts
            .iter()
            .find(|attempt| attempt.candidate == self.requested)
            .map(|attempt| match &attempt.outcome {
                AttemptOutcome::Failed { kind, .. } => kind.name().to_string(),
                AttemptOutcome::SkippedForCooldown { reason, .. } => {
                    format!("{reason}, cooling down")
                }
                AttemptOutcome::SkippedUnknownProvider => "not configured".to_string(),
                AttemptOutcome::Ok => "ok".to_string(),
            })
            .unwrap_or_else(|| "unavailable".to_string());
        Some(format!(
            "↪️ Model Fallback: {} (selected {}; {reason})",
            self.answered_by, self.requested
        ))
    }
}

#[derive(Debug, Clone, PartialEq, Error)]
pub enum RouterError {
    #[error("no model candidates to try")]
    NoCandidates,
    /// Every candidate failed or was skipped. `soonest_retry` is the epoch ms at which the
    /// first of them leaves its cooldown, when any is cooling down.
    #[error("{}", all_failed_message(attempts))]
    AllFailed {
        attempts: Vec<AttemptRecord>,
        soonest_retry: Option<u64>,
    },
    /// The prompt does not fit `candidate`'s context window. Never answered by a fallback:
    /// the caller compacts the conversation (to below `limit` when known) and calls again,
    /// typically with `chain.starting_at(&candidate)`.
    #[error("context overflow on {candidate}: {message}")]
    ContextOverflow {
        candidate: CandidateRef,
        requested: Option<u64>,
        limit: Option<u64>,
        message: String,
        attempts: Vec<AttemptRecord>,
    },
    /// The caller cancelled, or the upstream reported an abort.
    #[error("aborted")]
    Aborted { attempts: Vec<AttemptRecord> },
}

impl RouterError {
    pub fn attempts(&self) -> &[AttemptRecord] {
        match self {
            RouterError::NoCandidates => &[],
            RouterError::AllFailed { attempts, .. }
            | RouterError::ContextOverflow { attempts, .. }
            | RouterError::Aborted { attempts } => attempts,
        }
    }

    /// The failure kind a gateway maps to an HTTP status / dialect error type: the last
    /// failed attempt's kind for `AllFailed`.
    pub fn kind(&self) -> Option<FailureKind> {
        match self {
            RouterError::NoCandidates => None,
            RouterError::AllFailed { attempts, .. } => {
                attempts
                    .iter()
                    .rev()
                    .find_map(|attempt| match &attempt.outcome {
                        AttemptOutcome::Failed { kind, .. } => Some(*kind),
                        AttemptOutcome::SkippedForCooldown { reason, .. }
                            if reason == "rate_limit" =>
                        {
                            Some(FailureKind::RateLimit { retry_after: None })
                        }
                        _ => None,
                    })
            }
            RouterError::ContextOverflow {
                requested, limit, ..
            } => Some(FailureKind::ContextOverflow {
                requested: *requested,
                limit: *limit,
            }),
            RouterError::Aborted { .. } => Some(FailureKind::Aborted),
        }
    }
}

/// `all models failed (N): a | b | …`. When every record is about one candidate, that model's
/// own error (spec §3.7): `local/x: connection refused (network)`, not "all models failed
/// (1)"; its steps (a cooldown skip, a retry, another key) joined by "then".
fn all_failed_message(attempts: &[AttemptRecord]) -> String {
    if let Some(first) = attempts.first()
        && attempts.iter().all(|a| a.candidate == first.candidate)
    {
        let steps: Vec<String> = attempts.iter().map(AttemptRecord::detail).collect();
        return format!("{}: {}", first.candidate, steps.join(", then "));
    }
    let parts: Vec<String> = attempts.iter().map(AttemptRecord::summary).collect();
    format!(
        "all models failed ({}): {}",
        attempts.len(),
        parts.join(" | ")
    )
}

mod millis {
    use std::time::Duration;

    use serde::Serializer;

    pub fn serialize<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(value.as_millis() as u64)
    }
}
