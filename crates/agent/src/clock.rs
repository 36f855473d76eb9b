//! Injected time, so transcripts and session rows get deterministic timestamps in tests and
//! the run and compaction timeouts are tested by a clock that says when time is up, never by
//! sleeping. The wall clock is the workspace's one (`clawgate_wire::clock`); this module adds
//! timers and the transcript timestamp format.

use std::time::{Duration, UNIX_EPOCH};

use futures::future::BoxFuture;

pub use clawgate_wire::clock::{Clock as WallClock, ManualClock, SystemClock};

/// The agent's clock: the workspace's one wall clock (`clawgate_wire::clock::Clock`, here
/// [`WallClock`]) plus timers, which the wire crate cannot offer (it has no runtime).
pub trait Clock: WallClock {
    /// Completes once `duration` has passed (the run timeout of a turn, the timeout of one
    /// summary request). Tests give a clock whose timers they fire by hand.
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(duration))
    }
}

impl Clock for SystemClock {}

/// Time moves only when told; timers are tokio's (tests pause tokio's clock).
impl Clock for ManualClock {}

/// RFC 3339 UTC with milliseconds, the timestamp shape OpenClaw writes into transcripts.
pub fn rfc3339(ms: u64) -> String {
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}
