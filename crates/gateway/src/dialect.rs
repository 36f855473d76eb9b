//! The inbound dialects the gateway serves, and everything that differs between them on the
//! way out: request decoding, the stream encoder and its framing, the full-response encoder,
//! response ids and the error body shape. One closed enum dispatching to the wire crate's
//! codecs (Ollama's answers through `ollama_answer`, which adds the timings it measures).

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use clawgate_wire::ollama::Endpoint;
use clawgate_wire::{Request, Response, StreamEncoder, WireError};
use serde_json::{Value, json};

use crate::ollama_answer;
use crate::sse_body::Framing;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// `POST /v1/chat/completions`.
    OpenAiChat,
    /// `POST /v1/responses`.
    OpenAiResponses,
    /// `POST /v1/messages`.
    Anthropic,
    /// `POST /api/chat` (Ollama).
    OllamaChat,
    /// `POST /api/generate` (Ollama).
    OllamaGenerate,
}

/// Per-request encoder choices the client made in its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamOptions {
    /// Chat: `stream_options.include_usage` (the SDKs choke on an unrequested usage chunk).
    pub include_usage: bool,
    /// Send reasoning (routed model calls) or not (agent targets deliver final text only;
    /// Ollama clients that said `think: false`).
    pub reasoning: bool,
    /// When the gateway took the request (Ollama's `total_duration` counts from here).
    pub started: Instant,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Dialect {
    /// The dialect whose error shape an answer on `path` takes: `/v1/messages…` is Anthropic,
    /// `/v1/responses…` Responses, Ollama's `/api/…` Ollama's, everything else OpenAI's chat
    /// shape. Used for refusals made before a handler runs (the HTTP layer, the browser guard,
    /// authentication), which only know the path.
    pub fn for_path(path: &str) -> Dialect {
        if path.starts_with("/api/") {
            Dialect::OllamaChat
        } else if path.starts_with("/v1/messages") {
            Dialect::Anthropic
        } else if path.starts_with("/v1/responses") {
            Dialect::OpenAiResponses
        } else {
            Dialect::OpenAiChat
        }
    }

    /// Short stable name, used as the `route` metrics label.
    pub fn route(self) -> &'static str {
        match self {
            Dialect::OpenAiChat => "chat_completions",
            Dialect::OpenAiResponses => "responses",
            Dialect::Anthropic => "messages",
            Dialect::OllamaChat => "ollama_chat",
            Dialect::OllamaGenerate => "ollama_generate",
        }
    }

    /// The Ollama endpoint this dialect serves, if it is one of Ollama's.
    pub fn ollama_endpoint(self) -> Option<Endpoint> {
        match self {
            Dialect::OllamaChat => Some(Endpoint::Chat),
            Dialect::OllamaGenerate => Some(Endpoint::Generate),
            _ => None,
        }
    }

    pub fn decode_request(self, body: &Value) -> Result<Request, WireError> {
        match self {
            Dialect::OpenAiChat => clawgate_wire::openai_chat::decode_request(body),
            Dialect::OpenAiResponses => clawgate_wire::openai_responses::decode_request(body),
            Dialect::Anthropic => clawgate_wire::anthropic::decode_request(body),
            Dialect::OllamaChat => clawgate_wire::ollama::decode_request(body),
            Dialect::OllamaGenerate => clawgate_wire::ollama::decode_generate_request(body),
        }
    }

    /// The client's stream knobs from its raw body; `started` is when the request came in.
    pub fn stream_options(self, body: &Value, started: Instant) -> StreamOptions {
        let include_usage = match self {
            Dialect::OpenAiChat => body
                .get("stream_options")
                .and_then(|o| o.get("include_usage"))
                .and_then(Value::as_bool)
                .unwrap_or(false),
            // The other dialects' streams always carry usage.
            _ => true,
        };
        // Ollama: `think: false` asks for no thinking; whatever an upstream reasons anyway is
        // not sent.
        let reasoning =
            self.ollama_endpoint().is_none() || body.get("think") != Some(&Value::Bool(false));
        StreamOptions {
            include_usage,
            reasoning,
            started,
        }
    }

    /// How a streamed answer is framed on the wire.
    pub fn framing(self) -> Framing {
        match self.ollama_endpoint() {
            Some(_) => Framing::Ndjson,
            None => Framing::Sse,
        }
    }

    /// What keeps a client's connection alive while the router holds a stream back (no
    /// event of the answer may be sent yet): an SSE comment for the OpenAI dialects (every
    /// SSE parser skips it), Anthropic's own `ping` event for `/v1/messages` (its SDKs skip
    /// pings wherever they come, also before `message_start`).
    pub fn keep_alive(self) -> &'static [u8] {
        match self {
            Dialect::OpenAiChat | Dialect::OpenAiResponses => b": keep-alive\n\n",
            Dialect::Anthropic => b"event: ping\ndata: {\"type\":\"ping\"}\n\n",
            // Ollama clients parse every line as JSON and the server itself sends nothing while
            // a model loads: nothing, the open response is the keep-alive.
            Dialect::OllamaChat | Dialect::OllamaGenerate => b"",
        }
    }

    /// A fresh response id in the dialect's style.
    pub fn new_id(self) -> String {
        let id = uuid::Uuid::new_v4().simple().to_string();
        match self {
            Dialect::OpenAiChat => format!("chatcmpl-{id}"),
            Dialect::OpenAiResponses => format!("resp_{id}"),
            Dialect::Anthropic => format!("msg_{id}"),
            // Ollama answers carry no id; this one only names the request in logs.
            Dialect::OllamaChat | Dialect::OllamaGenerate => format!("ollama-{id}"),
        }
    }

    pub fn stream_encoder(
        self,
        id: &str,
        model: &str,
        options: StreamOptions,
    ) -> Box<dyn StreamEncoder> {
        match self {
            Dialect::OpenAiChat => Box::new(
                clawgate_wire::openai_chat::Encoder::new(id, model)
                    .with_created(unix_now())
                    .with_reasoning(options.reasoning)
                    .with_usage_chunk(options.include_usage),
            ),
            Dialect::OpenAiResponses => Box::new(
                clawgate_wire::openai_responses::Encoder::new(id, model)
                    .with_created_at(unix_now()),
            ),
            Dialect::Anthropic => Box::new(clawgate_wire::anthropic::Encoder::new(id, model)),
            Dialect::OllamaChat => ollama_answer::stream_encoder(Endpoint::Chat, model, options),
            Dialect::OllamaGenerate => {
                ollama_answer::stream_encoder(Endpoint::Generate, model, options)
            }
        }
    }

    /// A whole answer's body text. `first_content` is when its first content arrived (Ollama
    /// reports the time before it as prompt evaluation), when known.
    pub fn response_body(
        self,
        response: &Response,
        options: &StreamOptions,
        first_content: Option<Instant>,
    ) -> String {
        if let Some(endpoint) = self.ollama_endpoint() {
            return ollama_answer::encode_response(endpoint, response, options, first_content)
                .to_string();
        }
        match self {
            Dialect::OpenAiChat => clawgate_wire::openai_chat::write_response(response, unix_now()),
            Dialect::OpenAiResponses => {
                clawgate_wire::openai_responses::write_response(response, unix_now())
            }
            // Anthropic's message has no creation time.
            _ => clawgate_wire::anthropic::encode_response(response).to_string(),
        }
    }

    /// The dialect's error body: `{"error":{"message","type","code"}}` for OpenAI,
    /// `{"type":"error","error":{"type","message"}}` for Anthropic, `{"error":"message"}` for
    /// Ollama.
    pub fn error_body(self, error: &ApiError) -> Value {
        match self {
            Dialect::OllamaChat | Dialect::OllamaGenerate => json!({ "error": error.message }),
            Dialect::OpenAiChat | Dialect::OpenAiResponses => json!({
                "error": {
                    "message": error.message,
                    "type": error.openai_type,
                    "param": Value::Null,
                    "code": error.code,
                }
            }),
            Dialect::Anthropic => json!({
                "type": "error",
                "error": { "type": error.anthropic_type, "message": error.message }
            }),
        }
    }
}

/// One error as every dialect needs it: HTTP status, OpenAI `type` and `code`, Anthropic type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub message: String,
    pub openai_type: &'static str,
    pub code: &'static str,
    pub anthropic_type: &'static str,
    /// `Retry-After` seconds, for 429 and 503.
    pub retry_after: Option<u64>,
}

impl ApiError {
    fn new(
        status: u16,
        openai_type: &'static str,
        code: &'static str,
        anthropic_type: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            message: message.into(),
            openai_type,
            code,
            anthropic_type,
            retry_after: None,
        }
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds.max(1));
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(
            400,
            "invalid_request_error",
            "invalid_request",
            "invalid_request_error",
            message,
        )
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(
            401,
            "authentication_error",
            "invalid_api_key",
            "authentication_error",
            message,
        )
    }

    /// 403: the request may not do this (a cross-site page, a Host name not served here, a
    /// token-less call to an agent that can change files).
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(403, "permission_error", code, "permission_error", message)
    }

    pub fn method_not_allowed(message: impl Into<String>) -> Self {
        Self::new(
            405,
            "invalid_request_error",
            "method_not_allowed",
            "invalid_request_error",
            message,
        )
    }

    pub fn unsupported_media_type(message: impl Into<String>) -> Self {
        Self::new(
            415,
            "invalid_request_error",
            "unsupported_media_type",
            "invalid_request_error",
            message,
        )
    }

    pub fn header_too_large(message: impl Into<String>) -> Self {
        Self::new(
            431,
            "invalid_request_error",
            "request_header_fields_too_large",
            "invalid_request_error",
            message,
        )
    }

    /// Any other status the HTTP stack answered with on its own.
    pub fn http_status(status: u16, message: impl Into<String>) -> Self {
        if status >= 500 {
            Self::new(status, "server_error", "server_error", "api_error", message)
        } else {
            Self::new(
                status,
                "invalid_request_error",
                "invalid_request",
                "invalid_request_error",
                message,
            )
        }
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(
            404,
            "invalid_request_error",
            code,
            "not_found_error",
            message,
        )
    }

    /// 503: the shared state store (PostgreSQL) is unreachable; retry shortly.
    pub fn state_unavailable(message: impl Into<String>) -> Self {
        Self::new(
            503,
            "server_error",
            "state_unavailable",
            "overloaded_error",
            message,
        )
        .with_retry_after(1)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(
            409,
            "invalid_request_error",
            "conflict",
            "invalid_request_error",
            message,
        )
    }

    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(
            413,
            "invalid_request_error",
            "request_too_large",
            "request_too_large",
            message,
        )
    }

    pub fn context_overflow(message: impl Into<String>) -> Self {
        Self::new(
            400,
            "invalid_request_error",
            "context_length_exceeded",
            "invalid_request_error",
            message,
        )
    }

    pub fn rate_limited(message: impl Into<String>) -> Self {
        Self::new(
            429,
            "rate_limit_error",
            "rate_limit_exceeded",
            "rate_limit_error",
            message,
        )
    }

    pub fn overloaded(message: impl Into<String>) -> Self {
        Self::new(
            503,
            "server_error",
            "overloaded",
            "overloaded_error",
            message,
        )
    }

    pub fn bad_gateway(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(502, "server_error", code, "api_error", message)
    }

    pub fn gateway_timeout(message: impl Into<String>) -> Self {
        Self::new(504, "server_error", "timeout", "api_error", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "server_error", "internal_error", "api_error", message)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(503, "server_error", "unavailable", "api_error", message)
    }
}
