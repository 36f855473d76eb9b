//! Every mock-upstream fault mode, in every dialect, streamed and not, ends in the right
//! `FailureKind` (or, for the two hangs, in a stream that stays pending for the router's
//! timeouts, without the provider inventing an end). Mismatches are collected and reported
//! together, so one run shows the whole table.

use std::time::Duration;

use clawgate_providers::{ApiKind, CallContext, FailureKind, NetworkCause};
use futures::StreamExt;
use mock_upstream::{Fault, Script};

use crate::support::*;

/// How long a "nothing more arrives" probe waits. Only used to show a stream stays pending.
const PENDING_PROBE: Duration = Duration::from_millis(300);

fn expected(api: ApiKind, fault: Fault, stream: bool) -> Option<FailureKind> {
    let reset = FailureKind::Network {
        cause: NetworkCause::Reset,
    };
    Some(match fault {
        Fault::Reset | Fault::Close => reset,
        Fault::HangBeforeHeaders => FailureKind::Timeout,
        Fault::HangAfterFirstChunk => return None,
        Fault::ResetAfterFirstChunk => reset,
        Fault::Status429 => FailureKind::RateLimit {
            retry_after: Some(Duration::from_secs(1)),
        },
        Fault::Status500 => FailureKind::ServerError,
        Fault::Status503 => FailureKind::Overloaded,
        Fault::Status401 => FailureKind::Auth,
        Fault::Status402 => FailureKind::Billing,
        Fault::ModelNotFound => FailureKind::ModelNotFound,
        Fault::ErrorInStream if stream && api == ApiKind::AnthropicMessages => {
            FailureKind::Overloaded
        }
        Fault::ErrorInStream => FailureKind::ServerError,
        Fault::Empty200Stream => FailureKind::EmptyResponse,
        Fault::MalformedSse if stream => FailureKind::ServerError,
        Fault::MalformedSse | Fault::TruncatedStream if !stream => FailureKind::Truncated,
        Fault::TruncatedStream => FailureKind::Truncated,
        Fault::ToolCallDiffError if stream && api == ApiKind::AnthropicMessages => {
            FailureKind::Overloaded
        }
        // Not streamed, the broken tool call is a whole, good answer.
        Fault::ToolCallDiffError if !stream => return None,
        Fault::ToolCallDiffError => FailureKind::ServerError,
        Fault::ContextOverflow => match api {
            ApiKind::OpenAiCompletions | ApiKind::AnthropicMessages => {
                FailureKind::ContextOverflow {
                    requested: Some(9192),
                    limit: Some(8192),
                }
            }
            _ => FailureKind::ContextOverflow {
                requested: None,
                limit: None,
            },
        },
        _ => FailureKind::Unknown,
    })
}

/// Faults that come after the first answer frame of a stream: content arrives first.
fn content_before_error(fault: Fault) -> bool {
    matches!(
        fault,
        Fault::ResetAfterFirstChunk
            | Fault::ErrorInStream
            | Fault::TruncatedStream
            | Fault::ToolCallDiffError
    )
}

fn short_ctx() -> CallContext {
    CallContext {
        key_index: 0,
        connect_timeout: Some(Duration::from_millis(200)),
        header_timeout: Some(Duration::from_millis(400)),
    }
}

#[tokio::test]
async fn every_fault_in_every_dialect_is_classified() {
    let mut mismatches = Vec::new();
    for api in APIS {
        let mock = mock().await;
        let p = provider(&spec(&mock, api));
        for fault in Fault::ALL {
            for stream in [true, false] {
                let Some(want) = expected(api, fault, stream) else {
                    continue;
                };
                mock.push_script(Script::fault(fault));
                let out = run_with(&p, request("hello", stream), short_ctx()).await;
                let got = out.error.as_ref().map(|e| e.kind);
                if got != Some(want) {
                    mismatches.push(format!(
                        "{api} {fault} stream={stream}: want {want:?}, got {got:?} ({:?})",
                        out.error.as_ref().map(|e| e.message.as_str())
                    ));
                    continue;
                }
                let saw_content = out.events.iter().any(|e| e.is_content());
                if stream && content_before_error(fault) && !saw_content {
                    mismatches.push(format!("{api} {fault}: no content before the error"));
                }
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[tokio::test]
async fn hang_after_first_chunk_stays_pending_after_content() {
    for api in APIS {
        let mock = mock().await;
        let p = provider(&spec(&mock, api));
        mock.push_script(Script::fault(Fault::HangAfterFirstChunk));
        let stream = tokio::time::timeout(STEP, p.stream(request("hello", true), ctx())).await;
        let Ok(Ok(mut stream)) = stream else {
            panic!("{api}: stream() failed or hung before headers");
        };
        // Events up to and including the first content event arrive.
        loop {
            match tokio::time::timeout(STEP, stream.next()).await {
                Ok(Some(Ok(e))) if e.is_content() => break,
                Ok(Some(Ok(_))) => continue,
                other => panic!("{api}: expected content first, got {other:?}"),
            }
        }
        // Then nothing: the provider does not invent an end (the router's idle timeout acts).
        let next = tokio::time::timeout(PENDING_PROBE, stream.next()).await;
        assert!(
            next.is_err(),
            "{api}: stream should be pending, got {next:?}"
        );
    }
}

#[tokio::test]
async fn hang_before_headers_respects_the_header_timeout() {
    let mock = mock().await;
    let p = provider(&spec(&mock, ApiKind::OpenAiCompletions));
    mock.push_script(Script::fault(Fault::HangBeforeHeaders));
    let out = run_with(&p, request("hello", true), short_ctx()).await;
    assert_eq!(out.error().kind, FailureKind::Timeout);
    assert!(
        out.error().message.contains("response headers"),
        "{}",
        out.error().message
    );
}
