//! Error answers as real servers write them. Status faults use the dialect's own error shape
//! (`{"error":{message,type,param,code}}` for OpenAI, `{"type":"error","error":{type,message}}`
//! for Anthropic, `{"error":"…"}` for Ollama); context overflows use the *server's* shape and
//! wording, collected from the servers' code and from captured responses, because clawgate's
//! classifier must recognise each of them. Also the crate's own error type.

use http::StatusCode;
use serde_json::{Value, json};

use crate::inbound::Dialect;
use crate::script::{Fault, OverflowServer, Quirk};

/// The message of every mid-stream error event.
pub const MID_STREAM_MESSAGE: &str = "mock upstream: error in the middle of the stream";

/// An error status, its JSON body (`Null`: an empty body, as servers without a route send)
/// and an optional `Retry-After` (seconds).
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
    let status = match server {
        OverflowServer::LlamaServerContextSize
        | OverflowServer::LlamaServerKvSize
        | OverflowServer::OllamaPromptTooLong => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
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
        // Issue 10, wire side: wordings read from the servers' sources.
        OverflowServer::LlamaServerContextSize => json!({"error": {
            "code": 500, "message": CONTEXT_SIZE_EXCEEDED, "type": "server_error"}}),
        OverflowServer::LlamaServerKvSize => json!({"error": {
            "code": 500,
            "message": "Input prompt is too big compared to KV size. Please try increasing KV size.",
            "type": "server_error"}}),
        OverflowServer::LmStudioContextSize => json!({"error": CONTEXT_SIZE_EXCEEDED}),
        OverflowServer::LmStudioKeep => json!({"error": format!(
            "The number of tokens to keep from the initial prompt is greater than the context length (n_keep: {requested} >= n_ctx: {limit}). Try to load the model with a larger context length, or provide a shorter input")}),
        OverflowServer::OllamaPromptLonger => json!({"error":
            "the prompt is longer than the context length currently available to the model; shorten the prompt, adjust the context length in settings, or use a model with a longer context length"}),
        OverflowServer::OllamaPromptTooLong => json!({"error": format!(
            "prompt too long; exceeded max context length by {} tokens", requested.saturating_sub(limit))}),
        OverflowServer::VllmTotal => json!({"error": {
            "message": format!("This model's maximum context length is {limit} tokens. However, you requested {completion} output tokens and your prompt contains at least {prompt} input tokens, for a total of at least {requested} tokens. Please reduce the length of the input prompt or the number of requested output tokens."),
            "type": "BadRequestError", "param": "input_tokens", "code": 400}}),
        OverflowServer::SglangInputLength => json!({
            "object": "error",
            "message": format!("Input length ({requested} tokens) exceeds the maximum allowed length ({limit} tokens). Use a shorter input or enable --allow-auto-truncate."),
            "type": "BadRequestError", "param": null, "code": 400}),
    };
    ErrorReply {
        status,
        body,
        retry_after: None,
    }
}

/// llama.cpp's message when generation fills the context (LM Studio passes it on).
pub const CONTEXT_SIZE_EXCEEDED: &str = "Context size has been exceeded.";

/// The refusals of quirks that describe a server without something (issue 10, wire side): no
/// `/v1/responses` route, or a model without tool support. `None` when the request is one the
/// server answers normally.
pub fn quirk_refusal(
    d: Dialect,
    quirks: &[Quirk],
    model: &str,
    offers_tools: bool,
) -> Option<ErrorReply> {
    let empty = |status| ErrorReply {
        status,
        body: Value::Null,
        retry_after: None,
    };
    for quirk in quirks {
        let reply = match quirk {
            Quirk::NoResponsesRoute404 if d == Dialect::OpenAiResponses => {
                empty(StatusCode::NOT_FOUND)
            }
            Quirk::NoResponsesRoute405 if d == Dialect::OpenAiResponses => {
                empty(StatusCode::METHOD_NOT_ALLOWED)
            }
            Quirk::NoResponsesRoute501 if d == Dialect::OpenAiResponses => {
                empty(StatusCode::NOT_IMPLEMENTED)
            }
            Quirk::LitellmNoResponsesRoute if d == Dialect::OpenAiResponses => ErrorReply {
                status: StatusCode::NOT_FOUND,
                body: json!({"error": {
                    "message": format!("litellm.NotFoundError: NotFoundError: OpenAIException - {{\"detail\":\"Not Found\"}}. Received Model Group={model}\nAvailable Model Group Fallbacks=None"),
                    "type": "invalid_request_error", "param": null, "code": "404"}}),
                retry_after: None,
            },
            Quirk::ToolsUnsupported if offers_tools => {
                let message =
                    format!("registry.ollama.ai/library/{model}:latest does not support tools");
                let body = match d {
                    Dialect::Ollama => json!({"error": message}),
                    // Ollama's `/v1` error shape (`openai.NewError`).
                    _ => json!({"error": {"message": message, "type": "invalid_request_error",
                                          "param": null, "code": null}}),
                };
                ErrorReply {
                    status: StatusCode::BAD_REQUEST,
                    body,
                    retry_after: None,
                }
            }
            _ => continue,
        };
        return Some(reply);
    }
    None
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
