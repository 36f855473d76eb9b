//! Timeouts on tokio's paused clock: a hang becomes `Timeout` after exactly the configured
//! virtual time and the chain moves on; idle gaps and the total limit end committed streams.

use std::sync::Arc;
use std::time::Duration;

use clawgate_providers::FailureKind;
use clawgate_router::{
    AttemptOutcome, CancellationToken, CooldownSchedule, CooldownStore, ProviderSet,
    ProviderTarget, RouterConfig, RouterError, Timeouts,
};
use tokio::time::Instant;

use crate::fake::*;

fn local_and_hosted(local: Arc<FakeProvider>, hosted: Arc<FakeProvider>) -> ProviderSet {
    ProviderSet::new()
        .with(ProviderTarget::new(local).local(true))
        .with(ProviderTarget::new(hosted))
}

fn failed_kind(outcome: &AttemptOutcome) -> FailureKind {
    match outcome {
        AttemptOutcome::Failed { kind, .. } => *kind,
        other => panic!("not a failure: {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn hung_local_upstream_times_out_after_first_event_limit_and_fails_over() {
    let local = FakeProvider::always("local", Script::Hang);
    let hosted = FakeProvider::always("hosted", Script::Events(answer("rescued")));
    let (router, _) = router_over(
        local_and_hosted(local, hosted),
        CooldownStore::in_memory(CooldownSchedule::default()),
        RouterConfig::default(),
    );
    let start = Instant::now();
    let stream = router
        .call(
            request(),
            &chain(&["local/q", "hosted/s"]),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    let waited = start.elapsed();
    // local default: 120 s to first content; virtual time, so this is exact
    assert!(
        waited >= Duration::from_secs(120) && waited < Duration::from_secs(121),
        "{waited:?}"
    );
    assert_eq!(
        failed_kind(&stream.attempts()[0].outcome),
        FailureKind::Timeout
    );
    assert_eq!(stream.answered_by(), &cand("hosted/s"));
    assert_eq!(joined_text(&drain(stream).await), "rescued");
}

#[tokio::test(start_paused = true)]
async fn hosted_first_event_limit_is_stricter_and_counts_until_content_not_started() {
    // sends Started at once, then nothing: still a hang before the commit point
    let hosted = FakeProvider::always("hosted", Script::EventsThenHang(vec![started("s")]));
    let local = FakeProvider::always("local", Script::Events(answer("ok")));
    let (router, _) = router_over(
        local_and_hosted(local, hosted),
        CooldownStore::in_memory(CooldownSchedule::default()),
        RouterConfig::default(),
    );
    let start = Instant::now();
    let stream = router
        .call(
            request(),
            &chain(&["hosted/s", "local/q"]),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_secs(30) && waited < Duration::from_secs(31),
        "{waited:?}"
    );
    assert_eq!(
        failed_kind(&stream.attempts()[0].outcome),
        FailureKind::Timeout
    );
}

#[tokio::test(start_paused = true)]
async fn per_provider_timeouts_override_the_defaults() {
    let slow = FakeProvider::always("local", Script::Hang);
    let set = ProviderSet::new().with(ProviderTarget::new(slow).local(true).with_timeouts(
        Timeouts {
            first_event: Duration::from_secs(7),
            ..Timeouts::local()
        },
    ));
    let (router, _) = router_over(
        set,
        CooldownStore::in_memory(CooldownSchedule::default()),
        RouterConfig::default(),
    );
    let start = Instant::now();
    let err = router
        .call(request(), &chain(&["local/q"]), &CancellationToken::new())
        .await
        .unwrap_err();
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_secs(7) && waited < Duration::from_secs(8),
        "{waited:?}"
    );
    assert!(
        err.to_string().contains("no content within 7s (timeout)"),
        "{err}"
    );
}

#[tokio::test(start_paused = true)]
async fn slow_but_steady_local_stream_inside_limits_is_delivered_whole() {
    // 100 s to the first token (model loading), then tokens 50 s apart: within local limits
    let local = FakeProvider::always(
        "local",
        Script::Paced(vec![
            (Duration::from_secs(100), text("a")),
            (Duration::from_secs(50), text("b")),
            (Duration::from_secs(50), finished()),
        ]),
    );
    let hosted = FakeProvider::always("hosted", Script::Events(answer("no")));
    let (router, _) = router_over(
        local_and_hosted(local, hosted.clone()),
        CooldownStore::in_memory(CooldownSchedule::default()),
        RouterConfig::default(),
    );
    let stream = router
        .call(
            request(),
            &chain(&["local/q", "hosted/s"]),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    let items = drain(stream).await;
    assert!(items.iter().all(Result::is_ok), "{items:?}");
    assert_eq!(joined_text(&items), "ab");
    assert_eq!(hosted.call_count(), 0);
}

#[tokio::test(start_paused = true)]
async fn idle_gap_after_commit_ends_the_stream_with_a_timeout_item() {
    let local = FakeProvider::always(
        "local",
        Script::EventsThenHang(vec![started("q"), text("so far")]),
    );
    let hosted = FakeProvider::always("hosted", Script::Events(answer("no")));
    let (router, _) = router_over(
        local_and_hosted(local, hosted.clone()),
        CooldownStore::in_memory(CooldownSchedule::default()),
        RouterConfig::default(),
    );
    let stream = router
        .call(
            request(),
            &chain(&["local/q", "hosted/s"]),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    let start = Instant::now();
    let items = drain(stream).await;
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_secs(60) && waited < Duration::from_secs(61),
        "{waited:?}"
    );
    assert_eq!(joined_text(&items), "so far");
    let last = items.last().unwrap().as_ref().unwrap_err();
    assert_eq!(last.kind, FailureKind::Timeout);
    assert!(last.message.contains("idle"), "{}", last.message);
    assert_eq!(hosted.call_count(), 0, "no failover after commit");
}

#[tokio::test(start_paused = true)]
async fn total_limit_ends_a_stream_that_never_goes_idle() {
    let steady: Vec<(Duration, clawgate_wire::Event)> = (0..100)
        .map(|_| (Duration::from_secs(10), text(".")))
        .collect();
    let local = FakeProvider::always("local", Script::Paced(steady));
    let set = ProviderSet::new().with(ProviderTarget::new(local).local(true).with_timeouts(
        Timeouts {
            total: Duration::from_secs(95),
            ..Timeouts::local()
        },
    ));
    let (router, _) = router_over(
        set,
        CooldownStore::in_memory(CooldownSchedule::default()),
        RouterConfig::default(),
    );
    let items = drain(
        router
            .call(request(), &chain(&["local/q"]), &CancellationToken::new())
            .await
            .unwrap(),
    )
    .await;
    // events at 10 s, 20 s, ... 90 s, then the 95 s total limit
    assert_eq!(joined_text(&items), ".........");
    let last = items.last().unwrap().as_ref().unwrap_err();
    assert_eq!(last.kind, FailureKind::Timeout);
    assert!(last.message.contains("total"), "{}", last.message);
}

#[tokio::test(start_paused = true)]
async fn cancelling_while_waiting_aborts_without_failover() {
    let local = FakeProvider::always("local", Script::Hang);
    let hosted = FakeProvider::always("hosted", Script::Events(answer("no")));
    let (router, _) = router_over(
        local_and_hosted(local, hosted.clone()),
        CooldownStore::in_memory(CooldownSchedule::default()),
        RouterConfig::default(),
    );
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(5)).await;
        trigger.cancel();
    });
    let start = Instant::now();
    let err = router
        .call(request(), &chain(&["local/q", "hosted/s"]), &cancel)
        .await
        .unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(6));
    assert!(matches!(err, RouterError::Aborted { .. }), "{err:?}");
    assert_eq!(hosted.call_count(), 0);
    assert!(
        router.cooldowns().snapshot().is_empty(),
        "an abort is nobody's fault"
    );
}

#[tokio::test(start_paused = true)]
async fn cancelling_after_commit_ends_the_stream_with_an_aborted_item() {
    let local = FakeProvider::always("local", Script::EventsThenHang(vec![text("x")]));
    let set = ProviderSet::new().with(ProviderTarget::new(local).local(true));
    let (router, _) = router_over(
        set,
        CooldownStore::in_memory(CooldownSchedule::default()),
        RouterConfig::default(),
    );
    let cancel = CancellationToken::new();
    let stream = router
        .call(request(), &chain(&["local/q"]), &cancel)
        .await
        .unwrap();
    cancel.cancel();
    let items = drain(stream).await;
    assert_eq!(joined_text(&items), "x");
    assert_eq!(
        items.last().unwrap().as_ref().unwrap_err().kind,
        FailureKind::Aborted
    );
}
