//! The failover figures, measured through the real providers and `Router` in this process
//! against mock-upstream servers (0 ms latency) that run on their own runtime thread:
//!
//! * refused: a local upstream whose port refuses connections, then a healthy fallback, vs.
//!   the fallback alone; each request with a fresh cooldown store (so the refused port is
//!   really tried every time), and once more with the store kept (the steady state: the dead
//!   upstream is cooling down and skipped);
//! * hung: an upstream that accepts and never sends headers, with the first-event timeout set,
//!   so the cut-over time minus that timeout is what the router adds;
//! * dead-upstream attempts: 1,000 requests over a router with a real cooldown file, counting
//!   the requests and TCP connections the dead mock saw.
//!
//! Series are interleaved request by request, so drift on a shared machine hits them alike.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clawgate_providers::{ApiKind, HttpClient, ModelInfo, Provider, ProviderSpec, build_provider};
use clawgate_router::{
    CancellationToken, CandidateChain, CandidateRef, CooldownSchedule, CooldownStore, ProviderSet,
    ProviderTarget, Router, RouterConfig, SystemClock, Timeouts,
};
use clawgate_wire::{Message, Request, Role};
use futures::StreamExt;
use mock_upstream::{Fault, MockConfig, MockServer};
use serde::Serialize;

use crate::stats::{Delta, Summary};

pub const MODEL: &str = mock_upstream::DEFAULT_MODEL;

/// Mock servers on a runtime of their own (one worker thread), so serving them never waits
/// on the measuring thread.
pub struct Mocks {
    runtime: tokio::runtime::Runtime,
}

impl Mocks {
    pub fn new() -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("mock-upstream")
            .enable_all()
            .build()?;
        Ok(Self { runtime })
    }

    pub fn start(&self, config: MockConfig) -> anyhow::Result<MockServer> {
        self.runtime
            .block_on(MockServer::try_start(config))
            .context("starting mock-upstream")
    }
}

/// A loopback URL whose port refuses connections (bound, then released).
pub fn refused_url() -> anyhow::Result<String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    drop(listener);
    Ok(format!("http://{addr}/v1"))
}

fn provider(id: &str, base_url: &str, client: &HttpClient) -> anyhow::Result<Arc<dyn Provider>> {
    let spec = ProviderSpec::new(id, ApiKind::OpenAiCompletions, base_url)
        .with_key("sk-bench-4f9a2c7e1b8d3a6f")
        .with_model(ModelInfo::new(MODEL).with_context_window(8192));
    Ok(build_provider(&spec, client)?)
}

fn primary() -> CandidateRef {
    CandidateRef::new("local", MODEL)
}

fn fallback() -> CandidateRef {
    CandidateRef::new("hosted", MODEL)
}

fn with_fallback() -> CandidateChain {
    CandidateChain::from_refs([primary(), fallback()])
}

fn fallback_only() -> CandidateChain {
    CandidateChain::strict(fallback())
}

/// The request every call sends: short, non-streaming, like an agent's small turn.
fn request() -> Request {
    Request {
        model: MODEL.into(),
        messages: vec![Message::text(Role::User, "hello")],
        max_tokens: Some(64),
        stream: false,
        ..Request::default()
    }
}

fn router(providers: &ProviderSet, store: CooldownStore) -> Router {
    Router::new(
        providers.clone(),
        store,
        RouterConfig::default(),
        Arc::new(SystemClock),
    )
}

fn fresh_store() -> CooldownStore {
    CooldownStore::in_memory(CooldownSchedule::default())
}

/// One routed call, drained; the time it took and who answered.
async fn timed_call(
    router: &Router,
    chain: &CandidateChain,
) -> anyhow::Result<(Duration, CandidateRef)> {
    let started = Instant::now();
    let mut stream = router
        .call(request(), chain, &CancellationToken::new())
        .await?;
    while let Some(item) = stream.next().await {
        item?;
    }
    let elapsed = started.elapsed();
    Ok((elapsed, stream.answered_by().clone()))
}

async fn expect_fallback(router: &Router, chain: &CandidateChain) -> anyhow::Result<Duration> {
    let (elapsed, by) = timed_call(router, chain).await?;
    if by != fallback() {
        bail!("expected the fallback to answer, got {by}");
    }
    Ok(elapsed)
}

#[derive(Debug, Serialize)]
pub struct RefusedFigures {
    pub requests: usize,
    pub fallback_alone: Summary,
    /// The refused port tried on every request (fresh cooldown store each time).
    pub refused_attempted: Summary,
    /// The refused upstream in cooldown: skipped without a network attempt.
    pub refused_in_cooldown: Summary,
    pub added_attempted: Delta,
    pub added_in_cooldown: Delta,
}

/// Figure (a): refused local upstream → fallback, vs. the fallback alone.
pub async fn refused(
    healthy: &MockServer,
    requests: usize,
    warmup: usize,
) -> anyhow::Result<RefusedFigures> {
    let client = HttpClient::new()?;
    let local = ProviderTarget::new(provider("local", &refused_url()?, &client)?).local(true);
    let hosted = ProviderTarget::new(provider("hosted", &healthy.openai_base_url(), &client)?);
    let providers = ProviderSet::new().with(local).with(hosted);
    let alone = router(&providers, fresh_store());
    let cooled = router(&providers, fresh_store());
    let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..warmup + requests {
        // A new router (and so a clean store) per attempted call, built outside the clock.
        let attempting = router(&providers, fresh_store());
        let mut times = [Duration::ZERO; 3];
        for slot in 0..3 {
            let which = (round + slot) % 3;
            times[which] = match which {
                0 => expect_fallback(&alone, &fallback_only()).await?,
                1 => expect_fallback(&attempting, &with_fallback()).await?,
                _ => expect_fallback(&cooled, &with_fallback()).await?,
            };
        }
        if round >= warmup {
            a.push(times[0]);
            b.push(times[1]);
            c.push(times[2]);
        }
    }
    let (fallback_alone, attempted, in_cooldown) =
        (Summary::of(&a), Summary::of(&b), Summary::of(&c));
    Ok(RefusedFigures {
        requests,
        added_attempted: attempted.minus(&fallback_alone),
        added_in_cooldown: in_cooldown.minus(&fallback_alone),
        fallback_alone,
        refused_attempted: attempted,
        refused_in_cooldown: in_cooldown,
    })
}

#[derive(Debug, Serialize)]
pub struct HungFigures {
    pub requests: usize,
    pub first_event_timeout_ms: u64,
    /// Request start to the fallback's complete answer.
    pub cut_over: Summary,
    /// `cut_over` minus the configured timeout: what the router adds to the wait it must do.
    pub beyond_timeout: Summary,
}

/// Figure (b): hung upstream (never sends headers) → fallback, first-event timeout `timeout`.
pub async fn hung(
    hanging: &MockServer,
    healthy: &MockServer,
    requests: usize,
    timeout: Duration,
) -> anyhow::Result<HungFigures> {
    let client = HttpClient::new()?;
    let timeouts = Timeouts {
        connect: timeout,
        first_event: timeout,
        idle: timeout,
        total: timeout * 10,
    };
    let local = ProviderTarget::new(provider("local", &hanging.openai_base_url(), &client)?)
        .local(true)
        .with_timeouts(timeouts);
    let hosted = ProviderTarget::new(provider("hosted", &healthy.openai_base_url(), &client)?);
    let providers = ProviderSet::new().with(local).with(hosted);
    // Warm the fallback's pooled connection, as a running gateway would have it.
    expect_fallback(&router(&providers, fresh_store()), &fallback_only()).await?;
    let mut samples = Vec::new();
    for _ in 0..requests {
        let fresh = router(&providers, fresh_store());
        samples.push(expect_fallback(&fresh, &with_fallback()).await?);
    }
    let cut_over = Summary::of(&samples);
    Ok(HungFigures {
        requests,
        first_event_timeout_ms: timeout.as_millis() as u64,
        beyond_timeout: cut_over.shifted(timeout),
        cut_over,
    })
}

#[derive(Debug, Serialize)]
pub struct DeadCount {
    pub fault: String,
    pub requests: usize,
    /// HTTP requests the dead mock received over all `requests` calls.
    pub upstream_requests: u64,
    /// TCP connections it accepted.
    pub upstream_connections: u64,
    /// Calls the fallback answered (should be all of them).
    pub answered_by_fallback: usize,
    pub elapsed_ms: u64,
}

/// Figure (c): network attempts to a dead upstream over `requests` calls while it cools down,
/// with the cooldown store on a real (temporary) state dir.
pub async fn dead_attempts(
    dead: &MockServer,
    fault: Fault,
    healthy: &MockServer,
    requests: usize,
) -> anyhow::Result<DeadCount> {
    let state = tempfile::tempdir()?;
    let client = HttpClient::new()?;
    let local =
        ProviderTarget::new(provider("local", &dead.openai_base_url(), &client)?).local(true);
    let hosted = ProviderTarget::new(provider("hosted", &healthy.openai_base_url(), &client)?);
    let providers = ProviderSet::new().with(local).with(hosted);
    let store = CooldownStore::open(state.path(), CooldownSchedule::default());
    let router = router(&providers, store);
    let started = Instant::now();
    let mut answered_by_fallback = 0;
    for _ in 0..requests {
        let (_, by) = timed_call(&router, &with_fallback()).await?;
        if by == fallback() {
            answered_by_fallback += 1;
        }
    }
    Ok(DeadCount {
        fault: fault.to_string(),
        requests,
        upstream_requests: dead.request_count(),
        upstream_connections: dead.connection_count(),
        answered_by_fallback,
        elapsed_ms: started.elapsed().as_millis() as u64,
    })
}
