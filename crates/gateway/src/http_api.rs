//! The route table and the thin HTTP handlers: read the body within the limit, parse it once,
//! decode it with the inbound dialect's codec, authenticate, and hand off to the routed-call
//! or agent-turn path under the per-request timeout. Also `/v1/models`, `/healthz`, `/readyz`
//! and `/metrics`; Ollama's `/api/*` handlers live in `ollama_api`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use serde_json::{Value, json};
use tower_http::cors::{AllowOrigin, Any, CorsLayer};

use crate::agent_turn::serve_agent;
use crate::auth::{AuthCheck, check};
use crate::dialect::{ApiError, Dialect};
use crate::error_response::error_response;
use crate::metrics::{CONTENT_TYPE, Outcome};
use crate::ollama_api;
use crate::request_record::RequestRecord;
use crate::routed::{fail, serve_model};
use crate::server::AppState;
use crate::target::{Target, parse_target};
use clawgate_runtime::Services;

/// The axum app. CORS only when origins are configured.
pub(crate) fn app(state: Arc<AppState>, cors_origins: &[String]) -> Router {
    let router = Router::new()
        .route("/v1/chat/completions", post(chat_completions))
        .route("/v1/responses", post(responses))
        .route("/v1/messages", post(messages))
        .route("/v1/models", get(models))
        .route("/api/chat", post(ollama_api::api_chat))
        .route("/api/generate", post(ollama_api::api_generate))
        .route("/api/tags", get(ollama_api::api_tags))
        .route("/api/show", post(ollama_api::api_show))
        .route("/api/ps", get(ollama_api::api_ps))
        .route("/api/version", get(ollama_api::api_version))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .with_state(state);
    if cors_origins.is_empty() {
        return router;
    }
    let origins: Vec<HeaderValue> = cors_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    let allow = if cors_origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins)
    };
    router.layer(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
            .allow_headers(Any)
            .expose_headers(Any),
    )
}

/// Checks the gateway token (when one is configured) and the per-address lockout.
pub(crate) fn authorize(
    state: &AppState,
    services: &Services,
    peer: SocketAddr,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    let expected = match services.auth_token() {
        Ok(Some(token)) => token,
        Ok(None) => return Ok(()),
        // Start and reload refuse such services; should one get here, refuse, never serve open.
        Err(error) => return Err(ApiError::unavailable(error.to_string())),
    };
    let ip = peer.ip();
    if let Some(seconds) = state.auth_failures.locked_out(ip) {
        return Err(ApiError::rate_limited(
            "too many failed authentication attempts from this address; try again later",
        )
        .with_retry_after(seconds));
    }
    match check(expected, headers) {
        AuthCheck::Ok => {
            state.auth_failures.record_success(ip);
            Ok(())
        }
        failed => {
            state.metrics.auth_failure();
            tracing::warn!(peer = %ip, "authentication failed ({failed:?})");
            let locked = state.auth_failures.record_failure(ip);
            let message = match failed {
                AuthCheck::Missing => {
                    "missing gateway token: send `Authorization: Bearer <token>` or `x-api-key`"
                }
                _ => "invalid gateway token",
            };
            match locked {
                Some(seconds) => Err(ApiError::rate_limited(
                    "too many failed authentication attempts from this address; try again later",
                )
                .with_retry_after(seconds)),
                None => Err(ApiError::unauthorized(message)),
            }
        }
    }
}

/// Reads the body, refusing it past `limit` bytes. A one-chunk body is not copied.
async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let too_large = || ApiError::too_large(format!("request body exceeds {limit} bytes"));
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut stream = body.into_data_stream();
    let mut first: Option<Bytes> = None;
    let mut joined: Option<BytesMut> = None;
    let mut total = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::bad_request(format!("could not read the body: {e}")))?;
        total += chunk.len();
        if total > limit {
            return Err(too_large());
        }
        match (&mut first, &mut joined) {
            (None, None) => first = Some(chunk),
            (Some(head), None) => {
                let mut buffer = BytesMut::with_capacity(declared.unwrap_or(total));
                buffer.extend_from_slice(head);
                buffer.extend_from_slice(&chunk);
                joined = Some(buffer);
            }
            (_, Some(buffer)) => buffer.extend_from_slice(&chunk),
        }
    }
    Ok(match (first, joined) {
        (_, Some(buffer)) => buffer.freeze(),
        (Some(head), None) => head,
        (None, None) => Bytes::new(),
    })
}

pub(crate) async fn generate(
    state: Arc<AppState>,
    dialect: Dialect,
    peer: SocketAddr,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let record = RequestRecord::start(state.metrics.clone(), dialect.route(), Instant::now());
    let services = state.services.load_full();
    if let Err(error) = authorize(&state, &services, peer, &headers) {
        record.finish(if error.status == 429 {
            Outcome::RateLimited
        } else {
            Outcome::Unauthorized
        });
        return error_response(dialect, &error);
    }
    let timeout = state.limits.request_timeout;
    let serving = serve(&state, &services, dialect, &headers, body, record);
    match tokio::time::timeout(timeout, serving).await {
        Ok(response) => response,
        Err(_) => error_response(
            dialect,
            &ApiError::gateway_timeout(format!(
                "no answer within the gateway's request timeout ({}s)",
                timeout.as_secs()
            )),
        ),
    }
}

async fn serve(
    state: &Arc<AppState>,
    services: &Services,
    dialect: Dialect,
    headers: &HeaderMap,
    body: Body,
    record: RequestRecord,
) -> Response {
    let bytes = match read_body(headers, body, state.limits.max_body_bytes).await {
        Ok(bytes) => bytes,
        Err(error) => return fail(dialect, &error, record),
    };
    let value: Value = match serde_json::from_slice(&bytes) {
        Ok(value) => value,
        Err(e) => {
            let error = ApiError::bad_request(format!("the request body is not valid JSON: {e}"));
            return fail(dialect, &error, record);
        }
    };
    let mut request = match dialect.decode_request(&value) {
        Ok(request) => request,
        Err(e) => return fail(dialect, &ApiError::bad_request(e.to_string()), record),
    };
    let options = dialect.stream_options(&value, record.started());
    let answered = ollama_api::before_routing(services, dialect, &mut request, &value);
    drop(value);
    match answered {
        None => {}
        Some(Ok(response)) => {
            record.finish(Outcome::Ok);
            return response;
        }
        Some(Err(error)) => return fail(dialect, &error, record),
    }
    let model = request.model.clone();
    match parse_target(&model) {
        Target::Agent(agent) => {
            serve_agent(services, dialect, agent, request, options, headers, record).await
        }
        Target::Model(model) => {
            serve_model(
                state, services, dialect, model, request, options, headers, record,
            )
            .await
        }
    }
}

async fn chat_completions(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    generate(state, Dialect::OpenAiChat, peer, headers, body).await
}

async fn responses(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    generate(state, Dialect::OpenAiResponses, peer, headers, body).await
}

async fn messages(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    generate(state, Dialect::Anthropic, peer, headers, body).await
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        Bytes::from(body.to_string()),
    )
        .into_response()
}

/// The OpenAI model list: agent targets first, then the configured model rows.
pub fn model_list(services: &Services) -> Value {
    let mut data = Vec::new();
    for agent in services.agent_ids() {
        data.push(json!({
            "id": format!("clawgate/{agent}"),
            "object": "model",
            "created": 0,
            "owned_by": "clawgate",
        }));
    }
    let registry = services.registry();
    for row in registry.models().iter().filter(|m| m.configured) {
        let mut entry = json!({
            "id": row.reference,
            "object": "model",
            "created": 0,
            "owned_by": row.provider,
        });
        if let Some(alias) = registry.alias_of(&row.model_ref()) {
            entry["alias"] = alias.into();
        }
        data.push(entry);
    }
    json!({ "object": "list", "data": data })
}

async fn models(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let services = state.services.load_full();
    if let Err(error) = authorize(&state, &services, peer, &headers) {
        return error_response(Dialect::OpenAiChat, &error);
    }
    json_response(StatusCode::OK, &model_list(&services))
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    match state.services.load().readiness() {
        Ok(()) => json_response(StatusCode::OK, &json!({ "status": "ready" })),
        Err(reason) => json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({ "status": "not_ready", "reason": reason }),
        ),
    }
}

async fn metrics(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let services = state.services.load_full();
    if let Err(error) = authorize(&state, &services, peer, &headers) {
        return error_response(Dialect::OpenAiChat, &error);
    }
    let text = state.metrics.render(services.router());
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
        text,
    )
        .into_response()
}

async fn not_found() -> Response {
    error_response(
        Dialect::OpenAiChat,
        &ApiError::not_found("not_found", "no such endpoint"),
    )
}
