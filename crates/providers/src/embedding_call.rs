//! Embeddings over HTTP, for the adapters that have an embeddings route (OpenAI-compatible
//! `/embeddings`, Ollama's `/api/embed`): one POST under the attempt's connect and header
//! timeouts, failures classified like any other call, with one addition: a server that says it
//! has no embeddings (no such route, llama.cpp's server started without `--embeddings`,
//! llama-cpp-python's model loaded without `embedding: true`, vLLM or Ollama serving a model
//! that cannot embed) fails as `format`. That is about this request, not about the provider:
//! nothing cools down, and the next candidate is tried.

use std::time::Duration;

use clawgate_wire::WireError;
use clawgate_wire::embeddings::EmbeddingResponse;
use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::adapters::AdapterCore;
use crate::classify::{classify_transport_error, classify_wire_error, is_missing_endpoint};
use crate::http_call::{PreparedCall, send};
use crate::{CallContext, FailureKind, ProviderError};

/// Time allowed to read the answer's body once its headers came.
const BODY_TIMEOUT: Duration = Duration::from_secs(120);

/// What servers say when they cannot embed (lower case).
const NO_EMBEDDINGS: &[&str] = &[
    "does not support embeddings",
    "does not support embedding",
    "not support the embeddings api",
    "embeddings api",
    "embedding=true",
    "--embeddings",
    "--embedding",
    "embeddings are not enabled",
];

fn cannot_embed(status: u16, body: &str) -> bool {
    let lower = body.to_lowercase();
    is_missing_endpoint(status, body) || NO_EMBEDDINGS.iter().any(|w| lower.contains(w))
}

/// POSTs `body` to `url` and decodes the answer with `decode`.
pub(crate) async fn post_embeddings(
    core: &AdapterCore,
    url: String,
    headers: HeaderMap,
    body: Value,
    ctx: &CallContext,
    decode: fn(&Value) -> Result<EmbeddingResponse, WireError>,
) -> Result<EmbeddingResponse, ProviderError> {
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let call = PreparedCall { url, headers, body };
    let response = match send(&core.client, call, ctx, &core.secrets).await {
        Ok(response) => response,
        Err(refusal) => {
            return Err(match refusal.status {
                Some(status) if cannot_embed(status, &refusal.body) => ProviderError::new(
                    FailureKind::Format,
                    format!(
                        "{} does not serve embeddings for {model}: {}",
                        core.spec.id, refusal.error.message
                    ),
                )
                .with_status(status),
                _ => refusal.error,
            });
        }
    };
    let bytes = match tokio::time::timeout(BODY_TIMEOUT, response.bytes()).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(e)) => return Err(classify_transport_error(&e, &core.secrets)),
        Err(_) => {
            return Err(ProviderError::new(
                FailureKind::Timeout,
                "timed out reading the embeddings answer",
            ));
        }
    };
    let json: Value = serde_json::from_slice(&bytes).map_err(|e| {
        let kind = if e.is_eof() {
            FailureKind::Truncated
        } else {
            FailureKind::ServerError
        };
        ProviderError::new(kind, format!("the embeddings answer is not JSON: {e}"))
    })?;
    let answer = decode(&json).map_err(|e| classify_wire_error(&e, &core.secrets))?;
    if answer.vectors.is_empty() || answer.vectors.iter().any(Vec::is_empty) {
        return Err(ProviderError::new(
            FailureKind::EmptyResponse,
            format!("{} answered without embedding vectors", core.spec.id),
        ));
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_that_cannot_embed_are_told_apart() {
        let cases = [
            (
                501,
                r#"{"error":{"code":501,"message":"This server does not support embeddings. Start it with `--embeddings`","type":"not_supported_error"}}"#,
            ),
            (
                500,
                r#"{"error":{"message":"Llama model must be created with embedding=True to call this method","type":"internal_server_error"}}"#,
            ),
            (
                400,
                r#"{"object":"error","message":"The model does not support Embeddings API","type":"BadRequestError","code":400}"#,
            ),
            (404, r#"{"detail":"Not Found"}"#),
            (405, ""),
        ];
        for (status, body) in cases {
            assert!(cannot_embed(status, body), "{status} {body}");
        }
        assert!(!cannot_embed(500, r#"{"error":"out of memory"}"#));
        assert!(!cannot_embed(
            401,
            r#"{"error":{"message":"invalid api key"}}"#
        ));
    }
}
