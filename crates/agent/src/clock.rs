//! Injected time, so transcripts and session rows get deterministic timestamps in tests and
//! the run and compaction timeouts are tested by a clock that says when time is up, never by
//! sleeping.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;

pub trait Clock: Send + Sync {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;

    /// Completes once `duration` has passed (the run timeout of a turn, the timeout of one
    /// summary request). Tests give a clock whose timers they fire by hand.
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(duration))
    }
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }
}

/// RFC 3339 UTC with milliseconds, the timestamp shape OpenClaw writes into transcripts.
pub fn rfc3339(ms: u64) -> String {
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}
