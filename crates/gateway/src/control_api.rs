//! The Control UI's small JSON API under `/clawgate/v1/` (a prefix no OpenAI, Anthropic or
//! Ollama path uses): an overview of agents and chat targets, sessions (`control_sessions`),
//! the model registry and chain status with cooldowns (and a probe, as `models status --probe`),
//! the recent requests, and the effective config redacted with the validation of the file on
//! disk. Every endpoint needs the gateway token like `/v1/*`, and on a loopback listener a
//! loopback `Host` (DNS rebinding). Errors are OpenAI-shaped (`{"error":{…}}`).
//!
//! The shapes reuse the CLI's: `models list --json`, `models status --json` and
//! `config validate --json` come from the same code (`clawgate_runtime::model_listing`,
//! `clawgate_runtime::model_status`, `clawgate_config::validation`).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use clawgate_config::decode::redact_json;
use clawgate_runtime::Services;
use clawgate_runtime::model_listing::ModelListing;
use clawgate_runtime::model_status::{StatusOptions, collect};
use clawgate_runtime::model_status_json::status_json;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::authorized::peer_of;
use crate::control_sessions;
use crate::dialect::{ApiError, Dialect};
use crate::error_response::error_response;
use crate::http_api::authorize_privileged;
use crate::server::AppState;

/// Recent requests returned when the client does not say how many.
const DEFAULT_REQUEST_LIMIT: usize = 50;

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/clawgate/v1/overview", get(overview))
        .route("/clawgate/v1/sessions", get(control_sessions::list))
        .route("/clawgate/v1/sessions/{key}", get(control_sessions::show))
        .route(
            "/clawgate/v1/sessions/{key}/export",
            get(control_sessions::export),
        )
        .route("/clawgate/v1/models", get(models))
        .route("/clawgate/v1/models/probe", post(probe))
        .route("/clawgate/v1/requests", get(requests))
        .route("/clawgate/v1/requests/{id}", get(request))
        .route("/clawgate/v1/config", get(config))
}

/// An authenticated request (the `Host` check is the router's `browser_guard` layer), with the
/// services in effect.
pub(crate) struct Guarded {
    pub state: Arc<AppState>,
    pub services: Arc<Services>,
}

impl FromRequestParts<Arc<AppState>> for Guarded {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let peer = peer_of(parts, state);
        let services = state.services.load_full();
        // The page's API shows sessions, config and probes: it needs the configured token or
        // the gateway's own, even on loopback (with `mode: "none"` it is open).
        authorize_privileged(state, &services, peer, &parts.headers).map_err(|e| api_error(&e))?;
        Ok(Guarded {
            state: state.clone(),
            services,
        })
    }
}

/// Headers every JSON answer of this API carries.
fn harden(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

pub(crate) fn json_ok(body: &Value) -> Response {
    let mut response = (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        Bytes::from(body.to_string()),
    )
        .into_response();
    harden(&mut response);
    response
}

pub(crate) fn api_error(error: &ApiError) -> Response {
    let mut response = error_response(Dialect::OpenAiChat, error);
    harden(&mut response);
    response
}

pub(crate) fn epoch_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// `GET /clawgate/v1/overview`: what the page needs to start: the agents, every chat target
/// (agents, then configured model refs with alias and context window), the default chain.
async fn overview(guarded: Guarded) -> Response {
    // Building an agent's runtime the first time touches its workspace on disk.
    let services = guarded.services.clone();
    match tokio::task::spawn_blocking(move || overview_json(&services)).await {
        Ok(body) => json_ok(&body),
        Err(error) => api_error(&ApiError::internal(format!("overview failed: {error}"))),
    }
}

fn overview_json(services: &Services) -> Value {
    let agents: Vec<Value> = services
        .agent_ids()
        .iter()
        .map(|id| {
            let default = id == services.default_agent();
            match services.agent(Some(id)) {
                Ok(runtime) => json!({
                    "id": id,
                    "default": default,
                    "model": runtime.settings().primary_model,
                    "reasoning": runtime.settings().reasoning_default,
                    "tools": runtime.offered_tools(),
                }),
                Err(error) => json!({ "id": id, "default": default, "error": error.to_string() }),
            }
        })
        .collect();
    let registry = services.registry();
    let models: Vec<Value> = registry
        .models()
        .iter()
        .filter(|m| m.configured)
        .map(|m| {
            json!({
                "ref": m.reference,
                "alias": registry.alias_of(&m.model_ref()),
                "contextWindow": m.context_window,
                "local": registry.provider(&m.provider).is_some_and(|p| p.is_local),
            })
        })
        .collect();
    let routes = services.routes();
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "now": epoch_ms(),
        "defaultAgent": services.default_agent(),
        "agents": agents,
        "models": models,
        "primary": routes.primary().key(),
        "fallbacks": routes.fallbacks().iter().map(|f| f.key()).collect::<Vec<_>>(),
        "config": services.loaded().location.path,
    })
}

/// `GET /clawgate/v1/models`: the registry (`models list --json`) and the chain's status with
/// live cooldowns (`models status --json`, without a probe); `now` is the server's clock, so
/// the page can count cooldowns down.
async fn models(guarded: Guarded) -> Response {
    let services = &guarded.services;
    let report = collect(services, &StatusOptions::default()).await;
    json_ok(&json!({
        "now": services.router().clock().now_ms(),
        "list": ModelListing::build(services.loaded(), false).to_json(),
        "status": status_json(&report),
    }))
}

#[derive(Debug, Deserialize)]
struct ProbeQuery {
    /// Time allowed for each probe, in milliseconds (default 5000, at most 60000).
    timeout_ms: Option<u64>,
}

/// `POST /clawgate/v1/models/probe`: `models status --probe --json`.
async fn probe(guarded: Guarded, Query(query): Query<ProbeQuery>) -> Response {
    let services = &guarded.services;
    let options = StatusOptions {
        probe: true,
        probe_timeout: Duration::from_millis(query.timeout_ms.unwrap_or(5_000).clamp(1, 60_000)),
        all: false,
    };
    let report = collect(services, &options).await;
    json_ok(&json!({
        "now": services.router().clock().now_ms(),
        "status": status_json(&report),
    }))
}

#[derive(Debug, Deserialize)]
struct RequestsQuery {
    limit: Option<usize>,
}

/// `GET /clawgate/v1/requests?limit=N`: running requests, then the last N finished ones,
/// newest first.
async fn requests(guarded: Guarded, Query(query): Query<RequestsQuery>) -> Response {
    let log = &guarded.state.requests;
    let limit = query.limit.unwrap_or(DEFAULT_REQUEST_LIMIT);
    json_ok(&json!({
        "now": epoch_ms(),
        "capacity": log.capacity(),
        "running": log.running(),
        "requests": log.recent(limit),
    }))
}

/// `GET /clawgate/v1/requests/{id}`.
async fn request(guarded: Guarded, Path(id): Path<String>) -> Response {
    match guarded.state.requests.get(&id) {
        Some(entry) => json_ok(&json!(entry)),
        None => api_error(&ApiError::not_found(
            "request_not_found",
            format!("no request {id} in the recent-requests log"),
        )),
    }
}

/// `GET /clawgate/v1/config`: the running config (includes and `${VAR}` applied, secrets
/// redacted, as `config show`), and `config validate --json` of the file on disk now (it may
/// have changed since the gateway loaded it; `SIGHUP` reloads).
async fn config(guarded: Guarded) -> Response {
    let loaded = guarded.services.loaded();
    let mut effective = loaded.tree.to_json();
    redact_json(&mut effective);
    let validation = match guarded.state.config_options.clone() {
        Some(options) => {
            match tokio::task::spawn_blocking(move || clawgate_config::validate(&options)).await {
                Ok(report) => json!(report),
                Err(error) => json!({ "error": format!("validation failed: {error}") }),
            }
        }
        None => Value::Null,
    };
    json_ok(&json!({
        "path": loaded.location.path,
        "source": loaded.location.source,
        "stateDir": loaded.location.state_dir,
        "loadedWarnings": loaded.warnings,
        "ignored": loaded.ignored,
        "effective": effective,
        "validation": validation,
    }))
}
