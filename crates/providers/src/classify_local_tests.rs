//! Local servers' wordings read from their sources (llama.cpp `tools/server`, Ollama
//! `llm/llama_server.go` + `server/routes.go`, vLLM's renderer and scheduler, SGLang's
//! `validate_input_length`) and from captured answers (LM Studio), plus the two predicates
//! the adapters act on: a missing endpoint (bridge Responses to chat) and a model without
//! tool support (retry without tools).

use clawgate_wire::WireError;

use super::tests::{Case, OVERFLOW_WORDS, check_http, overflow};
use super::*;

#[test]
fn overflow_wordings_of_local_servers() {
    check_http(&[
        (
            "llama.cpp: generation filled the context (500)",
            500,
            r#"{"error":{"code":500,"message":"Context size has been exceeded.","type":"server_error"}}"#,
            overflow(None, None),
            OVERFLOW_WORDS,
        ),
        (
            "llama.cpp: request too big, newer wording with counts",
            400,
            r#"{"error":{"code":400,"message":"request (5000 tokens) exceeds the available context size (4096 tokens), try increasing it","type":"exceed_context_size_error"}}"#,
            overflow(Some(5000), Some(4096)),
            OVERFLOW_WORDS,
        ),
        (
            "llama.cpp: older KV-size wording (500)",
            500,
            r#"{"error":{"code":500,"message":"Input prompt is too big compared to KV size. Please try increasing KV size.","type":"server_error"}}"#,
            overflow(None, None),
            OVERFLOW_WORDS,
        ),
        (
            "LM Studio: context size (400, plain error string)",
            400,
            r#"{"error":"Context size has been exceeded."}"#,
            overflow(None, None),
            OVERFLOW_WORDS,
        ),
        (
            "LM Studio: engine error passed on (500)",
            500,
            r#"{"error":"Engine protocol predict stream returned an error: {code:500, message:'Context size has been exceeded'}"}"#,
            overflow(None, None),
            OVERFLOW_WORDS,
        ),
        (
            "LM Studio: n_keep over n_ctx",
            400,
            r#"{"error":"The number of tokens to keep from the initial prompt is greater than the context length (n_keep: 10978 >= n_ctx: 8192). Try to load the model with a larger context length, or provide a shorter input"}"#,
            overflow(Some(10978), Some(8192)),
            OVERFLOW_WORDS,
        ),
        (
            "Ollama: prompt longer than the loaded context",
            400,
            r#"{"error":"the prompt is longer than the context length currently available to the model; shorten the prompt, adjust the context length in settings, or use a model with a longer context length"}"#,
            overflow(None, None),
            OVERFLOW_WORDS,
        ),
        (
            "Ollama: after truncation",
            500,
            r#"{"error":"input after truncation exceeds maximum context length"}"#,
            overflow(None, None),
            OVERFLOW_WORDS,
        ),
        (
            "Ollama: older runner",
            500,
            r#"{"error":"prompt too long; exceeded max context length by 1200 tokens"}"#,
            overflow(None, None),
            OVERFLOW_WORDS,
        ),
        (
            "vLLM: total with output tokens",
            400,
            r#"{"error":{"message":"This model's maximum context length is 8192 tokens. However, you requested 64 output tokens and your prompt contains at least 8129 input tokens, for a total of at least 8193 tokens. Please reduce the length of the input prompt or the number of requested output tokens.","type":"BadRequestError","param":"input_tokens","code":400}}"#,
            overflow(Some(8193), Some(8192)),
            OVERFLOW_WORDS,
        ),
        (
            "vLLM: scheduler limit",
            400,
            r#"{"object":"error","message":"Input prompt (35247 tokens) is too long and exceeds limit of 32768","type":"BadRequestError","param":null,"code":400}"#,
            overflow(Some(35247), Some(32768)),
            OVERFLOW_WORDS,
        ),
        (
            "SGLang: scheduler input length",
            400,
            r#"{"object":"error","message":"Input length (5000 tokens) exceeds the maximum allowed length (4096 tokens). Use a shorter input or enable --allow-auto-truncate.","type":"BadRequestError","param":null,"code":400}"#,
            overflow(Some(5000), Some(4096)),
            OVERFLOW_WORDS,
        ),
    ]);
}

#[test]
fn context_size_exceeded_inside_a_stream_is_overflow() {
    // llama.cpp's SSE error event after the 200 (the wording the issue found as `format`).
    let err = classify_wire_error(
        &WireError::Upstream {
            status: Some(500),
            code: Some("500".into()),
            message: "Context size has been exceeded.".into(),
        },
        &[],
    );
    assert_eq!(err.kind, overflow(None, None));
    let err = classify_wire_error(
        &WireError::Upstream {
            status: None,
            code: None,
            message: "Context size has been exceeded.".into(),
        },
        &[],
    );
    assert_eq!(err.kind, overflow(None, None));
}

#[test]
fn a_model_without_tools_is_format_and_recognised() {
    let ollama = r#"{"error":"registry.ollama.ai/library/gemma3:4b does not support tools"}"#;
    let ollama_v1 = r#"{"error":{"message":"registry.ollama.ai/library/gemma3:4b does not support tools","type":"invalid_request_error","param":null,"code":null}}"#;
    let cases: &[Case] = &[
        (
            "Ollama /api/chat",
            400,
            ollama,
            FailureKind::Format,
            TOOLS_UNSUPPORTED_RULE,
        ),
        (
            "Ollama /v1/chat/completions",
            400,
            ollama_v1,
            FailureKind::Format,
            TOOLS_UNSUPPORTED_RULE,
        ),
        (
            "Ollama: think on a model without thinking",
            400,
            r#"{"error":"\"gemma3\" does not support thinking"}"#,
            FailureKind::Format,
            "400/422 bad request",
        ),
    ];
    check_http(cases);
    assert!(is_tools_unsupported(Some(400), ollama));
    assert!(is_tools_unsupported(Some(400), ollama_v1));
    assert!(!is_tools_unsupported(
        Some(400),
        r#"{"error":"\"gemma3\" does not support thinking"}"#
    ));
    assert!(
        !is_tools_unsupported(Some(500), ollama),
        "only a 4xx says so"
    );
}

#[test]
fn missing_endpoints_are_told_from_other_404s() {
    let litellm = r#"{"error":{"message":"litellm.NotFoundError: NotFoundError: OpenAIException - {\"detail\":\"Not Found\"}. Received Model Group=gemma\nAvailable Model Group Fallbacks=None","type":"invalid_request_error","param":null,"code":"404"}}"#;
    for (status, body) in [
        (404, ""),
        (405, ""),
        (501, "  \n"),
        (404, r#"{"detail":"Not Found"}"#),
        (405, r#"{"detail":"Method Not Allowed"}"#),
        (404, "404 page not found"),
        (501, "Not Implemented"),
        (404, litellm),
    ] {
        assert!(is_missing_endpoint(status, body), "{status} {body:?}");
    }
    for (status, body) in [
        (
            404,
            r#"{"object":"error","message":"The model `foo` does not exist.","type":"NotFoundError","param":null,"code":404}"#,
        ),
        (
            404,
            r#"{"error":"model \"llama9\" not found, try pulling it first"}"#,
        ),
        (400, ""),
        (500, ""),
        (
            404,
            r#"{"error":{"message":"litellm.NotFoundError: Invalid model name passed in model=x","code":"404"}}"#,
        ),
    ] {
        assert!(!is_missing_endpoint(status, body), "{status} {body:?}");
    }
}
