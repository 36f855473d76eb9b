//! Failover before the commit point, the error item after it, hand-back on overflow, abort.

use std::time::Duration;

use clawgate_providers::{FailureKind, NetworkCause, ProviderError};
use clawgate_router::{
    AttemptOutcome, CancellationToken, CandidateChain, CooldownKey, RouterConfig, RouterError,
    Then, decide,
};
use clawgate_wire::Event;

use crate::fake::*;

/// Kinds the router fails over on (everything except overflow and abort).
fn failover_kinds() -> Vec<FailureKind> {
    vec![
        FailureKind::Auth,
        FailureKind::AuthPermanent,
        FailureKind::Billing,
        FailureKind::RateLimit { retry_after: None },
        FailureKind::RateLimit {
            retry_after: Some(Duration::from_secs(5)),
        },
        FailureKind::Overloaded,
        FailureKind::Timeout,
        FailureKind::Network {
            cause: NetworkCause::Refused,
        },
        FailureKind::Network {
            cause: NetworkCause::Reset,
        },
        FailureKind::Network {
            cause: NetworkCause::Dns,
        },
        FailureKind::Network {
            cause: NetworkCause::Tls,
        },
        FailureKind::Network {
            cause: NetworkCause::Other,
        },
        FailureKind::ServerError,
        FailureKind::Format,
        FailureKind::ModelNotFound,
        FailureKind::EmptyResponse,
        FailureKind::Truncated,
        FailureKind::Unknown,
    ]
}

async fn assert_fails_over(kind: FailureKind, failing: Script) {
    let primary = FakeProvider::always("local", failing);
    let fallback = FakeProvider::always("hosted", Script::Events(answer("from fallback")));
    let (router, _clock) = router_with(
        &[primary.clone(), fallback.clone()],
        RouterConfig::default(),
    );
    let chain = chain(&["local/qwen", "hosted/sonnet"]);
    let stream = router
        .call(request(), &chain, &CancellationToken::new())
        .await
        .unwrap_or_else(|e| panic!("{kind:?}: expected failover, got {e}"));
    assert_eq!(stream.answered_by(), &cand("hosted/sonnet"), "{kind:?}");
    assert!(stream.is_fallback());
    let expected_primary_attempts = 1 + decide(&kind).retry_same as usize;
    assert_eq!(primary.call_count(), expected_primary_attempts, "{kind:?}");
    let attempts = stream.attempts().to_vec();
    assert_eq!(attempts.len(), expected_primary_attempts + 1, "{kind:?}");
    match &attempts[0].outcome {
        AttemptOutcome::Failed { kind: seen, .. } => assert_eq!(seen, &kind),
        other => panic!("{kind:?}: first attempt was {other:?}"),
    }
    assert_eq!(attempts.last().unwrap().outcome, AttemptOutcome::Ok);
    let items = drain(stream).await;
    assert_eq!(joined_text(&items), "from fallback", "{kind:?}");
    assert!(items.iter().all(Result::is_ok));
}

#[tokio::test]
async fn every_failure_before_stream_opens_fails_over() {
    for kind in failover_kinds() {
        assert_eq!(decide(&kind).then, Then::NextCandidate);
        assert_fails_over(kind, Script::FailBeforeStream(error(kind))).await;
    }
}

#[tokio::test]
async fn every_failure_after_started_but_before_content_fails_over() {
    for kind in failover_kinds() {
        let script = Script::EventsThenError(vec![started("qwen"), usage()], error(kind));
        assert_fails_over(kind, script).await;
    }
}

#[tokio::test]
async fn request_model_is_rewritten_per_candidate() {
    let primary = FakeProvider::always("local", Script::FailBeforeStream(refused()));
    let fallback = FakeProvider::always("hosted", Script::Events(answer("ok")));
    let (router, _) = router_with(
        &[primary.clone(), fallback.clone()],
        RouterConfig::default(),
    );
    let chain = chain(&["local/qwen3-8b", "hosted/claude-sonnet-4-5"]);
    router
        .call(request(), &chain, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(primary.calls()[0].model, "qwen3-8b");
    assert_eq!(fallback.calls()[0].model, "claude-sonnet-4-5");
}

#[tokio::test]
async fn buffered_started_and_usage_are_delivered_after_commit_in_order() {
    let only = FakeProvider::always(
        "local",
        Script::Events(vec![
            started("qwen"),
            usage(),
            text("a"),
            text("b"),
            finished(),
        ]),
    );
    let (router, _) = router_with(&[only], RouterConfig::default());
    let stream = router
        .call(
            request(),
            &chain(&["local/qwen"]),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    assert!(!stream.is_fallback());
    assert_eq!(stream.info().fallback_notice(), None);
    let items: Vec<Event> = drain(stream)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        items,
        vec![started("qwen"), usage(), text("a"), text("b"), finished()]
    );
}

#[tokio::test]
async fn failure_after_commit_is_an_error_item_and_never_a_fallback() {
    let primary = FakeProvider::always(
        "local",
        Script::EventsThenError(
            vec![started("qwen"), text("partial ")],
            ProviderError::new(FailureKind::ServerError, "upstream 500").with_status(500),
        ),
    );
    let fallback = FakeProvider::always("hosted", Script::Events(answer("never")));
    let (router, clock) = router_with(
        &[primary.clone(), fallback.clone()],
        RouterConfig::default(),
    );
    let stream = router
        .call(
            request(),
            &chain(&["local/qwen", "hosted/sonnet"]),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(stream.answered_by(), &cand("local/qwen"));
    let items = drain(stream).await;
    assert_eq!(joined_text(&items), "partial ");
    let last = items.last().unwrap().as_ref().unwrap_err();
    assert_eq!(last.kind, FailureKind::ServerError);
    assert_eq!(last.status, Some(500));
    assert_eq!(fallback.call_count(), 0);
    // the failure still counts against the provider
    let blocked = router
        .cooldowns()
        .blocked(&CooldownKey::provider("local"), clock_now(&clock))
        .expect("local cooling down after a mid-stream failure");
    assert_eq!(blocked.reason, "server_error");
}

fn clock_now(clock: &clawgate_router::ManualClock) -> u64 {
    use clawgate_router::Clock;
    clock.now_ms()
}

#[tokio::test]
async fn end_without_finish_after_commit_is_reported_as_truncated() {
    let primary = FakeProvider::always("local", Script::Events(vec![started("q"), text("half")]));
    let (router, _) = router_with(&[primary], RouterConfig::default());
    let items = drain(
        router
            .call(request(), &chain(&["local/q"]), &CancellationToken::new())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(joined_text(&items), "half");
    assert_eq!(
        items.last().unwrap().as_ref().unwrap_err().kind,
        FailureKind::Truncated
    );
}

#[tokio::test]
async fn stream_ending_before_any_content_is_empty_response_and_fails_over() {
    let primary = FakeProvider::always("local", Script::Events(vec![started("q"), usage()]));
    let fallback = FakeProvider::always("hosted", Script::Events(answer("ok")));
    let (router, _) = router_with(&[primary, fallback], RouterConfig::default());
    let stream = router
        .call(
            request(),
            &chain(&["local/q", "hosted/s"]),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    match &stream.attempts()[0].outcome {
        AttemptOutcome::Failed { kind, .. } => assert_eq!(*kind, FailureKind::EmptyResponse),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn reset_connection_is_retried_once_on_the_same_candidate() {
    let reset = ProviderError::new(
        FailureKind::Network {
            cause: NetworkCause::Reset,
        },
        "reset",
    );
    let primary = FakeProvider::sequence("local", vec![Script::FailBeforeStream(reset)]);
    let fallback = FakeProvider::always("hosted", Script::Events(answer("no")));
    let (router, _) = router_with(
        &[primary.clone(), fallback.clone()],
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
    assert_eq!(stream.answered_by(), &cand("local/q"));
    let retries: Vec<u8> = stream.attempts().iter().map(|a| a.retry).collect();
    assert_eq!(retries, [0, 1]);
    assert_eq!(fallback.call_count(), 0);
    // a single transient reset that recovered leaves no cooldown behind
    assert!(router.cooldowns().snapshot().is_empty());
}

#[tokio::test]
async fn retry_cap_zero_disables_same_candidate_retries() {
    let reset = ProviderError::new(
        FailureKind::Network {
            cause: NetworkCause::Reset,
        },
        "reset",
    );
    let primary = FakeProvider::sequence("local", vec![Script::FailBeforeStream(reset)]);
    let fallback = FakeProvider::always("hosted", Script::Events(answer("fallback")));
    let config = RouterConfig {
        max_same_candidate_retries: 0,
        ..RouterConfig::default()
    };
    let (router, _) = router_with(&[primary.clone(), fallback], config);
    let stream = router
        .call(
            request(),
            &chain(&["local/q", "hosted/s"]),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(stream.answered_by(), &cand("hosted/s"));
    assert_eq!(primary.call_count(), 1);
}

#[tokio::test]
async fn context_overflow_is_handed_back_not_fallen_back() {
    let overflow = ProviderError::new(
        FailureKind::ContextOverflow {
            requested: Some(40_000),
            limit: Some(32_768),
        },
        "the model is loaded with context length of only 32768 tokens",
    );
    let primary = FakeProvider::always("local", Script::FailBeforeStream(overflow));
    let fallback = FakeProvider::always("hosted", Script::Events(answer("no")));
    let (router, _) = router_with(&[primary, fallback.clone()], RouterConfig::default());
    let chain = chain(&["local/q", "hosted/s"]);
    let err = router
        .call(request(), &chain, &CancellationToken::new())
        .await
        .unwrap_err();
    match &err {
        RouterError::ContextOverflow {
            candidate,
            requested,
            limit,
            attempts,
            ..
        } => {
            assert_eq!(candidate, &cand("local/q"));
            assert_eq!((*requested, *limit), (Some(40_000), Some(32_768)));
            assert_eq!(attempts.len(), 1);
            assert_eq!(
                chain.starting_at(candidate),
                CandidateChain::from_refs([cand("local/q"), cand("hosted/s")])
            );
        }
        other => panic!("expected overflow, got {other:?}"),
    }
    assert_eq!(fallback.call_count(), 0);
    assert!(
        router.cooldowns().snapshot().is_empty(),
        "overflow is not the provider's fault"
    );
}

#[tokio::test]
async fn upstream_abort_stops_the_chain() {
    let primary = FakeProvider::always(
        "local",
        Script::FailBeforeStream(error(FailureKind::Aborted)),
    );
    let fallback = FakeProvider::always("hosted", Script::Events(answer("no")));
    let (router, _) = router_with(&[primary, fallback.clone()], RouterConfig::default());
    let err = router
        .call(
            request(),
            &chain(&["local/q", "hosted/s"]),
            &CancellationToken::new(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, RouterError::Aborted { .. }), "{err:?}");
    assert_eq!(fallback.call_count(), 0);
}

#[tokio::test]
async fn all_failed_lists_every_attempt_and_the_soonest_retry() {
    let a = FakeProvider::always("local", Script::FailBeforeStream(refused()));
    let b = FakeProvider::always(
        "hosted",
        Script::FailBeforeStream(
            ProviderError::new(
                FailureKind::RateLimit { retry_after: None },
                "429 rate limited",
            )
            .with_status(429),
        ),
    );
    let c = FakeProvider::always("or", Script::FailBeforeStream(error(FailureKind::Format)));
    let (router, _) = router_with(&[a, b, c], RouterConfig::default());
    let err = router
        .call(
            request(),
            &chain(&["local/x", "hosted/y", "or/z"]),
            &CancellationToken::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "all models failed (3): local/x: connection refused (network) | \
         hosted/y: 429 rate limited (rate_limit) | or/z: fake format (format)"
    );
    let RouterError::AllFailed {
        soonest_retry,
        attempts,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(*soonest_retry, Some(T0 + 60_000));
    let status = match &attempts[1].outcome {
        AttemptOutcome::Failed { status, .. } => *status,
        other => panic!("{other:?}"),
    };
    assert_eq!(status, Some(429));
    assert_eq!(err.kind(), Some(FailureKind::Format));
}

#[tokio::test]
async fn a_single_failed_attempt_reads_as_that_attempts_own_error() {
    let a = FakeProvider::always("local", Script::FailBeforeStream(refused()));
    let (router, _) = router_with(&[a], RouterConfig::default());
    let err = router
        .call(request(), &chain(&["local/x"]), &CancellationToken::new())
        .await
        .unwrap_err();
    // spec §3.7: one attempt → its own error, not a one-item summary
    assert_eq!(err.to_string(), "local/x: connection refused (network)");
    let RouterError::AllFailed { attempts, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(attempts.len(), 1);
    assert_eq!(
        err.kind(),
        Some(FailureKind::Network {
            cause: NetworkCause::Refused
        })
    );
}

#[tokio::test]
async fn fallback_notice_names_both_models_and_the_reason() {
    let primary = FakeProvider::always(
        "local",
        Script::FailBeforeStream(error(FailureKind::Timeout)),
    );
    let fallback = FakeProvider::always("hosted", Script::Events(answer("ok")));
    let (router, _) = router_with(&[primary, fallback], RouterConfig::default());
    let stream = router
        .call(
            request(),
            &chain(&["local/x", "hosted/y"]),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(
        stream.info().fallback_notice().as_deref(),
        Some("↪️ Model Fallback: hosted/y (selected local/x; timeout)")
    );
}

#[tokio::test]
async fn unknown_provider_in_chain_is_skipped_and_recorded() {
    let fallback = FakeProvider::always("hosted", Script::Events(answer("ok")));
    let (router, _) = router_with(&[fallback], RouterConfig::default());
    let stream = router
        .call(
            request(),
            &chain(&["ghost/x", "hosted/y"]),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(
        stream.attempts()[0].outcome,
        AttemptOutcome::SkippedUnknownProvider
    );
    assert_eq!(stream.answered_by(), &cand("hosted/y"));
}

#[tokio::test]
async fn empty_chain_is_no_candidates() {
    let (router, _) = router_with(&[], RouterConfig::default());
    let err = router
        .call(
            request(),
            &CandidateChain::default(),
            &CancellationToken::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(err, RouterError::NoCandidates);
}

#[tokio::test]
async fn attempt_record_serializes_for_json_output() {
    let primary = FakeProvider::always(
        "local",
        Script::FailBeforeStream(
            ProviderError::new(FailureKind::ServerError, "upstream 500").with_status(500),
        ),
    );
    let fallback = FakeProvider::always("hosted", Script::Events(answer("ok")));
    let (router, _) = router_with(&[primary, fallback], RouterConfig::default());
    let stream = router
        .call(
            request(),
            &chain(&["local/x", "hosted/y"]),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    let json = serde_json::to_value(stream.info()).unwrap();
    assert_eq!(
        json["requested"],
        serde_json::json!({"provider": "local", "model": "x"})
    );
    assert_eq!(json["answered_by"]["provider"], "hosted");
    assert_eq!(json["fallback"], true);
    let first = &json["attempts"][0];
    assert_eq!(first["outcome"], "failed");
    assert_eq!(first["kind"]["kind"], "server_error");
    assert_eq!(first["status"], 500);
    assert_eq!(first["message"], "upstream 500");
    assert_eq!(first["key_index"], 0);
    assert_eq!(first["probe"], false);
    assert_eq!(json["attempts"][1]["outcome"], "ok");
}
