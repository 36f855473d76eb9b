//! The run's results: one table on stdout (what `BENCHMARKS.md` quotes) and the same numbers
//! as JSON under `bench/results/`, with when, where and how they were taken.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use comfy_table::{ContentArrangement, Table, presets};
use serde::Serialize;

use crate::failover::{DeadCount, HungFigures, RefusedFigures};
use crate::gateway::GatewayFigures;
use crate::stats::show_us;

/// Where and when the run happened.
#[derive(Debug, Serialize)]
pub struct Machine {
    pub date: String,
    pub cpu: String,
    pub cores: usize,
    pub os: String,
    /// `/proc/loadavg` at the start (the machine is shared: other work skews absolute times).
    pub load_average: String,
}

impl Machine {
    pub fn describe() -> Self {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_else(|| "unknown".to_string());
        let load_average = std::fs::read_to_string("/proc/loadavg")
            .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_default();
        Self {
            date: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
            cpu,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
            load_average,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Results {
    pub machine: Machine,
    pub command: String,
    pub refused: RefusedFigures,
    pub hung: HungFigures,
    pub dead_upstream: Vec<DeadCount>,
    /// `None` when the gateway binary was not found or `--no-gateway` was given.
    pub gateway: Option<GatewayFigures>,
}

fn row(table: &mut Table, figure: &str, how: String, p50: f64, p99: f64, note: &str) {
    table.add_row(vec![
        figure.to_string(),
        how,
        show_us(p50),
        show_us(p99),
        note.to_string(),
    ]);
}

/// The stdout table (also a valid Markdown table).
pub fn table(results: &Results) -> Table {
    let mut t = Table::new();
    t.load_style(presets::ASCII_MARKDOWN)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(vec!["figure", "series", "p50", "p99", "note"]);
    let r = &results.refused;
    let n = r.requests;
    row(
        &mut t,
        "fallback alone",
        format!("{n} req"),
        r.fallback_alone.p50_us,
        r.fallback_alone.p99_us,
        "baseline",
    );
    row(
        &mut t,
        "refused → fallback",
        format!("{n} req, port tried each time"),
        r.refused_attempted.p50_us,
        r.refused_attempted.p99_us,
        "",
    );
    row(
        &mut t,
        "  added by the refused attempt",
        String::new(),
        r.added_attempted.p50_us,
        r.added_attempted.p99_us,
        "target ≤ 1 ms",
    );
    row(
        &mut t,
        "refused, in cooldown → fallback",
        format!("{n} req, skipped"),
        r.refused_in_cooldown.p50_us,
        r.refused_in_cooldown.p99_us,
        "",
    );
    row(
        &mut t,
        "  added by the cooldown skip",
        String::new(),
        r.added_in_cooldown.p50_us,
        r.added_in_cooldown.p99_us,
        "",
    );
    let h = &results.hung;
    row(
        &mut t,
        "hung → fallback, cut-over",
        format!(
            "{} req, first-event timeout {} ms",
            h.requests, h.first_event_timeout_ms
        ),
        h.cut_over.p50_us,
        h.cut_over.p99_us,
        "",
    );
    row(
        &mut t,
        "  beyond the timeout",
        String::new(),
        h.beyond_timeout.p50_us,
        h.beyond_timeout.p99_us,
        "",
    );
    for d in &results.dead_upstream {
        t.add_row(vec![
            format!("dead upstream ({})", d.fault),
            format!("{} req during cooldown", d.requests),
            format!("{} requests", d.upstream_requests),
            format!("{} connections", d.upstream_connections),
            format!(
                "{} answered by the fallback in {} ms",
                d.answered_by_fallback, d.elapsed_ms
            ),
        ]);
    }
    if let Some(g) = &results.gateway {
        let n = g.requests;
        row(
            &mut t,
            "direct to mock, c=1",
            format!("{n} req"),
            g.direct.p50_us,
            g.direct.p99_us,
            "baseline",
        );
        row(
            &mut t,
            "through the gateway, c=1",
            format!("{n} req"),
            g.through_gateway.p50_us,
            g.through_gateway.p99_us,
            "",
        );
        row(
            &mut t,
            "  added by the gateway",
            String::new(),
            g.added.p50_us,
            g.added.p99_us,
            "target p50 ≤ 0.10 ms, p99 ≤ 0.25 ms",
        );
    }
    t
}

/// Writes `failover-<date>.json` into `dir` (created when missing).
pub fn write_json(results: &Results, dir: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let stamp = results.machine.date.replace(':', "-");
    let path = dir.join(format!("failover-{stamp}.json"));
    std::fs::write(&path, serde_json::to_vec_pretty(results)?)?;
    Ok(path)
}
