//! Serving an agent target (`clawgate/<agentId>` …): the request's last user message becomes
//! one turn of that agent on a session keyed by `x-clawgate-session-key`, else the `user`
//! field (`http:user:<user>`), else a fresh key per request. Only what the agent's delivery
//! filter lets through is sent: final answer text, no reasoning, no tool traffic. Streaming
//! waits for the first delivered text (or the end of the turn) before answering, so a turn that
//! fails early is an ordinary HTTP error, like a routed call before its commit.

use std::sync::Arc;
use std::time::Instant;

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use clawgate_agent::{
    AgentEvent, AgentRuntime, EventSink, MAX_SESSION_KEY_BYTES, TurnInput, TurnOptions, TurnOutcome,
};
use clawgate_config::ModelCost;
use clawgate_wire::{
    ContentBlock, Event, Request, Response as CanonicalResponse, Role, StopReason,
};
use futures::StreamExt;
use tokio::sync::mpsc;

use crate::dialect::{ApiError, Dialect, StreamOptions};
use crate::error_response::{from_agent_error, from_runtime_error};
use crate::metrics::Outcome;
use crate::request_record::RequestRecord;
use crate::routed::{MODEL_HEADER, fail};
use crate::sse_body::{EventStream, StreamFailure, sse_response};
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
    let header = [SESSION_HEADER, OPENCLAW_SESSION_HEADER]
        .iter()
        .find_map(|name| headers.get(*name)?.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty());
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

fn agent_failure(error: &clawgate_agent::AgentError) -> StreamFailure {
    let code = match error {
        clawgate_agent::AgentError::ContextOverflow { .. } => "context_length_exceeded",
        clawgate_agent::AgentError::Aborted => "aborted",
        _ => "server_error",
    };
    StreamFailure {
        message: error.to_string(),
        code,
    }
}

/// Canonical events of a finished turn after the deltas already sent.
fn closing_events(outcome: &TurnOutcome, sent_text: bool) -> Vec<Result<Event, StreamFailure>> {
    let mut events = Vec::new();
    if !sent_text && let Some(reply) = outcome.reply.as_ref().filter(|r| !r.is_empty()) {
        events.push(Ok(Event::TextDelta {
            text: reply.clone(),
        }));
    }
    events.push(Ok(Event::Usage {
        usage: outcome.usage,
    }));
    events.push(Ok(Event::Finished {
        stop_reason: StopReason::Stop,
    }));
    events
}

/// Runs the turn on a task; its delivered text arrives as `TextDelta`s, then usage and the end.
fn turn_events(
    runtime: Arc<AgentRuntime>,
    key: String,
    input: TurnInput,
    id: String,
    model: String,
) -> EventStream {
    let (sender, receiver) = mpsc::unbounded_channel::<AgentEvent>();
    let sink: EventSink = Arc::new(move |event| {
        let _ = sender.send(event);
    });
    let options = TurnOptions {
        on_event: Some(sink),
        reasoning: Some(false),
        ..TurnOptions::default()
    };
    let turn = tokio::spawn(async move {
        let result = runtime.run_turn(&key, input, options).await;
        runtime.close_session(&key).await;
        result
    });
    let started = futures::stream::iter([Ok(Event::Started { id, model })]);
    let deltas = futures::stream::unfold(
        (receiver, Some(turn), false),
        |(mut receiver, turn, mut sent_text)| async move {
            let mut turn = turn?;
            let result = loop {
                tokio::select! {
                    biased;
                    event = receiver.recv() => match event {
                        Some(AgentEvent::Text(text)) if !text.is_empty() => {
                            sent_text = true;
                            let item = vec![Ok(Event::TextDelta { text })];
                            return Some((item, (receiver, Some(turn), sent_text)));
                        }
                        Some(_) => {}
                        // The sink was dropped: only the turn's result is left.
                        None => break (&mut turn).await,
                    },
                    result = &mut turn => break result,
                }
            };
            // Text sent just before the turn ended is still queued.
            let mut items = Vec::new();
            while let Ok(event) = receiver.try_recv() {
                if let AgentEvent::Text(text) = event
                    && !text.is_empty()
                {
                    sent_text = true;
                    items.push(Ok(Event::TextDelta { text }));
                }
            }
            match result {
                Ok(Ok(outcome)) => items.extend(closing_events(&outcome, sent_text)),
                Ok(Err(error)) => items.push(Err(agent_failure(&error))),
                Err(join) => items.push(Err(StreamFailure {
                    message: format!("agent turn failed: {join}"),
                    code: "server_error",
                })),
            }
            Some((items, (receiver, None, sent_text)))
        },
    )
    .flat_map(futures::stream::iter);
    started.chain(deltas).boxed()
}

/// Serves one agent turn.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn serve_agent(
    services: &Services,
    dialect: Dialect,
    agent: Option<&str>,
    request: Request,
    options: StreamOptions,
    headers: &HeaderMap,
    mut record: RequestRecord,
) -> Response {
    let runtime = match services.agent(agent) {
        Ok(runtime) => runtime,
        Err(error) => return fail(dialect, &from_runtime_error(&error), record),
    };
    let agent_id = runtime.settings().agent_id.clone();
    let model = format!("clawgate/{agent_id}");
    record.set_model(Arc::from(model.as_str()), ModelCost::default(), false);
    let input = match turn_input(&request) {
        Ok(input) => input,
        Err(error) => return fail(dialect, &error, record),
    };
    let key = match session_key(headers, &request) {
        Ok(key) => key,
        Err(error) => return fail(dialect, &error, record),
    };
    let id = dialect.new_id();
    let mut response = if request.stream {
        let mut events = turn_events(runtime, key, input, id.clone(), model.clone());
        // Hold the answer until the first delivered text (or the turn's end): an early failure
        // is then a plain HTTP error.
        let started = events.next().await;
        let first = events.next().await;
        match first {
            Some(Err(failure)) => {
                let error = ApiError::bad_gateway(failure.code, failure.message);
                return fail(dialect, &error, record);
            }
            first => {
                let replay = futures::stream::iter(started.into_iter().chain(first));
                let options = StreamOptions {
                    reasoning: false,
                    ..options
                };
                let encoder = dialect.stream_encoder(&id, &model, options);
                let events = replay.chain(events).boxed();
                sse_response(events, encoder, dialect.framing(), record, None)
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
                TurnOptions {
                    on_event: Some(sink),
                    reasoning: Some(false),
                    ..TurnOptions::default()
                },
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
            stop_reason: StopReason::Stop,
            usage: outcome.usage,
        };
        record.set_usage(outcome.usage);
        record.finish(Outcome::Ok);
        let mut response = (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            Bytes::from(
                dialect
                    .encode_response(&answer, &options, first_text.get().copied())
                    .to_string(),
            ),
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
