//! The run timeout of one turn (`agents.defaults.timeoutSeconds`): one timer started with the
//! turn, raced against every wait that can take long (a model call and its stream, a tool, a
//! summary request). Only waits are raced, never transcript writes, so an expired turn stops
//! between two whole entries and the turn code writes what keeps the transcript well-formed
//! (an error result for each tool call left without one) before it reports the timeout.

use std::future::Future;
use std::time::Duration;

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};

use crate::clock::Clock;

/// The wait was cut by the run timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimedOut;

#[derive(Clone)]
pub(crate) struct Deadline {
    expiry: Option<Shared<BoxFuture<'static, ()>>>,
    seconds: u64,
}

impl Deadline {
    /// No limit (manual `/compact`, embedders that set none).
    pub fn none() -> Self {
        Deadline {
            expiry: None,
            seconds: 0,
        }
    }

    /// A timer of `limit` on `clock`, started now; `None` = no limit.
    pub fn start(clock: &dyn Clock, limit: Option<Duration>) -> Self {
        match limit {
            Some(limit) => Deadline {
                expiry: Some(clock.sleep(limit).shared()),
                seconds: limit.as_secs(),
            },
            None => Deadline::none(),
        }
    }

    /// The configured limit in seconds (for messages).
    pub fn seconds(&self) -> u64 {
        self.seconds
    }

    /// Runs `work` unless the timer fires first (`work` is then dropped).
    pub async fn run<F: Future>(&self, work: F) -> Result<F::Output, TimedOut> {
        let Some(expiry) = &self.expiry else {
            return Ok(work.await);
        };
        tokio::select! {
            biased;
            out = work => Ok(out),
            () = expiry.clone() => Err(TimedOut),
        }
    }
}
