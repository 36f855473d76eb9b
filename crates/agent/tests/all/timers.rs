//! Time under the test's hand: a clock whose timers fire when the test advances it (wall time
//! for timestamps), and a model client that hangs on chosen requests and says when it started
//! hanging, so a test fires the run timeout exactly while a call or a tool is waiting.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use clawgate_agent::clock::WallClock;
use clawgate_agent::{Clock, ModelCallError, ModelClient, ModelReply, SystemClock};
use clawgate_wire::Request;
use futures::future::BoxFuture;
use tokio::sync::{mpsc, watch};

use crate::fake::FakeModel;

/// Timers complete once the test has advanced the clock past them.
pub struct TimerClock {
    elapsed: watch::Sender<Duration>,
}

impl TimerClock {
    pub fn new() -> Arc<Self> {
        Arc::new(TimerClock {
            elapsed: watch::Sender::new(Duration::ZERO),
        })
    }

    /// Moves time forward by `by`, firing every timer it passes.
    pub fn advance(&self, by: Duration) {
        self.elapsed.send_modify(|e| *e += by);
    }
}

impl WallClock for TimerClock {
    fn now_ms(&self) -> u64 {
        SystemClock.now_ms()
    }
}

impl Clock for TimerClock {
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        let mut rx = self.elapsed.subscribe();
        let until = *rx.borrow() + duration;
        Box::pin(async move {
            let _ = rx.wait_for(|e| *e >= until).await;
        })
    }
}

type Pred = dyn Fn(&Request) -> bool + Send + Sync;

/// Hangs forever on requests `hang` picks (after reporting them); the fake answers the rest.
pub struct Hanging {
    pub inner: Arc<FakeModel>,
    hang: Box<Pred>,
    started: mpsc::UnboundedSender<Request>,
}

impl Hanging {
    pub fn new(
        inner: Arc<FakeModel>,
        hang: impl Fn(&Request) -> bool + Send + Sync + 'static,
    ) -> (Arc<Self>, mpsc::UnboundedReceiver<Request>) {
        let (started, rx) = mpsc::unbounded_channel();
        (
            Arc::new(Hanging {
                inner,
                hang: Box::new(hang),
                started,
            }),
            rx,
        )
    }
}

#[async_trait]
impl ModelClient for Hanging {
    async fn call(&self, request: Request) -> Result<ModelReply, ModelCallError> {
        if (self.hang)(&request) {
            let _ = self.started.send(request.clone());
            std::future::pending::<()>().await;
        }
        self.inner.call(request).await
    }

    async fn call_with_fallbacks(
        &self,
        request: Request,
        fallbacks: &[String],
    ) -> Result<ModelReply, ModelCallError> {
        self.inner.call_with_fallbacks(request, fallbacks).await
    }
}
