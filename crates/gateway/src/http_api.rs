//! The route table and the thin HTTP handlers: check the content type, authenticate, read the
//! body within the in-flight budget, parse it once, decode it with the inbound dialect's codec,
//! and hand off to the routed-call or agent-turn path under the per-request timeout. Also
//! `/v1/models`, `/healthz`, `/readyz` and `/metrics`. The layers around the routes (outermost
//! first): HTTP-layer refusals in the dialect's shape (`http_layer`), the Host and Origin
//! checks (`browser_guard`), CORS, and the body size limit (tower-http).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use serde_json::{Value, json};
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;

use crate::agent_turn::serve_agent;
use crate::auth::{AuthCheck, check};
use crate::body_budget::read_body;
use crate::browser_guard::{cors_allows, guard};
use crate::dialect::{ApiError, Dialect};
use crate::error_response::error_response;
use crate::http_layer::shape_layer_errors;
use crate::metrics::{CONTENT_TYPE, Outcome};
use crate::request_record::RequestRecord;
use crate::routed::{fail, serve_model};
use crate::server::AppState;
use crate::target::{Target, request_target};
use clawgate_runtime::{Services, StateHealth};

/// The axum app with its layers (see the module docs).
pub(crate) fn app(state: Arc<AppState>) -> Router {
    let cors_state = state.clone();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, _| {
            origin
                .to_str()
                .is_ok_and(|origin| cors_allows(&cors_state, origin))
        }))
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers(Any)
        .expose_headers(Any);
    Router::new()
        .route("/v1/chat/completions", post(chat_completions))
        .route("/v1/responses", post(responses))
        .route("/v1/messages", post(messages))
        .route("/v1/models", get(models))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .layer(RequestBodyLimitLayer::new(state.limits.max_body_bytes))
        .layer(cors)
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            shape_layer_errors,
        ))
        .with_state(state)
}

/// True for `Content-Type: application/json` (any parameters, any case). Browsers can send
/// `text/plain`, form types or no type at all cross-site without a CORS preflight; requiring
/// JSON makes a page's request need one.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// Checks the gateway token (when one is configured) and the per-address lockout.
fn authorize(
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

async fn generate(
    state: Arc<AppState>,
    dialect: Dialect,
    peer: SocketAddr,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let record = RequestRecord::start(state.metrics.clone(), dialect.route(), Instant::now());
    if !is_json(&headers) {
        let error = ApiError::unsupported_media_type(
            "send the body as JSON with `Content-Type: application/json`",
        );
        return fail(dialect, &error, record);
    }
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
    let limit = state.limits.max_body_bytes;
    // Held until this request is answered: everything made from the body lives until then.
    let (bytes, _reservation) = match read_body(headers, body, limit, &state.body_budget).await {
        Ok(read) => read,
        Err(error) => return fail(dialect, &error, record),
    };
    // One parse of the bytes, which are dropped at once; the tree is dropped after decoding.
    let parsed = serde_json::from_slice::<Value>(&bytes);
    drop(bytes);
    let value = match parsed {
        Ok(value) => value,
        Err(e) => {
            let error = ApiError::bad_request(format!("the request body is not valid JSON: {e}"));
            return fail(dialect, &error, record);
        }
    };
    let request = match dialect.decode_request(&value) {
        Ok(request) => request,
        Err(e) => return fail(dialect, &ApiError::bad_request(e.to_string()), record),
    };
    let options = dialect.stream_options(&value);
    drop(value);
    if request.messages.is_empty() {
        let error = ApiError::bad_request(
            "the conversation is empty: send at least one user message (`messages` / `input`)",
        );
        return fail(dialect, &error, record);
    }
    let model = request.model.clone();
    match request_target(headers, &model) {
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

/// Ready (200) when the primary's provider was built. With the shared state store down the
/// replica still serves routed calls from its last view, so it stays in rotation (200) but
/// says `degraded` and why; agent turns are refused meanwhile (503 `state_unavailable`).
async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    let services = state.services.load();
    match services.readiness() {
        Ok(()) => match services.state_health() {
            StateHealth::Postgres {
                up: false,
                url,
                error,
            } => json_response(
                StatusCode::OK,
                &json!({
                    "status": "degraded",
                    "state": { "backend": "postgres", "url": url, "up": false, "error": error },
                }),
            ),
            _ => json_response(StatusCode::OK, &json!({ "status": "ready" })),
        },
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
    state.metrics.state_up(&services.state_health());
    let text = state.metrics.render(services.router());
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
        text,
    )
        .into_response()
}

async fn not_found(uri: axum::http::Uri) -> Response {
    error_response(
        Dialect::for_path(uri.path()),
        &ApiError::not_found("not_found", "no such endpoint"),
    )
}
