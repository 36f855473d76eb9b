//! Cooldown bookkeeping and how the router uses it: skip without a network attempt, the
//! last-resort attempt when everything cools down, the head probe near the end of its
//! cooldown, and the schedule (steps, billing, auth_permanent, window reset, success).

use std::time::Duration;

use clawgate_providers::FailureKind;
use clawgate_router::{
    AttemptOutcome, Availability, CancellationToken, CooldownKey, CooldownSchedule, CooldownStore,
    Penalty, RouterConfig, RouterError,
};

use crate::fake::*;

const MIN: u64 = 60_000;
const HOUR: u64 = 60 * MIN;

#[tokio::test]
async fn dead_providers_get_exactly_one_attempt_over_1000_calls_in_their_cooldown() {
    let dead_head = FakeProvider::always("local", Script::FailBeforeStream(refused()));
    let dead_second = FakeProvider::always("lan", Script::FailBeforeStream(refused()));
    let alive = FakeProvider::always("hosted", Script::Events(answer("ok")));
    let (router, clock) = router_with(
        &[dead_head.clone(), dead_second.clone(), alive.clone()],
        RouterConfig::default(),
    );
    let chain = chain(&["local/q", "lan/l", "hosted/s"]);
    for call in 0..1000 {
        let stream = router
            .call(request(), &chain, &CancellationToken::new())
            .await
            .unwrap();
        assert_eq!(stream.answered_by(), &cand("hosted/s"));
        if call > 0 {
            let skipped = stream
                .attempts()
                .iter()
                .filter(|a| matches!(a.outcome, AttemptOutcome::SkippedForCooldown { .. }))
                .count();
            assert_eq!(skipped, 2, "call {call}: {:?}", stream.attempts());
        }
        // 20 ms per call: 20 s in all, inside the 60 s cooldown and the 30 s probe throttle
        clock.advance(Duration::from_millis(20));
    }
    assert_eq!(dead_head.call_count(), 1);
    assert_eq!(dead_second.call_count(), 1);
    assert_eq!(alive.call_count(), 1000);
}

#[tokio::test]
async fn when_every_candidate_cools_down_the_soonest_to_recover_is_tried() {
    let a = FakeProvider::always("a", Script::Events(answer("from a")));
    let b = FakeProvider::always("b", Script::Events(answer("from b")));
    let (router, _) = router_with(&[a.clone(), b.clone()], RouterConfig::default());
    let store = router.cooldowns();
    // a: two failures -> 5 min; b: one failure -> 1 min
    for _ in 0..2 {
        store.record_failure(
            &CooldownKey::provider("a"),
            &FailureKind::Overloaded,
            Penalty::Cooldown,
            T0,
        );
    }
    store.record_failure(
        &CooldownKey::provider("b"),
        &FailureKind::Overloaded,
        Penalty::Cooldown,
        T0,
    );
    let stream = router
        .call(
            request(),
            &chain(&["a/1", "b/2"]),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(stream.answered_by(), &cand("b/2"));
    let attempts = stream.attempts();
    assert_eq!(attempts.len(), 3, "{attempts:?}");
    assert!(matches!(
        attempts[0].outcome,
        AttemptOutcome::SkippedForCooldown { .. }
    ));
    assert!(matches!(
        attempts[1].outcome,
        AttemptOutcome::SkippedForCooldown { .. }
    ));
    assert!(attempts[2].last_resort);
    assert_eq!(attempts[2].outcome, AttemptOutcome::Ok);
    assert_eq!(a.call_count(), 0);
    // success cleared b
    assert_eq!(
        store
            .entry(&CooldownKey::provider("b"))
            .unwrap()
            .cooldown_until,
        None
    );
}

#[tokio::test]
async fn all_cooling_and_last_resort_failing_reports_skips_and_soonest_retry() {
    let a = FakeProvider::always("a", Script::FailBeforeStream(refused()));
    let (router, _) = router_with(std::slice::from_ref(&a), RouterConfig::default());
    router.cooldowns().record_failure(
        &CooldownKey::provider("a"),
        &FailureKind::Overloaded,
        Penalty::Cooldown,
        T0 - 10 * MIN,
    );
    router.cooldowns().record_failure(
        &CooldownKey::provider("a"),
        &FailureKind::Overloaded,
        Penalty::Cooldown,
        T0 - 2 * MIN,
    ); // second failure: 5 min cooldown until T0 + 3 min, outside the probe window
    let err = router
        .call(request(), &chain(&["a/1"]), &CancellationToken::new())
        .await
        .unwrap_err();
    let RouterError::AllFailed {
        attempts,
        soonest_retry,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(attempts.len(), 2);
    assert_eq!(a.call_count(), 1);
    // the last-resort failure was the third in the window: 25 min from now
    assert_eq!(*soonest_retry, Some(T0 + 25 * MIN));
    // one model tried: its own error (spec §3.7), with the skip before it
    assert_eq!(
        err.to_string(),
        "a/1: cooling down for 3m (overloaded), then connection refused (network)"
    );
}

#[tokio::test]
async fn head_is_probed_near_cooldown_end_and_the_chain_returns_to_it() {
    // the head is down for its first call only
    let head = FakeProvider::sequence("local", vec![Script::FailBeforeStream(refused())]);
    let fallback = FakeProvider::always("hosted", Script::Events(answer("fallback")));
    let (router, clock) = router_with(&[head.clone(), fallback.clone()], RouterConfig::default());
    let chain = chain(&["local/q", "hosted/s"]);
    let cancel = CancellationToken::new();
    let call = || router.call(request(), &chain, &cancel);

    let first = call().await.unwrap();
    assert_eq!(first.answered_by(), &cand("hosted/s"));
    // 10 s later: inside the probe window (1 min cooldown) but the 30 s throttle is closed
    clock.advance(Duration::from_secs(10));
    let second = call().await.unwrap();
    assert_eq!(second.answered_by(), &cand("hosted/s"));
    assert_eq!(head.call_count(), 1);
    // 31 s after the failure: the probe goes out, succeeds, and the chain is back on the head
    clock.advance(Duration::from_secs(21));
    let third = call().await.unwrap();
    assert_eq!(third.answered_by(), &cand("local/q"));
    assert!(third.attempts()[0].probe);
    assert!(!third.is_fallback());
    let fourth = call().await.unwrap();
    assert_eq!(fourth.answered_by(), &cand("local/q"));
    assert!(
        !fourth.attempts()[0].probe,
        "cooldown cleared: an ordinary attempt again"
    );
    assert_eq!(head.call_count(), 3);
    assert_eq!(fallback.call_count(), 2);
}

#[tokio::test]
async fn long_cooldowns_probe_only_in_their_last_tenth() {
    let head = FakeProvider::always("local", Script::FailBeforeStream(refused()));
    let fallback = FakeProvider::always("hosted", Script::Events(answer("fallback")));
    let store = CooldownStore::in_memory(CooldownSchedule {
        steps: vec![Duration::from_secs(3600)],
        ..CooldownSchedule::default()
    });
    let set = [head.clone(), fallback.clone()]
        .into_iter()
        .map(|p| clawgate_router::ProviderTarget::new(p))
        .collect();
    let (router, clock) = router_over(set, store, RouterConfig::default());
    let chain = chain(&["local/q", "hosted/s"]);
    router
        .call(request(), &chain, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(head.call_count(), 1);
    // 30 min in: 30 min left, window is max(2 min, 6 min): no probe
    clock.advance(Duration::from_secs(30 * 60));
    router
        .call(request(), &chain, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(head.call_count(), 1);
    // 55 min in: 5 min left, inside the 6 min window: probe (fails again)
    clock.advance(Duration::from_secs(25 * 60));
    let probed = router
        .call(request(), &chain, &CancellationToken::new())
        .await
        .unwrap();
    assert!(probed.attempts()[0].probe);
    assert_eq!(head.call_count(), 2);
    // the failed probe extended the cooldown: another hour, no probe right after
    clock.advance(Duration::from_secs(60));
    router
        .call(request(), &chain, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(head.call_count(), 2);
    let entry = router
        .cooldowns()
        .entry(&CooldownKey::provider("local"))
        .unwrap();
    assert_eq!(entry.error_count, 2);
    assert_eq!(entry.cooldown_until, Some(T0 + 55 * MIN + HOUR));
}

#[tokio::test]
async fn non_head_candidates_are_never_probed() {
    let head = FakeProvider::always(
        "hosted",
        Script::FailBeforeStream(error(FailureKind::Overloaded)),
    );
    let second = FakeProvider::always("local", Script::FailBeforeStream(refused()));
    let third = FakeProvider::always("or", Script::Events(answer("ok")));
    let (router, clock) = router_with(&[head, second.clone(), third], RouterConfig::default());
    let chain = chain(&["hosted/a", "local/b", "or/c"]);
    router
        .call(request(), &chain, &CancellationToken::new())
        .await
        .unwrap();
    for _ in 0..5 {
        clock.advance(Duration::from_secs(11)); // 55 s: inside window, throttle opens twice
        router
            .call(request(), &chain, &CancellationToken::new())
            .await
            .unwrap();
    }
    assert_eq!(second.call_count(), 1);
}

#[test]
fn default_schedule_is_one_five_twentyfive_sixty_minutes() {
    let store = CooldownStore::in_memory(CooldownSchedule::default());
    let key = CooldownKey::provider("p");
    let mut untils = Vec::new();
    for n in 0..6 {
        let now = T0 + n * MIN;
        let until = store
            .record_failure(&key, &FailureKind::ServerError, Penalty::Cooldown, now)
            .unwrap();
        untils.push((until - now) / MIN);
    }
    assert_eq!(untils, [1, 5, 25, 60, 60, 60]);
    let entry = store.entry(&key).unwrap();
    assert_eq!(entry.error_count, 6);
    assert_eq!(entry.failure_counts.get("server_error"), Some(&6));
    assert_eq!(entry.last_failure_at, Some(T0 + 5 * MIN));
}

#[test]
fn billing_disables_for_five_hours_doubling_to_a_day() {
    let store = CooldownStore::in_memory(CooldownSchedule::default());
    let key = CooldownKey::api_key("hosted", 0);
    let mut spans = Vec::new();
    for n in 0..5 {
        let now = T0 + n * MIN;
        let until = store
            .record_failure(&key, &FailureKind::Billing, Penalty::Disable, now)
            .unwrap();
        spans.push((until - now) / HOUR);
    }
    assert_eq!(spans, [5, 10, 20, 24, 24]);
    let entry = store.entry(&key).unwrap();
    assert_eq!(entry.disabled_reason.as_deref(), Some("billing"));
    let blocked = store.blocked(&key, T0 + 6 * MIN).unwrap();
    assert!(blocked.disabled);
    assert_eq!(blocked.reason, "billing");
}

#[tokio::test]
async fn revoked_key_disables_and_the_head_is_not_probed() {
    let head = FakeProvider::always(
        "hosted",
        Script::FailBeforeStream(error(FailureKind::AuthPermanent)),
    );
    let fallback = FakeProvider::always("local", Script::Events(answer("ok")));
    let (router, clock) = router_with(&[head.clone(), fallback], RouterConfig::default());
    let chain = chain(&["hosted/a", "local/b"]);
    router
        .call(request(), &chain, &CancellationToken::new())
        .await
        .unwrap();
    let entry = router
        .cooldowns()
        .entry(&CooldownKey::api_key("hosted", 0))
        .unwrap();
    assert_eq!(entry.disabled_reason.as_deref(), Some("auth_permanent"));
    assert_eq!(entry.disabled_until, Some(T0 + 10 * MIN));
    // 9 min in: inside a 2 min window, throttle open, but revoked keys are not probed
    clock.advance(Duration::from_secs(9 * 60));
    router
        .call(request(), &chain, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(head.call_count(), 1);
}

#[test]
fn failure_window_resets_counts_and_success_clears_everything() {
    let store = CooldownStore::in_memory(CooldownSchedule::default());
    let key = CooldownKey::provider("p");
    store.record_failure(&key, &FailureKind::Timeout, Penalty::Cooldown, T0);
    store.record_failure(&key, &FailureKind::Timeout, Penalty::Cooldown, T0 + MIN);
    assert_eq!(store.entry(&key).unwrap().error_count, 2);
    // more than 24 h later: counting starts again, so the cooldown is the first step
    let later = T0 + MIN + 25 * HOUR;
    let until = store
        .record_failure(&key, &FailureKind::Overloaded, Penalty::Cooldown, later)
        .unwrap();
    assert_eq!(until - later, MIN);
    let entry = store.entry(&key).unwrap();
    assert_eq!(entry.error_count, 1);
    assert_eq!(entry.failure_counts.len(), 1);
    assert_eq!(entry.failure_counts.get("overloaded"), Some(&1));

    store.record_success("p", 0, later + 1);
    let entry = store.entry(&key).unwrap();
    assert_eq!(entry.error_count, 0);
    assert!(entry.failure_counts.is_empty());
    assert_eq!(entry.unusable_until(), None);
    assert_eq!(
        store.availability("p", 1, later + 1),
        Availability::Ready { key_index: 0 }
    );
}

#[test]
fn retry_after_longer_than_the_step_sets_the_cooldown() {
    let store = CooldownStore::in_memory(CooldownSchedule::default());
    let key = CooldownKey::api_key("hosted", 0);
    let long = FailureKind::RateLimit {
        retry_after: Some(Duration::from_secs(600)),
    };
    assert_eq!(
        store.record_failure(&key, &long, Penalty::Cooldown, T0),
        Some(T0 + 10 * MIN)
    );
    let short = FailureKind::RateLimit {
        retry_after: Some(Duration::from_secs(2)),
    };
    let other = CooldownKey::api_key("hosted", 1);
    assert_eq!(
        store.record_failure(&other, &short, Penalty::Cooldown, T0),
        Some(T0 + MIN)
    );
}

#[test]
fn format_and_model_not_found_leave_no_cooldown() {
    let store = CooldownStore::in_memory(CooldownSchedule::default());
    let key = CooldownKey::provider("p");
    assert_eq!(
        store.record_failure(&key, &FailureKind::Format, Penalty::None, T0),
        None
    );
    assert!(store.snapshot().is_empty());
}
