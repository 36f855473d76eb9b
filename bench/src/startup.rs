//! The start-up figure: time from spawning the process to its first successful health check
//! (`GET /healthz` for clawgate, polled every 1 ms on a fresh connection; LiteLLM's
//! `/health/liveliness`, polled every 20 ms: its start takes seconds, so the poll interval is
//! noise there), the median of several starts. Each process is killed before the next.

use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::peers::{ClawgateProcess, Launch, LitellmProcess};
use crate::stats::median;

#[derive(Debug, Serialize)]
pub struct StartupFigures {
    pub label: String,
    pub runs_ms: Vec<f64>,
    pub median_ms: f64,
}

fn figures(label: &str, runs: &[Duration]) -> StartupFigures {
    StartupFigures {
        label: label.to_string(),
        runs_ms: runs.iter().map(|d| d.as_secs_f64() * 1e3).collect(),
        median_ms: median(runs).as_secs_f64() * 1e3,
    }
}

pub fn clawgate(
    binary: &Path,
    fast_url: &str,
    stream_url: &str,
    runs: usize,
) -> anyhow::Result<StartupFigures> {
    let mut times = Vec::new();
    for _ in 0..runs {
        let g = ClawgateProcess::start(
            binary,
            fast_url,
            stream_url,
            &Launch::default(),
            Duration::from_millis(1),
        )?;
        times.push(g.ready_after);
    }
    let f = figures("clawgate", &times);
    eprintln!("  clawgate: {:?} ms", f.runs_ms);
    Ok(f)
}

pub fn litellm(
    binary: &Path,
    fast_url: &str,
    stream_url: &str,
    runs: usize,
) -> anyhow::Result<StartupFigures> {
    let mut times = Vec::new();
    for _ in 0..runs {
        let p = LitellmProcess::start(binary, fast_url, stream_url, None)?;
        times.push(p.ready_after);
    }
    let f = figures("LiteLLM", &times);
    eprintln!("  LiteLLM: {:?} ms", f.runs_ms);
    Ok(f)
}
