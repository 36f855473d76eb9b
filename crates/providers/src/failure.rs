//! The closed set of upstream failure kinds. Every upstream failure is classified once, in
//! this crate, into one of these; the router decides what to do from the kind alone.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use thiserror::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkCause {
    Refused,
    Reset,
    Dns,
    Tls,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FailureKind {
    /// Bad or missing credentials that may work again (expired token, wrong key).
    Auth,
    /// Credentials that will never work (revoked key, deactivated account).
    AuthPermanent,
    /// Out of credits or payment required.
    Billing,
    RateLimit {
        #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_millis")]
        retry_after: Option<Duration>,
    },
    Overloaded,
    /// Connect, first-event, idle or total timeout.
    Timeout,
    Network {
        cause: NetworkCause,
    },
    ServerError,
    /// The upstream rejected the request shape (400 without a more specific reason).
    Format,
    ModelNotFound,
    ContextOverflow {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        requested: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u64>,
    },
    /// A 200 response with nothing in it (no event, or no content at all).
    EmptyResponse,
    /// A stream that ended without a finish reason.
    Truncated,
    /// The caller went away.
    Aborted,
    Unknown,
}

impl FailureKind {
    /// Stable snake_case name, as used in logs, metrics labels and `--json` output.
    pub fn name(&self) -> &'static str {
        match self {
            FailureKind::Auth => "auth",
            FailureKind::AuthPermanent => "auth_permanent",
            FailureKind::Billing => "billing",
            FailureKind::RateLimit { .. } => "rate_limit",
            FailureKind::Overloaded => "overloaded",
            FailureKind::Timeout => "timeout",
            FailureKind::Network { .. } => "network",
            FailureKind::ServerError => "server_error",
            FailureKind::Format => "format",
            FailureKind::ModelNotFound => "model_not_found",
            FailureKind::ContextOverflow { .. } => "context_overflow",
            FailureKind::EmptyResponse => "empty_response",
            FailureKind::Truncated => "truncated",
            FailureKind::Aborted => "aborted",
            FailureKind::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for FailureKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FailureKind::Network { cause } => write!(f, "network ({cause:?})"),
            FailureKind::ContextOverflow {
                requested: Some(r),
                limit: Some(l),
            } => write!(f, "context_overflow ({r} > {l} tokens)"),
            other => f.write_str(other.name()),
        }
    }
}

/// One failed upstream attempt, classified. `message` is safe to show: secrets redacted.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("{message}")]
pub struct ProviderError {
    pub kind: FailureKind,
    pub message: String,
    /// HTTP status, when the failure came with one.
    pub status: Option<u16>,
}

impl ProviderError {
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            status: None,
        }
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }
}

mod opt_millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(d) => s.serialize_u64(d.as_millis() as u64),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_millis))
    }
}
