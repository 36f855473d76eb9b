//! clawgate-agent: sessions and transcripts, the context budget, compaction, pruning, the tool
//! loop, tool policy, untrusted-content wrapping and the delivery filter.
//!
//! Must not know about: the HTTP server, or how a model call is routed: it talks to models
//! through the [`ModelClient`] trait only (the router adapter implements it), and learns about
//! models through [`ModelDirectory`] (the config registry implements it).
//!
//! Entry point: [`AgentRuntime`] (`run_turn`, slash commands, `list_sessions` /
//! `show_session` / `export_session`).

pub mod budget;
pub mod clock;
pub mod commands;
pub mod compaction;
pub mod compaction_guard;
pub(crate) mod context;
mod deadline;
pub mod delivery;
pub mod error;
pub mod image_input;
pub mod memory_flush;
pub mod model_client;
pub mod notices;
pub mod policy;
pub mod runtime;
pub mod scaffold;
pub mod session;
pub mod sessions_view;
pub mod settings;
pub mod tool_text_recovery;
pub mod tools;
mod turn;
mod turn_call;
mod turn_rounds;
pub mod untrusted;

pub use budget::{BudgetSettings, ContextBudget, ModelLimits, TokenEstimator};
pub use clock::{Clock, ManualClock, SystemClock};
pub use commands::SlashCommand;
pub use compaction::{
    CompactionMode, CompactionSettings, CompactionTrigger, IdentifierPolicy, QualityGuard,
    SAFEGUARD_SUMMARY_PROMPT, SUMMARY_PROMPT,
};
pub use delivery::{Delivered, DeliveryFilter, FilteredAnswer};
pub use error::AgentError;
pub use image_input::{IMAGE_DESCRIPTION_PROMPT, ImageModelSettings};
pub use memory_flush::{MEMORY_FLUSH_PROMPT, MEMORY_FLUSH_SYSTEM_PROMPT, MemoryFlushSettings};
pub use model_client::{
    EventStream, FailedAttempt, FallbackInfo, ModelCallError, ModelClient, ModelReply,
};
pub use policy::{ToolLayerConfig, ToolPolicy, ToolPolicyConfig, ToolProfile};
pub use runtime::{
    AgentEvent, AgentRuntime, EventSink, ToolCallRecord, TurnInput, TurnOptions, TurnOutcome,
};
pub use session::{
    MAX_SESSION_KEY_BYTES, SessionBackend, SessionEntry, SessionPolicy, SessionStore,
    check_session_key, main_session_key,
};
pub use sessions_view::{ExportFormat, SessionSummary, SessionView};
pub use settings::{AgentSettings, DEFAULT_RUN_TIMEOUT, ModelDirectory, StaticModelDirectory};
pub use tools::exec_approval::{
    ApprovalDecision, ApprovalRequest, ExecApprovalSettings, ExecApprover, ExecAsk, ExecSecurity,
};
pub use tools::fetch_guard::{SsrfPolicy, WebFetchSettings};
pub use tools::sandbox::{SandboxMode, SandboxSettings};
pub use tools::{Tool, ToolContext, ToolOutput, ToolRegistry, ToolSettings, Workspace};
