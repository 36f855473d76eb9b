//! Added latency at c=1 (and its translation rows): sequential keep-alive non-streaming chat
//! requests against the 0 ms mock, every path on its own connection, the paths of one phase
//! interleaved request by request (rotating which goes first) so drift hits them alike.
//!
//! Two phases, each with its own direct series: clawgate (chat, Responses-in and
//! Anthropic-in, all to the chat upstream), then LiteLLM (chat and its Responses bridge).
//! LiteLLM runs in its own phase because it is ~100× slower and does work in the background
//! after each request: interleaved, that work would land in clawgate's samples. Added =
//! percentile of the path minus the same percentile of the phase's direct series.

use serde::Serialize;

use crate::client::{Target, interleaved, timed_call};
use crate::stats::{Delta, Summary, distribution};

#[derive(Debug, Serialize)]
pub struct PathLatency {
    pub label: String,
    pub summary: Summary,
    pub added: Delta,
    /// Added latency percentile by percentile (this path's distribution minus direct's).
    pub added_distribution: Vec<(f64, f64)>,
}

#[derive(Debug, Serialize)]
pub struct Phase {
    pub requests: usize,
    pub warmup: usize,
    pub direct: Summary,
    pub paths: Vec<PathLatency>,
}

impl Phase {
    pub fn path(&self, label: &str) -> Option<&PathLatency> {
        self.paths.iter().find(|p| p.label == label)
    }
}

/// `direct` plus `paths`, interleaved, `warmup` rounds not counted, then `requests` rounds.
pub async fn phase(
    direct: &Target,
    paths: &[Target],
    requests: usize,
    warmup: usize,
) -> anyhow::Result<Phase> {
    let all: Vec<&Target> = std::iter::once(direct).chain(paths).collect();
    let samples = interleaved(&all, requests, warmup, |client, target| {
        Box::pin(timed_call(client, target))
    })
    .await?;
    let direct_summary = Summary::of(&samples[0]);
    let direct_distribution = distribution(&samples[0]);
    let paths = paths
        .iter()
        .zip(&samples[1..])
        .map(|(target, s)| {
            let summary = Summary::of(s);
            let added_distribution = distribution(s)
                .into_iter()
                .zip(&direct_distribution)
                .map(|((q, us), (_, base))| (q, us - base))
                .collect();
            PathLatency {
                label: target.label.clone(),
                added: summary.minus(&direct_summary),
                summary,
                added_distribution,
            }
        })
        .collect();
    Ok(Phase {
        requests,
        warmup,
        direct: direct_summary,
        paths,
    })
}
