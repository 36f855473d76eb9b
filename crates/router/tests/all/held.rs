//! What the router holds back before it commits to a stream (`commit` module): reasoning and
//! unfinished tool calls do not commit, so an attempt that only reasoned, or broke in the
//! middle of a tool call, still fails over; "stream reasoning at once" per call and per
//! model; the hold signal; the hold limits; the clocks while holding; and the retry without
//! streaming after a broken tool call. Paused tokio clock throughout.

use std::collections::BTreeSet;
use std::time::Duration;

use clawgate_providers::FailureKind;
use clawgate_router::{
    AttemptOutcome, CallOptions, CancellationToken, HoldLimits, HoldSignal, ProviderSet,
    ProviderTarget, ReasoningStream, RouterConfig,
};
use clawgate_wire::{Event, StopReason};
use futures::FutureExt;

use crate::fake::*;

fn outcome_kinds(attempts: &[clawgate_router::AttemptRecord]) -> Vec<(String, Option<&str>)> {
    attempts
        .iter()
        .map(|a| {
            let kind = match &a.outcome {
                AttemptOutcome::Failed { kind, .. } => Some(kind.name()),
                _ => None,
            };
            (a.candidate.to_string(), kind)
        })
        .collect()
}

fn has_reasoning(items: &[Result<Event, clawgate_providers::ProviderError>]) -> bool {
    items
        .iter()
        .any(|item| matches!(item, Ok(Event::ReasoningDelta { .. })))
}

/// The stream of a call over `local/q` then `hosted/s`.
async fn local_then_hosted(router: &clawgate_router::Router) -> clawgate_router::RoutedStream {
    router
        .call(
            request(),
            &chain(&["local/q", "hosted/s"]),
            &CancellationToken::new(),
        )
        .await
        .unwrap()
}

fn thinking_only_then(error_kind: FailureKind) -> Script {
    Script::EventsThenError(
        vec![started("q"), reasoning("let me "), reasoning("think")],
        error(error_kind),
    )
}

#[tokio::test(start_paused = true)]
async fn reasoning_then_an_empty_end_or_an_error_fails_over() {
    for kind in [FailureKind::EmptyResponse, FailureKind::ServerError] {
        let local = FakeProvider::always("local", thinking_only_then(kind));
        let hosted = FakeProvider::always("hosted", Script::Events(answer("rescued")));
        let (router, _) = router_with(&[local, hosted], RouterConfig::default());
        let stream = local_then_hosted(&router).await;
        assert_eq!(stream.answered_by(), &cand("hosted/s"));
        assert_eq!(
            outcome_kinds(stream.attempts()),
            vec![
                ("local/q".to_string(), Some(kind.name())),
                ("hosted/s".to_string(), None)
            ]
        );
        let items = drain(stream).await;
        assert_eq!(joined_text(&items), "rescued");
        assert!(
            !has_reasoning(&items),
            "the failed model's reasoning leaked"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn an_end_after_reasoning_without_finish_fails_over() {
    let local = FakeProvider::always("local", Script::Events(vec![reasoning("hmm")]));
    let hosted = FakeProvider::always("hosted", Script::Events(answer("rescued")));
    let (router, _) = router_with(&[local, hosted], RouterConfig::default());
    let stream = local_then_hosted(&router).await;
    assert_eq!(
        outcome_kinds(stream.attempts())[0],
        ("local/q".to_string(), Some("truncated"))
    );
}

#[tokio::test(start_paused = true)]
async fn held_reasoning_is_forwarded_in_order_once_the_answer_starts() {
    let events = vec![
        started("q"),
        reasoning("a"),
        Event::TextDelta { text: "\n".into() },
        reasoning("b"),
        text("answer"),
        finished(),
    ];
    let local = FakeProvider::always("local", Script::Events(events.clone()));
    let (router, _) = router_with(&[local], RouterConfig::default());
    let stream = router
        .call(request(), &chain(&["local/q"]), &CancellationToken::new())
        .await
        .unwrap();
    let items: Vec<Event> = drain(stream)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(items, events);
}

/// A call whose candidate reasons and then fails, with `options` and `config`: whether the
/// failure came after the commit (an error item, no fallback) or before it (fallback).
async fn reasoning_then_failure(options: CallOptions, config: RouterConfig) -> (bool, usize) {
    let local = FakeProvider::always("local", thinking_only_then(FailureKind::ServerError));
    let hosted = FakeProvider::always("hosted", Script::Events(answer("rescued")));
    let (router, _) = router_with(&[local, hosted.clone()], config);
    let stream = router
        .call_with(
            request(),
            &chain(&["local/q", "hosted/s"]),
            &CancellationToken::new(),
            &options,
        )
        .await
        .unwrap();
    let committed_to_local = stream.answered_by() == &cand("local/q");
    let items = drain(stream).await;
    if committed_to_local {
        assert!(has_reasoning(&items), "immediate reasoning is forwarded");
        assert!(matches!(items.last(), Some(Err(e)) if e.kind == FailureKind::ServerError));
    }
    (committed_to_local, hosted.call_count())
}

#[tokio::test(start_paused = true)]
async fn immediate_reasoning_commits_per_call_and_per_model() {
    let immediate = CallOptions {
        reasoning: Some(ReasoningStream::Immediate),
        ..CallOptions::default()
    };
    assert_eq!(
        reasoning_then_failure(immediate, RouterConfig::default()).await,
        (true, 0),
        "per call: the reasoning committed, so the failure reaches the caller"
    );
    let per_model = RouterConfig {
        immediate_reasoning: BTreeSet::from(["local/q".to_string()]),
        ..RouterConfig::default()
    };
    assert_eq!(
        reasoning_then_failure(CallOptions::default(), per_model.clone()).await,
        (true, 0),
        "per model"
    );
    let other_model = RouterConfig {
        immediate_reasoning: BTreeSet::from(["local/other".to_string()]),
        ..RouterConfig::default()
    };
    assert_eq!(
        reasoning_then_failure(CallOptions::default(), other_model).await,
        (false, 1),
        "another model's setting does not apply"
    );
    let hold = CallOptions {
        reasoning: Some(ReasoningStream::Hold),
        ..CallOptions::default()
    };
    assert_eq!(
        reasoning_then_failure(hold, per_model).await,
        (false, 1),
        "the call's own choice wins over the model's"
    );
}

#[tokio::test(start_paused = true)]
async fn the_hold_signal_is_raised_while_reasoning_is_held() {
    let paced = Script::Paced(vec![
        (Duration::ZERO, started("q")),
        (Duration::from_secs(1), reasoning("thinking")),
        (Duration::from_secs(30), reasoning(" more")),
        (Duration::from_secs(30), text("answer")),
        (Duration::ZERO, finished()),
    ]);
    let local = FakeProvider::always("local", paced);
    let (router, _) = router_with(&[local], RouterConfig::default());
    let signal = HoldSignal::new();
    let options = CallOptions {
        hold: Some(signal.clone()),
        ..CallOptions::default()
    };
    let cancel = CancellationToken::new();
    let chain = chain(&["local/q"]);
    let call = router.call_with(request(), &chain, &cancel, &options);
    tokio::pin!(call);
    tokio::select! {
        biased;
        _ = &mut call => panic!("the call committed before the hold was signalled"),
        _ = signal.holding() => {}
    }
    let items = drain(call.await.unwrap()).await;
    assert_eq!(joined_text(&items), "answer");
}

#[tokio::test(start_paused = true)]
async fn no_hold_signal_for_an_answer_that_starts_with_text() {
    let local = FakeProvider::always("local", Script::Events(answer("hi")));
    let (router, _) = router_with(&[local], RouterConfig::default());
    let signal = HoldSignal::new();
    let options = CallOptions {
        hold: Some(signal.clone()),
        ..CallOptions::default()
    };
    let stream = router
        .call_with(
            request(),
            &chain(&["local/q"]),
            &CancellationToken::new(),
            &options,
        )
        .await
        .unwrap();
    drain(stream).await;
    assert!(signal.holding().now_or_never().is_none());
}

#[tokio::test(start_paused = true)]
async fn past_the_hold_limit_the_stream_commits_anyway() {
    let local = FakeProvider::always(
        "local",
        Script::EventsThenError(
            vec![reasoning("a"), reasoning("b"), reasoning("c")],
            error(FailureKind::ServerError),
        ),
    );
    let hosted = FakeProvider::always("hosted", Script::Events(answer("rescued")));
    let config = RouterConfig {
        hold: HoldLimits {
            max_bytes: 1024,
            max_events: 2,
        },
        ..RouterConfig::default()
    };
    let (router, _) = router_with(&[local, hosted.clone()], config);
    let stream = local_then_hosted(&router).await;
    assert_eq!(stream.answered_by(), &cand("local/q"));
    let items = drain(stream).await;
    assert_eq!(items.iter().filter(|i| i.is_ok()).count(), 3);
    assert!(items.last().unwrap().is_err());
    assert_eq!(hosted.call_count(), 0);
}

#[tokio::test(start_paused = true)]
async fn reasoning_stops_the_first_event_clock_and_the_idle_clock_runs_while_holding() {
    // Local defaults: 120 s to the first content, 60 s idle. Reasoning every 50 s for 250 s
    // is fine; then a 61 s gap is an idle timeout, not a first-event one.
    let mut events = vec![(Duration::from_secs(100), reasoning("r"))];
    events.extend((0..5).map(|_| (Duration::from_secs(50), reasoning("r"))));
    events.push((Duration::from_secs(50), text("answer")));
    events.push((Duration::ZERO, finished()));
    let slow = FakeProvider::always("local", Script::Paced(events));
    let set = ProviderSet::new().with(ProviderTarget::new(slow).local(true));
    let (router, _) = router_over(
        set,
        clawgate_router::CooldownStore::in_memory(Default::default()),
        RouterConfig::default(),
    );
    let stream = router
        .call(request(), &chain(&["local/q"]), &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(joined_text(&drain(stream).await), "answer");

    let stalled = FakeProvider::always(
        "local",
        Script::Paced(vec![
            (Duration::from_secs(1), reasoning("r")),
            (Duration::from_secs(61), text("too late")),
        ]),
    );
    let set = ProviderSet::new().with(ProviderTarget::new(stalled).local(true));
    let (router, _) = router_over(
        set,
        clawgate_router::CooldownStore::in_memory(Default::default()),
        RouterConfig::default(),
    );
    let error = router
        .call(request(), &chain(&["local/q"]), &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("no event for 1m (idle timeout)"),
        "{error}"
    );
}

fn broken_tool_call() -> Script {
    Script::EventsThenError(
        vec![
            started("q"),
            tool_start(0, "call_0", "exec"),
            tool_args(0, "{\"comm"),
        ],
        ProviderError::new(
            FailureKind::ServerError,
            "Invalid diff: now finding less tool calls!",
        ),
    )
}

fn whole_tool_call() -> Vec<Event> {
    vec![
        started("q"),
        tool_start(0, "call_0", "exec"),
        tool_args(0, "{\"command\":\"ls\"}"),
        Event::Finished {
            stop_reason: StopReason::ToolUse,
        },
    ]
}

use clawgate_providers::ProviderError;

#[tokio::test(start_paused = true)]
async fn a_stream_broken_mid_tool_call_is_asked_again_without_streaming() {
    let local = FakeProvider::sequence(
        "local",
        vec![broken_tool_call(), Script::Events(whole_tool_call())],
    );
    let hosted = FakeProvider::always("hosted", Script::Events(answer("rescued")));
    let (router, _) = router_with(&[local.clone(), hosted.clone()], RouterConfig::default());
    let stream = local_then_hosted(&router).await;
    assert_eq!(stream.answered_by(), &cand("local/q"));
    let attempts = stream.attempts().to_vec();
    assert_eq!(attempts.len(), 2);
    assert!(matches!(
        attempts[0].outcome,
        AttemptOutcome::Failed {
            kind: FailureKind::ServerError,
            ..
        }
    ));
    assert!(!attempts[0].without_stream);
    assert_eq!(attempts[1].outcome, AttemptOutcome::Ok);
    assert_eq!((attempts[1].retry, attempts[1].without_stream), (1, true));
    let json = serde_json::to_value(&attempts[1]).unwrap();
    assert_eq!(json["without_stream"], true);
    let streamed: Vec<bool> = local.calls().iter().map(|c| c.stream).collect();
    assert_eq!(streamed, [true, false]);
    let items: Vec<Event> = drain(stream)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        items,
        whole_tool_call(),
        "no partial arguments before the call"
    );
    assert_eq!(hosted.call_count(), 0);
}

#[tokio::test(start_paused = true)]
async fn when_the_unstreamed_retry_fails_too_the_chain_falls_back() {
    let local = FakeProvider::sequence(
        "local",
        vec![
            broken_tool_call(),
            Script::FailBeforeStream(error(FailureKind::ServerError)),
        ],
    );
    let hosted = FakeProvider::always("hosted", Script::Events(answer("rescued")));
    let (router, _) = router_with(&[local.clone(), hosted], RouterConfig::default());
    let stream = local_then_hosted(&router).await;
    assert_eq!(stream.answered_by(), &cand("hosted/s"));
    let flags: Vec<(String, u8, bool)> = stream
        .attempts()
        .iter()
        .map(|a| (a.candidate.to_string(), a.retry, a.without_stream))
        .collect();
    assert_eq!(
        flags,
        [
            ("local/q".to_string(), 0, false),
            ("local/q".to_string(), 1, true),
            ("hosted/s".to_string(), 0, false)
        ]
    );
    assert_eq!(joined_text(&drain(stream).await), "rescued");
}

#[tokio::test(start_paused = true)]
async fn no_unstreamed_retry_when_retries_are_off_or_nothing_was_streamed() {
    let local = FakeProvider::always("local", broken_tool_call());
    let hosted = FakeProvider::always("hosted", Script::Events(answer("rescued")));
    let config = RouterConfig {
        max_same_candidate_retries: 0,
        ..RouterConfig::default()
    };
    let (router, _) = router_with(&[local.clone(), hosted.clone()], config);
    let stream = local_then_hosted(&router).await;
    assert_eq!(stream.answered_by(), &cand("hosted/s"));
    assert_eq!(local.call_count(), 1);

    let local = FakeProvider::always("local", broken_tool_call());
    let (router, _) = router_with(&[local.clone(), hosted], RouterConfig::default());
    let unstreamed = clawgate_wire::Request {
        stream: false,
        ..request()
    };
    let stream = router
        .call(
            unstreamed,
            &chain(&["local/q", "hosted/s"]),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(stream.answered_by(), &cand("hosted/s"));
    assert_eq!(
        local.call_count(),
        1,
        "a non-streamed call is not asked again"
    );
}

fn notice(t: &str) -> Event {
    Event::Notice { text: t.into() }
}

/// A model's notice does not commit its attempt (it is not answer content), so a failure
/// after it still fails over, and the fallback's route info carries none of the failed
/// model's notices; the answering model's notices before its answer are in its route info.
#[tokio::test(start_paused = true)]
async fn notices_do_not_commit_and_belong_to_the_model_that_answered() {
    let local = FakeProvider::always(
        "local",
        Script::EventsThenError(
            vec![started("q"), notice("local cannot call tools")],
            error(FailureKind::ServerError),
        ),
    );
    let hosted = FakeProvider::always(
        "hosted",
        Script::Events(vec![
            started("s"),
            notice("hosted answers in text"),
            text("rescued"),
            notice("late notice"),
            finished(),
        ]),
    );
    let (router, _) = router_with(&[local, hosted], RouterConfig::default());
    let stream = local_then_hosted(&router).await;
    assert_eq!(stream.answered_by(), &cand("hosted/s"));
    assert_eq!(stream.info().notices, vec!["hosted answers in text"]);
    let items = drain(stream).await;
    assert_eq!(joined_text(&items), "rescued");
    let in_stream: Vec<_> = items
        .iter()
        .filter_map(|item| match item {
            Ok(Event::Notice { text }) => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(in_stream, ["hosted answers in text", "late notice"]);
}
