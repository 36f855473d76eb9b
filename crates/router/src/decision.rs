//! What the router does after a failed attempt, decided from the [`FailureKind`] alone
//! (spec §3.7). The whole policy is one `const` table so it can be read, reviewed and tested
//! as a table; [`decide`] only maps a kind (and, for network failures, its cause) to a row.

use clawgate_providers::{FailureKind, NetworkCause};

/// Where the chain goes once same-candidate retries and key rotation are used up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Then {
    /// Try the next candidate of the chain.
    NextCandidate,
    /// Stop and hand the failure back to the caller (context overflow: the agent compacts
    /// and calls again; falling back to another model would not help and would lose context).
    HandBack,
    /// Stop everything (the caller went away).
    Stop,
}

/// What is written into the cooldown store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Penalty {
    /// Nothing: the failure says something about this request, not about the provider.
    None,
    /// A cooldown on the backoff schedule (1 min, 5 min, 25 min, 1 h by default).
    Cooldown,
    /// Disabled for longer (billing: 5 h doubling to 24 h; auth_permanent: 10 min doubling to 1 h).
    Disable,
}

/// Whether the penalty lands on the API key that was used or on the whole provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Key,
    Provider,
}

/// One row of the decision table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Extra attempts on the same candidate with the same key (capped by
    /// `RouterConfig::max_same_candidate_retries`).
    pub retry_same: u8,
    /// Try the provider's next available API key before leaving the candidate.
    pub rotate_key: bool,
    pub then: Then,
    pub penalty: Penalty,
    pub scope: Scope,
}

const fn row(
    retry_same: u8,
    rotate_key: bool,
    then: Then,
    penalty: Penalty,
    scope: Scope,
) -> Decision {
    Decision {
        retry_same,
        rotate_key,
        then,
        penalty,
        scope,
    }
}

use Penalty::{Cooldown, Disable};
use Scope::{Key, Provider};
use Then::{HandBack, NextCandidate, Stop};

/// The decision table. Row names are [`FailureKind::name`], except that a network failure
/// caused by a connection reset has its own row (`network_reset`): a reset is often a
/// keep-alive connection the server had already closed, so one immediate retry is cheap and
/// usually works; a refused connection means the server is down and a retry would not help.
pub const DECISION_TABLE: &[(&str, Decision)] = &[
    ("auth", row(0, true, NextCandidate, Cooldown, Key)),
    ("auth_permanent", row(0, true, NextCandidate, Disable, Key)),
    ("billing", row(0, true, NextCandidate, Disable, Key)),
    ("rate_limit", row(0, true, NextCandidate, Cooldown, Key)),
    (
        "overloaded",
        row(0, false, NextCandidate, Cooldown, Provider),
    ),
    ("timeout", row(0, false, NextCandidate, Cooldown, Provider)),
    (
        "network_reset",
        row(1, false, NextCandidate, Cooldown, Provider),
    ),
    ("network", row(0, false, NextCandidate, Cooldown, Provider)),
    (
        "server_error",
        row(0, false, NextCandidate, Cooldown, Provider),
    ),
    (
        "format",
        row(0, false, NextCandidate, Penalty::None, Provider),
    ),
    (
        "model_not_found",
        row(0, false, NextCandidate, Penalty::None, Provider),
    ),
    (
        "context_overflow",
        row(0, false, HandBack, Penalty::None, Provider),
    ),
    (
        "empty_response",
        row(0, false, NextCandidate, Cooldown, Provider),
    ),
    (
        "truncated",
        row(0, false, NextCandidate, Cooldown, Provider),
    ),
    ("aborted", row(0, false, Stop, Penalty::None, Provider)),
    ("unknown", row(0, false, NextCandidate, Cooldown, Provider)),
];

/// The table row name for a kind.
pub fn row_name(kind: &FailureKind) -> &'static str {
    match kind {
        FailureKind::Network {
            cause: NetworkCause::Reset,
        } => "network_reset",
        other => other.name(),
    }
}

/// The decision for a failure kind. A kind without a row (impossible while the table test
/// passes) is treated like `unknown`.
pub fn decide(kind: &FailureKind) -> Decision {
    lookup(row_name(kind))
        .or_else(|| lookup("unknown"))
        .unwrap_or(row(0, false, NextCandidate, Cooldown, Provider))
}

fn lookup(name: &str) -> Option<Decision> {
    DECISION_TABLE
        .iter()
        .find(|(row, _)| *row == name)
        .map(|(_, decision)| *decision)
}
