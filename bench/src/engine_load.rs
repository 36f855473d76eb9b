//! The embedded engine and the llama.cpp server under CPU contention (issue 16), in one run:
//! generation speed and time to first token with 1 and 2 threads, on an idle machine and with
//! a competing CPU load (one busy-looping `sh` per core, like a build running beside), and
//! for each of OpenMP's wait policies (libgomp's default, `OMP_WAIT_POLICY=passive`,
//! `active`). These are the numbers behind the engine's default thread count
//! (docs/embedded-engine.md, "Threads and OpenMP").
//!
//! Both sides build llama.cpp with OpenMP, which reads `OMP_WAIT_POLICY` once, when the
//! process starts. So every engine series runs in a child process of this binary
//! (`--engine-child`, with the policy in its environment), and every server series in a
//! llama-cpp-python server started with it. Same GGUF, same gemma chat prompt, temperature 0,
//! n_ctx 4096; each run's prompt starts with its run number, so every run evaluates its prompt
//! (only the template's first tokens are cached) and warm TTFT includes prompt processing.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clawgate_engine::{EngineModelSpec, LlamaCppProvider};
use serde::{Deserialize, Serialize};

use crate::client::{Dialect, Target, keep_alive_client};
use crate::engine::{self, GenerationRun};
use crate::procs::Spawned;
use crate::report::{Row, heading, ms};

/// Output tokens per run: enough for a stable rate, short enough for the slow series.
pub const MAX_TOKENS: u32 = 64;
/// OpenMP wait policies measured on the engine (`None`: the variable unset).
const ENGINE_POLICIES: [Option<&str>; 3] = [None, Some("passive"), Some("active")];
/// The server is measured with libgomp's default and with `passive`.
const SERVER_POLICIES: [Option<&str>; 2] = [None, Some("passive")];

#[derive(Debug, Clone, Serialize)]
pub struct LoadSeries {
    /// `engine` or `server`.
    pub side: &'static str,
    pub threads: usize,
    pub busy: bool,
    /// `OMP_WAIT_POLICY`, or `default` when unset.
    pub policy: String,
    pub runs: Vec<GenerationRun>,
    pub error: Option<String>,
}

impl LoadSeries {
    /// Median generation speed of the warm runs.
    pub fn tokens_per_s(&self) -> f64 {
        median(self.runs.iter().skip(1).map(|r| r.tokens_per_s))
    }

    /// Median time to first token of the warm runs.
    pub fn warm_ttft_ms(&self) -> f64 {
        median(self.runs.iter().skip(1).map(|r| r.ttft_ms))
    }
}

#[derive(Debug, Serialize)]
pub struct LoadFigures {
    pub model: String,
    pub cores: usize,
    pub max_tokens: u32,
    pub runs_per_series: usize,
    pub series: Vec<LoadSeries>,
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// What a child prints: its runs.
#[derive(Debug, Serialize, Deserialize)]
struct ChildOutput {
    runs: Vec<GenerationRun>,
}

/// The `--engine-child` mode: `runs` generations on a fresh engine, printed as one JSON line.
pub async fn child_main(gguf: &Path, threads: usize, runs: usize) -> anyhow::Result<()> {
    let spec = EngineModelSpec::new("gemma", gguf)
        .with_context_window(engine::N_CTX)
        .with_threads(threads)
        .with_chat_template("gemma");
    let provider = LlamaCppProvider::new("embedded", spec);
    let mut out = ChildOutput { runs: Vec::new() };
    for run in 0..runs {
        let prompt = format!("Run {run}: {}", engine::PROMPT);
        let (result, _, _) = engine::engine_run(&provider, &prompt, MAX_TOKENS).await?;
        out.runs.push(result);
    }
    println!("{}", serde_json::to_string(&out)?);
    Ok(())
}

fn with_policy(command: &mut std::process::Command, policy: Option<&str>) {
    match policy {
        Some(p) => command.env("OMP_WAIT_POLICY", p),
        None => command.env_remove("OMP_WAIT_POLICY"),
    };
}

fn engine_series(
    exe: &Path,
    gguf: &Path,
    threads: usize,
    policy: Option<&str>,
    runs: usize,
) -> anyhow::Result<Vec<GenerationRun>> {
    let mut command = std::process::Command::new(exe);
    command
        .arg("--engine-child")
        .arg("--child-threads")
        .arg(threads.to_string())
        .arg("--engine-runs")
        .arg(runs.to_string())
        .arg("--gguf")
        .arg(gguf);
    with_policy(&mut command, policy);
    let child = Spawned::start("engine child", command, true, None)?;
    let text = child.wait_output(Duration::from_secs(1800))?;
    let line = text
        .lines()
        .last()
        .context("engine child printed nothing")?;
    Ok(serde_json::from_str::<ChildOutput>(line)?.runs)
}

async fn server_series(
    python: &Path,
    gguf: &Path,
    dir: &Path,
    threads: usize,
    policy: Option<&str>,
    runs: usize,
) -> anyhow::Result<Vec<GenerationRun>> {
    let (_server, port, _) =
        engine::start_server(python, gguf, dir, threads, |c| with_policy(c, policy))?;
    let target = Target::new(
        "llama server",
        &format!("http://127.0.0.1:{port}"),
        Dialect::Chat,
        "gemma",
    );
    let client = keep_alive_client(1)?;
    let mut out = Vec::new();
    for run in 0..runs {
        let prompt = format!("Run {run}: {}", engine::PROMPT);
        out.push(
            engine::server_run(&client, &target, &prompt, MAX_TOKENS)
                .await?
                .0,
        );
    }
    Ok(out)
}

/// One busy-looping shell per core, killed when the returned guards drop.
fn competing_load(cores: usize) -> anyhow::Result<Vec<Spawned>> {
    (0..cores)
        .map(|i| {
            let mut command = std::process::Command::new("sh");
            command.args(["-c", "while :; do :; done"]);
            Spawned::start(&format!("cpu load {i}"), command, false, None)
        })
        .collect()
}

pub async fn measure(
    exe: &Path,
    gguf: &Path,
    python: &Path,
    runs: usize,
) -> anyhow::Result<LoadFigures> {
    if !clawgate_engine::EMBEDDED_ENGINE_AVAILABLE {
        anyhow::bail!(
            "built without the embedded engine (build clawgate-bench with --features llama)"
        );
    }
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let dir = tempfile::tempdir()?;
    let runs = runs.max(2);
    let mut series = Vec::new();
    for busy in [false, true] {
        let _load = if busy {
            competing_load(cores)?
        } else {
            Vec::new()
        };
        for threads in [1, 2] {
            for policy in ENGINE_POLICIES {
                let started = Instant::now();
                let result = engine_series(exe, gguf, threads, policy, runs);
                series.push(record("engine", threads, busy, policy, result, started));
            }
            for policy in SERVER_POLICIES {
                let started = Instant::now();
                let result = server_series(python, gguf, dir.path(), threads, policy, runs).await;
                series.push(record("server", threads, busy, policy, result, started));
            }
        }
    }
    Ok(LoadFigures {
        model: gguf
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        cores,
        max_tokens: MAX_TOKENS,
        runs_per_series: runs,
        series,
    })
}

fn record(
    side: &'static str,
    threads: usize,
    busy: bool,
    policy: Option<&str>,
    result: anyhow::Result<Vec<GenerationRun>>,
    started: Instant,
) -> LoadSeries {
    let (runs, error) = match result {
        Ok(runs) => (runs, None),
        Err(e) => (Vec::new(), Some(format!("{e:#}"))),
    };
    let s = LoadSeries {
        side,
        threads,
        busy,
        policy: policy.unwrap_or("default").to_owned(),
        runs,
        error,
    };
    eprintln!(
        "  {side} {threads} thread(s), {}, OMP {}: {:.1} tok/s, warm TTFT {:.0} ms ({:.0} s){}",
        if busy { "busy" } else { "idle" },
        s.policy,
        s.tokens_per_s(),
        s.warm_ttft_ms(),
        started.elapsed().as_secs_f64(),
        s.error
            .as_deref()
            .map(|e| format!(" error: {e}"))
            .unwrap_or_default(),
    );
    s
}

/// One row per (load, threads, policy): the engine beside the server.
pub fn rows(f: &LoadFigures, rows: &mut Vec<Row>) {
    rows.push(heading(&format!(
        "engine vs llama.cpp server under CPU load ({}, {} cores, {} tokens, median of {} warm \
         runs): generation speed / warm time to first token",
        f.model,
        f.cores,
        f.max_tokens,
        f.runs_per_series.saturating_sub(1)
    )));
    let show = |s: Option<&LoadSeries>| match s {
        Some(s) if s.error.is_none() => {
            format!("{:.1} tok/s / {}", s.tokens_per_s(), ms(s.warm_ttft_ms()))
        }
        Some(_) => "failed".to_owned(),
        None => "—".to_owned(),
    };
    for busy in [false, true] {
        for threads in [1, 2] {
            for policy in ENGINE_POLICIES.map(|p| p.unwrap_or("default")) {
                let find = |side: &str| {
                    f.series.iter().find(|s| {
                        s.side == side
                            && s.busy == busy
                            && s.threads == threads
                            && s.policy == policy
                    })
                };
                let (engine, server) = (find("engine"), find("server"));
                let mut row = Row::new(format!(
                    "{}, {threads} thread(s), OMP_WAIT_POLICY {policy}",
                    if busy { "busy" } else { "idle" }
                ))
                .clawgate(show(engine))
                .peer(show(server));
                if let (Some(e), Some(s)) = (engine, server) {
                    row = row.advantage(e.tokens_per_s(), s.tokens_per_s());
                }
                rows.push(row);
            }
        }
    }
}
