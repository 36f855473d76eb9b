//! One real error body per failure kind for each hosted provider (OpenAI, Anthropic,
//! OpenRouter), checked against the classification table with the row that fired.

use super::tests::{OVERFLOW_WORDS, check_http, overflow, rate};
use crate::FailureKind;

#[test]
fn openai_bodies_one_per_kind() {
    check_http(&[
        (
            "auth",
            401,
            r#"{"error":{"message":"Incorrect API key provided: sk-proj-****abcd. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#,
            FailureKind::Auth,
            "401/403",
        ),
        (
            "auth permanent",
            401,
            r#"{"error":{"message":"Your account has been deactivated. Please contact support.","type":"invalid_request_error","param":null,"code":"account_deactivated"}}"#,
            FailureKind::AuthPermanent,
            "revoked or disabled credentials",
        ),
        (
            "rate limit",
            429,
            r#"{"error":{"message":"Rate limit reached for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, Used 29000, Requested 2000. Please try again in 2.5s. Visit https://platform.openai.com/account/rate-limits to learn more.","type":"tokens","param":null,"code":"rate_limit_exceeded"}}"#,
            rate(Some(2.5)),
            "rate limit wording",
        ),
        (
            "quota (rate limit, as OpenClaw)",
            429,
            r#"{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#,
            rate(None),
            "rate limit wording",
        ),
        (
            "model not found",
            404,
            r#"{"error":{"message":"The model `gpt-9` does not exist or you do not have access to it.","type":"invalid_request_error","param":null,"code":"model_not_found"}}"#,
            FailureKind::ModelNotFound,
            "unknown model wording",
        ),
        (
            "overflow (chat)",
            400,
            r#"{"error":{"message":"This model's maximum context length is 128000 tokens. However, your messages resulted in 130532 tokens. Please reduce the length of the messages.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#,
            overflow(Some(130532), Some(128000)),
            OVERFLOW_WORDS,
        ),
        (
            "overflow (responses)",
            400,
            r#"{"error":{"message":"Your input exceeds the context window of this model. Please adjust your input and try again.","type":"invalid_request_error","param":"input","code":"context_length_exceeded"}}"#,
            overflow(None, None),
            OVERFLOW_WORDS,
        ),
        (
            "format",
            400,
            r#"{"error":{"message":"Invalid 'messages[1].content': string too long. Expected a string with maximum length 10485760, but got a string with length 10485761 instead.","type":"invalid_request_error","param":"messages[1].content","code":"string_above_max_length"}}"#,
            FailureKind::Format,
            "400/422 bad request",
        ),
        (
            "server error",
            500,
            r#"{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}"#,
            FailureKind::ServerError,
            "5xx server error",
        ),
        (
            "overloaded",
            503,
            r#"{"error":{"message":"The engine is currently overloaded, please try again later","type":"server_error","param":null,"code":null}}"#,
            FailureKind::Overloaded,
            "overload wording",
        ),
        (
            "timeout",
            504,
            "<html><body>504 Gateway Time-out</body></html>",
            FailureKind::Timeout,
            "408/504 timeout",
        ),
    ]);
}

#[test]
fn anthropic_bodies_one_per_kind() {
    check_http(&[
        (
            "auth",
            401,
            r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#,
            FailureKind::Auth,
            "401/403",
        ),
        (
            "auth permanent",
            403,
            r#"{"type":"error","error":{"type":"permission_error","message":"Your API key does not have permission to use the specified resource."}}"#,
            FailureKind::AuthPermanent,
            "revoked or disabled credentials",
        ),
        (
            "billing",
            400,
            r#"{"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits."}}"#,
            FailureKind::Billing,
            "billing wording",
        ),
        (
            "rate limit",
            429,
            r#"{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}"#,
            rate(None),
            "rate limit wording",
        ),
        (
            "overloaded",
            529,
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            FailureKind::Overloaded,
            "overload wording",
        ),
        (
            "server error",
            500,
            r#"{"type":"error","error":{"type":"api_error","message":"Internal server error"}}"#,
            FailureKind::ServerError,
            "5xx server error",
        ),
        (
            "model not found",
            404,
            r#"{"type":"error","error":{"type":"not_found_error","message":"model: claude-9"}}"#,
            FailureKind::ModelNotFound,
            "404/410 not found",
        ),
        (
            "overflow",
            400,
            r#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}"#,
            overflow(Some(210000), Some(200000)),
            OVERFLOW_WORDS,
        ),
        (
            "request too large",
            413,
            r#"{"type":"error","error":{"type":"request_too_large","message":"Request exceeds the maximum allowed number of bytes."}}"#,
            overflow(None, None),
            OVERFLOW_WORDS,
        ),
        (
            "format",
            400,
            r#"{"type":"error","error":{"type":"invalid_request_error","message":"messages.1.content.0.tool_result.tool_use_id: unexpected `tool_use_id` found in `tool_result` blocks"}}"#,
            FailureKind::Format,
            "400/422 bad request",
        ),
    ]);
}

#[test]
fn openrouter_bodies_one_per_kind() {
    check_http(&[
        (
            "billing",
            402,
            r#"{"error":{"code":402,"message":"Insufficient credits. Add more using https://openrouter.ai/settings/credits"}}"#,
            FailureKind::Billing,
            "billing wording",
        ),
        (
            "auth",
            401,
            r#"{"error":{"code":401,"message":"No auth credentials found"}}"#,
            FailureKind::Auth,
            "401/403",
        ),
        (
            "rate limit",
            429,
            r#"{"error":{"code":429,"message":"Rate limit exceeded: free-models-per-day"}}"#,
            rate(None),
            "rate limit wording",
        ),
        (
            "overflow",
            400,
            r#"{"error":{"code":400,"message":"This endpoint's maximum context length is 200000 tokens. However, you requested about 250000 tokens (240000 of text input, 10000 in the output). Please reduce the length of either one, or use the \"middle-out\" transform to compress your prompt automatically."}}"#,
            overflow(Some(250000), Some(200000)),
            OVERFLOW_WORDS,
        ),
        (
            "provider error",
            502,
            r#"{"error":{"code":502,"message":"Provider returned error","metadata":{"raw":"upstream connect error","provider_name":"Together"}}}"#,
            FailureKind::ServerError,
            "5xx server error",
        ),
        (
            "timeout",
            408,
            r#"{"error":{"code":408,"message":"Timeout"}}"#,
            FailureKind::Timeout,
            "408/504 timeout",
        ),
        (
            "no endpoints",
            404,
            r#"{"error":{"code":404,"message":"No endpoints found for foo/bar."}}"#,
            FailureKind::ModelNotFound,
            "404/410 not found",
        ),
        (
            "invalid model id",
            400,
            r#"{"error":{"code":400,"message":"foo/bar is not a valid model ID"}}"#,
            FailureKind::ModelNotFound,
            "unknown model wording",
        ),
    ]);
}
