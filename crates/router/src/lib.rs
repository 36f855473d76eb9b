//! clawgate-router: one logical model call across the candidate chain: attempts, timeouts,
//! the commit rule (reasoning and unfinished tool calls are held back until the answer
//! starts), the cooldown store, probes and fallback notices.
//!
//! Must not know about: sessions, tools, config files (it takes resolved candidate refs and
//! provider objects), HTTP (it only sees the `Provider` trait).
//!
//! Entry points: build a [`ProviderSet`], open a [`CooldownStore`] on the state dir, make a
//! [`Router`], build a [`CandidateChain`] per call and `router.call(request, &chain, &cancel)`.
//! Embeddings go the same way with `router.embed(request, &chain, &cancel)`.
//! The user-facing rules are in `docs/failover.md`.

pub mod attempt;
pub mod chain;
mod chain_walk;
pub mod clock;
pub mod commit;
pub mod config;
pub mod cooldown;
mod cooldown_file;
pub mod cooldown_sink;
mod cooldown_writer;
pub mod decision;
mod embedding_route;
mod penalty;
pub mod probe;
mod routed_stream;
mod router;
pub mod targets;

pub use attempt::{AttemptOutcome, AttemptRecord, RouteInfo, RouterError};
pub use chain::{CandidateChain, CandidateRef};
pub use clock::{Clock, ManualClock, SystemClock};
pub use commit::HoldSignal;
pub use config::{HoldLimits, ProbePolicy, ReasoningStream, RouterConfig, Timeouts};
pub use cooldown::{
    Availability, Blocked, CooldownEntry, CooldownKey, CooldownSchedule, CooldownStore,
    cooldown_file_path,
};
pub use cooldown_file::FileProblem;
pub use cooldown_sink::CooldownSink;
pub use decision::{DECISION_TABLE, Decision, Penalty, Scope, Then, decide};
pub use probe::{
    DEFAULT_PROBE_TIMEOUT, ProbeError, ProbeResult, ProviderStatus, probe, probe_all,
    provider_status,
};
pub use routed_stream::RoutedStream;
pub use router::{CallOptions, Router};
pub use targets::{ProviderSet, ProviderTarget};
pub use tokio_util::sync::CancellationToken;
