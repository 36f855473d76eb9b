//! Cooldowns across restarts and processes, end to end over real sockets. The store-level
//! tests (`persistence.rs`) prove the file survives and merges; these prove what a user sees:
//! a dead upstream that failed once is skipped, with no network attempt (mock-upstream counts
//! connections), by a new router on the same state dir, and by a running router in another
//! process once that process's failure is on disk.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use clawgate_providers::ApiKind;
use clawgate_router::{
    AttemptOutcome, Clock, CooldownSchedule, CooldownStore, ManualClock, Router, RouterConfig,
    SystemClock,
};
use mock_upstream::{Fault, MockConfig, MockServer};

use super::rig::*;

const CHILD_STATE_ENV: &str = "CLAWGATE_FAULT_MATRIX_CHILD_STATE";
const CHILD_PRIMARY_ENV: &str = "CLAWGATE_FAULT_MATRIX_CHILD_PRIMARY";
const CHILD_FALLBACK_ENV: &str = "CLAWGATE_FAULT_MATRIX_CHILD_FALLBACK";

/// A router on `state_dir` over providers on the given base URLs (openai-completions).
fn router_on(
    state_dir: &Path,
    primary: &MockServer,
    fallback: &MockServer,
    clock: Arc<dyn Clock>,
) -> Router {
    let client = http_client();
    let api = ApiKind::OpenAiCompletions;
    Router::new(
        provider_set(
            provider("local", api, primary, PRIMARY_WINDOW, &client),
            provider("hosted", api, fallback, 8192, &client),
        ),
        CooldownStore::open(state_dir, CooldownSchedule::default()),
        RouterConfig::default(),
        clock,
    )
}

/// One call; the route must be answered by the fallback.
async fn call_answered_by_fallback(
    router: &Router,
    primary: &MockServer,
    fallback: &MockServer,
) -> Observed {
    let seen = observe(router, request(false, false), Some(primary), fallback)
        .await
        .expect("the call hung");
    let info = seen.route.as_ref().expect("the call failed");
    assert_eq!(info.answered_by, fallback_ref(), "{info:?}");
    assert_eq!(seen.text(), FALLBACK_TEXT);
    seen
}

fn assert_skipped_for_cooldown(seen: &Observed, reason: &str) {
    let info = seen.route.as_ref().unwrap();
    match &info.attempts[0].outcome {
        AttemptOutcome::SkippedForCooldown {
            reason: why,
            disabled,
            ..
        } => {
            assert_eq!(why, reason);
            assert!(!disabled);
        }
        other => panic!("want the primary skipped for cooldown, got {other:?}"),
    }
    assert_eq!(info.attempts.len(), 2, "{:?}", info.attempts);
}

#[tokio::test]
async fn a_new_router_on_the_same_state_dir_skips_the_dead_upstream() {
    let state = tempfile::tempdir().unwrap();
    let primary = MockServer::start(MockConfig::default().fault(Fault::Status503)).await;
    let fallback = MockServer::start(fallback_config()).await;

    let clock = Arc::new(ManualClock::new(T0));
    let first = router_on(state.path(), &primary, &fallback, clock.clone());
    let seen = call_answered_by_fallback(&first, &primary, &fallback).await;
    assert_eq!(seen.primary_requests, 1);
    let connections_before = primary.connection_count();
    drop(first);

    // A restart: new store, new providers, new HTTP client (no pooled connection to reuse),
    // a second later. 1,000 calls during the cooldown: not one reaches the dead upstream.
    clock.advance(Duration::from_secs(1));
    let restarted = router_on(state.path(), &primary, &fallback, clock.clone());
    for _ in 0..1_000 {
        let seen = call_answered_by_fallback(&restarted, &primary, &fallback).await;
        assert_skipped_for_cooldown(&seen, "overloaded");
    }
    assert_eq!(primary.request_count(), 1);
    assert_eq!(primary.connection_count(), connections_before);
    assert_eq!(fallback.request_count(), 1_001);

    // Once the cooldown (1 min for a first failure) is over, the primary is called again.
    clock.advance(Duration::from_secs(60));
    let seen = call_answered_by_fallback(&restarted, &primary, &fallback).await;
    assert!(
        matches!(
            seen.route.as_ref().unwrap().attempts[0].outcome,
            AttemptOutcome::Failed { .. }
        ),
        "{:?}",
        seen.route
    );
    assert_eq!(primary.request_count(), 2);
}

/// Child mode of the test below: one call through a router of its own on the shared state
/// dir, against the parent's mocks (their ports come in the environment).
async fn child_call(state: &str, primary_url: &str, fallback_url: &str) {
    let client = http_client();
    let api = ApiKind::OpenAiCompletions;
    let local = provider_at("local", api, primary_url, PRIMARY_WINDOW, &client);
    let hosted = provider_at("hosted", api, fallback_url, 8192, &client);
    let router = Router::new(
        provider_set(local, hosted),
        CooldownStore::open(state, CooldownSchedule::default()),
        RouterConfig::default(),
        Arc::new(SystemClock),
    );
    let stream = router
        .call(request(false, false), &chain(), &Default::default())
        .await
        .unwrap();
    let attempts = stream.attempts();
    assert!(
        matches!(attempts[0].outcome, AttemptOutcome::Failed { .. }),
        "the child must hit the dead primary: {attempts:?}"
    );
    assert_eq!(stream.answered_by(), &fallback_ref());
}

#[tokio::test]
async fn a_running_router_skips_an_upstream_another_process_found_dead() {
    if let (Ok(state), Ok(primary), Ok(fallback)) = (
        std::env::var(CHILD_STATE_ENV),
        std::env::var(CHILD_PRIMARY_ENV),
        std::env::var(CHILD_FALLBACK_ENV),
    ) {
        child_call(&state, &primary, &fallback).await;
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let primary = MockServer::start(MockConfig::default().fault(Fault::Status503)).await;
    let fallback = MockServer::start(fallback_config()).await;
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    // Running before the other process writes anything; its first call sees a clean state.
    let running = router_on(state.path(), &primary, &fallback, clock.clone());
    assert!(running.cooldowns().snapshot().is_empty());

    let exe = std::env::current_exe().unwrap();
    // Async, so this runtime keeps serving the mocks while the child calls them.
    let output = tokio::process::Command::new(exe)
        .args([
            "fault_matrix::restart::a_running_router_skips_an_upstream_another_process_found_dead",
            "--exact",
            "--test-threads=1",
            "--nocapture",
        ])
        .env(CHILD_STATE_ENV, state.path())
        .env(CHILD_PRIMARY_ENV, primary.openai_base_url())
        .env(CHILD_FALLBACK_ENV, fallback.openai_base_url())
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("1 passed"),
        "the child ran no test: {stdout}"
    );
    assert_eq!(primary.request_count(), 1, "the child's attempt");
    let connections = primary.connection_count();

    // The running router looks at the file at most once a second (of its clock).
    clock.advance(Duration::from_secs(2));
    let seen = call_answered_by_fallback(&running, &primary, &fallback).await;
    assert_skipped_for_cooldown(&seen, "overloaded");
    assert_eq!(
        primary.request_count(),
        1,
        "no attempt from the running router"
    );
    assert_eq!(primary.connection_count(), connections);
}
