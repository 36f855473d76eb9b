//! The narrow seam between the agent and whatever runs one logical model call: the router (with
//! its candidate chain and failover) in production, scripted fakes in tests. The agent needs only
//! the canonical event stream, which model answered, whether that was a fallback, and three kinds
//! of failure it treats differently (overflow → compact and retry, abort, anything else).

use async_trait::async_trait;
use clawgate_wire::{Event, Request};
use futures::stream::BoxStream;
use thiserror::Error;

/// Canonical events of one committed answer; an `Err` item is a failure after commit.
pub type EventStream = BoxStream<'static, Result<Event, ModelCallError>>;

/// One committed answer stream and where it came from.
pub struct ModelReply {
    /// The model ref that answered (`provider/model`).
    pub model_ref: String,
    /// Set when a fallback answered instead of the requested model.
    pub fallback: Option<FallbackInfo>,
    pub events: EventStream,
}

impl ModelReply {
    /// A reply from a fixed list of events (scripted clients, tests, non-streaming adapters).
    pub fn from_events(model_ref: impl Into<String>, events: Vec<Event>) -> Self {
        ModelReply {
            model_ref: model_ref.into(),
            fallback: None,
            events: Box::pin(futures::stream::iter(events.into_iter().map(Ok))),
        }
    }
}

impl std::fmt::Debug for ModelReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelReply")
            .field("model_ref", &self.model_ref)
            .field("fallback", &self.fallback)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FallbackInfo {
    /// The model ref that was asked for.
    pub primary: String,
    /// Why it did not answer (short, e.g. `network refused`, `rate_limit`).
    pub reason: String,
    /// Every candidate tried or skipped before the one that answered, in order: the attempt
    /// record as the implementation reports it (surfaces show it to say what failed, and how).
    pub failed: Vec<FailedAttempt>,
}

/// One candidate that did not answer a call that a fallback then answered.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FailedAttempt {
    /// `provider/model`.
    pub model_ref: String,
    /// Short kind: `network`, `timeout`, `rate_limit`, `cooldown:<kind>`, ...
    pub reason: String,
    /// What happened, for people: `connection refused (network)`, `cooling down for 42s (rate_limit)`.
    pub detail: String,
    /// Time spent on it (zero when it was skipped).
    pub latency_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ModelCallError {
    /// The prompt did not fit the model's window. The agent compacts and retries.
    /// `requested`: the prompt's size in tokens as the server counted it (without the
    /// completion budget) when the error said so; it calibrates the agent's estimate.
    /// `limit`: the window the server reported.
    #[error("context overflow (requested {requested:?} tokens, limit {limit:?})")]
    ContextOverflow {
        requested: Option<u64>,
        limit: Option<u64>,
    },
    #[error("aborted")]
    Aborted,
    #[error("{0}")]
    Failed(String),
}

#[async_trait]
pub trait ModelClient: Send + Sync {
    /// Run one logical model call. `request.model` holds the clawgate model ref the session
    /// selected (`provider/model`, aliases already resolved by the agent's `ModelDirectory`);
    /// the implementation resolves it to a candidate chain and fails over before it commits.
    async fn call(&self, request: Request) -> Result<ModelReply, ModelCallError>;

    /// Like [`call`](Self::call), with `fallbacks` (model refs or aliases) tried after
    /// `request.model` in place of the configured fallbacks: the image model's own chain.
    async fn call_with_fallbacks(
        &self,
        request: Request,
        fallbacks: &[String],
    ) -> Result<ModelReply, ModelCallError>;
}
