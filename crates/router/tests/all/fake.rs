//! A scriptable fake provider: each call runs a [`Script`] chosen by a closure from the call
//! number and the key index, and every call is recorded (model id sent, key used).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use clawgate_providers::{
    CallContext, DiscoveredModel, EventStream, FailureKind, NetworkCause, Provider, ProviderError,
};
use clawgate_router::{
    CandidateChain, CandidateRef, CooldownSchedule, CooldownStore, ManualClock, ProviderSet,
    ProviderTarget, Router, RouterConfig,
};
use clawgate_wire::{Event, Message, Request, Role, StopReason, Usage};
use futures::StreamExt;

/// What one call does.
#[derive(Debug, Clone)]
pub enum Script {
    /// Yields these events, then ends.
    Events(Vec<Event>),
    /// `stream()` itself fails (connect error, HTTP status).
    FailBeforeStream(ProviderError),
    /// Yields these events, then one error item.
    EventsThenError(Vec<Event>, ProviderError),
    /// `stream()` never resolves (a server that accepted the connection and went silent).
    Hang,
    /// Yields these events, then never yields again.
    EventsThenHang(Vec<Event>),
    /// Waits (tokio time) before each event.
    Paced(Vec<(Duration, Event)>),
}

type Behaviour = dyn Fn(usize, &CallContext) -> Script + Send + Sync;

#[derive(Debug, Clone, PartialEq)]
pub struct SeenCall {
    pub model: String,
    pub key_index: usize,
    /// Whether the request asked for a stream.
    pub stream: bool,
}

pub struct FakeProvider {
    id: String,
    behaviour: Box<Behaviour>,
    calls: Mutex<Vec<SeenCall>>,
    counter: AtomicUsize,
    models: Result<Vec<DiscoveredModel>, ProviderError>,
    list_delay: Option<Duration>,
}

impl FakeProvider {
    pub fn new(
        id: &str,
        behaviour: impl Fn(usize, &CallContext) -> Script + Send + Sync + 'static,
    ) -> Arc<Self> {
        Arc::new(Self {
            id: id.to_string(),
            behaviour: Box::new(behaviour),
            calls: Mutex::new(Vec::new()),
            counter: AtomicUsize::new(0),
            models: Ok(Vec::new()),
            list_delay: None,
        })
    }

    pub fn always(id: &str, script: Script) -> Arc<Self> {
        Self::new(id, move |_, _| script.clone())
    }

    /// Runs `scripts` in order, then `Events(answer(id))` for every later call.
    pub fn sequence(id: &str, scripts: Vec<Script>) -> Arc<Self> {
        let answer_text = format!("answer from {id}");
        Self::new(id, move |n, _| {
            scripts
                .get(n)
                .cloned()
                .unwrap_or_else(|| Script::Events(answer(&answer_text)))
        })
    }

    pub fn with_models(
        id: &str,
        models: Result<Vec<DiscoveredModel>, ProviderError>,
        list_delay: Option<Duration>,
    ) -> Arc<Self> {
        Arc::new(Self {
            id: id.to_string(),
            behaviour: Box::new(|_, _| Script::Hang),
            calls: Mutex::new(Vec::new()),
            counter: AtomicUsize::new(0),
            models,
            list_delay,
        })
    }

    pub fn calls(&self) -> Vec<SeenCall> {
        self.calls.lock().unwrap().clone()
    }

    pub fn call_count(&self) -> usize {
        self.calls.lock().unwrap().len()
    }
}

#[async_trait]
impl Provider for FakeProvider {
    fn id(&self) -> &str {
        &self.id
    }

    async fn stream(
        &self,
        request: Request,
        ctx: CallContext,
    ) -> Result<EventStream, ProviderError> {
        self.calls.lock().unwrap().push(SeenCall {
            model: request.model.clone(),
            key_index: ctx.key_index,
            stream: request.stream,
        });
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        match (self.behaviour)(n, &ctx) {
            Script::Events(events) => Ok(futures::stream::iter(events.into_iter().map(Ok)).boxed()),
            Script::FailBeforeStream(error) => Err(error),
            Script::EventsThenError(events, error) => Ok(futures::stream::iter(
                events
                    .into_iter()
                    .map(Ok)
                    .chain(std::iter::once(Err(error))),
            )
            .boxed()),
            Script::Hang => futures::future::pending().await,
            Script::EventsThenHang(events) => Ok(futures::stream::iter(events.into_iter().map(Ok))
                .chain(futures::stream::pending())
                .boxed()),
            Script::Paced(events) => Ok(futures::stream::iter(events)
                .then(|(wait, event)| async move {
                    tokio::time::sleep(wait).await;
                    Ok(event)
                })
                .boxed()),
        }
    }

    async fn list_models(&self) -> Result<Vec<DiscoveredModel>, ProviderError> {
        if let Some(delay) = self.list_delay {
            tokio::time::sleep(delay).await;
        }
        self.models.clone()
    }
}

pub fn started(model: &str) -> Event {
    Event::Started {
        id: "resp-1".into(),
        model: model.into(),
    }
}

pub fn text(t: &str) -> Event {
    Event::TextDelta { text: t.into() }
}

pub fn reasoning(t: &str) -> Event {
    Event::ReasoningDelta { text: t.into() }
}

pub fn tool_start(index: u32, id: &str, name: &str) -> Event {
    Event::ToolCallStart {
        index,
        id: id.into(),
        name: name.into(),
    }
}

pub fn tool_args(index: u32, delta: &str) -> Event {
    Event::ToolCallArgsDelta {
        index,
        delta: delta.into(),
    }
}

pub fn finished() -> Event {
    Event::Finished {
        stop_reason: StopReason::Stop,
    }
}

pub fn usage() -> Event {
    Event::Usage {
        usage: Usage {
            input_tokens: Some(10),
            output_tokens: Some(3),
            ..Usage::default()
        },
    }
}

/// A complete, well-formed answer.
pub fn answer(content: &str) -> Vec<Event> {
    vec![started("m"), usage(), text(content), finished()]
}

pub fn error(kind: FailureKind) -> ProviderError {
    ProviderError::new(kind, format!("fake {}", kind.name()))
}

pub fn refused() -> ProviderError {
    ProviderError::new(
        FailureKind::Network {
            cause: NetworkCause::Refused,
        },
        "connection refused",
    )
}

pub fn request() -> Request {
    Request {
        model: "whatever-the-client-sent".into(),
        messages: vec![Message::text(Role::User, "hi")],
        stream: true,
        ..Request::default()
    }
}

pub fn cand(text: &str) -> CandidateRef {
    CandidateRef::parse(text).unwrap()
}

pub fn chain(refs: &[&str]) -> CandidateChain {
    CandidateChain::from_refs(refs.iter().map(|r| cand(r)))
}

/// Epoch ms the manual clock starts at in tests (2026-01-01).
pub const T0: u64 = 1_767_225_600_000;

/// A router over these providers (hosted, one key each) with an in-memory store.
pub fn router_with(
    providers: &[Arc<FakeProvider>],
    config: RouterConfig,
) -> (Router, Arc<ManualClock>) {
    let set: ProviderSet = providers
        .iter()
        .map(|p| ProviderTarget::new(p.clone()))
        .collect();
    router_over(
        set,
        CooldownStore::in_memory(CooldownSchedule::default()),
        config,
    )
}

pub fn router_over(
    set: ProviderSet,
    store: CooldownStore,
    config: RouterConfig,
) -> (Router, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(T0));
    (Router::new(set, store, config, clock.clone()), clock)
}

/// Drains a routed stream into its items.
pub async fn drain(mut stream: clawgate_router::RoutedStream) -> Vec<Result<Event, ProviderError>> {
    let mut items = Vec::new();
    while let Some(item) = stream.next().await {
        items.push(item);
    }
    items
}

pub fn joined_text(items: &[Result<Event, ProviderError>]) -> String {
    items
        .iter()
        .filter_map(|item| match item {
            Ok(Event::TextDelta { text }) => Some(text.as_str()),
            _ => None,
        })
        .collect()
}
