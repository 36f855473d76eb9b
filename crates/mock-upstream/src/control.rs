//! The HTTP control API under `/__mock/`, for tests that drive the mock as a separate
//! process: queue scripts for the next requests (`POST /__mock/script`, body: one script or
//! a list, `?times=N` repeats each), clear them, read or clear the request log, read the
//! counters (connections, requests, streamed answers completed and abandoned by the client). Control requests are not logged and never take scripts.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::Response;
use bytes::Bytes;
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::{Shared, json_response};
use crate::script::Script;

#[derive(Debug, Deserialize)]
pub(crate) struct Times {
    times: Option<usize>,
}

pub(crate) async fn push_script(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<Times>,
    body: Bytes,
) -> Response {
    let scripts: Result<Vec<Script>, _> = match serde_json::from_slice::<Value>(&body) {
        Ok(v @ Value::Array(_)) => serde_json::from_value(v),
        Ok(v) => serde_json::from_value(v).map(|s| vec![s]),
        Err(e) => Err(e),
    };
    let scripts = match scripts {
        Ok(s) => s,
        Err(e) => {
            return json_response(
                StatusCode::BAD_REQUEST,
                &json!({"error": format!("bad script: {e}")}),
            );
        }
    };
    let times = q.times.unwrap_or(1);
    for script in &scripts {
        for _ in 0..times {
            shared.push_script(script.clone());
        }
    }
    json_response(StatusCode::OK, &json!({"queued": shared.queued_scripts()}))
}

pub(crate) async fn clear_scripts(State(shared): State<Arc<Shared>>) -> Response {
    shared.clear_scripts();
    json_response(StatusCode::OK, &json!({"queued": 0}))
}

pub(crate) async fn requests(State(shared): State<Arc<Shared>>) -> Response {
    let log = shared.log.snapshot();
    json_response(
        StatusCode::OK,
        &serde_json::to_value(log).unwrap_or(Value::Null),
    )
}

pub(crate) async fn clear_requests(State(shared): State<Arc<Shared>>) -> Response {
    shared.log.clear();
    json_response(StatusCode::OK, &json!({"cleared": true}))
}

pub(crate) async fn stats(State(shared): State<Arc<Shared>>) -> Response {
    use std::sync::atomic::Ordering;
    json_response(
        StatusCode::OK,
        &json!({
            "connections": shared.connections.accepted.load(Ordering::Relaxed),
            "open_connections": shared.connections.open.load(Ordering::Relaxed),
            "requests": shared.requests.load(Ordering::Relaxed),
            "queued_scripts": shared.queued_scripts(),
            "streams_completed": shared.streams.completed.load(Ordering::Relaxed),
            "streams_abandoned": shared.streams.abandoned.load(Ordering::Relaxed),
        }),
    )
}
