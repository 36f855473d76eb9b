//! `agents.defaults.compaction.enabled` and `.model` as the agent applies them: threshold
//! compaction after a turn only when enabled (the prompt must still fit, so compaction before
//! a call that would not fit stays on), and the summary written by the configured model.

use std::sync::Arc;

use clawgate_agent::{AgentRuntime, AgentSettings, StaticModelDirectory, TurnOptions};

use crate::fake::{FakeModel, model, runtime};

/// The turn (0-based) of the first compaction over turns of ~1000 tokens each in a 16k window.
async fn first_compaction_turn(enabled: bool) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeModel::text("p/m", "ok");
    let rt = runtime(dir.path(), fake, model("p/m", 16_384), |s| {
        s.compaction.enabled = enabled;
    });
    for n in 0..40 {
        let out = rt
            .run_turn(
                "k",
                format!("turn {n}: {}", "y".repeat(4_000)),
                TurnOptions::default(),
            )
            .await
            .unwrap();
        if out.compactions > 0 {
            return n;
        }
    }
    panic!("no compaction in 40 turns");
}

#[tokio::test]
async fn disabled_compaction_waits_until_the_prompt_would_not_fit() {
    let on = first_compaction_turn(true).await;
    let off = first_compaction_turn(false).await;
    assert!(
        on < off,
        "threshold compaction at turn {on}, without it at turn {off}"
    );
}

#[tokio::test]
async fn the_compaction_model_writes_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeModel::text("p/m", "ok");
    let mut settings = AgentSettings::new(
        "main",
        dir.path().join("state"),
        dir.path().join("workspace"),
        "p/m".to_string(),
    );
    settings.durable_store = false;
    settings.compaction.model = Some("p/summarizer".into());
    let models = StaticModelDirectory::new()
        .with_model(model("p/m", 32_000))
        .with_model(model("p/summarizer", 64_000));
    let rt = AgentRuntime::new(settings, fake.clone(), Arc::new(models)).unwrap();
    for n in 0..3 {
        rt.run_turn(
            "k",
            format!("message {n} {}", "x".repeat(2_000)),
            TurnOptions::default(),
        )
        .await
        .unwrap();
    }
    let out = rt
        .run_turn("k", "/compact", TurnOptions::default())
        .await
        .unwrap();
    assert!(out.reply.unwrap().starts_with("Compacted"));
    let log = fake.requests();
    let summaries: Vec<_> = log.iter().filter(|r| r.is_summary).collect();
    assert!(!summaries.is_empty());
    assert!(summaries.iter().all(|r| r.request.model == "p/summarizer"));
    assert!(
        log.iter()
            .filter(|r| !r.is_summary)
            .all(|r| r.request.model == "p/m")
    );
}
