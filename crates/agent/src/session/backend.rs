//! The narrow interface between the agent and where sessions are kept: the index (get,
//! upsert, list, remove), the transcripts (append, read) and the per-session turn lock (held
//! by an open [`TranscriptHandle`]). The files under the state dir
//! ([`FileSessions`](crate::session::FileSessions)) are the one backend today; a shared one
//! (PostgreSQL, issue 14) implements the same traits.
//!
//! Durability contract, the same for every backend: `upsert` returns once the row survives a
//! crash (a new session, a new session id, a user's `/model` choice); `touch` only queues
//! (a crash may lose the last `updatedAt` and token-count bumps, never a session); an append
//! to a transcript is on disk before it returns, and `sync` makes it survive power loss when
//! the backend is durable. No method blocks an async worker thread.

use async_trait::async_trait;

use crate::error::AgentError;
use crate::session::{LoadedTranscript, SessionEntry, SessionHeader, TranscriptEntry};

#[async_trait]
pub trait SessionBackend: Send + Sync + std::fmt::Debug {
    /// The row of `key`, if any.
    async fn get(&self, key: &str) -> Result<Option<SessionEntry>, AgentError>;

    /// Sets the row of `key`; durable when it returns.
    async fn upsert(&self, key: &str, entry: SessionEntry) -> Result<(), AgentError>;

    /// Sets the row of `key` unless there is one, and returns the row in effect; durable when
    /// it returns. A shared backend makes this atomic, so two processes that start one
    /// session at the same moment agree on its session id.
    async fn create(&self, key: &str, entry: SessionEntry) -> Result<SessionEntry, AgentError> {
        if let Some(existing) = self.get(key).await? {
            return Ok(existing);
        }
        self.upsert(key, entry.clone()).await?;
        Ok(entry)
    }

    /// Sets the row of `key` in the index at once and persists it later, coalesced.
    fn touch(&self, key: &str, entry: SessionEntry);

    /// Every row, in key order.
    async fn list(&self) -> Result<Vec<(String, SessionEntry)>, AgentError>;

    /// Removes the row of `key` (its transcript stays); durable when it returns.
    async fn remove(&self, key: &str) -> Result<Option<SessionEntry>, AgentError>;

    /// Locks the session for one writer and opens its transcript, creating it with `header`
    /// when new; returns the handle (holding the lock) and what the transcript holds.
    async fn open_transcript(
        &self,
        key: &str,
        entry: &SessionEntry,
        header: SessionHeader,
    ) -> Result<(Box<dyn TranscriptHandle>, LoadedTranscript), AgentError>;

    /// A chance to run index maintenance (prune and cap) at `now_ms`; the backend decides
    /// whether one is due and never makes the caller wait for it.
    fn maintain(&self, now_ms: u64);

    /// Waits until every queued change is persisted.
    async fn flush(&self) -> Result<(), AgentError>;
}

#[async_trait]
pub trait TranscriptHandle: Send + Sync + std::fmt::Debug {
    /// Appends one entry; it is on disk, whole, when this returns.
    async fn append(&mut self, entry: &TranscriptEntry) -> Result<(), AgentError>;

    /// Makes every append so far survive power loss (when the backend is durable).
    async fn sync(&mut self) -> Result<(), AgentError>;

    /// The transcript as messages name it (relative to the state dir).
    fn name(&self) -> String;
}
