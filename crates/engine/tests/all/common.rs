//! Shared test fixtures: locating the demo model, building providers, collecting streams.

use std::path::PathBuf;
use std::sync::OnceLock;

use clawgate_engine::{EngineModelSpec, LlamaCppProvider};
use clawgate_providers::{CallContext, Provider, ProviderError};
use clawgate_wire::{Event, Message, Request, Role, StopReason, Usage};
use futures::StreamExt;

pub const MODEL_ID: &str = "gemma-3-270m";
/// Small context windows keep memory and time down on a 2-core machine.
pub const TEST_CTX: u32 = 512;

pub fn demo_gguf() -> PathBuf {
    if let Some(path) = std::env::var_os("CLAWGATE_DEMO_GGUF") {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "CLAWGATE_DEMO_GGUF points at {}, which does not exist",
            path.display()
        );
        return path;
    }
    let state = std::env::var_os("CLAWGATE_STATE_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".clawgate")))
        .expect("neither CLAWGATE_STATE_DIR nor HOME is set");
    let path = state.join("models").join("gemma-3-270m-q4_k_m.gguf");
    assert!(
        path.is_file(),
        "demo model not found at {}: run scripts/fetch-demo-model (or set CLAWGATE_DEMO_GGUF)",
        path.display()
    );
    path
}

/// A spec for the demo model with the small test context and one thread (tests run in
/// parallel on few cores; more threads per test would only contend).
pub fn demo_spec() -> EngineModelSpec {
    EngineModelSpec::new(MODEL_ID, demo_gguf())
        .with_context_window(TEST_CTX)
        .with_threads(1)
}

/// A fresh provider (its own engine thread and counters).
pub fn fresh_provider() -> LlamaCppProvider {
    LlamaCppProvider::new("embedded", demo_spec())
}

/// One provider shared by tests that do not read counters: one load for all of them, and
/// requests from parallel tests queue on it, which exercises the queue too.
pub fn shared_provider() -> &'static LlamaCppProvider {
    static SHARED: OnceLock<LlamaCppProvider> = OnceLock::new();
    SHARED.get_or_init(fresh_provider)
}

pub fn request(prompt: &str, max_tokens: u32) -> Request {
    Request {
        model: MODEL_ID.into(),
        messages: vec![Message::text(Role::User, prompt)],
        max_tokens: Some(max_tokens),
        temperature: Some(0.0),
        seed: Some(42),
        stream: true,
        ..Request::default()
    }
}

/// Everything one call produced.
#[derive(Debug)]
pub struct Outcome {
    pub events: Vec<Event>,
    pub text: String,
    pub usage: Usage,
    pub stop_reason: StopReason,
}

pub async fn run(provider: &LlamaCppProvider, request: Request) -> Outcome {
    try_run(provider, request).await.expect("the call failed")
}

pub async fn try_run(
    provider: &LlamaCppProvider,
    request: Request,
) -> Result<Outcome, ProviderError> {
    let mut stream = provider.stream(request, CallContext::default()).await?;
    let mut events = Vec::new();
    while let Some(item) = stream.next().await {
        events.push(item?);
    }
    let text = events
        .iter()
        .filter_map(|e| match e {
            Event::TextDelta { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    let usage = events
        .iter()
        .find_map(|e| match e {
            Event::Usage { usage } => Some(*usage),
            _ => None,
        })
        .expect("no Usage event");
    let stop_reason = match events.last() {
        Some(Event::Finished { stop_reason }) => *stop_reason,
        other => panic!("stream did not end with Finished: {other:?}"),
    };
    Ok(Outcome {
        events,
        text,
        usage,
        stop_reason,
    })
}
