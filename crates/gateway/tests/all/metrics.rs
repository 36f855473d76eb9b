//! `/metrics`: requests by route/model/outcome, upstream latency, overhead, tokens and cost by
//! model (from the config's `cost`), cooldown state per provider.

use mock_upstream::{Fault, Script};
use serde_json::Value;

use crate::support::{Harness, Inbound, MODEL};

fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l[series.len()..].trim().parse().ok())
}

#[tokio::test]
async fn metrics_carry_requests_timing_tokens_cost_and_cooldowns() {
    let h = Harness::start().await;
    let r = h
        .post(
            "/v1/chat/completions",
            &Inbound::Chat.body(&format!("chatup/{MODEL}"), "count me", false),
        )
        .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let input = body["usage"]["prompt_tokens"].as_u64().unwrap();
    let output = body["usage"]["completion_tokens"].as_u64().unwrap();

    let text = h.metrics_text().await;
    let ok = r#"clawgate_requests_total{route="chat_completions",model="chatup/mock-model",outcome="ok"}"#;
    assert_eq!(sample(&text, ok), Some(1.0), "{text}");
    assert_eq!(
        sample(
            &text,
            r#"clawgate_overhead_seconds_count{route="chat_completions"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            r#"clawgate_upstream_seconds_count{model="chatup/mock-model"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            r#"clawgate_tokens_total{model="chatup/mock-model",kind="input"}"#
        ),
        Some(input as f64)
    );
    assert_eq!(
        sample(
            &text,
            r#"clawgate_tokens_total{model="chatup/mock-model",kind="output"}"#
        ),
        Some(output as f64)
    );
    let cost = sample(
        &text,
        r#"clawgate_cost_usd_total{model="chatup/mock-model"}"#,
    )
    .unwrap();
    let expected = (input as f64 * 1.5 + output as f64 * 6.0) / 1_000_000.0;
    assert!((cost - expected).abs() < 1e-12, "cost {cost} vs {expected}");
    assert_eq!(
        sample(
            &text,
            r#"clawgate_provider_cooling_down{provider="chatup"}"#
        ),
        Some(0.0)
    );
    assert_eq!(sample(&text, "clawgate_in_flight_requests"), Some(0.0));

    // A rate-limited provider shows as cooling down, and the request as rate_limited.
    h.mock.push_scripts(Script::fault(Fault::Status429), 5);
    let r = h
        .http
        .post(h.url("/v1/messages"))
        .header("x-clawgate-fallbacks", "none")
        .json(&Inbound::Messages.body(&format!("chatup/{MODEL}"), "hi", false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let text = h.metrics_text().await;
    assert_eq!(
        sample(
            &text,
            r#"clawgate_provider_cooling_down{provider="chatup"}"#
        ),
        Some(1.0)
    );
    let remaining = sample(
        &text,
        r#"clawgate_provider_cooldown_remaining_seconds{provider="chatup"}"#,
    );
    assert!(remaining.is_some_and(|s| s > 0.0), "{text}");
    let limited = r#"clawgate_requests_total{route="messages",model="chatup/mock-model",outcome="rate_limited"}"#;
    assert_eq!(sample(&text, limited), Some(1.0), "{text}");
}
