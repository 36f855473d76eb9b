//! The agent's own overhead per turn (everything but the model), for sessions of 10, 1,000 and
//! 10,000 messages. The model is an in-memory client that answers at once, so the time measured
//! is request building, filtering, transcript appends and the `sessions.json` rewrite.
//!
//! Run: `cargo run --release -p clawgate-agent --example turn_overhead`
//! Method: build each session through ordinary turns, reopen it (timed: the one-time load),
//! then time 200 further turns and report the median and p99 per turn. Two windows: 2M tokens,
//! where no compaction runs and the whole history stays in the active context (the worst case
//! for request building), and 32K, where compaction keeps the active context bounded (the
//! realistic case: the cost per turn no longer grows with the transcript). Both with
//! `sessions.json` fsynced per turn (the default) and not.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use clawgate_agent::{
    AgentRuntime, AgentSettings, ModelCallError, ModelClient, ModelInfo, ModelReply,
    StaticModelDirectory, ToolRegistry, TurnOptions,
};
use clawgate_wire::{Event, Request, StopReason, Usage};

struct Instant0;

#[async_trait]
impl ModelClient for Instant0 {
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
}

fn runtime(dir: &std::path::Path, durable: bool, window: u64) -> AgentRuntime {
    let mut settings = AgentSettings::new("bench", dir.join("state"), dir.join("ws"), "p/m");
    settings.durable_store = durable;
    let models = StaticModelDirectory::new().with_model(ModelInfo {
        model_ref: "p/m".into(),
        context_window: Some(window),
        ..ModelInfo::default()
    });
    AgentRuntime::new(settings, Arc::new(Instant0), Arc::new(models))
        .map(|rt| rt.with_tools(ToolRegistry::empty()))
        .unwrap_or_else(|e| panic!("runtime: {e}"))
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    println!("| window | messages | fsync | load (once) | per turn p50 | per turn p99 |");
    println!("|---:|---:|---|---:|---:|---:|");
    for (window, messages, durable) in [
        (2_000_000u64, 10usize, true),
        (2_000_000, 10, false),
        (2_000_000, 1_000, false),
        (2_000_000, 10_000, true),
        (2_000_000, 10_000, false),
        (32_768, 1_000, false),
        (32_768, 10_000, false),
    ] {
        {
            let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
            let key = "agent:bench:main";
            {
                let rt = runtime(dir.path(), false, window);
                for i in 0..messages / 2 {
                    let text = format!("user message number {i}, of an ordinary length.");
                    rt.run_turn(key, text, TurnOptions::default())
                        .await
                        .unwrap_or_else(|e| panic!("turn: {e}"));
                }
            }
            let rt = runtime(dir.path(), durable, window);
            let start = Instant::now();
            rt.run_turn(key, "/status", TurnOptions::default())
                .await
                .unwrap_or_else(|e| panic!("load: {e}"));
            let load = start.elapsed();
            let mut times = Vec::with_capacity(200);
            for i in 0..200 {
                let start = Instant::now();
                rt.run_turn(key, format!("another message {i}"), TurnOptions::default())
                    .await
                    .unwrap_or_else(|e| panic!("turn: {e}"));
                times.push(start.elapsed());
            }
            times.sort();
            println!(
                "| {window} | {messages} | {} | {:.2} ms | {:.3} ms | {:.3} ms |",
                if durable { "yes" } else { "no" },
                load.as_secs_f64() * 1e3,
                pct(&times, 0.5).as_secs_f64() * 1e3,
                pct(&times, 0.99).as_secs_f64() * 1e3,
            );
        }
    }
}
