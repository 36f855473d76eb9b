//! Embeddings routes: OpenAI's `POST /v1/embeddings` (also llama.cpp's server, vLLM and
//! llama-cpp-python) and Ollama's `POST /api/embed`. Vectors are computed from the input so a
//! test can tell which input a vector belongs to: for a text, `[characters, words, first byte,
//! last byte]`; for token ids, `[count, sum, first, last]`. OpenAI answers honour
//! `encoding_format: "base64"` (little-endian float32). `Quirk::NoEmbeddings` answers as
//! llama.cpp's server started without `--embeddings` does.

use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode, Uri};
use serde_json::{Value, json};

use crate::app::{Shared, error_response, header_script, json_response, pre_answer};
use crate::errors::{ErrorReply, bad_request};
use crate::inbound::Dialect;
use crate::script::Quirk;
use crate::server::ConnectionHandle;

/// The vector of one text.
pub fn text_vector(text: &str) -> Vec<f32> {
    let bytes = text.as_bytes();
    vec![
        text.chars().count() as f32,
        text.split_whitespace().count() as f32,
        bytes.first().copied().unwrap_or(0) as f32,
        bytes.last().copied().unwrap_or(0) as f32,
    ]
}

fn token_vector(tokens: &[Value]) -> Option<Vec<f32>> {
    let ids: Vec<f64> = tokens.iter().map(Value::as_f64).collect::<Option<_>>()?;
    Some(vec![
        ids.len() as f32,
        ids.iter().sum::<f64>() as f32,
        ids.first().copied().unwrap_or(0.0) as f32,
        ids.last().copied().unwrap_or(0.0) as f32,
    ])
}

/// One vector per input (`None`: the input has a shape no server takes).
fn vectors(input: &Value, tokens_allowed: bool) -> Option<Vec<Vec<f32>>> {
    match input {
        Value::String(text) => Some(vec![text_vector(text)]),
        Value::Array(items) if tokens_allowed && items.iter().all(Value::is_number) => {
            Some(vec![token_vector(items)?])
        }
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|item| match item {
                Value::String(text) => Some(text_vector(text)),
                Value::Array(ids) if tokens_allowed => token_vector(ids),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// llama.cpp's answer when started without `--embeddings`.
fn no_embeddings(dialect: Dialect) -> ErrorReply {
    let message = "This server does not support embeddings. Start it with `--embeddings`";
    let body = match dialect {
        Dialect::Ollama => json!({"error": message}),
        _ => json!({"error": {"code": 501, "message": message, "type": "not_supported_error"}}),
    };
    ErrorReply {
        status: StatusCode::NOT_IMPLEMENTED,
        body,
        retry_after: None,
    }
}

/// Records the request, applies the plan's latency and faults; `Err` ends the exchange.
async fn begin(
    shared: &Shared,
    conn: &ConnectionHandle,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    raw: &Bytes,
    dialect: Dialect,
) -> Result<Value, Response> {
    let body: Value = serde_json::from_slice(raw).unwrap_or(Value::Null);
    let header = header_script(headers);
    shared.record(method, uri, headers, body.clone());
    let header = header.map_err(|msg| error_response(&bad_request(dialect, &msg)))?;
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let plan = shared.plan(header, uri.path(), Some(model), true);
    if let Some(response) = pre_answer(&plan, conn, dialect, model).await {
        return Err(response);
    }
    if plan.has(Quirk::NoEmbeddings) {
        return Err(error_response(&no_embeddings(dialect)));
    }
    Ok(body)
}

pub(crate) async fn openai_embeddings(
    State(shared): State<Arc<Shared>>,
    Extension(conn): Extension<ConnectionHandle>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    let dialect = Dialect::OpenAiChat;
    let body = match begin(&shared, &conn, &method, &uri, &headers, &raw, dialect).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let Some(rows) = body.get("input").and_then(|input| vectors(input, true)) else {
        let reply = bad_request(dialect, "'input' must be a string, strings or token ids");
        return error_response(&reply);
    };
    let base64 = body.get("encoding_format").and_then(Value::as_str) == Some("base64");
    let data: Vec<Value> = rows
        .iter()
        .enumerate()
        .map(|(index, v)| {
            let embedding = if base64 {
                let bytes: Vec<u8> = v.iter().flat_map(|f| f.to_le_bytes()).collect();
                json!(STANDARD.encode(bytes))
            } else {
                json!(v)
            };
            json!({"object": "embedding", "index": index, "embedding": embedding})
        })
        .collect();
    let tokens: f32 = rows.iter().map(|v| v[1].max(1.0)).sum();
    json_response(
        StatusCode::OK,
        &json!({"object": "list", "data": data, "model": body["model"],
                "usage": {"prompt_tokens": tokens as u64, "total_tokens": tokens as u64}}),
    )
}

pub(crate) async fn ollama_embed(
    State(shared): State<Arc<Shared>>,
    Extension(conn): Extension<ConnectionHandle>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    let dialect = Dialect::Ollama;
    let body = match begin(&shared, &conn, &method, &uri, &headers, &raw, dialect).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let Some(rows) = body.get("input").and_then(|input| vectors(input, false)) else {
        return error_response(&bad_request(dialect, "invalid input type"));
    };
    let tokens: f32 = rows.iter().map(|v| v[1].max(1.0)).sum();
    json_response(
        StatusCode::OK,
        &json!({"model": body["model"], "embeddings": rows,
                "total_duration": 1000, "load_duration": 10,
                "prompt_eval_count": tokens as u64}),
    )
}
