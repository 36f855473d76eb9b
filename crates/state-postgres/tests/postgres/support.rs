//! A cluster with one database per test, and small builders for session rows and entries.

use std::sync::Arc;
use std::time::Duration;

use clawgate_agent::session::{EntryBody, SessionEntry, SessionHeader, TranscriptEntry};
use clawgate_state_postgres::{PgSessions, PgState, SessionOptions};

pub use clawgate_state_postgres::test_cluster::TestDatabase as Db;

pub fn db() -> Db {
    Db::start().unwrap()
}

pub fn state(db: &Db) -> Arc<PgState> {
    PgState::new(&db.url).unwrap()
}

pub fn sessions(db: &Db, lease: Duration, lock_wait: Duration) -> PgSessions {
    PgSessions::new(
        state(db),
        "main",
        SessionOptions {
            lease,
            lock_wait,
            ..SessionOptions::default()
        },
    )
}

pub fn row(id: &str, updated_at: u64) -> SessionEntry {
    SessionEntry {
        session_id: id.to_string(),
        updated_at,
        ..SessionEntry::default()
    }
}

pub fn header(id: &str, key: &str) -> SessionHeader {
    SessionHeader {
        kind: "session".into(),
        id: id.into(),
        cwd: ".".into(),
        timestamp: "2026-01-01T00:00:00Z".into(),
        parent_session: None,
        session_key: Some(key.into()),
    }
}

pub fn entry(n: u32, parent: Option<&str>) -> TranscriptEntry {
    TranscriptEntry {
        id: format!("e{n}"),
        parent_id: parent.map(str::to_string),
        timestamp: "2026-01-01T00:00:00Z".into(),
        body: EntryBody::Other(serde_json::json!({ "type": "custom", "n": n })),
    }
}

/// Polls `check` every 50 ms for up to 20 s (a bound for a failure message, not a timing).
pub async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..400 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never happened: {what}");
}
