//! The throughput frontier: `oha` (from crates.io) offers a fixed rate (`-q RATE -z SECONDS`,
//! keep-alive, `--latency-correction`: latency counted from when each request was due, so a
//! server that falls behind shows it instead of slowing the load down) of non-streaming chat
//! requests, at rising rates. Per rate: achieved rate, errors (transport errors and non-2xx),
//! p50/p99. The frontier for a threshold is the highest rate with 0 errors and p99 under it
//! (1 ms, 5 ms, 50 ms). Rates stop rising after the first step with errors or p99 over the
//! largest threshold. Several targets can be measured interleaved, rate by rate
//! ([`frontiers`]).
//!
//! Placement (the protocol's): the gateway pinned to core 0 (`taskset -c 0`, one worker), the
//! mock and oha on core 1; the direct series has nothing on core 0.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use serde::Serialize;
use serde_json::Value;

use crate::client::Target;
use crate::procs::{self, Spawned};

pub const THRESHOLDS_MS: [f64; 3] = [1.0, 5.0, 50.0];

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub offered_rps: u32,
    pub achieved_rps: f64,
    pub requests: u64,
    pub errors: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    /// oha's status codes and transport errors, as it reported them.
    pub status_codes: Value,
    pub error_kinds: Value,
}

#[derive(Debug, Serialize)]
pub struct Frontier {
    pub label: String,
    pub steps: Vec<Step>,
    /// (threshold ms, highest offered rate with 0 errors and p99 under it).
    pub highest: Vec<(f64, Option<u32>)>,
}

impl Frontier {
    pub fn at(&self, threshold_ms: f64) -> Option<u32> {
        self.highest
            .iter()
            .find(|(t, _)| *t == threshold_ms)
            .and_then(|(_, r)| *r)
    }
}

fn number(v: &Value) -> f64 {
    v.as_f64().unwrap_or(0.0)
}

/// Parses oha's `--output-format json`.
fn parse(json: &str, offered: u32) -> anyhow::Result<Step> {
    let v: Value = serde_json::from_str(json).context("oha output is not JSON")?;
    let summary = &v["summary"];
    let pct = &v["latencyPercentiles"];
    let mut ok = 0u64;
    let mut bad = 0u64;
    if let Some(codes) = v["statusCodeDistribution"].as_object() {
        for (code, n) in codes {
            let n = n.as_u64().unwrap_or(0);
            if code.starts_with('2') {
                ok += n;
            } else {
                bad += n;
            }
        }
    }
    let transport: u64 = v["errorDistribution"]
        .as_object()
        .map(|m| m.values().filter_map(Value::as_u64).sum())
        .unwrap_or(0);
    Ok(Step {
        offered_rps: offered,
        achieved_rps: number(&summary["requestsPerSec"]),
        requests: ok + bad + transport,
        errors: bad + transport,
        p50_ms: number(&pct["p50"]) * 1e3,
        p99_ms: number(&pct["p99"]) * 1e3,
        p999_ms: number(&pct["p99.9"]) * 1e3,
        status_codes: v["statusCodeDistribution"].clone(),
        error_kinds: v["errorDistribution"].clone(),
    })
}

fn run_oha(
    oha: &Path,
    target: &Target,
    rate: u32,
    seconds: f64,
    cpus: Option<&str>,
) -> anyhow::Result<Step> {
    let body = serde_json::to_string(&target.body(false))?;
    let mut cmd = procs::command(oha, cpus);
    // -w: requests still running at the deadline are waited for, not counted as errors.
    cmd.args([
        "--no-tui",
        "--output-format",
        "json",
        "--latency-correction",
        "-w",
    ])
    .args([
        "-q",
        &rate.to_string(),
        "-z",
        &format!("{seconds}s"),
        "-c",
        "64",
    ])
    .args(["-m", "POST", "-T", "application/json", "-d", &body]);
    if let Some(key) = &target.bearer {
        cmd.args(["-H", &format!("Authorization: Bearer {key}")]);
    }
    cmd.arg(&target.url);
    let process = Spawned::start("oha", cmd, true, None)?;
    let out = process.wait_output(Duration::from_secs_f64(seconds + 60.0))?;
    parse(&out, rate)
}

/// Rising `rates` against `target`, oha on `cpus`; `gateway` is checked alive after each step.
pub fn frontier(
    oha: &Path,
    target: &Target,
    rates: &[u32],
    seconds: f64,
    cpus: Option<&str>,
    gateway: Option<&mut Spawned>,
) -> anyhow::Result<Frontier> {
    let mut all = frontiers(oha, &mut [(target, gateway)], rates, seconds, cpus)?;
    all.pop().context("one frontier per target")
}

/// Rising `rates` against each target, interleaved step by step (a rate on every target
/// before the next rate), so a change in the machine's load hits them alike. A target stops
/// rising after its first step with errors or a p99 over the largest threshold; its process,
/// if given, is checked alive after each of its steps.
pub fn frontiers(
    oha: &Path,
    targets: &mut [(&Target, Option<&mut Spawned>)],
    rates: &[u32],
    seconds: f64,
    cpus: Option<&str>,
) -> anyhow::Result<Vec<Frontier>> {
    // Warm-up: connections, caches, allocator.
    if let Some(&first) = rates.first() {
        for (target, _) in targets.iter() {
            run_oha(oha, target, first, 1.0, cpus)?;
        }
    }
    let mut steps: Vec<Vec<Step>> = vec![Vec::new(); targets.len()];
    let mut done = vec![false; targets.len()];
    for &rate in rates {
        for (i, (target, gateway)) in targets.iter_mut().enumerate() {
            if done[i] {
                continue;
            }
            let step = run_oha(oha, target, rate, seconds, cpus)?;
            eprintln!(
                "  {} @ {rate}/s: achieved {:.0}/s, {} errors, p50 {:.3} ms, p99 {:.3} ms{}",
                target.label,
                step.achieved_rps,
                step.errors,
                step.p50_ms,
                step.p99_ms,
                if step.errors > 0 {
                    format!(
                        " (status {}, errors {})",
                        step.status_codes, step.error_kinds
                    )
                } else {
                    String::new()
                }
            );
            if let Some(g) = gateway.as_deref_mut() {
                g.check_alive()?;
            }
            let last_max = THRESHOLDS_MS[THRESHOLDS_MS.len() - 1];
            done[i] = step.errors > 0 || step.p99_ms > last_max;
            steps[i].push(step);
        }
        if done.iter().all(|d| *d) {
            break;
        }
    }
    Ok(targets
        .iter()
        .zip(steps)
        .map(|((target, _), steps)| {
            let highest = THRESHOLDS_MS
                .iter()
                .map(|&t| {
                    let best = steps
                        .iter()
                        .filter(|s| s.errors == 0 && s.p99_ms <= t)
                        .map(|s| s.offered_rps)
                        .max();
                    (t, best)
                })
                .collect();
            Frontier {
                label: target.label.clone(),
                steps,
                highest,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_oha_json_counting_non_2xx_and_transport_errors() {
        let json = r#"{
            "summary": {"requestsPerSec": 998.5},
            "latencyPercentiles": {"p50": 0.000118, "p99": 0.0105, "p99.9": 0.0128},
            "statusCodeDistribution": {"200": 990, "503": 3},
            "errorDistribution": {"aborted due to deadline": 2}
        }"#;
        let Ok(step) = parse(json, 1000) else {
            panic!("oha JSON did not parse")
        };
        assert_eq!(step.offered_rps, 1000);
        assert_eq!(step.requests, 995);
        assert_eq!(step.errors, 5);
        assert!((step.p50_ms - 0.118).abs() < 1e-9);
        assert!((step.p99_ms - 10.5).abs() < 1e-9);
        assert!((step.achieved_rps - 998.5).abs() < 1e-9);
    }

    #[test]
    fn empty_output_is_an_error() {
        assert!(parse("", 10).is_err());
    }
}
