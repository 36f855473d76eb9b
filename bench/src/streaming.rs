//! The streaming figures, against the paced mock (a role chunk, 64 content chunks 20 ms
//! apart, finish, `[DONE]`):
//!
//! * **added TTFT and inter-chunk p99**: rounds in which one stream per path runs at the same
//!   time (direct and every gateway path side by side, started 5 ms apart in rotating order),
//!   so each path sees the same moment of the machine; TTFT is request start → first content frame, a gap is the time between two
//!   content frames as the client parses them;
//! * **added TTFT back to back**: the same streams without idle time, against the 0 ms mock
//!   (four content chunks, no pacing): one stream after another on keep-alive connections,
//!   the paths interleaved stream by stream. The paced rounds leave both cores idle for most
//!   of each 20 ms, and a VM's core takes 100–250 µs to wake from idle; the gateway adds two
//!   wake-ups to the path, so the paced figure is mostly that. This one is the gateway's own
//!   cost of starting a stream;
//! * **concurrency**: C streams opened at once on one path (C = 100, 250, 500, 1000); a level
//!   passes when every stream delivered all 64 content frames and its normal end, and no gap
//!   between two frames exceeded 200 ms. Higher levels are not tried after a failure.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::task::JoinSet;

use crate::client::{StreamRecord, Target, interleaved, keep_alive_client, timed_stream};
use crate::stats::{Summary, show_us};

/// Content frames the paced mock sends per answer.
pub const CONTENT_CHUNKS: usize = 64;
/// The longest gap between two content frames that still counts as no stall.
pub const STALL: Duration = Duration::from_millis(200);
/// Between the starts of the streams of one round.
const STAGGER_MS: u64 = 5;

#[derive(Debug, Serialize)]
pub struct PathStreaming {
    pub label: String,
    pub ttft: Summary,
    pub gaps: Summary,
    /// TTFT p50 minus direct's TTFT p50.
    pub added_ttft_p50_us: f64,
    /// TTFT p99 minus direct's.
    pub added_ttft_p99_us: f64,
    /// Inter-chunk p99 minus direct's inter-chunk p99.
    pub added_gap_p99_us: f64,
    pub incomplete: usize,
}

#[derive(Debug, Serialize)]
pub struct StreamingRounds {
    pub rounds: usize,
    pub direct: PathStreaming,
    pub paths: Vec<PathStreaming>,
}

impl StreamingRounds {
    pub fn path(&self, label: &str) -> Option<&PathStreaming> {
        self.paths.iter().find(|p| p.label == label)
    }
}

fn complete(r: &StreamRecord) -> bool {
    r.error.is_none() && r.finished && r.content_frames == CONTENT_CHUNKS
}

fn summarize(label: &str, records: &[StreamRecord], base: Option<&PathStreaming>) -> PathStreaming {
    let ttfts: Vec<Duration> = records.iter().filter_map(|r| r.ttft).collect();
    let gaps: Vec<Duration> = records.iter().flat_map(|r| r.gaps.clone()).collect();
    let (ttft, gaps) = (Summary::of(&ttfts), Summary::of(&gaps));
    let (b50, b99, bgap) = base.map_or((ttft.p50_us, ttft.p99_us, gaps.p99_us), |b| {
        (b.ttft.p50_us, b.ttft.p99_us, b.gaps.p99_us)
    });
    PathStreaming {
        label: label.to_string(),
        added_ttft_p50_us: ttft.p50_us - b50,
        added_ttft_p99_us: ttft.p99_us - b99,
        added_gap_p99_us: gaps.p99_us - bgap,
        ttft,
        gaps,
        incomplete: records.iter().filter(|r| !complete(r)).count(),
    }
}

/// `rounds` rounds of one stream per target at once (after one warm-up round).
pub async fn rounds(
    direct: &Target,
    paths: &[Target],
    rounds: usize,
) -> anyhow::Result<StreamingRounds> {
    let all: Vec<Target> = std::iter::once(direct).chain(paths).cloned().collect();
    let clients = all
        .iter()
        .map(|_| keep_alive_client(1))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut records: Vec<Vec<StreamRecord>> = vec![Vec::new(); all.len()];
    let n = all.len();
    for round in 0..=rounds {
        // Starts staggered by 5 ms (order rotating per round): the streams overlap for most
        // of their 1.3 s, but their first bytes never compete, so TTFT is not a queue.
        let batch = futures::future::join_all(all.iter().zip(&clients).enumerate().map(
            |(i, (target, client))| async move {
                let offset = ((i + round) % n) as u64 * STAGGER_MS;
                tokio::time::sleep(Duration::from_millis(offset)).await;
                timed_stream(client, target).await
            },
        ))
        .await;
        if round > 0 {
            for (slot, record) in batch.into_iter().enumerate() {
                records[slot].push(record);
            }
        }
    }
    let direct_figures = summarize(&direct.label, &records[0], None);
    let paths = paths
        .iter()
        .zip(&records[1..])
        .map(|(t, r)| summarize(&t.label, r, Some(&direct_figures)))
        .collect();
    Ok(StreamingRounds {
        rounds,
        direct: direct_figures,
        paths,
    })
}

/// TTFT of streams sent one after another with no idle time between them.
#[derive(Debug, Serialize)]
pub struct BackToBack {
    pub streams: usize,
    pub direct: Summary,
    /// (label, TTFT, p50 minus direct's p50)
    pub paths: Vec<(String, Summary, f64)>,
}

impl BackToBack {
    pub fn added_p50(&self, label: &str) -> Option<f64> {
        self.paths
            .iter()
            .find(|(l, _, _)| l == label)
            .map(|(_, _, added)| *added)
    }
}

/// `streams` streams per target, one at a time, the targets interleaved (rotating which goes
/// first), after `warmup` rounds that are not counted.
pub async fn back_to_back(
    direct: &Target,
    paths: &[Target],
    streams: usize,
    warmup: usize,
) -> anyhow::Result<BackToBack> {
    let all: Vec<&Target> = std::iter::once(direct).chain(paths).collect();
    let ttfts = interleaved(&all, streams, warmup, |client, target| {
        Box::pin(async move {
            let record = timed_stream(client, target).await;
            if let Some(error) = record.error {
                anyhow::bail!("{}: {error}", target.label);
            }
            record
                .ttft
                .ok_or_else(|| anyhow::anyhow!("{}: a stream without content", target.label))
        })
    })
    .await?;
    let direct_summary = Summary::of(&ttfts[0]);
    let paths = paths
        .iter()
        .zip(&ttfts[1..])
        .map(|(target, samples)| {
            let summary = Summary::of(samples);
            let added = summary.p50_us - direct_summary.p50_us;
            (target.label.clone(), summary, added)
        })
        .collect();
    Ok(BackToBack {
        streams,
        direct: direct_summary,
        paths,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct Level {
    pub concurrency: usize,
    pub complete: usize,
    /// Content frames missing over all streams (64 × C − received).
    pub lost_chunks: usize,
    pub errors: usize,
    /// The first error message, if any.
    pub first_error: Option<String>,
    pub max_gap_ms: f64,
    pub max_ttft_ms: f64,
    pub wall_ms: f64,
    pub passed: bool,
}

impl Level {
    pub fn describe(&self) -> String {
        format!(
            "c={}: {}/{} complete, {} chunks lost, max gap {}, max TTFT {}",
            self.concurrency,
            self.complete,
            self.concurrency,
            self.lost_chunks,
            show_us(self.max_gap_ms * 1e3),
            show_us(self.max_ttft_ms * 1e3),
        )
    }
}

/// `concurrency` streams opened at once on `target`, bounded by `limit`.
pub async fn level(target: &Target, concurrency: usize, limit: Duration) -> anyhow::Result<Level> {
    let client = keep_alive_client(concurrency)?;
    let target = Arc::new(target.clone());
    let started = Instant::now();
    let mut set = JoinSet::new();
    for _ in 0..concurrency {
        let (client, target) = (client.clone(), target.clone());
        set.spawn(async move { timed_stream(&client, &target).await });
    }
    let mut records = Vec::with_capacity(concurrency);
    let collected = tokio::time::timeout(limit, async {
        while let Some(joined) = set.join_next().await {
            records.push(joined.unwrap_or_else(|e| StreamRecord {
                error: Some(e.to_string()),
                ..StreamRecord::default()
            }));
        }
    })
    .await;
    let timed_out = collected.is_err();
    // Dropping the set aborts the streams still running.
    drop(set);
    let wall_ms = started.elapsed().as_secs_f64() * 1e3;
    let received: usize = records.iter().map(|r| r.content_frames).sum();
    let complete = records.iter().filter(|r| complete(r)).count();
    let errors =
        records.iter().filter(|r| r.error.is_some()).count() + (concurrency - records.len());
    let max_gap = records
        .iter()
        .map(StreamRecord::max_gap)
        .max()
        .unwrap_or_default();
    let max_ttft = records
        .iter()
        .filter_map(|r| r.ttft)
        .max()
        .unwrap_or_default();
    let first_error = records
        .iter()
        .find_map(|r| r.error.clone())
        .or_else(|| timed_out.then(|| format!("not finished within {limit:?}")));
    Ok(Level {
        concurrency,
        complete,
        lost_chunks: (CONTENT_CHUNKS * concurrency).saturating_sub(received),
        errors,
        first_error,
        max_gap_ms: max_gap.as_secs_f64() * 1e3,
        max_ttft_ms: max_ttft.as_secs_f64() * 1e3,
        wall_ms,
        passed: !timed_out && complete == concurrency && max_gap <= STALL,
    })
}

#[derive(Debug, Serialize)]
pub struct Sweep {
    pub label: String,
    pub levels: Vec<Level>,
    /// The highest level that passed.
    pub highest_passed: Option<usize>,
}

/// Levels in order, stopping after the first failure.
pub async fn sweep(target: &Target, levels: &[usize], limit: Duration) -> anyhow::Result<Sweep> {
    let mut done = Vec::new();
    for &c in levels {
        let l = level(target, c, limit).await?;
        eprintln!("  {}: {}", target.label, l.describe());
        let passed = l.passed;
        done.push(l);
        if !passed {
            break;
        }
        // Let the sockets of this level close before the next.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let highest_passed = done
        .iter()
        .filter(|l| l.passed)
        .map(|l| l.concurrency)
        .max();
    Ok(Sweep {
        label: target.label.clone(),
        levels: done,
        highest_passed,
    })
}
