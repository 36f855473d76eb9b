//! Byte-for-byte bodies recorded from llama-cpp-python and LiteLLM (the wire crate's
//! `tests/fixtures/recorded`), replayed through this crate's stream path (framer, decoder,
//! `<think>` splitter, answer guard) and error classification. These are the real servers'
//! quirks: empty-200 overflow, masked `stop`, repeated tool-call headers, a failed bridge stream.

use std::sync::Arc;

use bytes::Bytes;
use clawgate_providers::answer_shaping::ShapingOptions;
use clawgate_providers::body_events::{BodyEvents, Framing};
use clawgate_providers::http_call::{Decoding, complete_body_events};
use clawgate_providers::http_client::TransportError;
use clawgate_providers::tool_call_ids::ToolCallIds;
use clawgate_providers::{FailureKind, OverflowHint, classify_http_error};
use clawgate_wire::{StopReason, openai_chat, openai_responses};
use futures::StreamExt;
use serde_json::Value;

use crate::support::{Outcome, drain};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../wire/tests/fixtures/recorded/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => panic!("{path}: {e}"),
    }
}

fn status_of(name: &str) -> u16 {
    let headers = String::from_utf8_lossy(&fixture(&format!("{name}.headers"))).to_string();
    headers
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[derive(Clone, Copy)]
enum Dialect {
    Chat,
    Responses,
}

fn decoding(d: Dialect, stream: bool, hint: OverflowHint) -> Decoding {
    decoding_with(d, stream, hint, ShapingOptions::default())
}

fn decoding_with(
    d: Dialect,
    stream: bool,
    hint: OverflowHint,
    shaping: ShapingOptions,
) -> Decoding {
    match d {
        Dialect::Chat => Decoding {
            stream,
            framing: Framing::Sse,
            decoder: Box::new(openai_chat::Decoder::new()),
            decode_response: openai_chat::decode_response,
            fast_response: Some(openai_chat::decode_response_fast),
            shaping,
            hint,
        },
        Dialect::Responses => Decoding {
            stream,
            framing: Framing::Sse,
            decoder: Box::new(openai_responses::Decoder::new()),
            decode_response: openai_responses::decode_response,
            fast_response: None,
            shaping,
            hint,
        },
    }
}

const SMALL: OverflowHint = OverflowHint {
    estimated_prompt_tokens: 20,
    context_window: Some(4096),
};
const TOO_BIG: OverflowHint = OverflowHint {
    estimated_prompt_tokens: 9000,
    context_window: Some(4096),
};

/// Replay a recorded stream body in 7-byte pieces (framing must cope with any split).
async fn replay(name: &str, d: Dialect, hint: OverflowHint) -> Outcome {
    replay_with(name, decoding(d, true, hint)).await
}

async fn replay_with(name: &str, decoding: Decoding) -> Outcome {
    let body = fixture(&format!("{name}.body"));
    let pieces: Vec<Result<Bytes, TransportError>> = body
        .chunks(7)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let stream = BodyEvents::new(
        futures::stream::iter(pieces).boxed(),
        decoding,
        Arc::from(Vec::new()),
    )
    .into_stream();
    drain(stream).await
}

fn complete(name: &str, d: Dialect) -> Outcome {
    let body = fixture(&format!("{name}.body"));
    match complete_body_events(&body, &decoding(d, false, SMALL), &[]) {
        Ok(events) => Outcome {
            events,
            error: None,
        },
        Err(e) => Outcome {
            events: Vec::new(),
            error: Some(e),
        },
    }
}

#[tokio::test]
async fn llama_cpp_python_streams() {
    let out = replay("llama-chat-stream", Dialect::Chat, SMALL).await;
    crate::support::assert_well_formed(&out);
    assert!(!out.text().is_empty());
    assert_eq!(out.stop(), Some(StopReason::Length));
    assert!(
        out.usage().is_none(),
        "llama-cpp-python sends no usage chunk"
    );

    let out = replay("llama-chat-tool-stream", Dialect::Chat, SMALL).await;
    crate::support::assert_well_formed(&out);
    let calls = out.tool_calls();
    assert_eq!(calls.len(), 1, "{:?}", out.events);
    assert_eq!(calls[0].1, "get_weather", "names are not concatenated");
    let args: Value = serde_json::from_str(&calls[0].2).unwrap_or(Value::Null);
    assert!(args["city"].is_string(), "{}", calls[0].2);
    assert_eq!(out.stop(), Some(StopReason::ToolUse));
}

/// llama-cpp-python repeats the call's id on every chunk; a history that already holds that id
/// (a template that numbers calls the same way each turn) gets a new one, exactly once.
#[tokio::test]
async fn llama_cpp_python_repeated_headers_get_an_id_unique_in_the_conversation() {
    const ID: &str = "call__0_get_weather_cmpl-202fa03a-54a9-45a3-a15e-870b298fdb65";
    let mut ids = ToolCallIds::default();
    ids.assign(ID);
    let shaping = ShapingOptions {
        ids: ids.clone(),
        ..ShapingOptions::default()
    };
    let out = replay_with(
        "llama-chat-tool-stream",
        decoding_with(Dialect::Chat, true, SMALL, shaping.clone()),
    )
    .await;
    crate::support::assert_well_formed(&out);
    let calls = out.tool_calls();
    assert_eq!(calls.len(), 1, "{:?}", out.events);
    assert_eq!(calls[0].0, format!("{ID}_2"));
    assert_eq!(calls[0].1, "get_weather");

    // The non-stream answer, its id already in the history too.
    const WHOLE_ID: &str = "call__0_get_weather_cmpl-efd1ff81-6732-4eba-bb19-601a91bc0370";
    let mut ids = ToolCallIds::default();
    ids.assign(WHOLE_ID);
    let shaping = ShapingOptions {
        ids,
        ..ShapingOptions::default()
    };
    let body = fixture("llama-chat-tool.body");
    let decoding = decoding_with(Dialect::Chat, false, SMALL, shaping);
    let out = match complete_body_events(&body, &decoding, &[]) {
        Ok(events) => Outcome {
            events,
            error: None,
        },
        Err(e) => panic!("{e}"),
    };
    let calls = out.tool_calls();
    assert_eq!(calls.len(), 1, "{:?}", out.events);
    assert_eq!(calls[0].0, format!("{WHOLE_ID}_2"));
}

#[tokio::test]
async fn llama_cpp_python_empty_overflow_stream() {
    let out = replay("llama-chat-overflow-stream", Dialect::Chat, TOO_BIG).await;
    assert_eq!(
        out.error().kind,
        FailureKind::ContextOverflow {
            requested: Some(9000),
            limit: Some(4096)
        }
    );
    let out = replay("llama-chat-overflow-stream", Dialect::Chat, SMALL).await;
    assert_eq!(out.error().kind, FailureKind::EmptyResponse);
}

#[tokio::test]
async fn litellm_streams() {
    let out = replay("litellm-chat-include-usage-stream", Dialect::Chat, SMALL).await;
    crate::support::assert_well_formed(&out);
    assert!(out.usage().is_some(), "LiteLLM synthesises a usage chunk");

    let out = replay("litellm-chat-tool-stream", Dialect::Chat, SMALL).await;
    assert_eq!(out.tool_calls().len(), 1, "{:?}", out.events);

    let out = replay("litellm-chat-overflow-stream", Dialect::Chat, SMALL).await;
    assert_eq!(out.error().kind, FailureKind::EmptyResponse, "masked stop");
    let out = replay("litellm-chat-overflow-stream", Dialect::Chat, TOO_BIG).await;
    assert!(matches!(
        out.error().kind,
        FailureKind::ContextOverflow { .. }
    ));

    let out = replay("litellm-responses-stream", Dialect::Responses, SMALL).await;
    crate::support::assert_well_formed(&out);
    assert!(!out.text().is_empty());
    assert_eq!(out.stop(), Some(StopReason::Length), "response.incomplete");

    let out = replay("litellm-responses-tool-stream", Dialect::Responses, SMALL).await;
    assert_eq!(
        out.error().kind,
        FailureKind::ServerError,
        "{}",
        out.error().message
    );
    assert!(
        out.events.iter().any(|e| e.is_content()),
        "argument deltas came first"
    );
}

#[test]
fn complete_bodies() {
    let out = complete("llama-chat", Dialect::Chat);
    crate::support::assert_well_formed(&out);
    assert!(out.usage().is_some());
    let out = complete("llama-chat-tool", Dialect::Chat);
    assert_eq!(out.tool_calls().len(), 1, "{:?}", out.error);
    let out = complete("litellm-chat", Dialect::Chat);
    crate::support::assert_well_formed(&out);
    let out = complete("litellm-responses", Dialect::Responses);
    crate::support::assert_well_formed(&out);
    assert_eq!(out.stop(), Some(StopReason::Length));
    let out = complete("litellm-responses-tool", Dialect::Responses);
    assert_eq!(out.tool_calls().len(), 1, "{:?}", out.error);
}

#[test]
fn recorded_error_bodies() {
    let overflow = FailureKind::ContextOverflow {
        requested: Some(6026),
        limit: Some(4096),
    };
    let cases = [
        ("llama-chat-overflow", overflow),
        ("litellm-chat-overflow", overflow),
        ("llama-chat-bad-json", FailureKind::ServerError),
        ("llama-responses-missing", FailureKind::ModelNotFound),
        ("litellm-responses-plain-model", FailureKind::ModelNotFound),
    ];
    for (name, want) in cases {
        let status = status_of(name);
        let body = String::from_utf8_lossy(&fixture(&format!("{name}.body"))).to_string();
        let err = classify_http_error(status, None, &body, &[]);
        assert_eq!(err.kind, want, "{name}: {}", err.message);
    }
}
