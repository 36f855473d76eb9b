//! Context overflow in every server's wording, with the counts parsed, and the two 200
//! answers that hide an overflow: llama-cpp-python's empty stream and LiteLLM's masked `stop`.
//! Rule under test: an empty 200 answer is `ContextOverflow` when the prompt estimate
//! (`clawgate_wire::token_estimate`) exceeds the model's known context window, else
//! `EmptyResponse`.

use clawgate_providers::{ApiKind, FailureKind, ModelInfo};
use clawgate_wire::{Message, Role};
use mock_upstream::{OverflowServer, Script};

use crate::support::*;

fn overflow_script(server: OverflowServer) -> Script {
    Script {
        context_limit: Some(4096),
        requested_tokens: Some(6026),
        ..Script::overflow(server)
    }
}

#[tokio::test]
async fn every_server_wording_is_context_overflow_with_counts() {
    let mock = mock().await;
    let p = provider(&spec(&mock, ApiKind::OpenAiCompletions));
    let both = FailureKind::ContextOverflow {
        requested: Some(6026),
        limit: Some(4096),
    };
    let none = FailureKind::ContextOverflow {
        requested: None,
        limit: None,
    };
    for server in OverflowServer::ALL {
        // (kind, status): which counts the wording states, and how the server answers.
        let (want, status) = match server {
            OverflowServer::LlamaCppPython
            | OverflowServer::LlamaServer
            | OverflowServer::Vllm
            | OverflowServer::Sglang
            | OverflowServer::LmStudio
            | OverflowServer::Openai
            | OverflowServer::Anthropic
            | OverflowServer::Litellm
            | OverflowServer::LmStudioKeep
            | OverflowServer::VllmTotal
            | OverflowServer::SglangInputLength => (both, 400),
            OverflowServer::Ollama
            | OverflowServer::LmStudioContextSize
            | OverflowServer::OllamaPromptLonger => (none, 400),
            OverflowServer::LlamaServerContextSize
            | OverflowServer::LlamaServerKvSize
            | OverflowServer::OllamaPromptTooLong => (none, 500),
        };
        mock.push_script(overflow_script(server));
        let out = run(&p, request("hello", false)).await;
        assert_eq!(out.error().kind, want, "{server}: {}", out.error().message);
        assert_eq!(out.error().status, Some(status), "{server}");
    }
}

#[tokio::test]
async fn context_size_exceeded_as_the_first_stream_event_is_overflow() {
    let mock = mock().await;
    let p = provider(&spec(&mock, ApiKind::OpenAiCompletions));
    mock.push_script(overflow_script(OverflowServer::LlamaServerContextSize));
    let out = run(&p, request("hello", true)).await;
    assert_eq!(
        out.error().kind,
        FailureKind::ContextOverflow {
            requested: None,
            limit: None
        },
        "{}",
        out.error().message
    );
    assert!(
        !out.events.iter().any(clawgate_wire::Event::is_content),
        "{:?}",
        out.events
    );
}

fn big_request(stream: bool) -> clawgate_wire::Request {
    let mut req = request("", stream);
    req.messages = vec![Message::text(Role::User, "hello ".repeat(6000))];
    req
}

fn small_window_spec(mock: &mock_upstream::MockServer) -> clawgate_providers::ProviderSpec {
    let mut s = spec(mock, ApiKind::OpenAiCompletions);
    s.models = vec![ModelInfo::new(MODEL).with_context_window(4096)];
    s
}

#[tokio::test]
async fn empty_200_stream_after_a_too_big_prompt_is_overflow() {
    let mock = mock().await;
    let p = provider(&small_window_spec(&mock));
    mock.push_script(overflow_script(OverflowServer::LlamaCppPython));
    let out = run(&p, big_request(true)).await;
    assert_eq!(
        out.error().kind,
        FailureKind::ContextOverflow {
            requested: Some(9000 + clawgate_wire::token_estimate::MESSAGE_OVERHEAD),
            limit: Some(4096)
        },
        "{}",
        out.error().message
    );
    assert!(out.events.is_empty(), "{:?}", out.events);
}

#[tokio::test]
async fn empty_200_stream_after_a_small_prompt_is_empty_response() {
    let mock = mock().await;
    let p = provider(&small_window_spec(&mock));
    mock.push_script(overflow_script(OverflowServer::LlamaCppPython));
    let out = run(&p, request("hello", true)).await;
    assert_eq!(out.error().kind, FailureKind::EmptyResponse);
}

#[tokio::test]
async fn empty_200_stream_with_unknown_window_is_empty_response() {
    let mock = mock().await;
    let mut s = spec(&mock, ApiKind::OpenAiCompletions);
    s.models.clear();
    let p = provider(&s);
    mock.push_script(overflow_script(OverflowServer::LlamaCppPython));
    let out = run(&p, big_request(true)).await;
    assert_eq!(out.error().kind, FailureKind::EmptyResponse);
}

#[tokio::test]
async fn litellm_masked_overflow_stream_is_never_an_empty_answer() {
    let mock = mock().await;
    let p = provider(&small_window_spec(&mock));
    mock.push_script(overflow_script(OverflowServer::Litellm));
    let out = run(&p, request("hello", true)).await;
    assert_eq!(out.error().kind, FailureKind::EmptyResponse);
    assert!(
        !out.events
            .iter()
            .any(|e| matches!(e, clawgate_wire::Event::Finished { .. })),
        "the masked stop must not pass as a finished answer"
    );
    mock.push_script(overflow_script(OverflowServer::Litellm));
    let out = run(&p, big_request(true)).await;
    assert!(
        matches!(
            out.error().kind,
            FailureKind::ContextOverflow {
                limit: Some(4096),
                ..
            }
        ),
        "{:?}",
        out.error()
    );
}

#[tokio::test]
async fn a_non_stream_answer_with_no_content_is_empty_response() {
    let mock = mock().await;
    let p = provider(&spec(&mock, ApiKind::OpenAiCompletions));
    mock.push_script(Script::text(""));
    let out = run(&p, request("hello", false)).await;
    assert_eq!(
        out.error().kind,
        FailureKind::EmptyResponse,
        "{:?}",
        out.events
    );
    mock.push_script(Script::text(""));
    let out = run(&p, request("hello", true)).await;
    assert_eq!(
        out.error().kind,
        FailureKind::EmptyResponse,
        "{:?}",
        out.events
    );
}
