//! The rig one fault-matrix cell runs on: a primary mock-upstream that fails in one way, a
//! healthy fallback mock, real providers built with `build_provider` on one HTTP client, and a
//! real `Router` with short primary timeouts. Everything a cell observes (the route record,
//! every stream item, request and connection counts on both mocks, the cooldown store) is
//! collected into one [`Observed`], so the checks in `fault_matrix.rs` are plain data compares.

use std::sync::Arc;
use std::time::Duration;

use clawgate_providers::{
    ApiKind, HttpClient, ModelInfo, Provider, ProviderError, ProviderSpec, build_provider,
};
use clawgate_router::{
    CancellationToken, CandidateChain, CandidateRef, Clock, CooldownEntry, CooldownKey,
    CooldownSchedule, CooldownStore, ManualClock, ProviderSet, ProviderTarget, RouteInfo, Router,
    RouterConfig, RouterError, Timeouts,
};
use clawgate_wire::{Event, Message, Request, Role};
use futures::StreamExt;
use mock_upstream::{MockConfig, MockServer, Script};

/// The model both mocks serve and both providers are configured with.
pub const MODEL: &str = mock_upstream::DEFAULT_MODEL;
/// What the healthy fallback answers, so a cell can tell whose text it got.
pub const FALLBACK_TEXT: &str = "answer from the fallback";
/// The context window configured for the primary's model (overflow cells send more).
pub const PRIMARY_WINDOW: u64 = 4096;
/// Epoch ms the manual clock starts at (any fixed moment).
pub const T0: u64 = 1_750_000_000_000;

/// The primary's limits: short, so a hang costs a fraction of a second.
pub const PRIMARY_TIMEOUTS: Timeouts = Timeouts {
    connect: Duration::from_millis(300),
    first_event: Duration::from_millis(300),
    idle: Duration::from_millis(300),
    total: Duration::from_secs(5),
};
/// The fallback's limits: generous, so a busy machine cannot turn its answer into a failure.
const FALLBACK_TIMEOUTS: Timeouts = Timeouts {
    connect: Duration::from_secs(5),
    first_event: Duration::from_secs(10),
    idle: Duration::from_secs(10),
    total: Duration::from_secs(20),
};
/// A cell that takes longer than this is a hang, and fails instead of stalling the suite.
pub const CELL_LIMIT: Duration = Duration::from_secs(15);

pub const APIS: [ApiKind; 4] = [
    ApiKind::OpenAiCompletions,
    ApiKind::OpenAiResponses,
    ApiKind::AnthropicMessages,
    ApiKind::Ollama,
];

pub fn primary_ref() -> CandidateRef {
    CandidateRef::new("local", MODEL)
}

pub fn fallback_ref() -> CandidateRef {
    CandidateRef::new("hosted", MODEL)
}

pub fn http_client() -> HttpClient {
    HttpClient::new().unwrap()
}

/// The base URL a provider of `api` is configured with for `mock`.
pub fn base_url(mock: &MockServer, api: ApiKind) -> String {
    match api {
        ApiKind::OpenAiCompletions | ApiKind::OpenAiResponses => mock.openai_base_url(),
        _ => mock.base_url(),
    }
}

/// A provider on `mock` with one real-looking key and `MODEL` at `window` tokens.
pub fn provider(
    id: &str,
    api: ApiKind,
    mock: &MockServer,
    window: u64,
    client: &HttpClient,
) -> Arc<dyn Provider> {
    provider_at(id, api, &base_url(mock, api), window, client)
}

/// The same, on a base URL (a mock in another process).
pub fn provider_at(
    id: &str,
    api: ApiKind,
    base_url: &str,
    window: u64,
    client: &HttpClient,
) -> Arc<dyn Provider> {
    let spec = ProviderSpec::new(id, api, base_url)
        .with_key("sk-test-4f9a2c7e1b8d3a6f")
        .with_model(ModelInfo::new(MODEL).with_context_window(window));
    build_provider(&spec, client).unwrap()
}

/// The two providers as the router sees them: a local primary with short timeouts and a
/// hosted fallback with generous ones.
pub fn provider_set(primary: Arc<dyn Provider>, fallback: Arc<dyn Provider>) -> ProviderSet {
    ProviderSet::new()
        .with(
            ProviderTarget::new(primary)
                .local(true)
                .with_timeouts(PRIMARY_TIMEOUTS),
        )
        .with(ProviderTarget::new(fallback).with_timeouts(FALLBACK_TIMEOUTS))
}

pub fn chain() -> CandidateChain {
    CandidateChain::from_refs([primary_ref(), fallback_ref()])
}

/// A one-message request; `big` makes the prompt (~9,000 tokens estimated) exceed the
/// primary's configured window, as a real overflow would.
pub fn request(stream: bool, big: bool) -> Request {
    let text = if big {
        "hello ".repeat(6_000)
    } else {
        "hello".to_string()
    };
    Request {
        model: "replaced by the router".into(),
        messages: vec![Message::text(Role::User, text)],
        max_tokens: Some(64),
        stream,
        ..Request::default()
    }
}

/// The healthy fallback's configuration.
pub fn fallback_config() -> MockConfig {
    MockConfig::default().script(Script::text(FALLBACK_TEXT))
}

/// What one routed call did, seen from outside.
#[derive(Debug)]
pub struct Observed {
    /// The committed stream's record, or the router's error.
    pub route: Result<RouteInfo, RouterError>,
    /// Every item of the committed stream, in order (empty when nothing committed).
    pub items: Vec<Result<Event, ProviderError>>,
    /// Requests the primary and fallback mocks received.
    pub primary_requests: u64,
    pub fallback_requests: u64,
    /// TCP connections the primary mock accepted.
    pub primary_connections: u64,
    /// The cooldown entries for the primary (provider-wide, then key 0).
    pub primary_provider_entry: Option<CooldownEntry>,
    pub primary_key_entry: Option<CooldownEntry>,
}

impl Observed {
    pub fn text(&self) -> String {
        self.items
            .iter()
            .filter_map(|item| match item {
                Ok(Event::TextDelta { text }) => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }
}

/// Runs one call on `router` over the two mocks (no primary mock when its port refuses) and
/// drains the stream, all within [`CELL_LIMIT`]; `None` when that limit ran out (a hang).
pub async fn observe(
    router: &Router,
    request: Request,
    primary: Option<&MockServer>,
    fallback: &MockServer,
) -> Option<Observed> {
    let call = async {
        let mut items = Vec::new();
        let route = match router
            .call(request, &chain(), &CancellationToken::new())
            .await
        {
            Ok(mut stream) => {
                while let Some(item) = stream.next().await {
                    items.push(item);
                }
                Ok(stream.into_info())
            }
            Err(error) => Err(error),
        };
        (route, items)
    };
    let (route, items) = tokio::time::timeout(CELL_LIMIT, call).await.ok()?;
    let store = router.cooldowns();
    Some(Observed {
        route,
        items,
        primary_requests: primary.map_or(0, MockServer::request_count),
        fallback_requests: fallback.request_count(),
        primary_connections: primary.map_or(0, MockServer::connection_count),
        primary_provider_entry: store.entry(&CooldownKey::provider("local")),
        primary_key_entry: store.entry(&CooldownKey::api_key("local", 0)),
    })
}

/// A router over the two mocks with an in-memory cooldown store and a clock stopped at `T0`.
pub fn router(api: ApiKind, primary: &MockServer, fallback: &MockServer) -> Router {
    let client = http_client();
    let providers = provider_set(
        provider("local", api, primary, PRIMARY_WINDOW, &client),
        provider("hosted", api, fallback, 8192, &client),
    );
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(T0));
    Router::new(
        providers,
        CooldownStore::in_memory(CooldownSchedule::default()),
        RouterConfig::default(),
        clock,
    )
}
