//! Serving an agent target (`clawgate/<agentId>` …): the request's last user message becomes
//! one turn of that agent on a session keyed by `x-clawgate-session-key`, else the `user`
//! field (`http:user:<user>`), else a fresh key per request. Only what the agent's delivery
//! filter lets through is sent: final answer text, no reasoning, no tool traffic. Streaming
//! waits for the first delivered text (or the end of the turn) before answering, so a turn that
//! fails early is an ordinary HTTP error, like a routed call before its commit.

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use clawgate_agent::{
    AgentEvent, AgentRuntime, EventSink, MAX_SESSION_KEY_BYTES, TurnInput, TurnOptions, TurnOutcome,
};
use clawgate_config::ModelCost;
use clawgate_wire::{ContentBlock, Event, Request, Response as CanonicalResponse, Role};
use futures::StreamExt;
use tokio::sync::mpsc;

use crate::auth::require_token_for;
use crate::dialect::{ApiError, Dialect, StreamOptions};
use crate::error_response::{from_agent_error, from_runtime_error, internal_error};
use crate::metrics::Outcome;
use crate::request_record::RequestRecord;
use crate::routed::{MODEL_HEADER, fail};
use crate::sse_body::{EventStream, StreamFailure, sse_response};
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
        stop_reason: outcome.stop_reason,
    }));
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

/// Runs the turn on a task; its delivered text arrives as `TextDelta`s, then usage and the end.
fn turn_events(
    runtime: Arc<AgentRuntime>,
    key: String,
    input: TurnInput,
    id: String,
    model: String,
    model_override: Option<String>,
) -> EventStream {
    let (sender, receiver) = mpsc::unbounded_channel::<AgentEvent>();
    let sink: EventSink = Arc::new(move |event| {
        let _ = sender.send(event);
    });
    let options = TurnOptions {
        on_event: Some(sink),
        reasoning: Some(false),
        model_override,
        // No one to ask through the API: `askFallback` decides (see docs/tools.md).
        approver: None,
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
                Err(join) => {
                    let api = internal_error(&format!("agent turn failed: {join}"));
                    items.push(Err(StreamFailure {
                        message: api.message,
                        code: api.code,
                    }))
                }
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
    let token_configured = matches!(services.auth_token(), Ok(Some(_)));
    if let Err(error) = require_token_for(&agent_id, &runtime.offered_tools(), token_configured) {
        tracing::warn!(agent = %agent_id, "refused a token-less turn of an agent with exec/write tools");
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
    let id = dialect.new_id();
    let mut response = if request.stream {
        let mut events = turn_events(
            runtime,
            key,
            input,
            id.clone(),
            model.clone(),
            override_model,
        );
        // Hold the answer until the first delivered text (or the turn's end): an early failure
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
                    reasoning: false,
                    ..options
                };
                let encoder = dialect.stream_encoder(&id, &model, options);
                sse_response(replay.chain(events).boxed(), encoder, record, None)
            }
        }
    } else {
        let outcome = runtime
            .run_turn(
                &key,
                input,
                TurnOptions {
                    reasoning: Some(false),
                    model_override: override_model,
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
            Bytes::from(dialect.encode_response(&answer).to_string()),
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
