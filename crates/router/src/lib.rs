//! clawgate-router: one logical model call across the candidate chain: attempts, timeouts,
//! first-event commit, the cooldown store, probes and fallback notices.
//!
//! Must not know about: sessions, tools, config files (it takes resolved candidate refs and
//! provider objects), HTTP (it only sees the `Provider` trait).
//!
//! Entry points: build a [`ProviderSet`], open a [`CooldownStore`] on the state dir, make a
//! [`Router`], build a [`CandidateChain`] per call and `router.call(request, &chain, &cancel)`.
//! The user-facing rules are in `docs/failover.md`.

pub mod attempt;
pub mod chain;
pub mod clock;
pub mod config;
pub mod cooldown;
mod cooldown_file;
pub mod cooldown_sink;
pub mod decision;
mod penalty;
pub mod probe;
mod routed_stream;
mod router;
pub mod targets;

pub use attempt::{AttemptOutcome, AttemptRecord, RouteInfo, RouterError};
pub use chain::{CandidateChain, CandidateRef};
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{ProbePolicy, RouterConfig, Timeouts};
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
pub use router::Router;
pub use targets::{ProviderSet, ProviderTarget};
pub use tokio_util::sync::CancellationToken;
