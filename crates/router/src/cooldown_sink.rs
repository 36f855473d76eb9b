//! The hook a shared store (PostgreSQL, issue 14) uses to hear of cooldown changes made here.
//! The store's hot path stays in memory: a sink only queues what changed (its own writer task
//! persists it), so recording a failure never waits for a database, and skipping a cooled-down
//! provider never asks one. Changes made by other processes come back through
//! [`CooldownStore::apply_remote`](crate::CooldownStore::apply_remote).

use crate::cooldown::CooldownEntry;

/// Receives the entries (by file form: `provider` or `provider#keyN`) each change touched.
pub trait CooldownSink: Send + Sync + std::fmt::Debug {
    /// Called on the recording thread right after the change; must not block.
    fn changed(&self, entries: Vec<(String, CooldownEntry)>);
}
