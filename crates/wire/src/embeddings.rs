//! Embeddings: the canonical request and answer, and their two wire shapes. OpenAI's
//! `POST /v1/embeddings` (also llama.cpp's server, vLLM, LM Studio, LiteLLM, llama-cpp-python)
//! both ways: `input` as a string, a list of strings, a list of token ids or a list of such
//! lists; the answer as floats or, with `encoding_format: "base64"`, as little-endian float32
//! bytes in base64 (what the official Python SDK asks for by default). Ollama's
//! `POST /api/embed` upstream-ward: `input` as a string or list of strings (Ollama takes no
//! token ids), the answer's `embeddings` matrix and `prompt_eval_count`.
//!
//! Normal form: vectors are `f32` (what every server computes in); upstreams are always asked
//! for floats and the client's encoding is applied on the way out.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::WireError;
use crate::json_at::{At, Result};

/// One input to embed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmbeddingInput {
    Text(String),
    /// Token ids (OpenAI-compatible servers only).
    Tokens(Vec<u32>),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EmbeddingRequest {
    pub model: String,
    pub input: Vec<EmbeddingInput>,
    /// Fewer dimensions, for models that allow it.
    pub dimensions: Option<u32>,
    pub user: Option<String>,
}

/// How the client wants the vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EncodingFormat {
    #[default]
    Float,
    Base64,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct EmbeddingResponse {
    pub model: String,
    /// One vector per input, in input order.
    pub vectors: Vec<Vec<f32>>,
    pub prompt_tokens: Option<u64>,
}

/// The OpenAI shape.
pub mod openai {
    use super::*;

    const DIALECT: &str = "openai embeddings";

    fn tokens(at: &At<'_>) -> Result<Vec<u32>> {
        at.items()?
            .iter()
            .map(|t| {
                t.as_u64()
                    .and_then(|n| u32::try_from(n).map_err(|_| t.malformed("token id too large")))
            })
            .collect()
    }

    /// A client's request and the encoding it wants.
    pub fn decode_request(body: &Value) -> Result<(EmbeddingRequest, EncodingFormat)> {
        let root = At::root(body, DIALECT);
        let model = root.req_str("model")?.to_string();
        let input_at = root.req("input")?;
        let input = match input_at.value {
            Value::String(s) => vec![EmbeddingInput::Text(s.clone())],
            Value::Array(items) if items.is_empty() => {
                return Err(input_at.malformed("`input` must not be empty"));
            }
            Value::Array(items) if items.iter().all(Value::is_number) => {
                vec![EmbeddingInput::Tokens(tokens(&input_at)?)]
            }
            Value::Array(_) => input_at
                .items()?
                .iter()
                .map(|item| match item.value {
                    Value::String(s) => Ok(EmbeddingInput::Text(s.clone())),
                    Value::Array(_) => Ok(EmbeddingInput::Tokens(tokens(item)?)),
                    _ => Err(item.malformed("expected a string or a list of token ids")),
                })
                .collect::<Result<_>>()?,
            _ => {
                return Err(input_at
                    .malformed("expected a string, a list of strings or a list of token ids"));
            }
        };
        let format = match root.opt_str("encoding_format")? {
            None | Some("float") => EncodingFormat::Float,
            Some("base64") => EncodingFormat::Base64,
            Some(other) => {
                let at = root.req("encoding_format")?;
                return Err(at.malformed(format!(
                    "expected \"float\" or \"base64\", found \"{other}\""
                )));
            }
        };
        let request = EmbeddingRequest {
            model,
            input,
            dimensions: root.opt_u32("dimensions")?,
            user: root.opt_str("user")?.map(str::to_string),
        };
        Ok((request, format))
    }

    /// The body sent upstream (floats always).
    pub fn encode_request(request: &EmbeddingRequest) -> Value {
        let input: Vec<Value> = request
            .input
            .iter()
            .map(|i| match i {
                EmbeddingInput::Text(t) => json!(t),
                EmbeddingInput::Tokens(t) => json!(t),
            })
            .collect();
        let mut body = json!({
            "model": request.model,
            "input": input,
            "encoding_format": "float",
        });
        if let Some(d) = request.dimensions {
            body["dimensions"] = json!(d);
        }
        if let Some(u) = &request.user {
            body["user"] = json!(u);
        }
        body
    }

    fn vector(at: &At<'_>) -> Result<Vec<f32>> {
        match at.value {
            Value::String(b64) => {
                let bytes = STANDARD
                    .decode(b64)
                    .map_err(|e| at.malformed(format!("bad base64: {e}")))?;
                if bytes.len() % 4 != 0 {
                    return Err(at.malformed("base64 vector is not a list of float32"));
                }
                Ok(bytes
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect())
            }
            Value::Array(items) => items
                .iter()
                .map(|v| {
                    v.as_f64()
                        .map(|f| f as f32)
                        .ok_or_else(|| at.malformed("expected a list of numbers"))
                })
                .collect(),
            _ => Err(at.malformed("expected a list of numbers or a base64 string")),
        }
    }

    /// An upstream's answer (vectors put in `index` order).
    pub fn decode_response(body: &Value) -> Result<EmbeddingResponse> {
        let root = At::root(body, DIALECT);
        let mut rows: Vec<(u64, Vec<f32>)> = Vec::new();
        for (n, item) in root.items_at("data")?.iter().enumerate() {
            let index = item.opt_u64("index")?.unwrap_or(n as u64);
            rows.push((index, vector(&item.req("embedding")?)?));
        }
        rows.sort_by_key(|(i, _)| *i);
        let usage = root.get("usage");
        let prompt_tokens = match &usage {
            Some(u) => u.opt_u64("prompt_tokens")?,
            None => None,
        };
        Ok(EmbeddingResponse {
            model: root.opt_str("model")?.unwrap_or_default().to_string(),
            vectors: rows.into_iter().map(|(_, v)| v).collect(),
            prompt_tokens,
        })
    }

    /// The answer a client gets, in the encoding it asked for.
    pub fn encode_response(response: &EmbeddingResponse, format: EncodingFormat) -> Value {
        let data: Vec<Value> = response
            .vectors
            .iter()
            .enumerate()
            .map(|(index, v)| {
                let embedding = match format {
                    EncodingFormat::Float => json!(v),
                    EncodingFormat::Base64 => {
                        let bytes: Vec<u8> = v.iter().flat_map(|f| f.to_le_bytes()).collect();
                        json!(STANDARD.encode(bytes))
                    }
                };
                json!({ "object": "embedding", "index": index, "embedding": embedding })
            })
            .collect();
        let tokens = response.prompt_tokens.unwrap_or(0);
        json!({
            "object": "list",
            "data": data,
            "model": response.model,
            "usage": { "prompt_tokens": tokens, "total_tokens": tokens },
        })
    }
}

/// Ollama's `/api/embed`.
pub mod ollama {
    use super::*;

    const DIALECT: &str = "ollama embed";

    /// The body sent upstream; token-id inputs are refused (Ollama takes text only).
    pub fn encode_request(request: &EmbeddingRequest) -> std::result::Result<Value, WireError> {
        let mut input = Vec::with_capacity(request.input.len());
        for (n, i) in request.input.iter().enumerate() {
            match i {
                EmbeddingInput::Text(t) => input.push(json!(t)),
                EmbeddingInput::Tokens(_) => {
                    return Err(WireError::Malformed {
                        dialect: DIALECT,
                        path: format!("$.input[{n}]"),
                        message: "Ollama embeds text only, not token ids".into(),
                    });
                }
            }
        }
        let mut body = json!({ "model": request.model, "input": input });
        if let Some(d) = request.dimensions {
            body["dimensions"] = json!(d);
        }
        Ok(body)
    }

    pub fn decode_response(body: &Value) -> Result<EmbeddingResponse> {
        let root = At::root(body, DIALECT);
        let vectors = root
            .items_at("embeddings")?
            .iter()
            .map(|row| {
                row.items()?
                    .iter()
                    .map(|v| {
                        v.value
                            .as_f64()
                            .map(|f| f as f32)
                            .ok_or_else(|| v.malformed("expected a number"))
                    })
                    .collect::<Result<Vec<f32>>>()
            })
            .collect::<Result<_>>()?;
        Ok(EmbeddingResponse {
            model: root.opt_str("model")?.unwrap_or_default().to_string(),
            vectors,
            prompt_tokens: root.opt_u64("prompt_eval_count")?,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn openai_inputs_in_every_shape() {
        let (r, f) = openai::decode_request(&json!({"model": "m", "input": "one"})).unwrap();
        assert_eq!(r.input, [EmbeddingInput::Text("one".into())]);
        assert_eq!(f, EncodingFormat::Float);
        let (r, _) = openai::decode_request(&json!({"model": "m", "input": ["a", "b"]})).unwrap();
        assert_eq!(r.input.len(), 2);
        let (r, _) = openai::decode_request(&json!({"model": "m", "input": [1, 2, 3]})).unwrap();
        assert_eq!(r.input, [EmbeddingInput::Tokens(vec![1, 2, 3])]);
        let (r, f) = openai::decode_request(
            &json!({"model": "m", "input": [[1], [2, 3]], "encoding_format": "base64",
                    "dimensions": 8, "user": "u"}),
        )
        .unwrap();
        assert_eq!(r.input[1], EmbeddingInput::Tokens(vec![2, 3]));
        assert_eq!(
            (f, r.dimensions, r.user.as_deref()),
            (EncodingFormat::Base64, Some(8), Some("u"))
        );
        let bad = openai::decode_request(&json!({"model": "m", "input": [true]})).unwrap_err();
        assert_eq!(
            bad.to_string(),
            "malformed openai embeddings payload at $.input[0]: expected a string or a list of token ids"
        );
        let bad =
            openai::decode_request(&json!({"model": "m", "input": "x", "encoding_format": "hex"}))
                .unwrap_err();
        assert!(bad.to_string().contains("$.encoding_format"));
        assert!(openai::decode_request(&json!({"model": "m", "input": []})).is_err());
    }

    #[test]
    fn vectors_round_trip_as_floats_and_base64() {
        let response = EmbeddingResponse {
            model: "m".into(),
            vectors: vec![vec![0.5, -1.25], vec![3.0, 0.0]],
            prompt_tokens: Some(4),
        };
        for format in [EncodingFormat::Float, EncodingFormat::Base64] {
            let body = openai::encode_response(&response, format);
            assert_eq!(body["usage"]["prompt_tokens"], 4);
            assert_eq!(
                openai::decode_response(&body).unwrap(),
                response,
                "{format:?}"
            );
        }
        let b64 = openai::encode_response(&response, EncodingFormat::Base64);
        // 0.5f32, -1.25f32 little-endian.
        assert_eq!(b64["data"][0]["embedding"], "AAAAPwAAoL8=");
    }

    #[test]
    fn upstream_answers_are_put_in_index_order() {
        let body = json!({"data": [
            {"index": 1, "embedding": [2.0]}, {"index": 0, "embedding": [1.0]}],
            "model": "m", "usage": {"prompt_tokens": 3, "total_tokens": 3}});
        let r = openai::decode_response(&body).unwrap();
        assert_eq!(r.vectors, [vec![1.0], vec![2.0]]);
        assert_eq!(r.prompt_tokens, Some(3));
    }

    #[test]
    fn ollama_embed_shape() {
        let request = EmbeddingRequest {
            model: "nomic".into(),
            input: vec![EmbeddingInput::Text("hi".into())],
            dimensions: None,
            user: Some("ignored".into()),
        };
        assert_eq!(
            ollama::encode_request(&request).unwrap(),
            json!({"model": "nomic", "input": ["hi"]})
        );
        let tokens = EmbeddingRequest {
            input: vec![EmbeddingInput::Tokens(vec![1])],
            ..request
        };
        assert!(
            ollama::encode_request(&tokens)
                .unwrap_err()
                .to_string()
                .contains("token ids")
        );
        let r = ollama::decode_response(
            &json!({"model": "nomic", "embeddings": [[0.1, 0.2]], "prompt_eval_count": 2}),
        )
        .unwrap();
        assert_eq!(r.vectors, [vec![0.1f32, 0.2f32]]);
        assert_eq!(r.prompt_tokens, Some(2));
    }
}
