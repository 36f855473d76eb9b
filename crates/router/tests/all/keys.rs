//! Several API keys per provider: rotation on rate limits (and auth/billing), Retry-After
//! honoured, lowest usable key preferred, candidate left only when every key is out.

use std::time::Duration;

use clawgate_providers::{FailureKind, ProviderError};
use clawgate_router::{
    AttemptOutcome, CancellationToken, CandidateChain, CooldownKey, CooldownSchedule,
    CooldownStore, ProviderSet, ProviderTarget, RouterConfig,
};

use crate::fake::*;

fn rate_limited(retry_after_secs: u64) -> ProviderError {
    ProviderError::new(
        FailureKind::RateLimit {
            retry_after: Some(Duration::from_secs(retry_after_secs)),
        },
        "429 rate limited",
    )
    .with_status(429)
}

#[tokio::test]
async fn rate_limit_rotates_to_the_next_key_and_honours_retry_after() {
    // key 0 is rate-limited on its first use only; other keys always answer
    let hosted = FakeProvider::new("hosted", |n, ctx| {
        if n == 0 && ctx.key_index == 0 {
            Script::FailBeforeStream(rate_limited(90))
        } else {
            Script::Events(answer(&format!("key {}", ctx.key_index)))
        }
    });
    let fallback = FakeProvider::always("local", Script::Events(answer("fallback")));
    let set = ProviderSet::new()
        .with(ProviderTarget::new(hosted.clone()).with_keys(3))
        .with(ProviderTarget::new(fallback.clone()).local(true));
    let (router, clock) = router_over(
        set,
        CooldownStore::in_memory(CooldownSchedule::default()),
        RouterConfig::default(),
    );
    let chain = chain(&["hosted/sonnet", "local/q"]);

    let first = router
        .call(request(), &chain, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(first.answered_by(), &cand("hosted/sonnet"));
    assert_eq!(first.info().key_index, 1);
    let keys: Vec<Option<usize>> = first.attempts().iter().map(|a| a.key_index).collect();
    assert_eq!(keys, [Some(0), Some(1)]);
    assert!(
        !first.is_fallback(),
        "another key of the same model is not a fallback"
    );
    assert_eq!(joined_text(&drain(first).await), "key 1");
    // Retry-After (90 s) is longer than the first step (60 s): it wins
    let entry = router
        .cooldowns()
        .entry(&CooldownKey::api_key("hosted", 0))
        .unwrap();
    assert_eq!(entry.cooldown_until, Some(T0 + 90_000));
    assert_eq!(
        router.cooldowns().entry(&CooldownKey::provider("hosted")),
        None
    );

    // 60 s later key 0 is still cooling: key 1 straight away, one attempt
    clock.advance(Duration::from_secs(60));
    let second = router
        .call(request(), &chain, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(second.attempts().len(), 1);
    assert_eq!(second.info().key_index, 1);

    // after 91 s key 0 is usable again and preferred
    clock.advance(Duration::from_secs(31));
    let third = router
        .call(request(), &chain, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(third.info().key_index, 0);
    let seen: Vec<usize> = hosted.calls().iter().map(|c| c.key_index).collect();
    assert_eq!(seen, [0, 1, 1, 0]);
    assert_eq!(fallback.call_count(), 0);
}

#[tokio::test]
async fn every_key_rate_limited_moves_to_the_next_candidate() {
    let hosted = FakeProvider::always("hosted", Script::FailBeforeStream(rate_limited(30)));
    let fallback = FakeProvider::always("local", Script::Events(answer("fallback")));
    let set = ProviderSet::new()
        .with(ProviderTarget::new(hosted.clone()).with_keys(2))
        .with(ProviderTarget::new(fallback.clone()).local(true));
    let (router, _) = router_over(
        set,
        CooldownStore::in_memory(CooldownSchedule::default()),
        RouterConfig::default(),
    );
    let chain = chain(&["hosted/sonnet", "local/q"]);
    let first = router
        .call(request(), &chain, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(first.answered_by(), &cand("local/q"));
    let keys: Vec<Option<usize>> = first.attempts().iter().map(|a| a.key_index).collect();
    assert_eq!(keys, [Some(0), Some(1), Some(0)]);
    // next call: both keys cooling, hosted skipped without a network attempt
    let second = router
        .call(request(), &chain, &CancellationToken::new())
        .await
        .unwrap();
    assert!(matches!(
        &second.attempts()[0].outcome,
        AttemptOutcome::SkippedForCooldown { reason, .. } if reason == "rate_limit"
    ));
    assert_eq!(hosted.call_count(), 2);
}

#[tokio::test]
async fn provider_wide_failures_do_not_rotate_keys() {
    let hosted = FakeProvider::always(
        "hosted",
        Script::FailBeforeStream(error(FailureKind::Overloaded)),
    );
    let fallback = FakeProvider::always("local", Script::Events(answer("fallback")));
    let set = ProviderSet::new()
        .with(ProviderTarget::new(hosted.clone()).with_keys(3))
        .with(ProviderTarget::new(fallback).local(true));
    let (router, _) = router_over(
        set,
        CooldownStore::in_memory(CooldownSchedule::default()),
        RouterConfig::default(),
    );
    router
        .call(
            request(),
            &chain(&["hosted/s", "local/q"]),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(
        hosted.call_count(),
        1,
        "overload is the server's, not the key's"
    );
    assert!(
        router
            .cooldowns()
            .entry(&CooldownKey::provider("hosted"))
            .is_some()
    );
}

#[tokio::test]
async fn billing_on_one_key_disables_that_key_and_uses_another() {
    let hosted = FakeProvider::new("hosted", |_, ctx| {
        if ctx.key_index == 0 {
            Script::FailBeforeStream(error(FailureKind::Billing).with_status(402))
        } else {
            Script::Events(answer("paid key"))
        }
    });
    let set = ProviderSet::new().with(ProviderTarget::new(hosted).with_keys(2));
    let (router, _) = router_over(
        set,
        CooldownStore::in_memory(CooldownSchedule::default()),
        RouterConfig::default(),
    );
    let stream = router
        .call(request(), &chain(&["hosted/s"]), &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(stream.info().key_index, 1);
    let entry = router
        .cooldowns()
        .entry(&CooldownKey::api_key("hosted", 0))
        .unwrap();
    assert_eq!(entry.disabled_until, Some(T0 + 5 * 3_600_000));
}

#[tokio::test]
async fn a_pinned_key_is_the_only_one_tried_and_its_cooldown_blocks_only_it() {
    // `anthropic/claude@anthropic:work` pins the key that profile gave: no rotation to
    // another key on a rate limit; the chain goes on to the next model instead.
    let hosted = FakeProvider::new("hosted", |_, ctx| {
        if ctx.key_index == 1 {
            Script::FailBeforeStream(rate_limited(30))
        } else {
            Script::Events(answer(&format!("key {}", ctx.key_index)))
        }
    });
    let fallback = FakeProvider::always("local", Script::Events(answer("fallback")));
    let set = ProviderSet::new()
        .with(ProviderTarget::new(hosted.clone()).with_keys(3))
        .with(ProviderTarget::new(fallback.clone()).local(true));
    let (router, _) = router_over(
        set,
        CooldownStore::in_memory(CooldownSchedule::default()),
        RouterConfig::default(),
    );
    let pinned = CandidateChain::from_refs([cand("hosted/sonnet").with_key(1), cand("local/q")]);
    let first = router
        .call(request(), &pinned, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(first.answered_by(), &cand("local/q"));
    let keys: Vec<Option<usize>> = first.attempts().iter().map(|a| a.key_index).collect();
    assert_eq!(keys, [Some(1), Some(0)], "key 1, then the fallback's key");
    drain(first).await;
    // Key 1 now cools down: the pinned candidate is skipped without a call …
    let second = router
        .call(request(), &pinned, &CancellationToken::new())
        .await
        .unwrap();
    assert!(matches!(
        second.attempts()[0].outcome,
        AttemptOutcome::SkippedForCooldown { .. }
    ));
    drain(second).await;
    // … while the provider's other keys still serve unpinned calls.
    let unpinned = chain(&["hosted/sonnet", "local/q"]);
    let third = router
        .call(request(), &unpinned, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(third.info().key_index, 0);
    assert_eq!(joined_text(&drain(third).await), "key 0");
    let seen: Vec<usize> = hosted.calls().iter().map(|c| c.key_index).collect();
    assert_eq!(seen, [1, 0]);
}
