//! The run's one table (stdout, also valid Markdown: what `BENCHMARKS.md` quotes) and the same
//! numbers as JSON under `bench/results/`, with when, where and how they were taken.
//!
//! Columns: the figure; the baseline (direct to the mock); clawgate; the peer (LiteLLM, or the
//! llama.cpp server for the engine rows); how many times better clawgate is than the peer
//! (peer ÷ clawgate for times and sizes, clawgate ÷ peer for rates); the target; the gap to
//! it ("met", or how far off).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use comfy_table::{ContentArrangement, Table, presets};
use serde::Serialize;

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

pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
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
        Self {
            date: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
            cpu,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
            load_average: load_average(),
        }
    }
}

/// One line of the table, already formatted.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Row {
    pub figure: String,
    pub direct: String,
    pub clawgate: String,
    pub peer: String,
    pub advantage: String,
    pub target: String,
    pub gap: String,
}

impl Row {
    pub fn new(figure: impl Into<String>) -> Self {
        Self {
            figure: figure.into(),
            ..Self::default()
        }
    }
    pub fn direct(mut self, s: impl Into<String>) -> Self {
        self.direct = s.into();
        self
    }
    pub fn clawgate(mut self, s: impl Into<String>) -> Self {
        self.clawgate = s.into();
        self
    }
    pub fn peer(mut self, s: impl Into<String>) -> Self {
        self.peer = s.into();
        self
    }
    pub fn target(mut self, s: impl Into<String>) -> Self {
        self.target = s.into();
        self
    }
    pub fn gap(mut self, s: impl Into<String>) -> Self {
        self.gap = s.into();
        self
    }
    /// "N×": how many times `worse` is `better` (only when both are positive).
    pub fn advantage(mut self, worse: f64, better: f64) -> Self {
        if worse > 0.0 && better > 0.0 {
            let x = worse / better;
            self.advantage = if x >= 10.0 {
                format!("{x:.0}×")
            } else {
                format!("{x:.1}×")
            };
        }
        self
    }
}

/// A section heading row.
pub fn heading(title: &str) -> Row {
    Row::new(format!("**{title}**"))
}

/// `+206 µs`, `+25.3 ms`.
pub fn added(us: f64) -> String {
    let s = show_us(us);
    if us >= 0.5 { format!("+{s}") } else { s }
}

/// The gap of a lower-is-better value to its ceiling.
pub fn gap_below(value: f64, target: f64, show: impl Fn(f64) -> String) -> String {
    if value <= target {
        "met".to_string()
    } else {
        format!("{} over", show(value - target))
    }
}

/// The gap of a higher-is-better value to its floor.
pub fn gap_above(value: f64, target: f64, show: impl Fn(f64) -> String) -> String {
    if value >= target {
        "met".to_string()
    } else {
        format!("{} short", show(target - value))
    }
}

pub fn mb(kb: u64) -> String {
    format!("{:.1} MB", kb as f64 / 1024.0)
}

pub fn ms(v: f64) -> String {
    if v >= 1000.0 {
        format!("{:.2} s", v / 1000.0)
    } else if v >= 10.0 {
        format!("{v:.0} ms")
    } else {
        format!("{v:.1} ms")
    }
}

pub fn rate(v: f64) -> String {
    format!("{v:.0} req/s")
}

/// The stdout table (also a valid Markdown table).
pub fn table(rows: &[Row]) -> Table {
    let mut t = Table::new();
    t.load_style(presets::ASCII_MARKDOWN)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(vec![
            "figure",
            "direct (baseline)",
            "clawgate",
            "peer",
            "clawgate advantage",
            "target",
            "gap",
        ]);
    for r in rows {
        t.add_row(vec![
            r.figure.clone(),
            r.direct.clone(),
            r.clawgate.clone(),
            r.peer.clone(),
            r.advantage.clone(),
            r.target.clone(),
            r.gap.clone(),
        ]);
    }
    t
}

/// Writes `bench-<date>.json` into `dir` (created when missing).
pub fn write_json<T: Serialize>(results: &T, date: &str, dir: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let stamp = date.replace(':', "-");
    let path = dir.join(format!("bench-{stamp}.json"));
    std::fs::write(&path, serde_json::to_vec_pretty(results)?)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_say_met_or_how_far() {
        let us = |v: f64| format!("{v:.0} µs");
        assert_eq!(gap_below(90.0, 100.0, us), "met");
        assert_eq!(gap_below(157.0, 100.0, us), "57 µs over");
        assert_eq!(gap_above(12_000.0, 10_000.0, rate), "met");
        assert_eq!(gap_above(4_000.0, 10_000.0, rate), "6000 req/s short");
    }

    #[test]
    fn advantage_divides_peer_by_clawgate() {
        assert_eq!(Row::new("x").advantage(13_260.0, 157.0).advantage, "84×");
        assert_eq!(Row::new("x").advantage(3.0, 2.0).advantage, "1.5×");
        assert_eq!(Row::new("x").advantage(0.0, 2.0).advantage, "");
    }
}
