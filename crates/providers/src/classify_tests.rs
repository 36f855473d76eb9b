//! The classification table, tested with real error bodies: every body quoted in the
//! upstream-quirks notes (llama-cpp-python, LiteLLM) and the documented wordings of vLLM,
//! SGLang, LM Studio, Ollama and llama.cpp's own server (hosted providers' bodies are in
//! `classify_hosted_tests.rs`). Each case also checks which table row fired, so a reordering
//! that changes the reason for a right answer shows up.

use std::time::Duration;

use clawgate_wire::WireError;

use super::*;
use crate::classify_table::RULES;
use crate::secret::Secret;

pub(super) fn overflow(requested: Option<u64>, limit: Option<u64>) -> FailureKind {
    FailureKind::ContextOverflow { requested, limit }
}

pub(super) fn rate(secs: Option<f64>) -> FailureKind {
    FailureKind::RateLimit {
        retry_after: secs.map(Duration::from_secs_f64),
    }
}

/// (label, status, body, expected kind, expected rule name)
pub(super) type Case = (&'static str, u16, &'static str, FailureKind, &'static str);

pub(super) fn check_http(cases: &[Case]) {
    for (label, status, body, expected, rule) in cases {
        let err = classify_http_error(*status, None, body, &[]);
        assert_eq!(err.kind, *expected, "{label}: kind ({})", err.message);
        assert_eq!(err.status, Some(*status), "{label}: status");
        let fields = extract_error_fields(Some(*status), body);
        let fired = matching_rule(&fields)
            .and_then(|i| RULES.get(i))
            .map(|r| r.name);
        assert_eq!(fired, Some(*rule), "{label}: rule");
    }
}

pub(super) const OVERFLOW_WORDS: &str = "overflow wording";

#[test]
fn quirks_doc_llama_cpp_python_and_litellm_bodies() {
    check_http(&[
        (
            "llama-cpp-python overflow (non-stream 400)",
            400,
            r#"{"error":{"message":"This model's maximum context length is 4096 tokens. However, you requested 13915 tokens (13899 in the messages, 16 in the completion). Please reduce the length of the messages or completion.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#,
            overflow(Some(13915), Some(4096)),
            OVERFLOW_WORDS,
        ),
        (
            "llama-cpp-python: no /v1/responses",
            404,
            r#"{"detail":"Not Found"}"#,
            FailureKind::ModelNotFound,
            "404/410 not found",
        ),
        (
            "llama-cpp-python: malformed JSON",
            500,
            "Internal Server Error",
            FailureKind::ServerError,
            "5xx server error",
        ),
        (
            "LiteLLM: wrong key",
            400,
            r#"{"error":{"message":"No connected db.","type":"no_db_connection","param":null,"code":"400"}}"#,
            FailureKind::Auth,
            "auth wording",
        ),
        (
            "LiteLLM: /v1/responses on a non-bridged model",
            404,
            r#"{"error":{"message":"litellm.NotFoundError: NotFoundError: OpenAIException - {\"detail\":\"Not Found\"}. Received Model Group=gemma","type":"invalid_request_error","param":null,"code":"404"}}"#,
            FailureKind::ModelNotFound,
            "404/410 not found",
        ),
        (
            "LiteLLM: all deployments cooling down",
            429,
            r#"{"error":{"message":"No deployments available for selected model, Try again in 5 seconds. All deployments for selected model are in cooldown. Received Model Group=gemma","type":"all_deployments_in_cooldown","param":null,"code":"429"}}"#,
            rate(Some(5.0)),
            "429 too many requests",
        ),
        (
            "LiteLLM: overflow (code lost, message kept)",
            400,
            r#"{"error":{"message":"litellm.ContextWindowExceededError: litellm.BadRequestError: ContextWindowExceededError: OpenAIException - This model's maximum context length is 4096 tokens. However, you requested 13915 tokens (13899 in the messages, 16 in the completion). Please reduce the length of the messages or completion.","type":"invalid_request_error","param":null,"code":"400"}}"#,
            overflow(Some(13915), Some(4096)),
            OVERFLOW_WORDS,
        ),
    ]);
    // LiteLLM with no Authorization header answers a bare 500: indistinguishable from a crash.
    let err = classify_http_error(500, None, "Internal Server Error", &[]);
    assert_eq!(err.kind, FailureKind::ServerError);
}

#[test]
fn quirks_doc_in_stream_errors() {
    // llama-cpp-python's log line for the empty-200 overflow stream.
    let err = classify_wire_error(
        &WireError::Upstream {
            status: None,
            code: None,
            message: "Requested tokens (13899) exceed context window of 4096".into(),
        },
        &[],
    );
    assert_eq!(err.kind, overflow(Some(13899), Some(4096)));
    // LiteLLM's `response.failed` on a bridged tool-call stream.
    let err = classify_wire_error(
        &WireError::Upstream {
            status: None,
            code: Some("server_error".into()),
            message:
                "litellm.APIError: Error building chunks for logging/streaming usage calculation"
                    .into(),
        },
        &[],
    );
    assert_eq!(err.kind, FailureKind::ServerError);
    // Anthropic `event: error` mid-stream.
    let err = classify_wire_error(
        &WireError::Upstream {
            status: None,
            code: Some("overloaded_error".into()),
            message: "Overloaded".into(),
        },
        &[],
    );
    assert_eq!(err.kind, FailureKind::Overloaded);
    // OpenRouter mid-stream provider error.
    let err = classify_wire_error(
        &WireError::Upstream {
            status: Some(502),
            code: None,
            message: "Provider disconnected".into(),
        },
        &[],
    );
    assert_eq!(err.kind, FailureKind::ServerError);
    assert_eq!(err.status, Some(502));
    // A statusless 429 code word.
    let err = classify_wire_error(
        &WireError::Upstream {
            status: None,
            code: Some("429".into()),
            message: "slow down".into(),
        },
        &[],
    );
    assert_eq!(err.kind, rate(None));
    assert_eq!(
        classify_wire_error(&WireError::EmptyStream, &[]).kind,
        FailureKind::EmptyResponse
    );
    assert_eq!(
        classify_wire_error(&WireError::Truncated, &[]).kind,
        FailureKind::Truncated
    );
}

#[test]
fn local_server_overflow_wordings() {
    check_http(&[
        (
            "vLLM (classic)",
            400,
            r#"{"object":"error","message":"This model's maximum context length is 4096 tokens. However, you requested 5000 tokens (4000 in the messages, 1000 in the completion). Please reduce the length of the messages or completion.","type":"BadRequestError","param":null,"code":400}"#,
            overflow(Some(5000), Some(4096)),
            OVERFLOW_WORDS,
        ),
        (
            "vLLM (max_tokens too large)",
            400,
            r#"{"error":{"message":"'max_tokens' or 'max_completion_tokens' is too large: 8000. This model's maximum context length is 4096 tokens and your request has 2778 input tokens (8000 > 4096 - 2778). None","type":"BadRequestError","param":null,"code":400}}"#,
            overflow(Some(2778), Some(4096)),
            OVERFLOW_WORDS,
        ),
        (
            "vLLM (prompt alone too long)",
            400,
            r#"{"error":{"message":"This model's maximum context length is 4096 tokens. However, your request has 5000 input tokens. Please reduce the length of the input messages. None","type":"BadRequestError","param":null,"code":400}}"#,
            overflow(Some(5000), Some(4096)),
            OVERFLOW_WORDS,
        ),
        (
            "vLLM (decoder prompt)",
            400,
            r#"{"object":"error","message":"The decoder prompt (length 12324) is longer than the maximum model length of 8192. Make sure that `max_model_len` is no smaller than the number of text tokens.","type":"BadRequestError","param":null,"code":400}"#,
            overflow(Some(12324), Some(8192)),
            OVERFLOW_WORDS,
        ),
        (
            "SGLang (total)",
            400,
            r#"{"object":"error","message":"Requested token count exceeds the model's maximum context length of 4096 tokens. You requested a total of 5120 tokens: 4096 tokens from the input messages and 1024 tokens for the completion. Please reduce the number of tokens in the input messages or the completion to fit within the limit.","type":"BadRequestError","param":null,"code":400}"#,
            overflow(Some(5120), Some(4096)),
            OVERFLOW_WORDS,
        ),
        (
            "SGLang (input)",
            400,
            r#"{"object":"error","message":"The input (5000 tokens) is longer than the model's context length (4096 tokens).","type":"BadRequestError","param":null,"code":400}"#,
            overflow(Some(5000), Some(4096)),
            OVERFLOW_WORDS,
        ),
        (
            "LM Studio (keep first N)",
            400,
            r#"{"error":"Trying to keep the first 6269 tokens when context the overflows. However, the model is loaded with context length of only 4096 tokens, which is not enough. Try to load the model with a larger context length, or provide a shorter input"}"#,
            overflow(Some(6269), Some(4096)),
            OVERFLOW_WORDS,
        ),
        (
            "LM Studio (loaded context only)",
            400,
            r#"{"error":"The model is loaded with context length of only 4096 tokens, which is not enough. Try to load the model with a larger context length, or provide a shorter input"}"#,
            overflow(None, Some(4096)),
            OVERFLOW_WORDS,
        ),
        (
            "Ollama",
            400,
            r#"{"error":"the input length exceeds the context length"}"#,
            overflow(None, None),
            OVERFLOW_WORDS,
        ),
        (
            "llama.cpp server",
            400,
            r#"{"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error","n_prompt_tokens":5000,"n_ctx":4096}}"#,
            overflow(Some(5000), Some(4096)),
            OVERFLOW_WORDS,
        ),
        (
            "bare 413",
            413,
            "Payload Too Large",
            overflow(None, None),
            "413 payload too large",
        ),
    ]);
}

#[test]
fn local_server_other_errors() {
    check_http(&[
        (
            "vLLM unknown model",
            404,
            r#"{"object":"error","message":"The model `foo` does not exist.","type":"NotFoundError","param":null,"code":404}"#,
            FailureKind::ModelNotFound,
            "unknown model wording",
        ),
        (
            "Ollama unknown model",
            404,
            r#"{"error":"model \"llama9\" not found, try pulling it first"}"#,
            FailureKind::ModelNotFound,
            "unknown model wording",
        ),
        (
            "llama.cpp loading",
            503,
            r#"{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}"#,
            FailureKind::Overloaded,
            "503/529 unavailable",
        ),
        (
            "LiteLLM bad proxy token",
            401,
            r#"{"error":{"message":"Authentication Error, Invalid proxy server token passed. Received API Key = sk-...1234","type":"auth_error","param":"None","code":"401"}}"#,
            FailureKind::Auth,
            "401/403",
        ),
    ]);
}

#[test]
fn every_rule_fires_for_some_case_and_every_regex_compiles() {
    for (i, rule) in RULES.iter().enumerate() {
        if let crate::classify_table::TextMatch::Regex(p) = rule.text {
            assert!(regex::Regex::new(p).is_ok(), "rule {i} regex");
        }
    }
    // Rules not already exercised above, each with a minimal input.
    let cases: &[(Option<u16>, &str, &str)] = &[
        (Some(402), "", "402 payment required"),
        (Some(429), "", "429 too many requests"),
        (Some(529), "", "503/529 unavailable"),
        (
            None,
            "got 401 from upstream",
            "401/403 code in a statusless error",
        ),
        (
            None,
            "the read timed out",
            "timeout wording (no status or 5xx)",
        ),
        (
            None,
            "internal server error",
            "server error wording (no status)",
        ),
        (
            None,
            "string should match pattern '^a'",
            "request format wording (no status)",
        ),
        (Some(422), "", "400/422 bad request"),
    ];
    for (status, message, rule) in cases {
        let fields = UpstreamErrorFields {
            status: *status,
            message: message.to_string(),
            ..UpstreamErrorFields::default()
        };
        let fired = matching_rule(&fields)
            .and_then(|i| RULES.get(i))
            .map(|r| r.name);
        assert_eq!(fired, Some(*rule), "{message:?}");
    }
    let unknown = UpstreamErrorFields {
        status: None,
        message: "something odd".into(),
        ..UpstreamErrorFields::default()
    };
    assert_eq!(classify_fields(&unknown, None), FailureKind::Unknown);
}

#[test]
fn retry_after_header_wins_over_text() {
    let body = r#"{"error":{"message":"Rate limit reached. Please try again in 20s."}}"#;
    let err = classify_http_error(429, Some(Duration::from_secs(3)), body, &[]);
    assert_eq!(err.kind, rate(Some(3.0)));
    let err = classify_http_error(429, None, body, &[]);
    assert_eq!(err.kind, rate(Some(20.0)));
    assert_eq!(
        parse_retry_after_text("try again in 500ms"),
        Some(Duration::from_millis(500))
    );
    assert_eq!(
        parse_retry_after_text("Try again in 2 minutes"),
        Some(Duration::from_secs(120))
    );
}

#[test]
fn retry_after_headers() {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert(
        "retry-after",
        reqwest::header::HeaderValue::from_static("7"),
    );
    assert_eq!(parse_retry_after_headers(&h), Some(Duration::from_secs(7)));
    h.insert(
        "retry-after-ms",
        reqwest::header::HeaderValue::from_static("1500"),
    );
    assert_eq!(
        parse_retry_after_headers(&h),
        Some(Duration::from_millis(1500))
    );
}

#[test]
fn echoed_keys_are_redacted_from_messages() {
    let key = Secret::new("sk-proj-Q9w8E7r6T5y4U3i2O1p0AsDfGhJk");
    let body = r#"{"error":{"message":"Incorrect API key provided: sk-proj-Q9w8E7r6T5y4U3i2O1p0AsDfGhJk.","code":"invalid_api_key"}}"#;
    let err = classify_http_error(401, None, body, std::slice::from_ref(&key));
    assert_eq!(err.kind, FailureKind::Auth);
    assert!(!err.message.contains(key.expose()), "{}", err.message);
    assert!(!format!("{err:?}").contains(key.expose()));
    let err = classify_wire_error(
        &WireError::Upstream {
            status: None,
            code: None,
            message: format!("bad key {}", key.expose()),
        },
        std::slice::from_ref(&key),
    );
    assert!(!err.message.contains(key.expose()));
}

#[test]
fn long_bodies_are_shortened() {
    let body = "x".repeat(5000);
    let err = classify_http_error(500, None, &body, &[]);
    assert!(err.message.chars().count() < 1100);
}

#[test]
fn transport_decisions() {
    use std::io::ErrorKind;
    let net = |cause| FailureKind::Network { cause };
    assert_eq!(transport_kind(true, None, ""), FailureKind::Timeout);
    assert_eq!(
        transport_kind(false, Some(ErrorKind::ConnectionRefused), ""),
        net(NetworkCause::Refused)
    );
    assert_eq!(
        transport_kind(false, Some(ErrorKind::ConnectionReset), ""),
        net(NetworkCause::Reset)
    );
    assert_eq!(
        transport_kind(
            false,
            None,
            "error sending request: client error (connect): dns error: failed to lookup address information"
        ),
        net(NetworkCause::Dns)
    );
    assert_eq!(
        transport_kind(false, None, "invalid peer certificate: unknownissuer"),
        net(NetworkCause::Tls)
    );
    assert_eq!(
        transport_kind(false, None, "connection closed before message completed"),
        net(NetworkCause::Reset)
    );
    assert_eq!(
        transport_kind(false, None, "weird"),
        net(NetworkCause::Other)
    );
}
