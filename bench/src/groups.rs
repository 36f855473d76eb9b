//! Runs each figure group and collects its numbers in [`Results`]. A group that cannot run
//! (a program missing, a peer failing) is recorded in `not_measured` with the reason, and the
//! run goes on with the next: one table with what could be measured beats no table.
//!
//! The latency and streaming groups share one [`Stage`] (two mocks, a gateway, LiteLLM),
//! started when the first of them needs it and stopped before the groups that need fresh or
//! pinned processes (memory, throughput). The sequential (c=1) clients run on a one-thread
//! tokio runtime of their own; the many-stream loads get two threads (`block_on_both_cores`).

use std::future::Future;
use std::time::Duration;

use mock_upstream::{Fault, MockConfig};
use serde::Serialize;

use crate::agent_index::{self, IndexFigures};
use crate::agent_turn::{self, TurnFigures};
use crate::client::{Dialect, Target};
use crate::engine::{self, EngineFigures};
use crate::engine_load::{self, LoadFigures};
use crate::failover::{self, DeadCount, HungFigures, Mocks, RefusedFigures};
use crate::large_bodies::{self, BodyFigures};
use crate::latency::{self, Phase};
use crate::memory::{self, MemoryFigures};
use crate::peers::{ClawgateProcess, Launch, LitellmProcess, MockProcess, Programs};
use crate::procs;
use crate::report::{Machine, Row};
use crate::shared_state::{self, SharedStateFigures};
use crate::startup::{self, StartupFigures};
use crate::streaming::{self, BackToBack, StreamingRounds, Sweep};
use crate::throughput::{self, Frontier};
use crate::{Args, Group};

#[derive(Debug, Serialize)]
pub struct FailoverFigures {
    pub refused: RefusedFigures,
    pub hung: HungFigures,
    pub dead_upstream: Vec<DeadCount>,
}

#[derive(Debug, Serialize)]
pub struct Results {
    pub machine: Machine,
    pub command: String,
    pub load_average_end: String,
    pub not_measured: Vec<(Group, String)>,
    pub startup: Vec<StartupFigures>,
    pub failover: Option<FailoverFigures>,
    pub agent: Vec<TurnFigures>,
    pub agent_index: Vec<IndexFigures>,
    pub latency_clawgate: Option<Phase>,
    pub latency_litellm: Option<Phase>,
    pub streaming_clawgate: Option<StreamingRounds>,
    pub streaming_litellm: Option<StreamingRounds>,
    pub streaming_back_to_back: Option<BackToBack>,
    pub sweeps: Vec<Sweep>,
    pub memory: Vec<MemoryFigures>,
    pub bodies: Option<BodyFigures>,
    pub throughput: Vec<Frontier>,
    pub engine: Option<EngineFigures>,
    pub engine_load: Option<LoadFigures>,
    pub shared_state: Option<SharedStateFigures>,
    pub rows: Vec<Row>,
}

impl Results {
    pub fn new(machine: Machine, command: String) -> Self {
        Self {
            machine,
            command,
            load_average_end: String::new(),
            not_measured: Vec::new(),
            startup: Vec::new(),
            failover: None,
            agent: Vec::new(),
            agent_index: Vec::new(),
            latency_clawgate: None,
            latency_litellm: None,
            streaming_clawgate: None,
            streaming_litellm: None,
            streaming_back_to_back: None,
            sweeps: Vec::new(),
            memory: Vec::new(),
            bodies: None,
            throughput: Vec::new(),
            engine: None,
            engine_load: None,
            shared_state: None,
            rows: Vec::new(),
        }
    }

    fn skip(&mut self, group: Group, why: impl std::fmt::Display) {
        let why = format!("{why:#}");
        eprintln!("  not measured ({group:?}): {why}");
        self.not_measured.push((group, why));
    }
}

pub(crate) fn block_on<F: Future>(future: F) -> anyhow::Result<F::Output> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(future))
}

/// For the many-stream loads (sweep, memory): the client may use either core (it shares them
/// with the servers), so it is less likely than the servers to fall behind at 1,000 streams.
fn block_on_both_cores<F: Future>(future: F) -> anyhow::Result<F::Output> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(future))
}

/// The processes shared by the latency and streaming groups.
struct Stage {
    fast: MockProcess,
    stream: MockProcess,
    gateway: ClawgateProcess,
    litellm: Option<LitellmProcess>,
}

impl Stage {
    fn start(programs: &Programs, results: &mut Results, group: Group) -> anyhow::Result<Self> {
        let mock = programs.mock()?;
        let fast = MockProcess::fast(mock, None)?;
        let stream = MockProcess::streaming(mock, 20, None)?;
        let gateway = ClawgateProcess::start(
            programs.clawgate()?,
            &fast.url,
            &stream.url,
            &Launch::default(),
            Duration::from_millis(5),
        )?;
        let litellm = match &programs.litellm {
            None => {
                results.skip(
                    group,
                    "LiteLLM: not installed (scripts/live-setup) or --no-litellm",
                );
                None
            }
            Some(bin) => {
                eprintln!("  starting LiteLLM…");
                match LitellmProcess::start(bin, &fast.url, &stream.url, None) {
                    Ok(p) => Some(p),
                    Err(e) => {
                        results.skip(group, format!("LiteLLM did not start: {e:#}"));
                        None
                    }
                }
            }
        };
        Ok(Self {
            fast,
            stream,
            gateway,
            litellm,
        })
    }
}

fn gateway_targets(base: &str, model: &str) -> Vec<Target> {
    vec![
        Target::new("clawgate chat", base, Dialect::Chat, model),
        Target::new("clawgate responses→chat", base, Dialect::Responses, model),
        Target::new("clawgate anthropic→chat", base, Dialect::Anthropic, model),
    ]
}

fn litellm_targets(p: &LitellmProcess, model: &str) -> Vec<Target> {
    let base = p.base_url();
    vec![
        Target::new("LiteLLM chat", &base, Dialect::Chat, model).with_bearer(&p.key),
        Target::new(
            "LiteLLM responses→chat",
            &base,
            Dialect::Responses,
            &format!("{model}-bridge"),
        )
        .with_bearer(&p.key),
    ]
}

fn run_latency(stage: &Stage, args: &Args, results: &mut Results) -> anyhow::Result<()> {
    let direct = Target::new("direct", &stage.fast.url, Dialect::Chat, "mock-model");
    let paths = gateway_targets(&stage.gateway.base_url(), "fast/mock-model");
    eprintln!(
        "  clawgate: {} rounds of {} paths…",
        args.requests,
        paths.len() + 1
    );
    results.latency_clawgate = Some(block_on(latency::phase(
        &direct,
        &paths,
        args.requests,
        args.warmup,
    ))??);
    if let Some(l) = &stage.litellm {
        let paths = litellm_targets(l, "fast");
        eprintln!("  LiteLLM: {} rounds…", args.litellm_requests);
        match block_on(latency::phase(
            &direct,
            &paths,
            args.litellm_requests,
            args.warmup / 4,
        ))? {
            Ok(p) => results.latency_litellm = Some(p),
            Err(e) => results.skip(Group::Latency, format!("LiteLLM: {e:#}")),
        }
    }
    Ok(())
}

fn run_streaming(stage: &Stage, args: &Args, results: &mut Results) -> anyhow::Result<()> {
    let direct = Target::new("direct", &stage.stream.url, Dialect::Chat, "mock-model");
    let paths = gateway_targets(&stage.gateway.base_url(), "stream/mock-model");
    eprintln!("  clawgate: {} stream rounds…", args.stream_rounds);
    results.streaming_clawgate = Some(block_on(streaming::rounds(
        &direct,
        &paths,
        args.stream_rounds,
    ))??);
    let fast_direct = Target::new("direct", &stage.fast.url, Dialect::Chat, "mock-model");
    let fast_paths = gateway_targets(&stage.gateway.base_url(), "fast/mock-model");
    eprintln!(
        "  clawgate: {} streams per path back to back…",
        args.back_to_back_streams
    );
    results.streaming_back_to_back = Some(block_on(streaming::back_to_back(
        &fast_direct,
        &fast_paths,
        args.back_to_back_streams,
        args.warmup,
    ))??);
    let litellm_chat = stage.litellm.as_ref().map(|l| litellm_targets(l, "stream"));
    if let Some(paths) = &litellm_chat {
        eprintln!("  LiteLLM: {} stream rounds…", args.stream_rounds);
        results.streaming_litellm = Some(block_on(streaming::rounds(
            &direct,
            paths,
            args.stream_rounds,
        ))??);
    }
    let mut sweep_targets = vec![direct, paths[0].clone()];
    sweep_targets.extend(litellm_chat.and_then(|p| p.into_iter().next()));
    for target in &sweep_targets {
        let limit = Duration::from_secs(60);
        results.sweeps.push(block_on(streaming::sweep(
            target,
            &args.concurrency,
            limit,
        ))??);
    }
    Ok(())
}

/// A fresh gateway with both of its providers on `mock`.
fn fresh_gateway(programs: &Programs, mock: &MockProcess) -> anyhow::Result<ClawgateProcess> {
    ClawgateProcess::start(
        programs.clawgate()?,
        &mock.url,
        &mock.url,
        &Launch::default(),
        Duration::from_millis(5),
    )
}

fn run_memory(programs: &Programs, args: &Args, results: &mut Results) -> anyhow::Result<()> {
    let mock = MockProcess::streaming(programs.mock()?, 50, None)?;
    let limit = Duration::from_secs(90);
    {
        let gateway = fresh_gateway(programs, &mock)?;
        let target = Target::new(
            "clawgate",
            &gateway.base_url(),
            Dialect::Chat,
            "stream/mock-model",
        );
        let pid = gateway.process.pid();
        results.memory.push(block_on_both_cores(memory::measure(
            "clawgate",
            pid,
            &target,
            args.memory_streams,
            limit,
        ))??);
    }
    if let Some(bin) = &programs.litellm {
        let litellm = LitellmProcess::start(bin, &mock.url, &mock.url, None)?;
        let target = Target::new("LiteLLM", &litellm.base_url(), Dialect::Chat, "stream")
            .with_bearer(&litellm.key);
        let pid = litellm.process.pid();
        results.memory.push(block_on_both_cores(memory::measure(
            "LiteLLM",
            pid,
            &target,
            args.memory_streams,
            limit,
        ))??);
    }
    Ok(())
}

fn run_bodies(programs: &Programs, args: &Args, results: &mut Results) -> anyhow::Result<()> {
    let mock = MockProcess::fast(programs.mock()?, None)?;
    let gateway = fresh_gateway(programs, &mock)?;
    let url = format!("{}/v1/chat/completions", gateway.base_url());
    results.bodies = Some(block_on_both_cores(large_bodies::measure(
        gateway.process.pid(),
        &url,
        "fast/mock-model",
        args.body_clients,
        args.body_mib,
    ))??);
    Ok(())
}

fn run_throughput(programs: &Programs, args: &Args, results: &mut Results) -> anyhow::Result<()> {
    let oha = programs
        .oha
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("oha not found (cargo install oha --locked)"))?;
    let (core0, core1) = (Some("0"), Some("1"));
    let mock = MockProcess::fast(programs.mock()?, core1)?;
    let direct = Target::new("direct", &mock.url, Dialect::Chat, "mock-model");
    results.throughput.push(throughput::frontier(
        oha,
        &direct,
        &args.rates,
        args.rate_seconds,
        core1,
        None,
    )?);
    {
        let launch = Launch {
            cpus: Some("0".into()),
            workers: Some(1),
            ..Launch::default()
        };
        let mut gateway = ClawgateProcess::start(
            programs.clawgate()?,
            &mock.url,
            &mock.url,
            &launch,
            Duration::from_millis(5),
        )?;
        let target = Target::new(
            "clawgate",
            &gateway.base_url(),
            Dialect::Chat,
            "fast/mock-model",
        );
        results.throughput.push(throughput::frontier(
            oha,
            &target,
            &args.rates,
            args.rate_seconds,
            core1,
            Some(&mut gateway.process),
        )?);
    }
    if let Some(bin) = &programs.litellm {
        let mut litellm = LitellmProcess::start(bin, &mock.url, &mock.url, core0)?;
        let target = Target::new("LiteLLM", &litellm.base_url(), Dialect::Chat, "fast")
            .with_bearer(&litellm.key);
        results.throughput.push(throughput::frontier(
            oha,
            &target,
            &args.litellm_rates,
            args.rate_seconds,
            core1,
            Some(&mut litellm.process),
        )?);
    }
    Ok(())
}

/// The GGUF and llama-cpp-python of the live tier (or `--gguf`).
fn engine_peers(args: &Args) -> anyhow::Result<(std::path::PathBuf, std::path::PathBuf)> {
    let live = procs::live_dir();
    let gguf = args
        .gguf
        .clone()
        .unwrap_or_else(|| live.join("models/gemma-3-270m-q4_k_m.gguf"));
    let python = live.join("venv/bin/python");
    if !gguf.is_file() || !python.is_file() {
        anyhow::bail!(
            "the live tier is not installed (scripts/live-setup): no GGUF or llama-cpp-python venv"
        );
    }
    Ok((gguf, python))
}

fn run_engine(args: &Args, results: &mut Results) -> anyhow::Result<()> {
    let (gguf, python) = engine_peers(args)?;
    results.engine = Some(block_on(engine::measure(
        &gguf,
        &python,
        args.engine_runs,
    ))??);
    Ok(())
}

fn run_engine_load(args: &Args, results: &mut Results) -> anyhow::Result<()> {
    let (gguf, python) = engine_peers(args)?;
    let exe = std::env::current_exe()?;
    results.engine_load = Some(block_on(engine_load::measure(
        &exe,
        &gguf,
        &python,
        args.engine_load_runs,
    ))??);
    Ok(())
}

fn run_failover(args: &Args, results: &mut Results) -> anyhow::Result<()> {
    let mocks = Mocks::new()?;
    let healthy = mocks.start(MockConfig::default())?;
    let hanging = mocks.start(MockConfig::default().fault(Fault::HangBeforeHeaders))?;
    let dead = [Fault::Status503, Fault::Reset]
        .into_iter()
        .map(|fault| Ok((fault, mocks.start(MockConfig::default().fault(fault))?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let figures = block_on(async {
        eprintln!(
            "  refused upstream: {} requests per series…",
            args.failover_requests
        );
        let refused = failover::refused(&healthy, args.failover_requests, args.warmup).await?;
        eprintln!("  hung upstream: {} requests…", args.hung_requests);
        let timeout = Duration::from_millis(args.first_event_timeout_ms);
        let hung = failover::hung(&hanging, &healthy, args.hung_requests, timeout).await?;
        let mut dead_upstream = Vec::new();
        for (fault, mock) in &dead {
            eprintln!(
                "  dead upstream ({fault}): {} requests…",
                args.dead_requests
            );
            dead_upstream
                .push(failover::dead_attempts(mock, *fault, &healthy, args.dead_requests).await?);
        }
        Ok::<_, anyhow::Error>(FailoverFigures {
            refused,
            hung,
            dead_upstream,
        })
    })??;
    results.failover = Some(figures);
    Ok(())
}

fn run_startup(programs: &Programs, args: &Args, results: &mut Results) -> anyhow::Result<()> {
    let mock = programs.mock()?;
    let fast = MockProcess::fast(mock, None)?;
    let stream = MockProcess::streaming(mock, 20, None)?;
    results.startup.push(startup::clawgate(
        programs.clawgate()?,
        &fast.url,
        &stream.url,
        args.startup_runs,
    )?);
    match &programs.litellm {
        Some(bin) => results.startup.push(startup::litellm(
            bin,
            &fast.url,
            &stream.url,
            args.startup_runs,
        )?),
        None => results.skip(Group::Startup, "LiteLLM: not installed or --no-litellm"),
    }
    Ok(())
}

/// Runs `groups` in order; the shared stage lives across latency and streaming only.
pub fn run_all(groups: &[Group], programs: &Programs, args: &Args, results: &mut Results) {
    let mut stage: Option<Stage> = None;
    for &group in groups {
        eprintln!("== {group:?} (load {})", crate::report::load_average());
        if !matches!(group, Group::Latency | Group::Streaming) {
            stage = None;
        }
        let outcome = match group {
            Group::Startup => run_startup(programs, args, results),
            Group::Failover => run_failover(args, results),
            Group::Agent => block_on(agent_turn::measure(&args.agent_sizes, args.agent_turns))
                .and_then(|r| r)
                .map(|rows| results.agent = rows)
                .and_then(|()| {
                    block_on(agent_index::measure(
                        &args.agent_index_sizes,
                        args.agent_turns,
                    ))
                    .and_then(|r| r)
                })
                .map(|rows| results.agent_index = rows),
            Group::Latency | Group::Streaming => {
                if stage.is_none() {
                    match Stage::start(programs, results, group) {
                        Ok(s) => stage = Some(s),
                        Err(e) => {
                            results.skip(group, e);
                            continue;
                        }
                    }
                }
                match (&stage, group) {
                    (Some(s), Group::Latency) => run_latency(s, args, results),
                    (Some(s), _) => run_streaming(s, args, results),
                    (None, _) => Ok(()),
                }
            }
            Group::Memory => run_memory(programs, args, results),
            Group::Bodies => run_bodies(programs, args, results),
            Group::Throughput => run_throughput(programs, args, results),
            Group::Engine => run_engine(args, results),
            Group::EngineLoad => run_engine_load(args, results),
            Group::SharedState => shared_state::measure(programs, args)
                .map(|figures| results.shared_state = Some(figures)),
        };
        if let Err(e) = outcome {
            results.skip(group, e);
        }
    }
}
