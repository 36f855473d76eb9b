//! clawgate-providers: talking to one upstream. The `Provider` trait, one adapter per `api`
//! dialect built on the pure codecs in `clawgate-wire`, the shared HTTP client, compat flags,
//! model discovery, and the one place upstream failures are classified into a [`FailureKind`].
//!
//! Must not know about: fallbacks, cooldowns, sessions. A provider makes one attempt and says
//! exactly how it went.
//!
//! (Adapters are being wired in; this commit holds the pure parts.)

pub mod answer_guard;
pub mod classify;
pub mod classify_table;
pub mod compat;
pub mod discovery;
pub mod endpoint;
pub mod failure;
pub mod provider;
pub mod secret;
pub mod spec;

pub use failure::{FailureKind, NetworkCause, ProviderError};
pub use provider::{CallContext, DiscoveredModel, EventStream, Provider};
pub use spec::{ApiKind, CompatFlags, MaxTokensField, ModelInfo, ProviderSpec};
