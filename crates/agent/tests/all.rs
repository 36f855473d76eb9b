//! Integration tests of clawgate-agent, one binary (see DESIGN.md).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "all/fake.rs"]
mod fake;
#[path = "all/timers.rs"]
mod timers;

#[path = "all/approvals.rs"]
mod approvals;
#[path = "all/compaction_modes.rs"]
mod compaction_modes;
#[path = "all/compaction_settings.rs"]
mod compaction_settings;
#[path = "all/crash.rs"]
mod crash;
#[path = "all/delivery.rs"]
mod delivery;
#[path = "all/image_model.rs"]
mod image_model;
#[path = "all/injection.rs"]
mod injection;
#[path = "all/long_conversation.rs"]
mod long_conversation;
#[path = "all/memory_flush.rs"]
mod memory_flush;
#[path = "all/policy.rs"]
mod policy;
#[path = "all/recovery.rs"]
mod recovery;
#[path = "all/run_timeout.rs"]
mod run_timeout;
#[path = "all/sandbox.rs"]
mod sandbox;
#[path = "all/session_index.rs"]
mod session_index;
#[path = "all/sessions.rs"]
mod sessions;
#[path = "all/stop_reason.rs"]
mod stop_reason;
#[path = "all/tools.rs"]
mod tools;
#[path = "all/turns.rs"]
mod turns;
#[path = "all/untrusted.rs"]
mod untrusted;
#[path = "all/web_fetch.rs"]
mod web_fetch;
