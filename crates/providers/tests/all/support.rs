//! Shared test plumbing: a mock per test, specs pointing at it, short timeouts, and draining
//! an `EventStream` into its events and its one error (bounded, so nothing hangs).

use std::sync::Arc;
use std::time::Duration;

use clawgate_providers::{
    ApiKind, CallContext, EventStream, HttpClient, ModelInfo, Provider, ProviderError,
    ProviderSpec, build_provider,
};
use clawgate_wire::{Event, Message, Request, Role, StopReason, ToolSpec, Usage};
use futures::StreamExt;
use mock_upstream::{MockConfig, MockServer, RecordedRequest};
use serde_json::json;

/// Upper bound for any one test step; far above what loopback needs.
pub const STEP: Duration = Duration::from_secs(10);

pub const MODEL: &str = mock_upstream::DEFAULT_MODEL;

pub fn client() -> HttpClient {
    match HttpClient::new() {
        Ok(c) => c,
        Err(e) => panic!("http client: {e}"),
    }
}

pub fn ctx() -> CallContext {
    CallContext {
        key_index: 0,
        connect_timeout: Some(Duration::from_secs(2)),
        header_timeout: Some(Duration::from_secs(5)),
    }
}

pub async fn mock() -> MockServer {
    MockServer::start(MockConfig::default()).await
}

/// The base URL a provider of `api` is configured with for this mock.
pub fn base_for(mock: &MockServer, api: ApiKind) -> String {
    match api {
        ApiKind::OpenAiCompletions | ApiKind::OpenAiResponses => mock.openai_base_url(),
        _ => mock.base_url(),
    }
}

pub fn spec(mock: &MockServer, api: ApiKind) -> ProviderSpec {
    ProviderSpec::new("local", api, base_for(mock, api))
        .with_model(ModelInfo::new(MODEL).with_context_window(8192))
}

pub fn provider(spec: &ProviderSpec) -> Arc<dyn Provider> {
    match build_provider(spec, &client()) {
        Ok(p) => p,
        Err(e) => panic!("build_provider: {e}"),
    }
}

pub const APIS: [ApiKind; 4] = [
    ApiKind::OpenAiCompletions,
    ApiKind::OpenAiResponses,
    ApiKind::AnthropicMessages,
    ApiKind::Ollama,
];

pub fn request(text: &str, stream: bool) -> Request {
    Request {
        model: MODEL.into(),
        messages: vec![Message::text(Role::User, text)],
        max_tokens: Some(64),
        stream,
        ..Request::default()
    }
}

pub fn weather_tool() -> ToolSpec {
    ToolSpec {
        name: "get_weather".into(),
        description: Some("Weather for a city".into()),
        parameters: json!({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}),
    }
}

/// Everything one attempt produced.
#[derive(Debug, Default)]
pub struct Outcome {
    pub events: Vec<Event>,
    pub error: Option<ProviderError>,
}

impl Outcome {
    pub fn text(&self) -> String {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::TextDelta { text } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    pub fn reasoning(&self) -> String {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::ReasoningDelta { text } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    /// (id, name, joined arguments) of each tool call, by index.
    pub fn tool_calls(&self) -> Vec<(String, String, String)> {
        let mut calls: Vec<(u32, String, String, String)> = Vec::new();
        for e in &self.events {
            match e {
                Event::ToolCallStart { index, id, name } => {
                    calls.push((*index, id.clone(), name.clone(), String::new()))
                }
                Event::ToolCallArgsDelta { index, delta } => {
                    if let Some(c) = calls.iter_mut().find(|c| c.0 == *index) {
                        c.3.push_str(delta);
                    }
                }
                _ => {}
            }
        }
        calls.into_iter().map(|(_, i, n, a)| (i, n, a)).collect()
    }

    pub fn usage(&self) -> Option<Usage> {
        self.events.iter().find_map(|e| match e {
            Event::Usage { usage } => Some(*usage),
            _ => None,
        })
    }

    pub fn stop(&self) -> Option<StopReason> {
        self.events.iter().find_map(|e| match e {
            Event::Finished { stop_reason } => Some(*stop_reason),
            _ => None,
        })
    }

    pub fn error(&self) -> &ProviderError {
        match &self.error {
            Some(e) => e,
            None => panic!("expected an error, got events {:?}", self.events),
        }
    }
}

/// Drain a stream (bounded by `STEP`).
pub async fn drain(mut stream: EventStream) -> Outcome {
    let mut out = Outcome::default();
    loop {
        match tokio::time::timeout(STEP, stream.next()).await {
            Err(_) => panic!(
                "stream did not end within {STEP:?}; so far {:?}",
                out.events
            ),
            Ok(None) => return out,
            Ok(Some(Ok(event))) => out.events.push(event),
            Ok(Some(Err(e))) => {
                out.error = Some(e);
                // The stream must end after its one error.
                let after = tokio::time::timeout(STEP, stream.next()).await;
                assert!(matches!(after, Ok(None)), "stream went on after an error");
                return out;
            }
        }
    }
}

/// One attempt: `stream()` then drain. An `Err` from `stream()` becomes the outcome's error.
pub async fn run(provider: &Arc<dyn Provider>, request: Request) -> Outcome {
    run_with(provider, request, ctx()).await
}

pub async fn run_with(provider: &Arc<dyn Provider>, request: Request, ctx: CallContext) -> Outcome {
    match tokio::time::timeout(STEP, provider.stream(request, ctx)).await {
        Err(_) => panic!("stream() did not return within {STEP:?}"),
        Ok(Err(e)) => Outcome {
            events: Vec::new(),
            error: Some(e),
        },
        Ok(Ok(stream)) => drain(stream).await,
    }
}

/// The last generation request the mock saw.
pub fn last_request(mock: &MockServer) -> RecordedRequest {
    match mock.requests().into_iter().last() {
        Some(r) => r,
        None => panic!("the mock saw no request"),
    }
}

/// A well-formed successful outcome: `Started` first, `Finished` last, no error.
pub fn assert_well_formed(out: &Outcome) {
    assert!(out.error.is_none(), "unexpected error {:?}", out.error);
    assert!(
        matches!(out.events.first(), Some(Event::Started { .. })),
        "first event {:?}",
        out.events.first()
    );
    assert!(
        matches!(out.events.last(), Some(Event::Finished { .. })),
        "last event {:?}",
        out.events.last()
    );
}

/// A loopback address nothing listens on (bound, then released).
pub async fn free_addr() -> std::net::SocketAddr {
    let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
        Ok(l) => l,
        Err(e) => panic!("bind: {e}"),
    };
    match listener.local_addr() {
        Ok(a) => a,
        Err(e) => panic!("local_addr: {e}"),
    }
}
