//! Ollama's API in front of every model and agent, for the many tools that speak only Ollama.
//! `POST /api/chat` and `POST /api/generate` take the path of every inbound dialect (auth,
//! limits, the router with its fallbacks, agent turns; answers as NDJSON lines or one JSON
//! object, see `ollama_answer`). This module adds what is Ollama's own: the model list
//! (`GET /api/tags`), model details (`POST /api/show`), `GET /api/version`, `GET /api/ps`,
//! and the steps an Ollama request takes before it is routed: a `:latest` tag that Ollama's
//! tools append is dropped when only the bare name routes, and an empty conversation (or
//! prompt) is Ollama's "load the model" call, answered here without calling an upstream.
//! `/` is not served here: Ollama answers "Ollama is running" there; the gateway's own page
//! lives at `/`.

use axum::Json;
use axum::body::Bytes;
use axum::response::{IntoResponse, Response};
use clawgate_config::ModelEntry;
use clawgate_config::schema::ApiKind;
use clawgate_runtime::Services;
use clawgate_wire::Request;
use clawgate_wire::ollama::Endpoint;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::authorized::Authorized;
use crate::dialect::{ApiError, Dialect};
use crate::error_response::error_response;
use crate::models_api::model_list;
use crate::ollama_answer::created_at_now;
use crate::target::{Target, parse_target};

/// What `GET /api/version` reports: the Ollama API release whose shapes the gateway follows
/// (clients compare it to decide which features to use), not clawgate's own version.
pub const OLLAMA_API_VERSION: &str = "0.33.0";

/// The tag Ollama's tools add to a name that has none.
const LATEST_TAG: &str = ":latest";

pub(crate) async fn api_version() -> Response {
    Json(json!({ "version": OLLAMA_API_VERSION })).into_response()
}

pub(crate) async fn api_tags(Authorized(services): Authorized) -> Response {
    Json(tags(&services)).into_response()
}

/// `GET /api/ps`: the models loaded in memory. The gateway loads none itself (the upstream
/// servers do, and it cannot see theirs), so the list is empty.
pub(crate) async fn api_ps(Authorized(_services): Authorized) -> Response {
    Json(json!({ "models": [] })).into_response()
}

pub(crate) async fn api_show(Authorized(services): Authorized, body: Bytes) -> Response {
    match show(&services, &body) {
        Ok(details) => Json(details).into_response(),
        Err(error) => error_response(Dialect::OllamaChat, &error),
    }
}

/// True when `name` routes somewhere: a known agent target, or a model ref or alias.
fn routes(services: &Services, name: &str) -> bool {
    match parse_target(name) {
        Target::Agent(None) => true,
        Target::Agent(Some(id)) => services.agent_ids().iter().any(|a| a == id),
        Target::Model(model) => services.resolve_model(model).is_ok(),
    }
}

/// `name` without its `:latest` tag, when only the bare name routes.
fn without_latest_tag(services: &Services, name: &str) -> Option<String> {
    let bare = name.strip_suffix(LATEST_TAG)?;
    (!routes(services, name) && routes(services, bare)).then(|| bare.to_string())
}

fn not_found(name: &str) -> ApiError {
    ApiError::not_found("model_not_found", format!("model '{name}' not found"))
}

/// `keep_alive: 0` (a number, or a duration string of zero): unload the model.
fn unloads(body: &Value) -> bool {
    match body.get("keep_alive") {
        Some(Value::Number(n)) => n.as_f64() == Some(0.0),
        Some(Value::String(s)) => {
            let s = s.trim();
            s == "0" || humantime::parse_duration(s).is_ok_and(|d| d.is_zero())
        }
        _ => false,
    }
}

/// The steps of an Ollama request before routing (`body` is its raw JSON). `Some` is the
/// whole answer: Ollama's "load" (`done_reason: "load"`) for a request with nothing to
/// answer, "unload" with `keep_alive: 0`, or a 404 for a name that routes nowhere.
pub(crate) fn before_routing(
    services: &Services,
    dialect: Dialect,
    request: &mut Request,
    body: &Value,
) -> Option<Result<Response, ApiError>> {
    let endpoint = dialect.ollama_endpoint()?;
    if let Some(bare) = without_latest_tag(services, &request.model) {
        request.model = bare;
    }
    if !request.messages.is_empty() {
        return None;
    }
    if !routes(services, &request.model) {
        return Some(Err(not_found(&request.model)));
    }
    let reason = if unloads(body) { "unload" } else { "load" };
    let mut answer = json!({ "model": request.model, "created_at": created_at_now() });
    match endpoint {
        Endpoint::Chat => answer["message"] = json!({ "role": "assistant", "content": "" }),
        Endpoint::Generate => answer["response"] = "".into(),
    }
    answer["done"] = true.into();
    answer["done_reason"] = reason.into();
    Some(Ok(Json(answer).into_response()))
}

/// One listed name: an agent target (no row), a model ref, or an alias of one (`parent`).
struct Listed<'a> {
    name: String,
    row: Option<&'a ModelEntry>,
    parent: Option<String>,
}

/// Every name `/api/tags` lists: those of `/v1/models` (agent targets, then the model refs),
/// each model followed by its aliases.
fn listed(services: &Services) -> Vec<Listed<'_>> {
    let registry = services.registry();
    let list = model_list(services);
    let ids = list["data"].as_array().into_iter().flatten();
    let mut out = Vec::new();
    for id in ids.filter_map(|entry| entry["id"].as_str()) {
        let row = registry.models().iter().find(|m| m.reference == id);
        out.push(Listed {
            name: id.to_string(),
            row,
            parent: None,
        });
        let Some(row) = row else { continue };
        let target = row.model_ref();
        for (alias, _) in registry.aliases().iter().filter(|(_, r)| *r == target) {
            out.push(Listed {
                name: alias.clone(),
                row: Some(row),
                parent: Some(id.to_string()),
            });
        }
    }
    out
}

/// Ollama's `details`. What clawgate cannot know about an upstream's model (its family,
/// parameter count, quantization) is empty; the context window is the row's.
fn details(row: Option<&ModelEntry>, parent: Option<&str>) -> Value {
    let format = match row.map(|r| r.api) {
        Some(ApiKind::LlamaCpp) => "gguf",
        _ => "",
    };
    let mut details = json!({
        "parent_model": parent.unwrap_or(""),
        "format": format,
        "family": "",
        "families": [],
        "parameter_size": "",
        "quantization_level": "",
    });
    if let Some(row) = row {
        details["context_length"] = row.context_window.into();
    }
    details
}

/// A sha256 in Ollama's digest form, of what the name stands for: the model row as
/// configured (so it changes when the row does), or the agent target.
fn digest(listed: &Listed<'_>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(listed.name.as_bytes());
    if let Some(row) = listed.row {
        hasher.update(serde_json::to_string(row).unwrap_or_default().as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The `GET /api/tags` body.
pub fn tags(services: &Services) -> Value {
    let modified_at = humantime::format_rfc3339_nanos(services.built_at()).to_string();
    let models: Vec<Value> = listed(services)
        .iter()
        .map(|listed| {
            json!({
                "name": listed.name,
                "model": listed.name,
                "modified_at": modified_at,
                // Unknown: the weights live on the upstream.
                "size": 0,
                "digest": digest(listed),
                "details": details(listed.row, listed.parent.as_deref()),
            })
        })
        .collect();
    json!({ "models": models })
}

/// What a row can do, in Ollama's capability names.
fn capabilities(row: Option<&ModelEntry>) -> Vec<&'static str> {
    let mut out = vec!["completion"];
    if let Some(row) = row {
        if row.compat.supports_tools != Some(false) {
            out.push("tools");
        }
        if row.reasoning {
            out.push("thinking");
        }
        if row.accepts_images() {
            out.push("vision");
        }
    }
    out
}

/// The `POST /api/show` answer for the body's `model` (or the older `name`).
fn show(services: &Services, body: &[u8]) -> Result<Value, ApiError> {
    let request: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))?;
    let name = ["model", "name"]
        .iter()
        .find_map(|key| request.get(*key)?.as_str())
        .filter(|name| !name.is_empty())
        .ok_or_else(|| ApiError::bad_request("model is required"))?;
    let name = without_latest_tag(services, name).unwrap_or_else(|| name.to_string());
    if !routes(services, &name) {
        return Err(not_found(&name));
    }
    let row = match parse_target(&name) {
        Target::Agent(_) => None,
        Target::Model(model) => {
            let route = services
                .resolve_model(model)
                .map_err(|_| not_found(&name))?;
            let registry = services.registry();
            registry
                .models()
                .iter()
                .find(|m| m.reference == *route.reference)
        }
    };
    let parent = row
        .filter(|r| r.reference != name)
        .map(|r| r.reference.as_str());
    let mut model_info = json!({ "general.architecture": "clawgate" });
    if let Some(row) = row {
        // Clients read `<general.architecture>.context_length` for the window.
        model_info["clawgate.context_length"] = row.context_window.into();
    }
    Ok(json!({
        "details": details(row, parent),
        "model_info": model_info,
        "capabilities": capabilities(row),
        "modified_at": humantime::format_rfc3339_nanos(services.built_at()).to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_alive_zero_unloads() {
        for zero in [json!(0), json!(0.0), json!("0"), json!("0s"), json!(" 0m ")] {
            assert!(unloads(&json!({ "keep_alive": zero })), "{zero}");
        }
        for other in [
            json!(300),
            json!("5m"),
            json!(-1),
            json!(null),
            json!("soon"),
        ] {
            assert!(!unloads(&json!({ "keep_alive": other })), "{other}");
        }
        assert!(!unloads(&json!({})));
    }
}
