//! `POST /v1/embeddings` in OpenAI's shape, routed like a model call: the model ref or alias
//! resolves to its route, and the router tries its candidates (cooldowns, probes, retries, key
//! rotation) with `Provider::embed`, which speaks the upstream's own embeddings route
//! (OpenAI-compatible `/embeddings`, Ollama's `/api/embed`). Vectors from different models are
//! not comparable, so only fallbacks that serve the same upstream model id are tried (the
//! same model on another server); a chat fallback would answer in another vector space.
//! A provider whose dialect has no embeddings (Anthropic Messages, the in-process engine) fails
//! the call with a 400 that says so; agents (`clawgate/<id>`) do not embed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use clawgate_router::CandidateChain;
use clawgate_runtime::Services;
use clawgate_runtime::model_client::fallback_reason;
use clawgate_wire::Usage;
use clawgate_wire::embeddings::openai;
use serde_json::Value;

use crate::body_budget::read_body;
use crate::dialect::{ApiError, Dialect};
use crate::error_response::{error_response, from_router_error, from_runtime_error};
use crate::http_api::{authorize, is_json, json_response};
use crate::metrics::Outcome;
use crate::request_record::RequestRecord;
use crate::routed::{fail, fallback_mode, insert_route_headers};
use crate::server::AppState;
use crate::target::{Target, request_target};

/// Errors are in OpenAI's shape, the only shape of this route.
const DIALECT: Dialect = Dialect::OpenAiChat;

pub(crate) async fn embeddings(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let record = RequestRecord::start(
        state.metrics.clone(),
        state.requests.clone(),
        "embeddings",
        Instant::now(),
    );
    if !is_json(&headers) {
        let error = ApiError::unsupported_media_type(
            "send the body as JSON with `Content-Type: application/json`",
        );
        return fail(DIALECT, &error, record);
    }
    let services = state.services.load_full();
    if let Err(error) = authorize(&state, &services, peer, &headers) {
        record.finish(if error.status == 429 {
            Outcome::RateLimited
        } else {
            Outcome::Unauthorized
        });
        return error_response(DIALECT, &error);
    }
    let timeout = state.limits.request_timeout;
    match tokio::time::timeout(timeout, serve(&state, &services, &headers, body, record)).await {
        Ok(response) => response,
        Err(_) => error_response(
            DIALECT,
            &ApiError::gateway_timeout(format!(
                "no answer within the gateway's request timeout ({}s)",
                timeout.as_secs()
            )),
        ),
    }
}

/// The chain's candidates that serve the requested candidate's upstream model.
fn same_model(chain: &CandidateChain) -> CandidateChain {
    let Some(head) = chain.head() else {
        return chain.clone();
    };
    CandidateChain::from_refs(
        chain
            .candidates()
            .iter()
            .filter(|c| c.model == head.model)
            .cloned(),
    )
}

async fn serve(
    state: &Arc<AppState>,
    services: &Services,
    headers: &HeaderMap,
    body: Body,
    mut record: RequestRecord,
) -> Response {
    let limit = state.limits.max_body_bytes;
    let (bytes, _reservation) = match read_body(headers, body, limit, &state.body_budget).await {
        Ok(read) => read,
        Err(error) => return fail(DIALECT, &error, record),
    };
    let value = match serde_json::from_slice::<Value>(&bytes) {
        Ok(value) => value,
        Err(e) => {
            let error = ApiError::bad_request(format!("the request body is not valid JSON: {e}"));
            return fail(DIALECT, &error, record);
        }
    };
    drop(bytes);
    let (request, format) = match openai::decode_request(&value) {
        Ok(decoded) => decoded,
        Err(e) => return fail(DIALECT, &ApiError::bad_request(e.to_string()), record),
    };
    drop(value);
    let model = match request_target(headers, &request.model) {
        Target::Agent(_) => {
            let error = ApiError::bad_request(format!(
                "\"{}\" names an agent, and agents do not embed: ask for a model (a ref like \
                 \"ollama/nomic-embed-text\" or an alias)",
                request.model
            ));
            return fail(DIALECT, &error, record);
        }
        Target::Model(model) => model.to_string(),
    };
    let route = match services.resolve_request_model(&model) {
        Ok(route) => route,
        Err(error) => return fail(DIALECT, &from_runtime_error(&error), record),
    };
    record.set_model(route.reference.clone(), route.cost, true);
    let chain = same_model(route.chain(fallback_mode(headers)));
    let cancel = state.streams.child_token();
    let waiting = Instant::now();
    let result = services.router().embed(request, &chain, &cancel).await;
    record.add_upstream(waiting.elapsed());
    let (mut answer, info) = match result {
        Ok(answered) => answered,
        Err(error) => {
            let now = services.router().clock().now_ms();
            let api = from_router_error(&error, now);
            tracing::warn!(model = %route.reference, status = api.status, "embeddings call failed: {error}");
            return fail(DIALECT, &api, record);
        }
    };
    let answered = services
        .resolve_model(&info.answered_by.key())
        .unwrap_or_else(|_| route.clone());
    record.set_model(answered.reference.clone(), answered.cost, true);
    let reason = fallback_reason(&info);
    if let Some(reason) = &reason {
        state.metrics.fallback(reason);
    }
    record.set_usage(Usage {
        input_tokens: answer.prompt_tokens,
        ..Usage::default()
    });
    answer.model = answered.reference.to_string();
    let mut response = json_response(StatusCode::OK, &openai::encode_response(&answer, format));
    insert_route_headers(
        response.headers_mut(),
        &answered.reference,
        reason.as_deref(),
    );
    record.finish(Outcome::Ok);
    response
}
