//! Turn cost against the size of the session index (issue 17, item 6): the same short turn on
//! one session while `sessions.json` lists 10 or 10,000 other sessions. Each turn is served the
//! way the gateway serves an HTTP agent request: the session is closed after the turn, so the
//! next turn looks its row up again. `sessions.json` is fsynced (the default). What is timed is
//! everything but the model (an in-memory client that answers at once).
//!
//! Method: write an index of `count` rows (sessions that exist only as rows; their transcripts
//! are never opened), run 20 untimed turns to warm up, then time `turns` turns.

use std::time::{Duration, Instant};

use clawgate_agent::TurnOptions;
use serde::Serialize;

use crate::agent_turn::runtime;
use crate::stats::Summary;

const KEY: &str = "agent:bench:http";

#[derive(Debug, Serialize)]
pub struct IndexFigures {
    pub sessions: usize,
    pub per_turn: Summary,
}

/// An index with `count` rows in OpenClaw's shape.
fn write_index(dir: &std::path::Path, count: usize) -> anyhow::Result<()> {
    let sessions = dir.join("state/agents/bench/sessions");
    std::fs::create_dir_all(&sessions)?;
    let mut map = serde_json::Map::new();
    for i in 0..count {
        let id = format!("00000000-0000-4000-8000-{i:012}");
        map.insert(
            format!("agent:bench:user-{i}"),
            serde_json::json!({
                "sessionId": id,
                "sessionFile": format!("{id}.jsonl"),
                "sessionStartedAt": 1_700_000_000_000u64,
                "lastInteractionAt": 1_700_000_000_000u64,
                "updatedAt": 1_700_000_000_000u64,
                "inputTokens": 1200, "outputTokens": 300, "totalTokens": 1500,
                "contextTokens": 1500, "compactionCount": 0
            }),
        );
    }
    std::fs::write(
        sessions.join("sessions.json"),
        serde_json::to_string_pretty(&map)?,
    )?;
    Ok(())
}

pub async fn measure(counts: &[usize], turns: usize) -> anyhow::Result<Vec<IndexFigures>> {
    let mut rows = Vec::new();
    for &sessions in counts {
        let dir = tempfile::tempdir()?;
        write_index(dir.path(), sessions)?;
        let rt = runtime(dir.path(), true)?;
        for i in 0..20 {
            rt.run_turn(KEY, format!("warm-up {i}"), TurnOptions::default())
                .await?;
            rt.close_session(KEY).await;
        }
        let mut times: Vec<Duration> = Vec::with_capacity(turns);
        for i in 0..turns {
            let t = Instant::now();
            rt.run_turn(KEY, format!("message {i}"), TurnOptions::default())
                .await?;
            rt.close_session(KEY).await;
            times.push(t.elapsed());
        }
        drop(rt);
        let per_turn = Summary::of(&times);
        eprintln!(
            "  index of {sessions} sessions: p50 {:.3} ms, p99 {:.3} ms",
            per_turn.p50_us / 1e3,
            per_turn.p99_us / 1e3
        );
        rows.push(IndexFigures { sessions, per_turn });
    }
    Ok(rows)
}
