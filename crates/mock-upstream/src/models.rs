//! Model listing and discovery routes, in each server's shape: OpenAI/vLLM `GET /v1/models`
//! (Anthropic's shape when the request carries `anthropic-version`), Ollama `/api/tags`,
//! `/api/show` (`model_info["<arch>.context_length"]`, `num_ctx` in `parameters` when the
//! model runs with less than its trained length, `capabilities`), `/api/ps`,
//! `/api/version`, and LM Studio's native `/api/v0/models` (`state`, `max_context_length`,
//! `loaded_context_length`) and `/api/v1/models` (`loaded_instances[].config.context_length`).
//! Listings take queued scripts only when the script names their path (`when_path`).

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode, Uri};
use serde_json::{Value, json};

use crate::app::{Shared, error_response, header_script, json_response, pre_answer};
use crate::config::MockModel;
use crate::errors::bad_request;
use crate::inbound::Dialect;
use crate::server::ConnectionHandle;

/// Records the request and applies latency and faults; `Err(response)` ends the exchange.
async fn begin(
    shared: &Shared,
    conn: &ConnectionHandle,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Value,
    errors_as: Dialect,
) -> Result<(), Response> {
    let header = header_script(headers);
    shared.record(method, uri, headers, body);
    let header = header.map_err(|msg| error_response(&bad_request(errors_as, &msg)))?;
    let plan = shared.plan(header, uri.path(), None, false);
    match pre_answer(&plan, conn, errors_as, "").await {
        Some(response) => Err(response),
        None => Ok(()),
    }
}

macro_rules! listing {
    ($shared:ident, $conn:ident, $method:ident, $uri:ident, $headers:ident, $body:expr, $dialect:expr) => {
        if let Err(r) = begin(
            &$shared, &$conn, &$method, &$uri, &$headers, $body, $dialect,
        )
        .await
        {
            return r;
        }
    };
}

pub(crate) async fn openai_models(
    State(shared): State<Arc<Shared>>,
    Extension(conn): Extension<ConnectionHandle>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let anthropic = headers.contains_key("anthropic-version");
    let dialect = if anthropic {
        Dialect::Anthropic
    } else {
        Dialect::OpenAiChat
    };
    listing!(shared, conn, method, uri, headers, Value::Null, dialect);
    let models = &shared.config.models;
    let body = if anthropic {
        let data: Vec<Value> = models
            .iter()
            .map(|m| {
                json!({"type": "model", "id": m.id, "display_name": m.id,
                       "created_at": "2025-01-01T00:00:00Z"})
            })
            .collect();
        json!({"data": data, "has_more": false,
               "first_id": models.first().map(|m| &m.id),
               "last_id": models.last().map(|m| &m.id)})
    } else {
        let data: Vec<Value> = models
            .iter()
            .map(|m| {
                json!({"id": m.id, "object": "model", "created": 0, "owned_by": "mock-upstream",
                       "max_model_len": m.context_length})
            })
            .collect();
        json!({"object": "list", "data": data})
    };
    json_response(StatusCode::OK, &body)
}

fn ollama_details(m: &MockModel) -> Value {
    json!({"parent_model": "", "format": "gguf", "family": m.arch, "families": [m.arch],
           "parameter_size": "1B", "quantization_level": "Q4_K_M"})
}

fn digest(m: &MockModel) -> String {
    // Stable per id; not a real hash, only the shape matters.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in m.id.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}{h:016x}{h:016x}{h:016x}")
}

pub(crate) async fn ollama_tags(
    State(shared): State<Arc<Shared>>,
    Extension(conn): Extension<ConnectionHandle>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    listing!(
        shared,
        conn,
        method,
        uri,
        headers,
        Value::Null,
        Dialect::Ollama
    );
    let models: Vec<Value> = shared
        .config
        .models
        .iter()
        .map(|m| {
            json!({"name": m.id, "model": m.id, "modified_at": "2025-01-01T00:00:00Z",
                   "size": 1_000_000_000u64, "digest": digest(m), "details": ollama_details(m)})
        })
        .collect();
    json_response(StatusCode::OK, &json!({"models": models}))
}

pub(crate) async fn ollama_show(
    State(shared): State<Arc<Shared>>,
    Extension(conn): Extension<ConnectionHandle>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let name = json
        .get("model")
        .or_else(|| json.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    listing!(shared, conn, method, uri, headers, json, Dialect::Ollama);
    let Some(m) = shared.config.find_model(&name) else {
        return json_response(
            StatusCode::NOT_FOUND,
            &json!({"error": format!("model '{name}' not found")}),
        );
    };
    let mut info = serde_json::Map::new();
    info.insert("general.architecture".into(), Value::from(m.arch.as_str()));
    info.insert(
        "general.parameter_count".into(),
        Value::from(1_000_000_000u64),
    );
    info.insert(
        format!("{}.context_length", m.arch),
        Value::from(m.trained_context()),
    );
    // A model run with less than its trained length has `num_ctx` in its model file.
    let parameters = if m.context_length == m.trained_context() {
        String::new()
    } else {
        format!(
            "stop                           \"<|im_end|>\"\nnum_ctx                        {}",
            m.context_length
        )
    };
    let body = json!({
        "license": "", "modelfile": "", "parameters": parameters, "template": "{{ .Prompt }}",
        "details": ollama_details(m), "model_info": info, "capabilities": m.capabilities,
        "modified_at": "2025-01-01T00:00:00Z",
    });
    json_response(StatusCode::OK, &body)
}

pub(crate) async fn ollama_ps(
    State(shared): State<Arc<Shared>>,
    Extension(conn): Extension<ConnectionHandle>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    listing!(
        shared,
        conn,
        method,
        uri,
        headers,
        Value::Null,
        Dialect::Ollama
    );
    let models: Vec<Value> = shared
        .config
        .models
        .iter()
        .filter(|m| m.loaded)
        .map(|m| {
            json!({"name": m.id, "model": m.id, "size": 1_000_000_000u64, "digest": digest(m),
                   "details": ollama_details(m), "expires_at": "2099-01-01T00:00:00Z",
                   "size_vram": 0, "context_length": m.context_length})
        })
        .collect();
    json_response(StatusCode::OK, &json!({"models": models}))
}

pub(crate) async fn ollama_version(
    State(shared): State<Arc<Shared>>,
    Extension(conn): Extension<ConnectionHandle>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    listing!(
        shared,
        conn,
        method,
        uri,
        headers,
        Value::Null,
        Dialect::Ollama
    );
    json_response(StatusCode::OK, &json!({"version": "0.12.6"}))
}

fn lmstudio_v0_entry(m: &MockModel) -> Value {
    let mut entry = json!({
        "id": m.id, "object": "model", "type": "llm", "publisher": "mock-upstream",
        "arch": m.arch, "compatibility_type": "gguf", "quantization": "Q4_K_M",
        "state": if m.loaded { "loaded" } else { "not-loaded" },
        "max_context_length": m.trained_context(),
    });
    if m.loaded {
        entry["loaded_context_length"] = Value::from(m.context_length);
    }
    if m.capabilities.iter().any(|c| c == "tools") {
        entry["capabilities"] = json!(["tool_use"]);
    }
    entry
}

pub(crate) async fn lmstudio_v0_models(
    State(shared): State<Arc<Shared>>,
    Extension(conn): Extension<ConnectionHandle>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    listing!(
        shared,
        conn,
        method,
        uri,
        headers,
        Value::Null,
        Dialect::OpenAiChat
    );
    let data: Vec<Value> = shared.config.models.iter().map(lmstudio_v0_entry).collect();
    json_response(StatusCode::OK, &json!({"object": "list", "data": data}))
}

pub(crate) async fn lmstudio_v0_model(
    State(shared): State<Arc<Shared>>,
    Extension(conn): Extension<ConnectionHandle>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    listing!(
        shared,
        conn,
        method,
        uri,
        headers,
        Value::Null,
        Dialect::OpenAiChat
    );
    match shared.config.find_model(&id) {
        Some(m) => json_response(StatusCode::OK, &lmstudio_v0_entry(m)),
        None => json_response(
            StatusCode::NOT_FOUND,
            &json!({"error": format!("Model {id} not found")}),
        ),
    }
}

pub(crate) async fn lmstudio_v1_models(
    State(shared): State<Arc<Shared>>,
    Extension(conn): Extension<ConnectionHandle>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    listing!(
        shared,
        conn,
        method,
        uri,
        headers,
        Value::Null,
        Dialect::OpenAiChat
    );
    let models: Vec<Value> = shared
        .config
        .models
        .iter()
        .map(|m| {
            let instances: Vec<Value> = if m.loaded {
                vec![json!({"id": m.id, "config": {"context_length": m.context_length}})]
            } else {
                Vec::new()
            };
            json!({
                "type": "llm", "publisher": "mock-upstream", "key": m.id, "display_name": m.id,
                "architecture": m.arch,
                "quantization": {"name": "Q4_K_M", "bits_per_weight": 4.5},
                "size_bytes": 1_000_000_000u64, "params_string": "1B",
                "loaded_instances": instances, "max_context_length": m.trained_context(),
                "format": "gguf",
                "capabilities": {"vision": false,
                                 "trained_for_tool_use": m.capabilities.iter().any(|c| c == "tools")},
            })
        })
        .collect();
    json_response(StatusCode::OK, &json!({"models": models}))
}

/// Any other path: recorded, then FastAPI's 404 (what llama-cpp-python answers).
pub(crate) async fn not_found(
    State(shared): State<Arc<Shared>>,
    Extension(conn): Extension<ConnectionHandle>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    listing!(
        shared,
        conn,
        method,
        uri,
        headers,
        json,
        Dialect::OpenAiChat
    );
    json_response(StatusCode::NOT_FOUND, &json!({"detail": "Not Found"}))
}
