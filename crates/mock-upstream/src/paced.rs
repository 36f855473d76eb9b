//! A response body that sends prepared ticks on a schedule (TTFT before the first, a fixed
//! interval between the others) and then ends the way the fault asks: a clean end, a stall
//! that never finishes, or a reset of the connection. Zero delays skip the timer entirely,
//! so the default (0 ms) mock adds no sleeps to a benchmark.

use std::convert::Infallible;
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

struct State {
    ticks: std::vec::IntoIter<Bytes>,
    /// When the next tick is due; `None` until the first tick (due `ttft` after the start).
    due: Option<Instant>,
    ttft: Duration,
    interval: Duration,
    end: Option<StreamEnd>,
}

/// The body.
pub fn paced_body(ticks: Vec<Bytes>, ttft: Duration, interval: Duration, end: StreamEnd) -> Body {
    let state = State {
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
                Some(StreamEnd::Close) | None => None,
                Some(StreamEnd::Hang) => {
                    std::future::pending::<()>().await;
                    None
                }
                Some(StreamEnd::Reset(conn)) => {
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
