//! A response body that sends prepared ticks on a schedule (TTFT before the first, a fixed
//! interval between the others) and then ends the way the fault asks: a clean end, a stall
//! that never finishes, or a reset of the connection. Zero delays skip the timer entirely,
//! so the default (0 ms) mock adds no sleeps to a benchmark. Streamed answers are counted as
//! they end: sent to the end, or abandoned by the client (its connection closed mid-stream),
//! which is how a test proves that cancelling a request downstream reached this upstream.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use tokio::time::Instant;

use crate::server::ConnectionHandle;

/// How a paced body ends after its last tick.
#[derive(Debug)]
pub enum StreamEnd {
    /// Finish the body normally.
    Close,
    /// Never finish (the client must time out).
    Hang,
    /// Reset the TCP connection.
    Reset(ConnectionHandle),
}

/// How streamed answers ended, for `GET /__mock/stats`.
#[derive(Debug, Default)]
pub struct StreamCounters {
    /// Bodies sent to their end (or cut by the mock's own fault).
    pub completed: AtomicU64,
    /// Bodies dropped before their end: the client went away mid-stream.
    pub abandoned: AtomicU64,
}

/// Counts its body once, when the body is dropped.
struct EndGuard {
    counters: Option<Arc<StreamCounters>>,
    ended: bool,
}

impl EndGuard {
    /// The body reached its end (or the mock cut it on purpose).
    fn ended(&mut self) {
        self.ended = true;
    }
}

impl Drop for EndGuard {
    fn drop(&mut self) {
        if let Some(counters) = &self.counters {
            let counter = if self.ended {
                &counters.completed
            } else {
                &counters.abandoned
            };
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }
}

struct State {
    guard: EndGuard,
    ticks: std::vec::IntoIter<Bytes>,
    /// When the next tick is due; `None` until the first tick (due `ttft` after the start).
    due: Option<Instant>,
    ttft: Duration,
    interval: Duration,
    end: Option<StreamEnd>,
}

/// The body; `counters` (when given) learn how it ended.
pub fn paced_body(
    ticks: Vec<Bytes>,
    ttft: Duration,
    interval: Duration,
    end: StreamEnd,
    counters: Option<Arc<StreamCounters>>,
) -> Body {
    let state = State {
        guard: EndGuard {
            counters,
            ended: false,
        },
        ticks: ticks.into_iter(),
        due: None,
        ttft,
        interval,
        end: Some(end),
    };
    let stream = futures::stream::unfold(state, |mut st| async move {
        match st.ticks.next() {
            Some(tick) => {
                // Deadlines are absolute (start + ttft + n × interval), so a late wake-up under
                // load does not push every later tick back.
                let wait = match st.due {
                    None => st.ttft,
                    Some(_) => st.interval,
                };
                if !wait.is_zero() {
                    let due = st.due.unwrap_or_else(Instant::now) + wait;
                    tokio::time::sleep_until(due).await;
                    st.due = Some(due);
                } else if st.due.is_none() {
                    st.due = Some(Instant::now());
                }
                Some((Ok::<Bytes, Infallible>(tick), st))
            }
            None => match st.end.take() {
                Some(StreamEnd::Close) | None => {
                    st.guard.ended();
                    None
                }
                Some(StreamEnd::Hang) => {
                    std::future::pending::<()>().await;
                    None
                }
                Some(StreamEnd::Reset(conn)) => {
                    st.guard.ended();
                    // Give hyper a moment to put the last tick on the wire before the RST.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    conn.reset();
                    std::future::pending::<()>().await;
                    None
                }
            },
        }
    });
    Body::from_stream(stream)
}
