//! Error answers as real servers write them. Status faults use the dialect's own error shape
//! (`{"error":{message,type,param,code}}` for OpenAI, `{"type":"error","error":{type,message}}`
//! for Anthropic, `{"error":"…"}` for Ollama); context overflows use the *server's* shape and
//! wording, collected from the servers' code and from captured responses, because clawgate's
//! classifier must recognise each of them. Also the crate's own error type.

use http::StatusCode;
use serde_json::{Value, json};

use crate::inbound::Dialect;
use crate::script::{Fault, OverflowServer};

/// The message of every mid-stream error event.
pub const MID_STREAM_MESSAGE: &str = "mock upstream: error in the middle of the stream";

/// An error status, its JSON body and an optional `Retry-After` (seconds).
#[derive(Debug, Clone)]
pub struct ErrorReply {
    pub status: StatusCode,
    pub body: Value,
    pub retry_after: Option<u64>,
}

/// The answer to a status fault (429/500/503/401/402/404), or `None` for other faults.
pub fn status_fault(d: Dialect, fault: Fault, model: &str, retry_after: u64) -> Option<ErrorReply> {
    // (status, OpenAI type, OpenAI code, OpenAI message, Anthropic type, Anthropic message, Ollama message)
    let (status, o_type, o_code, o_msg, a_type, a_msg, ol_msg): (
        StatusCode,
        &str,
        Value,
        String,
        &str,
        String,
        String,
    ) = match fault {
        Fault::Status429 => (
            StatusCode::TOO_MANY_REQUESTS,
            "requests",
            json!("rate_limit_exceeded"),
            format!("Rate limit reached for {model}. Please try again in {retry_after}s."),
            "rate_limit_error",
            "This request would exceed the rate limit for your organization. Please retry later."
                .into(),
            "rate limit exceeded".into(),
        ),
        Fault::Status500 => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            Value::Null,
            "The server had an error while processing your request. Sorry about that!".into(),
            "api_error",
            "Internal server error".into(),
            "an unexpected error occurred".into(),
        ),
        Fault::Status503 => (
            StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            Value::Null,
            "The server is overloaded or not ready yet.".into(),
            "overloaded_error",
            "Overloaded".into(),
            "server busy, please try again.  maximum pending requests exceeded".into(),
        ),
        Fault::Status401 => (
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            json!("invalid_api_key"),
            "Incorrect API key provided: sk-mock****. You can find your API key at https://platform.openai.com/account/api-keys.".into(),
            "authentication_error",
            "invalid x-api-key".into(),
            "unauthorized".into(),
        ),
        Fault::Status402 => (
            StatusCode::PAYMENT_REQUIRED,
            "insufficient_quota",
            json!("insufficient_quota"),
            "Insufficient credits: payment required. Check your plan and billing details.".into(),
            "billing_error",
            "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.".into(),
            "payment required".into(),
        ),
        Fault::ModelNotFound => (
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            json!("model_not_found"),
            format!("The model `{model}` does not exist or you do not have access to it."),
            "not_found_error",
            format!("model: {model}"),
            format!("model \"{model}\" not found, try pulling it first"),
        ),
        _ => return None,
    };
    let body = match d {
        Dialect::OpenAiChat | Dialect::OpenAiResponses => {
            json!({"error": {"message": o_msg, "type": o_type, "param": null, "code": o_code}})
        }
        Dialect::Anthropic => json!({"type": "error", "error": {"type": a_type, "message": a_msg}}),
        Dialect::Ollama => json!({"error": ol_msg}),
    };
    let retry_after = (fault == Fault::Status429).then_some(retry_after);
    Some(ErrorReply {
        status,
        body,
        retry_after,
    })
}

/// The server whose overflow wording a dialect gets by default.
pub fn default_overflow_server(d: Dialect) -> OverflowServer {
    match d {
        Dialect::OpenAiChat | Dialect::OpenAiResponses => OverflowServer::Openai,
        Dialect::Anthropic => OverflowServer::Anthropic,
        Dialect::Ollama => OverflowServer::Ollama,
    }
}

/// A context-overflow rejection in `server`'s status, shape and wording.
pub fn overflow(server: OverflowServer, d: Dialect, limit: u64, requested: u64) -> ErrorReply {
    let completion = 16u64.min(requested);
    let prompt = requested - completion;
    let bad = StatusCode::BAD_REQUEST;
    let body = match server {
        OverflowServer::LlamaCppPython => json!({"error": {
            "message": format!("This model's maximum context length is {limit} tokens. However, you requested {requested} tokens ({prompt} in the messages, {completion} in the completion). Please reduce the length of the messages or completion."),
            "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}}),
        OverflowServer::LlamaServer => json!({"error": {
            "code": 400,
            "message": format!("request ({requested} tokens) exceeds the available context size ({limit} tokens), try increasing it"),
            "type": "exceed_context_size_error", "n_prompt_tokens": requested, "n_ctx": limit}}),
        OverflowServer::Vllm => json!({"error": {
            "message": format!("This model's maximum context length is {limit} tokens. However, your request has {requested} input tokens. Please reduce the length of the input messages. None"),
            "type": "BadRequestError", "param": null, "code": 400}}),
        OverflowServer::Sglang => json!({
            "object": "error",
            "message": format!("The input ({requested} tokens) is longer than the model's context length ({limit} tokens)."),
            "type": "BadRequestError", "param": null, "code": 400}),
        OverflowServer::LmStudio => json!({"error": format!(
            "Trying to keep the first {requested} tokens when context the overflows. However, the model is loaded with context length of only {limit} tokens, which is not enough. Try to load the model with a larger context length, or provide a shorter input")}),
        OverflowServer::Ollama => json!({"error": "the input length exceeds the context length"}),
        OverflowServer::Openai if d == Dialect::OpenAiResponses => json!({"error": {
            "message": "Your input exceeds the context window of this model. Please adjust your input and try again.",
            "type": "invalid_request_error", "param": "input", "code": "context_length_exceeded"}}),
        OverflowServer::Openai => json!({"error": {
            "message": format!("This model's maximum context length is {limit} tokens. However, your messages resulted in {requested} tokens. Please reduce the length of the messages."),
            "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}}),
        OverflowServer::Anthropic => json!({"type": "error", "error": {
            "type": "invalid_request_error",
            "message": format!("prompt is too long: {requested} tokens > {limit} maximum")}}),
        OverflowServer::Litellm => json!({"error": {
            "message": format!("litellm.ContextWindowExceededError: litellm.BadRequestError: ContextWindowExceededError: OpenAIException - This model's maximum context length is {limit} tokens. However, you requested {requested} tokens ({prompt} in the messages, {completion} in the completion). Please reduce the length of the messages or completion."),
            "type": "invalid_request_error", "param": null, "code": "400"}}),
    };
    ErrorReply {
        status: bad,
        body,
        retry_after: None,
    }
}

/// A request the mock itself cannot read (bad JSON, bad `x-mock-script`): 400, dialect shape.
pub fn bad_request(d: Dialect, message: &str) -> ErrorReply {
    let body = match d {
        Dialect::OpenAiChat | Dialect::OpenAiResponses => json!({"error": {
            "message": message, "type": "invalid_request_error", "param": null, "code": null}}),
        Dialect::Anthropic => json!({"type": "error", "error": {
            "type": "invalid_request_error", "message": message}}),
        Dialect::Ollama => json!({"error": message}),
    };
    ErrorReply {
        status: StatusCode::BAD_REQUEST,
        body,
        retry_after: None,
    }
}

/// The crate's error type.
#[derive(Debug, thiserror::Error)]
pub enum MockError {
    #[error("cannot bind {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot read the bound address: {0}")]
    LocalAddr(std::io::Error),
}
