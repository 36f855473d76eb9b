//! Integration tests of clawgate-router against scriptable in-memory providers, on tokio's
//! paused clock (timeouts elapse without real sleeping) and a manual wall clock; `fault_matrix`
//! runs the real providers against mock-upstream on loopback, in real time, with short timeouts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "all/fake.rs"]
mod fake;

#[path = "all/chain.rs"]
mod chain;
#[path = "all/cooldowns.rs"]
mod cooldowns;
#[path = "all/decision.rs"]
mod decision;
#[path = "all/embeddings.rs"]
mod embeddings;
#[path = "all/failover.rs"]
mod failover;
#[path = "all/fault_matrix.rs"]
mod fault_matrix;
#[path = "all/held.rs"]
mod held;
#[path = "all/keys.rs"]
mod keys;
#[path = "all/persistence.rs"]
mod persistence;
#[path = "all/persistence_writer.rs"]
mod persistence_writer;
#[path = "all/probe.rs"]
mod probe;
#[path = "all/timeouts.rs"]
mod timeouts;
