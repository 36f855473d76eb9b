//! Probes for `models status --probe`, and the status rows.

use std::time::Duration;

use clawgate_providers::{DiscoveredModel, FailureKind, Provider};
use clawgate_router::{
    CooldownKey, Penalty, ProbeResult, RouterConfig, probe, probe_all, provider_status,
};

use crate::fake::*;

fn model(id: &str, window: Option<u64>) -> DiscoveredModel {
    DiscoveredModel {
        id: id.into(),
        context_window: window,
        loaded: Some(true),
        supports_tools: None,
        reasoning: None,
    }
}

#[tokio::test(start_paused = true)]
async fn reachable_provider_reports_models_and_context_windows() {
    let lmstudio = FakeProvider::with_models(
        "lmstudio",
        Ok(vec![
            model("qwen3-8b", Some(32_768)),
            model("gemma-3", None),
        ]),
        Some(Duration::from_millis(40)),
    );
    let result = probe(lmstudio.as_ref(), Duration::from_secs(5)).await;
    assert!(result.reachable);
    assert_eq!(result.provider, "lmstudio");
    assert_eq!(result.models.len(), 2);
    assert_eq!(result.models[0].context_window, Some(32_768));
    assert_eq!(
        result.latency,
        Duration::from_millis(40),
        "paused clock: exact"
    );
    assert_eq!(result.error, None);
}

#[tokio::test(start_paused = true)]
async fn hung_or_failing_provider_is_unreachable_with_its_reason() {
    let hung = FakeProvider::with_models("hung", Ok(vec![]), Some(Duration::from_secs(3600)));
    let result = probe(hung.as_ref(), Duration::from_secs(5)).await;
    assert!(!result.reachable);
    assert_eq!(result.error.as_ref().unwrap().kind, FailureKind::Timeout);
    let down = FakeProvider::with_models("down", Err(refused()), None);
    let result = probe(down.as_ref(), Duration::from_secs(5)).await;
    assert!(!result.reachable);
    assert_eq!(result.error.unwrap().message, "connection refused");
}

#[tokio::test(start_paused = true)]
async fn probe_all_runs_concurrently_and_keeps_input_order() {
    let a = FakeProvider::with_models(
        "a",
        Ok(vec![model("m", None)]),
        Some(Duration::from_secs(3)),
    );
    let b = FakeProvider::with_models("b", Err(refused()), Some(Duration::from_secs(1)));
    let c = FakeProvider::with_models("c", Ok(vec![]), Some(Duration::from_secs(2)));
    let start = tokio::time::Instant::now();
    let providers: Vec<&dyn Provider> = vec![a.as_ref(), b.as_ref(), c.as_ref()];
    let results: Vec<ProbeResult> = probe_all(providers, Duration::from_secs(5), 3).await;
    let ids: Vec<&str> = results.iter().map(|r| r.provider.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c"]);
    assert_eq!(
        results.iter().map(|r| r.reachable).collect::<Vec<_>>(),
        [true, false, true]
    );
    // concurrent: the slowest (3 s), not the sum (6 s), on the paused clock
    assert_eq!(start.elapsed(), Duration::from_secs(3));
}

#[tokio::test]
async fn status_rows_show_cooldowns_per_provider_and_key() {
    let a = FakeProvider::always("a", Script::Hang);
    let b = FakeProvider::always("b", Script::Hang);
    let (router, _) = router_with(&[a, b], RouterConfig::default());
    router.cooldowns().record_failure(
        &CooldownKey::provider("b"),
        &FailureKind::Timeout,
        Penalty::Cooldown,
        T0,
    );
    let rows = provider_status(&router);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].provider, "a");
    assert_eq!(rows[0].blocked_until, None);
    assert_eq!(rows[1].blocked_until, Some(T0 + 60_000));
    assert_eq!(rows[1].blocked_reason.as_deref(), Some("timeout"));
    assert_eq!(rows[1].entries.len(), 1);
    let json = serde_json::to_value(&rows).unwrap();
    assert_eq!(json[1]["entries"][0][0], "b");
}
