//! The generation handler shared by all four dialects: read the request, resolve the plan,
//! record the request, then answer: an error, an overflow in a server's own manner, a
//! JSON body, or a paced stream cut the way the fault asks.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Extension;
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use serde_json::Value;

use crate::answer::Answer;
use crate::app::{Shared, error_response, header_script, pre_answer};
use crate::dialect::{self, Dialect};
use crate::errors::{
    CONTEXT_SIZE_EXCEEDED, bad_request, default_overflow_server, overflow, quirk_refusal,
    status_fault,
};
use crate::held_faults;
use crate::inbound::InboundRequest;
use crate::paced::{StreamCounters, StreamEnd, paced_body};
use crate::script::{Fault, OverflowServer, Plan};
use crate::server::ConnectionHandle;

/// Context limit stated by overflow errors when neither script nor model list says.
const FALLBACK_CONTEXT: u64 = 4096;

pub(crate) async fn generate(
    dialect: Dialect,
    State(shared): State<Arc<Shared>>,
    Extension(conn): Extension<ConnectionHandle>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let json: Value = if body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => {
                shared.record(&method, &uri, &headers, Value::Null);
                let msg = format!("mock-upstream: request body is not JSON: {e}");
                return error_response(&bad_request(dialect, &msg));
            }
        }
    };
    let header = match header_script(&headers) {
        Ok(h) => h,
        Err(msg) => {
            shared.record(&method, &uri, &headers, json);
            return error_response(&bad_request(dialect, &msg));
        }
    };
    let request = InboundRequest::read(dialect, &json);
    let mut plan = shared.plan(header, uri.path(), Some(request.model), true);
    let listed = shared.config.find_model(request.model);
    if plan.fault.is_none() && shared.config.strict_models && listed.is_none() {
        plan.fault = Some(Fault::ModelNotFound);
    }
    held_faults::prepare(&mut plan);
    let answer = Answer::build(&plan, &request, shared.next_seq(), unix_now());
    let stream = request.stream;
    let include_usage = request.include_usage;
    let context_limit = plan
        .context_limit
        .or(listed.map(|m| m.context_length))
        .unwrap_or(FALLBACK_CONTEXT);
    let prompt_tokens = request.prompt_tokens();
    let offers_tools = request.first_tool.is_some();
    shared.record(&method, &uri, &headers, json);

    if let Some(response) = pre_answer(&plan, &conn, dialect, &answer.model).await {
        return response;
    }
    if let Some(reply) = quirk_refusal(dialect, &plan.quirks, &answer.model, offers_tools) {
        return error_response(&reply);
    }
    match plan.fault {
        Some(Fault::ContextOverflow) => {
            let requested = plan
                .requested_tokens
                .unwrap_or_else(|| (context_limit + 1000).max(prompt_tokens));
            return overflow_response(dialect, &plan, &answer, stream, context_limit, requested);
        }
        Some(Fault::Empty200Stream) => {
            return with_content_type(
                Response::new(Body::empty()),
                dialect::content_type(dialect, stream),
            );
        }
        _ => {}
    }
    if stream {
        let counters = shared.streams.clone();
        streamed(dialect, &plan, &answer, include_usage, conn, counters)
    } else {
        non_streamed(dialect, &plan, &answer, conn).await
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn with_content_type(mut r: Response, content_type: &'static str) -> Response {
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

fn overflow_response(
    d: Dialect,
    plan: &Plan,
    answer: &Answer,
    stream: bool,
    limit: u64,
    requested: u64,
) -> Response {
    let server = plan
        .overflow_server
        .unwrap_or_else(|| default_overflow_server(d));
    match server {
        // llama-cpp-python: a streamed overflow is a 200 with an empty body.
        OverflowServer::LlamaCppPython if stream => {
            with_content_type(Response::new(Body::empty()), dialect::content_type(d, true))
        }
        // LiteLLM masks a streamed overflow as an empty completion that stopped normally.
        OverflowServer::Litellm if stream && d == Dialect::OpenAiChat => {
            let t = dialect::openai_chat::masked_overflow_stream(answer);
            let ticks: Vec<Bytes> = t.head.into_iter().chain(t.body).chain(t.tail).collect();
            sse_response(
                d,
                paced_body(
                    ticks,
                    plan.ttft,
                    plan.chunk_interval,
                    StreamEnd::Close,
                    None,
                ),
            )
        }
        // llama.cpp's server: a 200 whose first event is the error.
        OverflowServer::LlamaServerContextSize if stream && d == Dialect::OpenAiChat => {
            let mut t = crate::ticks::Ticks::default();
            t.sse(
                None,
                &serde_json::json!({"error": {"code": 500, "message": CONTEXT_SIZE_EXCEEDED,
                                              "type": "server_error"}}),
            );
            let ticks: Vec<Bytes> = t.finish().head.into_iter().collect();
            sse_response(
                d,
                paced_body(
                    ticks,
                    plan.ttft,
                    plan.chunk_interval,
                    StreamEnd::Close,
                    None,
                ),
            )
        }
        _ => error_response(&overflow(server, d, limit, requested)),
    }
}

fn sse_response(d: Dialect, body: Body) -> Response {
    let mut r = with_content_type(Response::new(body), dialect::content_type(d, true));
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

fn streamed(
    d: Dialect,
    plan: &Plan,
    answer: &Answer,
    include_usage: bool,
    conn: ConnectionHandle,
    counters: Arc<StreamCounters>,
) -> Response {
    let mut t = dialect::stream(d, answer, plan, include_usage);
    let mut ticks = Vec::with_capacity(2 + t.body.len() + t.tail.len());
    ticks.extend(t.head.take());
    let end = match plan.fault {
        Some(Fault::TruncatedStream) => {
            ticks.extend(t.body);
            StreamEnd::Close
        }
        Some(Fault::HangAfterFirstChunk) => StreamEnd::Hang,
        Some(Fault::ResetAfterFirstChunk) => StreamEnd::Reset(conn),
        Some(Fault::ErrorInStream) => {
            ticks.push(dialect::error_tick(d, answer, plan));
            StreamEnd::Close
        }
        Some(Fault::MalformedSse) => {
            ticks.push(dialect::malformed_tick(d, answer));
            ticks.extend(t.body);
            ticks.extend(t.tail);
            StreamEnd::Close
        }
        Some(Fault::ToolCallDiffError) => held_faults::cut(d, answer, plan, t, &mut ticks),
        _ => {
            ticks.extend(t.body);
            ticks.extend(t.tail);
            StreamEnd::Close
        }
    };
    let body = paced_body(ticks, plan.ttft, plan.chunk_interval, end, Some(counters));
    sse_response(d, body)
}

/// A JSON answer. Stream faults cut the body in half: the first half is the "first chunk".
async fn non_streamed(
    d: Dialect,
    plan: &Plan,
    answer: &Answer,
    conn: ConnectionHandle,
) -> Response {
    if plan.fault == Some(Fault::ErrorInStream)
        && let Some(reply) = status_fault(d, Fault::Status500, &answer.model, 0)
    {
        return error_response(&reply);
    }
    let generation = plan.ttft + generation_time(plan, answer);
    let bytes = serde_json::to_vec(&dialect::body(d, answer, plan)).unwrap_or_default();
    let half = || Bytes::copy_from_slice(&bytes[..bytes.len() / 2]);
    let end = match plan.fault {
        Some(Fault::MalformedSse) | Some(Fault::TruncatedStream) => StreamEnd::Close,
        Some(Fault::HangAfterFirstChunk) => StreamEnd::Hang,
        Some(Fault::ResetAfterFirstChunk) => StreamEnd::Reset(conn),
        _ => {
            if !generation.is_zero() {
                tokio::time::sleep(generation).await;
            }
            let r = Response::new(Body::from(bytes));
            return with_content_type(r, dialect::content_type(d, false));
        }
    };
    let body = paced_body(vec![half()], generation, Duration::ZERO, end, None);
    let mut r = with_content_type(Response::new(body), dialect::content_type(d, false));
    *r.status_mut() = StatusCode::OK;
    r
}

/// Time a real server would spend producing the pieces after the first.
fn generation_time(plan: &Plan, answer: &Answer) -> Duration {
    let pieces = answer.reasoning.len()
        + answer.text.len()
        + answer
            .tool_call
            .as_ref()
            .map_or(0, |t| t.argument_pieces.len());
    plan.chunk_interval * u32::try_from(pieces.saturating_sub(1)).unwrap_or(u32::MAX)
}
