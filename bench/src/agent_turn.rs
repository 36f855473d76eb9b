//! The agent's own overhead per turn (issue 5): everything a turn costs except the model, for
//! sessions of 10, 1,000 and 10,000 messages, with `sessions.json` fsynced per turn (the
//! default) and not. The model is an in-memory client that answers at once, so what is timed
//! is request building, filtering, the transcript append and the `sessions.json` rewrite.
//!
//! Method: build each session through ordinary turns (not timed), copy its state dir once per
//! fsync setting so both start from the same session, reopen it (the first turn on a reopened
//! session loads the transcript: timed apart, as "load"), then time `turns` further turns.
//! The context window is 2M tokens, so no compaction runs and the whole history is in every
//! request: the worst case for request building.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use async_trait::async_trait;
use clawgate_agent::{
    AgentRuntime, AgentSettings, ModelCallError, ModelClient, ModelLimits, ModelReply,
    StaticModelDirectory, ToolRegistry, TurnOptions,
};
use clawgate_wire::{Event, Request, StopReason, Usage};
use serde::Serialize;

use crate::stats::Summary;

const KEY: &str = "agent:bench:main";
const WINDOW: u64 = 2_000_000;

/// A model that answers every request at once with a short text and plausible usage.
struct InstantModel;

#[async_trait]
impl ModelClient for InstantModel {
    async fn call(&self, request: Request) -> Result<ModelReply, ModelCallError> {
        let input = request.messages.len() as u64 * 20;
        Ok(ModelReply::from_events(
            request.model,
            vec![
                Event::Started {
                    id: "r".into(),
                    model: "m".into(),
                },
                Event::TextDelta {
                    text: "An answer of a typical short length.".into(),
                },
                Event::Usage {
                    usage: Usage {
                        input_tokens: Some(input),
                        output_tokens: Some(10),
                        ..Usage::default()
                    },
                },
                Event::Finished {
                    stop_reason: StopReason::Stop,
                },
            ],
        ))
    }

    /// One model that always answers: no fallback is ever needed.
    async fn call_with_fallbacks(
        &self,
        request: Request,
        _fallbacks: &[String],
    ) -> Result<ModelReply, ModelCallError> {
        self.call(request).await
    }
}

pub(crate) fn runtime(dir: &Path, durable: bool) -> anyhow::Result<AgentRuntime> {
    let mut settings = AgentSettings::new("bench", dir.join("state"), dir.join("ws"), "p/m");
    settings.durable_store = durable;
    let models = StaticModelDirectory::new().with_model(ModelLimits {
        model_ref: "p/m".into(),
        context_window: Some(WINDOW),
        ..ModelLimits::default()
    });
    Ok(
        AgentRuntime::new(settings, Arc::new(InstantModel), Arc::new(models))?
            .with_tools(ToolRegistry::empty()),
    )
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

#[derive(Debug, Serialize)]
pub struct TurnFigures {
    pub messages: usize,
    pub fsync: bool,
    pub load_ms: f64,
    pub per_turn: Summary,
}

/// Every (size, fsync) row; `turns` timed turns each.
pub async fn measure(sizes: &[usize], turns: usize) -> anyhow::Result<Vec<TurnFigures>> {
    let mut rows = Vec::new();
    for &messages in sizes {
        let built = tempfile::tempdir()?;
        let started = Instant::now();
        {
            let rt = runtime(built.path(), false)?;
            for i in 0..messages / 2 {
                let text = format!("user message number {i}, of an ordinary length.");
                rt.run_turn(KEY, text, TurnOptions::default())
                    .await
                    .context("building the session")?;
            }
        }
        eprintln!(
            "  built a {messages}-message session in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        for fsync in [true, false] {
            let dir = tempfile::tempdir()?;
            copy_dir(built.path(), dir.path())?;
            let rt = runtime(dir.path(), fsync)?;
            let load_started = Instant::now();
            rt.run_turn(KEY, "/status", TurnOptions::default()).await?;
            let load = load_started.elapsed();
            let mut times: Vec<Duration> = Vec::with_capacity(turns);
            for i in 0..turns {
                let t = Instant::now();
                rt.run_turn(KEY, format!("another message {i}"), TurnOptions::default())
                    .await?;
                times.push(t.elapsed());
            }
            let per_turn = Summary::of(&times);
            eprintln!(
                "  {messages} messages, fsync {}: p50 {:.3} ms, p99 {:.3} ms (load {:.1} ms)",
                if fsync { "on" } else { "off" },
                per_turn.p50_us / 1e3,
                per_turn.p99_us / 1e3,
                load.as_secs_f64() * 1e3
            );
            rows.push(TurnFigures {
                messages,
                fsync,
                load_ms: load.as_secs_f64() * 1e3,
                per_turn,
            });
        }
    }
    Ok(rows)
}
