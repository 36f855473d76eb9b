//! `GET /v1/models` and `GET /v1/models/{id}` in OpenAI's shape. The list is what a client
//! can route to: the agents (`clawgate/<id>`), then every registry row whose provider the
//! router has built and that a routed request may use (the default agent's allowlist admits
//! it), either declared or referenced by the config or, from the built-in catalog and the
//! implicit providers (the in-process `embedded/gemma-3-270m` among them), of a local provider
//! or one with a key. Catalog rows of a hosted provider without a key are left out: a request
//! for them could only fail. Model ids contain `/`, so `{id}` is a wildcard; an alias answers
//! with the row it names.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use clawgate_config::ModelEntry;
use clawgate_runtime::Services;
use serde_json::{Value, json};

use crate::authorized::Authorized;
use crate::dialect::{ApiError, Dialect};
use crate::error_response::error_response;
use crate::http_api::json_response;

fn model_object(id: &str, owned_by: &str) -> Value {
    json!({ "id": id, "object": "model", "created": 0, "owned_by": owned_by })
}

/// Whether a request for `row` can be routed.
fn routable(services: &Services, row: &ModelEntry) -> bool {
    let Some(provider) = services.registry().provider(&row.provider) else {
        return false;
    };
    let built = services.router().providers().get(&provider.id).is_some();
    let usable = row.configured || provider.is_local || !provider.api_keys.is_empty();
    built && usable && services.resolve_request_model(&row.reference).is_ok()
}

fn row_object(services: &Services, row: &ModelEntry) -> Value {
    let mut entry = model_object(&row.reference, &row.provider);
    if let Some(alias) = services.registry().alias_of(&row.model_ref()) {
        entry["alias"] = alias.into();
    }
    entry
}

/// The OpenAI model list: agent targets first, then the routable model rows.
pub fn model_list(services: &Services) -> Value {
    let agents = services
        .agent_ids()
        .iter()
        .map(|agent| model_object(&format!("clawgate/{agent}"), "clawgate"));
    let rows = services
        .registry()
        .models()
        .iter()
        .filter(|row| routable(services, row))
        .map(|row| row_object(services, row));
    let data: Vec<Value> = agents.chain(rows).collect();
    json!({ "object": "list", "data": data })
}

/// One entry of the list, by its id or (for a model) an alias.
fn model_entry(services: &Services, id: &str) -> Option<Value> {
    if let Some(agent) = id.strip_prefix("clawgate/") {
        return services
            .agent_ids()
            .iter()
            .any(|a| a == agent)
            .then(|| model_object(id, "clawgate"));
    }
    let route = services.resolve_request_model(id).ok()?;
    let registry = services.registry();
    let row = registry.model(&clawgate_config::ModelRef {
        provider: route.candidate.provider.clone(),
        model: route.candidate.model.clone(),
    })?;
    routable(services, row).then(|| row_object(services, row))
}

pub(crate) async fn models(Authorized(services): Authorized) -> Response {
    json_response(StatusCode::OK, &model_list(&services))
}

pub(crate) async fn model(Authorized(services): Authorized, Path(id): Path<String>) -> Response {
    match model_entry(&services, &id) {
        Some(entry) => json_response(StatusCode::OK, &entry),
        None => error_response(
            Dialect::OpenAiChat,
            &ApiError::not_found(
                "model_not_found",
                format!("The model '{id}' does not exist or cannot be routed by this gateway"),
            ),
        ),
    }
}
