//! Serving an agent target (`clawgate/<agentId>` …): the request's last user message becomes
//! one turn of that agent on a session keyed by `x-clawgate-session-key`, else the `user`
//! field (`http:user:<user>`), else a fresh key per request. Only what the agent's delivery
//! filter lets through is sent: final answer text, no reasoning, no tool traffic. Streaming
//! waits for the first delivered text (or the end of the turn) before answering, so a turn that
//! fails early is an ordinary HTTP error, like a routed call before its commit.
//!
//! A client that asked for clawgate's own stream frames (`x-clawgate-events: on`, the Control
//! UI) also gets the turn's tool calls and results, notices, compactions, the model of each
//! answer with its attempt record, and reasoning when the session's reasoning display is on.
//! A client that goes away mid-stream cancels the turn and the upstream call with it. Such a
//! client can also answer exec approval questions (`control_approvals`); other clients cannot,
//! so `askFallback` decides for them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use clawgate_agent::{
    AgentError, AgentEvent, AgentRuntime, EventSink, ExecApprover, MAX_SESSION_KEY_BYTES,
    TurnInput, TurnOptions, TurnOutcome,
};
use clawgate_config::ModelCost;
use clawgate_wire::{ContentBlock, Event, Request, Response as CanonicalResponse, Role};
use futures::StreamExt;
use serde_json::json;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::auth::{host_changing_tools, token_required};
use crate::control_approvals::UiApprover;
use crate::dialect::{ApiError, Dialect, StreamOptions};
use crate::error_response::{from_agent_error, from_runtime_error, internal_error};
use crate::http_api::authorize_privileged;
use crate::metrics::Outcome;
use crate::request_log::{self, AttemptView, FallbackView, SharedEntry};
use crate::request_record::RequestRecord;
use crate::routed::{MODEL_HEADER, fail};
use crate::server::AppState;
use crate::sse_body::{EventStream, StreamFailure, StreamItem, events_requested, sse_response};
use crate::target::{Target, model_override, parse_target};
use clawgate_runtime::Services;

/// Request header naming the session to continue.
pub const SESSION_HEADER: &str = "x-clawgate-session-key";
/// OpenClaw's spelling of the same header.
const OPENCLAW_SESSION_HEADER: &str = "x-openclaw-session-key";
/// Response header: the agent that ran.
pub const AGENT_HEADER: &str = "x-clawgate-agent";

/// The session of a request, as OpenClaw's HTTP endpoints pick it: the session header, else a
/// stable key derived from the `user` field, else a fresh session per request (stateless;
/// `session.maintenance` bounds how many such rows are kept). A key longer than
/// [`MAX_SESSION_KEY_BYTES`] is a 400, not a silently truncated or replaced key.
fn session_key(headers: &HeaderMap, request: &Request) -> Result<String, ApiError> {
    let mut header = None;
    for name in [SESSION_HEADER, OPENCLAW_SESSION_HEADER] {
        let Some(value) = headers.get(name) else {
            continue;
        };
        // Dropping a key that is not text would start a fresh session silently.
        let Ok(text) = std::str::from_utf8(value.as_bytes()) else {
            return Err(ApiError::bad_request(format!(
                "the {name} header is not UTF-8 text"
            )));
        };
        if !text.trim().is_empty() {
            header = Some(text.trim());
            break;
        }
    }
    let key = match (header, request.user.as_deref().map(str::trim)) {
        (Some(key), _) => key.to_string(),
        (None, Some(user)) if !user.is_empty() => format!("http:user:{user}"),
        (None, _) => format!("http:request:{}", uuid::Uuid::new_v4().simple()),
    };
    if key.len() > MAX_SESSION_KEY_BYTES {
        let source = if header.is_some() {
            format!("the {SESSION_HEADER} header")
        } else {
            "the key derived from the user field".to_string()
        };
        return Err(ApiError::bad_request(format!(
            "session key too long: {source} has {} bytes, at most {MAX_SESSION_KEY_BYTES} are \
             accepted",
            key.len()
        )));
    }
    Ok(key)
}

/// The turn's input: the last message, which must be the user's.
fn turn_input(request: &Request) -> Result<TurnInput, ApiError> {
    let Some(last) = request.messages.last().filter(|m| m.role == Role::User) else {
        return Err(ApiError::bad_request(
            "an agent target takes a conversation ending with a user message",
        ));
    };
    if last
        .content
        .iter()
        .all(|b| matches!(b, ContentBlock::Text { .. }))
    {
        return Ok(TurnInput::Text(last.joined_text()));
    }
    Ok(TurnInput::Blocks(last.content.clone()))
}

/// A failed turn as a stream's error event: the same message and code as the HTTP error
/// would carry (an internal failure's details stay in the log).
fn agent_failure(error: &clawgate_agent::AgentError) -> StreamFailure {
    let api = from_agent_error(error);
    let code = match error {
        clawgate_agent::AgentError::Aborted => "aborted",
        _ => api.code,
    };
    StreamFailure {
        message: api.message,
        code,
    }
}

/// Canonical events of a finished turn after the deltas already sent.
fn closing_events(
    outcome: &TurnOutcome,
    sent_text: bool,
) -> Vec<Result<StreamItem, StreamFailure>> {
    let mut events = Vec::new();
    if !sent_text && let Some(reply) = outcome.reply.as_ref().filter(|r| !r.is_empty()) {
        events.push(Ok(StreamItem::Event(Event::TextDelta {
            text: reply.clone(),
        })));
    }
    events.push(Ok(StreamItem::Event(Event::Usage {
        usage: outcome.usage,
    })));
    events.push(Ok(StreamItem::Event(Event::Finished {
        stop_reason: outcome.stop_reason,
    })));
    events
}

/// The turn's model, when the request names one: `x-openclaw-model`, else a `model` field that
/// is a model ref (when a header, not the field, named the agent).
fn turn_model(headers: &HeaderMap, request: &Request) -> Option<String> {
    if let Some(model) = model_override(headers) {
        return Some(model.to_string());
    }
    match parse_target(&request.model) {
        Target::Model(m) if !m.is_empty() => Some(m.to_string()),
        _ => None,
    }
}

/// Tool output sent in a `tool_result` frame is cut here (the model saw all of it).
const TOOL_OUTPUT_FRAME_CAP: usize = 64 * 1024;

fn capped(text: &str, cap: usize) -> (String, bool) {
    if text.len() <= cap {
        return (text.to_string(), false);
    }
    let mut end = cap;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (text[..end].to_string(), true)
}

/// What one agent event becomes on the wire: answer text always; with clawgate's frames on,
/// reasoning (only produced when the session's reasoning display is on) and the turn's tool
/// calls, results, notices, compactions and model answers. `None`: nothing to send.
fn stream_item(event: AgentEvent, extensions: bool) -> Option<StreamItem> {
    if let AgentEvent::Text(text) = event {
        return (!text.is_empty()).then_some(StreamItem::Event(Event::TextDelta { text }));
    }
    if !extensions {
        return None;
    }
    let value = match event {
        AgentEvent::Text(_) => return None,
        AgentEvent::Reasoning(text) => {
            return (!text.is_empty()).then_some(StreamItem::Event(Event::ReasoningDelta { text }));
        }
        AgentEvent::ToolCall {
            id,
            name,
            arguments,
        } => json!({ "type": "tool_call", "id": id, "name": name, "arguments": arguments }),
        AgentEvent::ToolResult {
            id,
            name,
            is_error,
            output,
        } => {
            let (output, truncated) = capped(&output, TOOL_OUTPUT_FRAME_CAP);
            json!({
                "type": "tool_result", "id": id, "name": name, "isError": is_error,
                "output": output, "truncated": truncated,
            })
        }
        AgentEvent::Notice(text) => json!({ "type": "notice", "text": text }),
        AgentEvent::Compacted {
            trigger,
            tokens_before,
        } => json!({
            "type": "compacted", "trigger": trigger.name(), "tokensBefore": tokens_before,
        }),
        AgentEvent::Answered {
            model_ref,
            fallback,
        } => json!({
            "type": "route",
            "requested": fallback.as_ref().map_or(model_ref.as_str(), |f| f.primary.as_str()),
            "model": model_ref,
            "fallback": fallback.as_ref().map(|f| json!({ "requested": f.primary, "reason": f.reason })),
            "attempts": AttemptView::from_agent_answer(&model_ref, fallback.as_ref()),
        }),
    };
    Some(StreamItem::Extension(value))
}

/// Books one committed model answer of the turn, or a notice, in the request's log entry.
fn note_answer(entry: &SharedEntry, event: &AgentEvent) {
    let (model_ref, fallback) = match event {
        AgentEvent::Answered {
            model_ref,
            fallback,
        } => (model_ref, fallback),
        AgentEvent::Notice(text) => {
            request_log::lock(entry).notices.push(text.clone());
            return;
        }
        _ => return,
    };
    let mut entry = request_log::lock(entry);
    entry.answered = Some(model_ref.clone());
    entry
        .attempts
        .extend(AttemptView::from_agent_answer(model_ref, fallback.as_ref()));
    if let Some(f) = fallback {
        entry.fallback = Some(FallbackView {
            requested: f.primary.clone(),
            reason: f.reason.clone(),
        });
    }
}

/// The turn's options: its events go to `sink` (and into the request's log entry). Reasoning
/// is delivered only to clients that asked for clawgate's frames (then the session's own
/// setting decides); other clients get the final text only.
fn turn_options(
    sink: Option<EventSink>,
    entry: SharedEntry,
    extensions: bool,
    model_override: Option<String>,
    approver: Option<Arc<dyn ExecApprover>>,
) -> TurnOptions {
    let on_event: EventSink = Arc::new(move |event| {
        note_answer(&entry, &event);
        if let Some(sink) = &sink {
            sink(event);
        }
    });
    TurnOptions {
        on_event: Some(on_event),
        reasoning: if extensions { None } else { Some(false) },
        model_override,
        // Only a client reading clawgate's frames can be asked; otherwise `askFallback`
        // decides (see docs/tools.md).
        approver,
    }
}

/// Runs the turn on a task; its delivered items arrive as they happen, then usage and the end.
/// Dropping the stream (the client went away, or pressed stop) cancels the turn: the running
/// model call is dropped, which closes its upstream connection, and the session is released.
/// With clawgate's frames on, exec approval questions are asked on the same stream.
#[allow(clippy::too_many_arguments)]
fn turn_events(
    state: &AppState,
    runtime: Arc<AgentRuntime>,
    key: String,
    input: TurnInput,
    started: Event,
    entry: SharedEntry,
    extensions: bool,
    model_override: Option<String>,
) -> EventStream {
    let (sender, receiver) = mpsc::unbounded_channel::<StreamItem>();
    let approver = extensions.then(|| {
        let settings = runtime.settings();
        Arc::new(UiApprover {
            pending: state.approvals.clone(),
            frames: sender.clone(),
            agent: settings.agent_id.clone(),
            allowlist_file: settings.tools.exec_approvals.allowlist_file.clone(),
            wait: state.limits.approval_timeout,
        }) as Arc<dyn ExecApprover>
    });
    let sink: EventSink = Arc::new(move |event| {
        if let Some(item) = stream_item(event, extensions) {
            let _ = sender.send(item);
        }
    });
    let options = turn_options(Some(sink), entry, extensions, model_override, approver);
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    let turn = tokio::spawn(async move {
        let result = tokio::select! {
            result = runtime.run_turn(&key, input, options) => result,
            _ = stop.cancelled() => Err(AgentError::Aborted),
        };
        runtime.close_session(&key).await;
        result
    });
    let started = futures::stream::iter([Ok(StreamItem::Event(started))]);
    let state = (receiver, Some(turn), false, cancel.drop_guard());
    let deltas = futures::stream::unfold(
        state,
        |(mut receiver, turn, mut sent_text, guard)| async move {
            let mut turn = turn?;
            let result = tokio::select! {
                biased;
                item = receiver.recv() => match item {
                    Some(item) => {
                        sent_text |= matches!(item, StreamItem::Event(Event::TextDelta { .. }));
                        return Some((vec![Ok(item)], (receiver, Some(turn), sent_text, guard)));
                    }
                    // The sink was dropped: only the turn's result is left.
                    None => (&mut turn).await,
                },
                result = &mut turn => result,
            };
            // Items sent just before the turn ended are still queued.
            let mut items = Vec::new();
            while let Ok(item) = receiver.try_recv() {
                sent_text |= matches!(item, StreamItem::Event(Event::TextDelta { .. }));
                items.push(Ok(item));
            }
            match result {
                Ok(Ok(outcome)) => items.extend(closing_events(&outcome, sent_text)),
                Ok(Err(error)) => items.push(Err(agent_failure(&error))),
                Err(join) => {
                    let api = internal_error(&format!("agent turn failed: {join}"));
                    items.push(Err(StreamFailure {
                        message: api.message,
                        code: api.code,
                    }))
                }
            }
            Some((items, (receiver, None, sent_text, guard)))
        },
    )
    .flat_map(futures::stream::iter);
    started.chain(deltas).boxed()
}

/// A turn of an agent that can change this machine needs the gateway token even where plain
/// model calls do not: the configured one (already checked for every route), else the
/// gateway's own; with `mode: "none"` such a turn is refused.
fn guard_tool_agent(
    state: &AppState,
    services: &Services,
    peer: SocketAddr,
    headers: &HeaderMap,
    agent_id: &str,
    runtime: &AgentRuntime,
) -> Result<(), ApiError> {
    let tools = runtime.offered_tools();
    let risky = host_changing_tools(&tools);
    if risky.is_empty() || matches!(services.auth_token(), Ok(Some(_))) {
        return Ok(());
    }
    match authorize_privileged(state, services, peer, headers)? {
        true => Ok(()),
        false => Err(token_required(agent_id, &risky)),
    }
}

/// Serves one agent turn.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn serve_agent(
    state: &AppState,
    peer: SocketAddr,
    services: &Services,
    dialect: Dialect,
    agent: Option<&str>,
    request: Request,
    options: StreamOptions,
    headers: &HeaderMap,
    mut record: RequestRecord,
) -> Response {
    record.set_asked(&request.model, request.stream);
    let runtime = match services.agent(agent) {
        Ok(runtime) => runtime,
        Err(error) => return fail(dialect, &from_runtime_error(&error), record),
    };
    let agent_id = runtime.settings().agent_id.clone();
    let model = format!("clawgate/{agent_id}");
    record.set_model(Arc::from(model.as_str()), ModelCost::default(), false);
    if let Err(error) = guard_tool_agent(state, services, peer, headers, &agent_id, &runtime) {
        tracing::warn!(agent = %agent_id, "refused a turn of an agent with exec/write tools: {}", error.message);
        return fail(dialect, &error, record);
    }
    let input = match turn_input(&request) {
        Ok(input) => input,
        Err(error) => return fail(dialect, &error, record),
    };
    // The agent's model allowlist, with OpenClaw's message and status, before the turn starts.
    let override_model = turn_model(headers, &request);
    if let Some(wanted) = &override_model
        && let Err(error) = services.check_agent_model(&agent_id, wanted)
    {
        return fail(dialect, &from_runtime_error(&error), record);
    }
    let key = match session_key(headers, &request) {
        Ok(key) => key,
        Err(error) => return fail(dialect, &error, record),
    };
    record.set_agent(&agent_id, &key);
    let id = dialect.new_id();
    let extensions = events_requested(headers);
    let mut response = if request.stream {
        let started = Event::Started {
            id: id.clone(),
            model: model.clone(),
        };
        let mut events = turn_events(
            state,
            runtime,
            key,
            input,
            started,
            record.entry(),
            extensions,
            override_model,
        );
        // Hold the answer until the first delivered item (or the turn's end): an early failure
        // is then a plain HTTP error.
        let started = events.next().await;
        let first = events.next().await;
        match first {
            Some(Err(failure)) => {
                let error = match failure.code {
                    "timeout" => ApiError::gateway_timeout(failure.message),
                    code => ApiError::bad_gateway(code, failure.message),
                };
                return fail(dialect, &error, record);
            }
            first => {
                let replay = futures::stream::iter(started.into_iter().chain(first));
                let options = StreamOptions {
                    reasoning: extensions,
                    ..options
                };
                let encoder = dialect.stream_encoder(&id, &model, options);
                sse_response(
                    replay.chain(events).boxed(),
                    encoder,
                    dialect.framing(),
                    record,
                    None,
                    extensions,
                )
            }
        }
    } else {
        // When the first answer text was delivered (Ollama's timings split there).
        let first_text = Arc::new(std::sync::OnceLock::<Instant>::new());
        let noted = first_text.clone();
        let sink: EventSink = Arc::new(move |event| {
            if matches!(&event, AgentEvent::Text(text) if !text.is_empty()) {
                let _ = noted.set(Instant::now());
            }
        });
        let outcome = runtime
            .run_turn(
                &key,
                input,
                turn_options(Some(sink), record.entry(), false, override_model, None),
            )
            .await;
        runtime.close_session(&key).await;
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(error) => return fail(dialect, &from_agent_error(&error), record),
        };
        let answer = CanonicalResponse {
            id,
            model: model.clone(),
            content: outcome
                .reply
                .iter()
                .map(|text| ContentBlock::Text { text: text.clone() })
                .collect(),
            stop_reason: outcome.stop_reason,
            usage: outcome.usage,
        };
        record.set_usage(outcome.usage);
        record.finish(Outcome::Ok);
        let mut response = (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            Bytes::from(dialect.response_body(&answer, &options, first_text.get().copied())),
        )
            .into_response();
        if let Some(Ok(value)) = outcome.model_ref.as_deref().map(HeaderValue::from_str) {
            response.headers_mut().insert(MODEL_HEADER, value);
        }
        response
    };
    if let Ok(value) = HeaderValue::from_str(&agent_id) {
        response.headers_mut().insert(AGENT_HEADER, value);
    }
    response
}
