//! clawgate-providers: talking to one upstream. The `Provider` trait, one adapter per `api`
//! dialect built on the pure codecs in `clawgate-wire`, the shared HTTP client, compat flags,
//! model discovery, and the one place upstream failures are classified into a [`FailureKind`].
//!
//! Must not know about: fallbacks, cooldowns, sessions. A provider makes one attempt and says
//! exactly how it went.

pub mod failure;
pub mod provider;

pub use failure::{FailureKind, NetworkCause, ProviderError};
pub use provider::{CallContext, DiscoveredModel, EventStream, Provider};
