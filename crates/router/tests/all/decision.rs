//! The decision table, tested as a table: every FailureKind (every network cause) maps to the
//! expected row, every row is reachable, and row names are unique.

use std::collections::HashSet;
use std::time::Duration;

use clawgate_providers::{FailureKind, NetworkCause};
use clawgate_router::decision::row_name;
use clawgate_router::{DECISION_TABLE, Decision, Penalty, Scope, Then, decide};

/// Every kind the providers crate can produce, with each network cause. The `match` makes
/// this fail to compile when a variant is added, so the table test cannot silently miss it.
fn all_kinds() -> Vec<FailureKind> {
    let kinds = vec![
        FailureKind::Auth,
        FailureKind::AuthPermanent,
        FailureKind::Billing,
        FailureKind::RateLimit { retry_after: None },
        FailureKind::RateLimit {
            retry_after: Some(Duration::from_secs(30)),
        },
        FailureKind::Overloaded,
        FailureKind::Timeout,
        FailureKind::Network {
            cause: NetworkCause::Refused,
        },
        FailureKind::Network {
            cause: NetworkCause::Reset,
        },
        FailureKind::Network {
            cause: NetworkCause::Dns,
        },
        FailureKind::Network {
            cause: NetworkCause::Tls,
        },
        FailureKind::Network {
            cause: NetworkCause::Other,
        },
        FailureKind::ServerError,
        FailureKind::Format,
        FailureKind::ModelNotFound,
        FailureKind::ContextOverflow {
            requested: Some(9000),
            limit: Some(8192),
        },
        FailureKind::ContextOverflow {
            requested: None,
            limit: None,
        },
        FailureKind::EmptyResponse,
        FailureKind::Truncated,
        FailureKind::Aborted,
        FailureKind::Unknown,
    ];
    for kind in &kinds {
        match kind {
            FailureKind::Auth
            | FailureKind::AuthPermanent
            | FailureKind::Billing
            | FailureKind::RateLimit { .. }
            | FailureKind::Overloaded
            | FailureKind::Timeout
            | FailureKind::Network { .. }
            | FailureKind::ServerError
            | FailureKind::Format
            | FailureKind::ModelNotFound
            | FailureKind::ContextOverflow { .. }
            | FailureKind::EmptyResponse
            | FailureKind::Truncated
            | FailureKind::Aborted
            | FailureKind::Unknown => {}
        }
    }
    kinds
}

/// The policy, written out independently of the implementation.
fn expected(kind: &FailureKind) -> Decision {
    use Penalty::{Cooldown, Disable, None as NoPenalty};
    use Scope::{Key, Provider};
    use Then::{HandBack, NextCandidate, Stop};
    let (retry_same, rotate_key, then, penalty, scope) = match kind {
        FailureKind::Auth => (0, true, NextCandidate, Cooldown, Key),
        FailureKind::AuthPermanent => (0, true, NextCandidate, Disable, Key),
        FailureKind::Billing => (0, true, NextCandidate, Disable, Key),
        FailureKind::RateLimit { .. } => (0, true, NextCandidate, Cooldown, Key),
        FailureKind::Overloaded => (0, false, NextCandidate, Cooldown, Provider),
        FailureKind::Timeout => (0, false, NextCandidate, Cooldown, Provider),
        FailureKind::Network {
            cause: NetworkCause::Reset,
        } => (1, false, NextCandidate, Cooldown, Provider),
        FailureKind::Network { .. } => (0, false, NextCandidate, Cooldown, Provider),
        FailureKind::ServerError => (0, false, NextCandidate, Cooldown, Provider),
        FailureKind::Format => (0, false, NextCandidate, NoPenalty, Provider),
        FailureKind::ModelNotFound => (0, false, NextCandidate, NoPenalty, Provider),
        FailureKind::ContextOverflow { .. } => (0, false, HandBack, NoPenalty, Provider),
        FailureKind::EmptyResponse => (0, false, NextCandidate, Cooldown, Provider),
        FailureKind::Truncated => (0, false, NextCandidate, Cooldown, Provider),
        FailureKind::Aborted => (0, false, Stop, NoPenalty, Provider),
        FailureKind::Unknown => (0, false, NextCandidate, Cooldown, Provider),
    };
    Decision {
        retry_same,
        rotate_key,
        then,
        penalty,
        scope,
    }
}

#[test]
fn every_failure_kind_has_the_expected_decision() {
    for kind in all_kinds() {
        assert_eq!(decide(&kind), expected(&kind), "decision for {kind:?}");
    }
}

#[test]
fn every_table_row_is_reachable_and_named_once() {
    let names: Vec<&str> = DECISION_TABLE.iter().map(|(name, _)| *name).collect();
    let unique: HashSet<&str> = names.iter().copied().collect();
    assert_eq!(unique.len(), names.len(), "duplicate rows in {names:?}");
    let reached: HashSet<&str> = all_kinds().iter().map(row_name).collect();
    assert_eq!(reached, unique);
}

#[test]
fn overflow_never_falls_back_and_abort_stops() {
    let overflow = FailureKind::ContextOverflow {
        requested: None,
        limit: None,
    };
    assert_eq!(decide(&overflow).then, Then::HandBack);
    assert_eq!(decide(&FailureKind::Aborted).then, Then::Stop);
    // only a reset connection earns a same-candidate retry
    let retried: Vec<&str> = all_kinds()
        .iter()
        .filter(|kind| decide(kind).retry_same > 0)
        .map(row_name)
        .collect();
    assert_eq!(retried, ["network_reset"]);
}
