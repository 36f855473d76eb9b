//! The large-body memory figure (issue 17): resident set size of the real `clawgate gateway`
//! binary idle; its peak while N clients (16) each POST a body of M MiB (20, the default
//! `--max-body-bytes`) at once; and 2 s after the last answer. The body is a chat request whose
//! first user message carries the bulk and whose last one is short, so the mock's answer stays
//! small and the figure is about the request side. Every answer's status is kept: a gateway
//! with an in-flight body budget makes some clients wait (or answers 503), and the figure is
//! only meaningful next to what was served.

use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::Serialize;
use serde_json::json;

use crate::memory::Sampler;
use crate::procs::tree_rss_kb;

#[derive(Debug, Serialize)]
pub struct BodyFigures {
    pub clients: usize,
    pub body_bytes: usize,
    pub idle_kb: u64,
    pub peak_kb: u64,
    pub after_kb: u64,
    /// (status, count); 0 = transport error.
    pub statuses: Vec<(u16, usize)>,
    pub load_seconds: f64,
    /// (ms since the load started, KiB), for plots.
    pub samples: Vec<(u64, u64)>,
}

impl BodyFigures {
    pub fn describe_statuses(&self) -> String {
        self.statuses
            .iter()
            .map(|(status, n)| match status {
                0 => format!("{n} transport errors"),
                s => format!("{n}× {s}"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One request body of about `bytes` bytes (within the gateway's limit).
fn body(bytes: usize, model: &str) -> Bytes {
    let filler = "x".repeat(bytes.saturating_sub(256));
    let value = json!({
        "model": model,
        "max_tokens": 16,
        "messages": [
            { "role": "user", "content": filler },
            { "role": "assistant", "content": "ok" },
            { "role": "user", "content": "hi" },
        ],
    });
    Bytes::from(value.to_string())
}

/// Idle, the peak under `clients` concurrent bodies of `body_mib` MiB to `url`, and 2 s after.
pub async fn measure(
    pid: u32,
    url: &str,
    model: &str,
    clients: usize,
    body_mib: usize,
) -> anyhow::Result<BodyFigures> {
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_kb = tree_rss_kb(pid);
    let body_bytes = body_mib * 1024 * 1024;
    let payload = body(body_bytes, model);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        .build()?;
    let sampler = Sampler::start(pid);
    let started = Instant::now();
    let requests = (0..clients).map(|_| {
        let client = client.clone();
        let payload = payload.clone();
        async move {
            let sent = client
                .post(url)
                .header("content-type", "application/json")
                .body(payload)
                .send()
                .await;
            match sent {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let _ = response.bytes().await;
                    status
                }
                Err(_) => 0,
            }
        }
    });
    let answers = futures::future::join_all(requests).await;
    let load_seconds = started.elapsed().as_secs_f64();
    let samples = sampler.finish();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after_kb = tree_rss_kb(pid);
    let peak_kb = samples.iter().map(|s| s.1).max().unwrap_or(0);
    let mut statuses: Vec<(u16, usize)> = Vec::new();
    for status in answers {
        match statuses.iter_mut().find(|(s, _)| *s == status) {
            Some((_, n)) => *n += 1,
            None => statuses.push((status, 1)),
        }
    }
    statuses.sort_unstable();
    let figures = BodyFigures {
        clients,
        body_bytes: payload.len(),
        idle_kb,
        peak_kb,
        after_kb,
        statuses,
        load_seconds,
        samples,
    };
    eprintln!(
        "  {clients} × {body_mib} MiB bodies: idle {} MB, peak {} MB, 2 s after {} MB ({}; {:.1} s)",
        idle_kb / 1024,
        peak_kb / 1024,
        after_kb / 1024,
        figures.describe_statuses(),
        load_seconds
    );
    Ok(figures)
}
