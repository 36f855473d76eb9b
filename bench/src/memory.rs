//! The memory figure: resident set size (VmRSS of the process and its children, from
//! `/proc/<pid>/status`) of a freshly started gateway, idle; while it carries a fixed load of
//! N streams open at once (the plateau: the median of samples taken every 25 ms over the
//! middle third of the load; the peak as well); and 2 s after the load ended.
//!
//! The streams come from a paced mock of its own (64 chunks 50 ms apart: 3.2 s per stream),
//! long enough for all N to be open together.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::client::Target;
use crate::procs::{tree_anon_kb, tree_rss_kb};
use crate::streaming::{self, Level};

#[derive(Debug, Serialize)]
pub struct MemoryFigures {
    pub label: String,
    pub idle_kb: u64,
    pub plateau_kb: u64,
    pub peak_kb: u64,
    pub after_kb: u64,
    /// The anonymous part (RssAnon) of `idle_kb` and `after_kb`.
    pub idle_anon_kb: u64,
    pub after_anon_kb: u64,
    pub streams: usize,
    pub load: Level,
    /// (ms since the load started, KiB), for plots.
    pub samples: Vec<(u64, u64)>,
}

/// Samples `pid`'s RSS every 25 ms until stopped.
pub(crate) struct Sampler {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Vec<(u64, u64)>>,
}

impl Sampler {
    pub(crate) fn start(pid: u32) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            let mut samples = Vec::new();
            while !flag.load(Ordering::Relaxed) {
                samples.push((started.elapsed().as_millis() as u64, tree_rss_kb(pid)));
                std::thread::sleep(Duration::from_millis(25));
            }
            samples
        });
        Self { stop, thread }
    }

    pub(crate) fn finish(self) -> Vec<(u64, u64)> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or_default()
    }
}

/// Idle, under `streams` open streams on `target`, and after; `pid` is the gateway's.
pub async fn measure(
    label: &str,
    pid: u32,
    target: &Target,
    streams: usize,
    limit: Duration,
) -> anyhow::Result<MemoryFigures> {
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_kb = tree_rss_kb(pid);
    let idle_anon_kb = tree_anon_kb(pid);
    let sampler = Sampler::start(pid);
    let load = streaming::level(target, streams, limit).await?;
    let samples = sampler.finish();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after_kb = tree_rss_kb(pid);
    let after_anon_kb = tree_anon_kb(pid);
    let end = samples.last().map_or(0, |s| s.0);
    let mut middle: Vec<u64> = samples
        .iter()
        .filter(|(t, _)| *t >= end / 3 && *t <= end * 2 / 3)
        .map(|s| s.1)
        .collect();
    middle.sort_unstable();
    let plateau_kb = middle.get(middle.len() / 2).copied().unwrap_or(0);
    let peak_kb = samples.iter().map(|s| s.1).max().unwrap_or(0);
    eprintln!(
        "  {label}: idle {} MB ({} KB anonymous), plateau {} MB, peak {} MB, after {} MB ({} KB \
         anonymous) ({})",
        idle_kb / 1024,
        idle_anon_kb,
        plateau_kb / 1024,
        peak_kb / 1024,
        after_kb / 1024,
        after_anon_kb,
        load.describe()
    );
    Ok(MemoryFigures {
        label: label.to_string(),
        idle_kb,
        plateau_kb,
        peak_kb,
        after_kb,
        idle_anon_kb,
        after_anon_kb,
        streams,
        load,
        samples,
    })
}
