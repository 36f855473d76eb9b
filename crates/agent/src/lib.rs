//! clawgate-agent: sessions and transcripts, the context budget, compaction, pruning, the tool
//! loop, tool policy, untrusted-content wrapping and the delivery filter.
//!
//! Must not know about: the HTTP server, or how a model call is routed: it talks to models
//! through the [`ModelClient`] trait only (the router adapter implements it).

pub mod budget;
pub mod clock;
pub(crate) mod context;
pub mod error;
pub mod model_client;
pub mod session;

pub use budget::{BudgetSettings, ContextBudget, ModelInfo, TokenEstimator};
pub use clock::{Clock, SystemClock};
pub use error::AgentError;
pub use model_client::{EventStream, FallbackInfo, ModelCallError, ModelClient, ModelReply};
