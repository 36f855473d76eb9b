//! clawgate-state-postgres: the shared state of several gateway replicas on one PostgreSQL
//! database (issue 14): session index rows, append-only transcripts, per-session turn leases
//! ([`PgSessions`]) and cooldowns ([`cooldowns`]: an in-memory hot path, a background writer
//! and a `LISTEN/NOTIFY` listener). Implements the traits the agent and the router own; knows
//! nothing of HTTP or config files.
//!
//! Crates: `tokio-postgres` (the maintained async driver; `LISTEN/NOTIFY` through its
//! connection's message stream), `deadpool-postgres` (its pool) and `refinery` (versioned,
//! checksummed migrations embedded in the binary). `sqlx` was the first choice but its optional
//! SQLite driver pins a `libsqlite3-sys` that conflicts with the workspace's `rusqlite`. No TLS
//! is compiled in: put the database on a private network or a local socket.

pub mod cooldowns;
mod lease;
pub mod migrate_files;
mod migrations;
mod sessions;
mod state;
#[cfg(feature = "test-cluster")]
pub mod test_cluster;
mod transcript;

pub use cooldowns::PgCooldowns;
pub use migrate_files::{MigrationSummary, migrate_from_files};
pub use sessions::{PgSessions, SessionOptions};
pub use state::{PgState, StateError, redact_url};
