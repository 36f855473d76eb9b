//! The route table and the thin HTTP handlers: check the content type, authenticate, read the
//! body within the in-flight budget, parse it once, decode it with the inbound dialect's codec,
//! and hand off to the routed-call or agent-turn path under the per-request timeout. Also
//! `/v1/embeddings` (`embeddings_api`), `/v1/models` and `/v1/models/{id}` (`models_api`),
//! `/healthz`, `/readyz` and `/metrics`; the Control UI's page and JSON endpoints are merged in
//! from `control_ui` and `control_api`; Ollama's `/api/*` handlers live in `ollama_api`. The
//! layers around the routes (outermost first): one middleware for the HTTP-layer refusals in
//! the dialect's shape and the Host and Origin checks (`http_layer`, `browser_guard`), CORS,
//! and the body size limit (tower-http). They wrap the route table once, not each route
//! (`Router::layer` would box every layer around every route, and a request would clone one
//! box per layer).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use bytes::Bytes;
use serde_json::{Value, json};
use tower::ServiceBuilder;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;

use crate::agent_turn::serve_agent;
use crate::auth::{AuthCheck, check};
use crate::authorized::Authorized;
use crate::body_budget::read_body;
use crate::browser_guard::cors_allows;
use crate::dialect::{ApiError, Dialect};
use crate::error_response::error_response;
use crate::http_layer::http_edge;
use crate::metrics::{CONTENT_TYPE, Outcome};
use crate::ollama_api;
use crate::request_record::RequestRecord;
use crate::routed::{fail, serve_model};
use crate::server::AppState;
use crate::target::{Target, request_target};
use crate::trusted_proxy;
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
    let routes: Router = Router::new()
        .route("/v1/chat/completions", generation(Dialect::OpenAiChat))
        .route("/v1/responses", generation(Dialect::OpenAiResponses))
        .route("/v1/messages", generation(Dialect::Anthropic))
        .route("/v1/embeddings", post(crate::embeddings_api::embeddings))
        .route("/v1/models", get(crate::models_api::models))
        .route("/v1/models/{*id}", get(crate::models_api::model))
        .route("/api/chat", generation(Dialect::OllamaChat))
        .route("/api/generate", generation(Dialect::OllamaGenerate))
        .route("/api/tags", get(ollama_api::api_tags))
        .route("/api/show", post(ollama_api::api_show))
        .route("/api/ps", get(ollama_api::api_ps))
        .route("/api/version", get(ollama_api::api_version))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .merge(crate::control_api::routes())
        .merge(crate::control_approvals::routes())
        .merge(crate::control_ui::routes())
        .fallback(not_found)
        .with_state(state.clone());
    let layered = ServiceBuilder::new()
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            http_edge,
        ))
        .layer(cors)
        // The limit's refusal has a body type of its own; the layers above take axum's.
        .map_response(IntoResponse::into_response)
        .layer(RequestBodyLimitLayer::new(state.limits.max_body_bytes))
        .service(routes);
    Router::new().fallback_service(layered)
}

/// True for `Content-Type: application/json` (any parameters, any case). Browsers can send
/// `text/plain`, form types or no type at all cross-site without a CORS preflight; requiring
/// JSON makes a page's request need one.
pub(crate) fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// Checks the trusted proxy's identity (trusted-proxy mode), else the configured gateway token
/// (every route needs it when there is one) and the per-address lockout (per client behind a
/// trusted proxy).
pub(crate) fn authorize(
    state: &AppState,
    services: &Services,
    peer: SocketAddr,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    let expected = match services.auth_token() {
        Ok(token) => token,
        // Start and reload refuse such services; should one get here, refuse, never serve open.
        Err(error) => return Err(ApiError::unavailable(error.to_string())),
    };
    if proxy_identified(services, peer, headers, expected.is_some())? {
        return Ok(());
    }
    match expected {
        Some(token) => check_token(state, services, token, peer, headers),
        None => Ok(()),
    }
}

/// True when trusted-proxy mode is on and the request came through the proxy with a user;
/// `Ok(false)` for a direct client that a token may still admit (`token_may_admit`).
fn proxy_identified(
    services: &Services,
    peer: SocketAddr,
    headers: &HeaderMap,
    token_may_admit: bool,
) -> Result<bool, ApiError> {
    let gateway = &services.config().gateway;
    let Some(proxy) = trusted_proxy::proxy_auth(gateway) else {
        return Ok(false);
    };
    match trusted_proxy::identity(proxy, &gateway.trusted_proxies, peer.ip(), headers) {
        Ok(user) => {
            tracing::debug!(%user, peer = %peer.ip(), "identity from a trusted proxy");
            Ok(true)
        }
        // A direct client: the token decides, when there is one.
        Err(rejection) if !rejection.from_proxy() && token_may_admit => Ok(false),
        Err(rejection) => Err(ApiError::unauthorized(rejection.to_string())),
    }
}

/// Checks the token that guards what can change this machine or show its state (agents with
/// `exec`/`write`/`edit`, the Control UI's API): a user the trusted proxy vouches for, else the
/// configured token, else the gateway's own (`<state>/gateway-token`). `Ok(false)`: there is
/// none (`gateway.auth.mode: "none"`).
pub(crate) fn authorize_privileged(
    state: &AppState,
    services: &Services,
    peer: SocketAddr,
    headers: &HeaderMap,
) -> Result<bool, ApiError> {
    let token = match services.privileged_token() {
        Ok(token) => token,
        Err(error) => return Err(ApiError::unavailable(error.to_string())),
    };
    if proxy_identified(services, peer, headers, token.is_some())? {
        return Ok(true);
    }
    match token {
        Some(token) => check_token(state, services, token, peer, headers).map(|()| true),
        None => Ok(false),
    }
}

/// `expected` against the request's credential, with the per-address lockout.
fn check_token(
    state: &AppState,
    services: &Services,
    expected: &[u8],
    peer: SocketAddr,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    let proxies = &services.config().gateway.trusted_proxies;
    let ip = trusted_proxy::client_ip(peer.ip(), headers, proxies);
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
                    "missing gateway token: send `Authorization: Bearer <token>` or `x-api-key` \
                     (a gateway with no gateway.auth.token keeps its own in the file \
                     `gateway-token` in clawgate's state directory; `clawgate dashboard` prints it)"
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

pub(crate) async fn generate(
    state: Arc<AppState>,
    dialect: Dialect,
    peer: SocketAddr,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let mut record = RequestRecord::start(
        state.metrics.clone(),
        state.requests.clone(),
        dialect.route(),
        Instant::now(),
    );
    let request_id = HeaderValue::from_str(&record.id()).ok();
    // Ollama's documented examples are `curl -d '{…}'` (a form content type); a request
    // without `Origin` is not a browser's, so the JSON rule has nothing to guard there.
    let ollama_tool = dialect.ollama_endpoint().is_some() && !headers.contains_key(header::ORIGIN);
    if !is_json(&headers) && !ollama_tool {
        let error = ApiError::unsupported_media_type(
            "send the body as JSON with `Content-Type: application/json`",
        );
        return fail(dialect, &error, record);
    }
    let services = state.services.load_full();
    if let Err(error) = authorize(&state, &services, peer, &headers) {
        record.set_error(&error);
        record.finish(if error.status == 429 {
            Outcome::RateLimited
        } else {
            Outcome::Unauthorized
        });
        return error_response(dialect, &error);
    }
    let timeout = state.limits.request_timeout;
    let serving = serve(&state, peer, &services, dialect, &headers, body, record);
    let mut response = match tokio::time::timeout(timeout, serving).await {
        Ok(response) => response,
        Err(_) => error_response(
            dialect,
            &ApiError::gateway_timeout(format!(
                "no answer within the gateway's request timeout ({}s)",
                timeout.as_secs()
            )),
        ),
    };
    if let Some(id) = request_id {
        response.headers_mut().insert(REQUEST_ID_HEADER, id);
    }
    response
}

/// Response header: the id of the request in the recent-requests log
/// (`GET /clawgate/v1/requests/{id}`).
pub const REQUEST_ID_HEADER: &str = "x-clawgate-request-id";

async fn serve(
    state: &Arc<AppState>,
    peer: SocketAddr,
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
    if request.messages.is_empty() {
        let error = ApiError::bad_request(
            "the conversation is empty: send at least one user message (`messages` / `input`)",
        );
        return fail(dialect, &error, record);
    }
    let model = request.model.clone();
    match request_target(headers, &model) {
        Target::Agent(agent) => {
            serve_agent(
                state, peer, services, dialect, agent, request, options, headers, record,
            )
            .await
        }
        Target::Model(model) => {
            serve_model(
                state, services, dialect, model, request, options, headers, record,
            )
            .await
        }
    }
}

/// `POST` to a generation endpoint: one handler for every dialect, told which one it serves.
fn generation(dialect: Dialect) -> MethodRouter<Arc<AppState>> {
    post(
        move |State(state): State<Arc<AppState>>,
              ConnectInfo(peer): ConnectInfo<SocketAddr>,
              headers: HeaderMap,
              body: Body| generate(state, dialect, peer, headers, body),
    )
}

pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
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

async fn metrics(State(state): State<Arc<AppState>>, Authorized(services): Authorized) -> Response {
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
