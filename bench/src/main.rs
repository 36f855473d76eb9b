//! `clawgate-bench`: the benchmark of `shared/spec/benchmark-protocol.md`. One run measures
//! every figure group side by side on one machine (direct to `mock-upstream`, through
//! clawgate, through LiteLLM), prints ONE table with each figure's target and the gap to it,
//! and writes every number as JSON to `bench/results/`. Method and command: `bench/README.md`.
//!
//! A benchmark, not a test: nothing here asserts a timing. Every process it starts is killed
//! when the run ends, on error and on Ctrl-C too (`procs`).

mod agent_index;
mod agent_turn;
mod client;
mod engine;
mod engine_load;
mod failover;
mod groups;
mod large_bodies;
mod latency;
mod memory;
mod peers;
mod procs;
mod report;
mod rows;
mod shared_state;
mod startup;
mod stats;
mod streaming;
mod throughput;

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, ValueEnum};

use crate::groups::Results;
use crate::peers::Programs;
use crate::report::Machine;

/// The figure groups, in the order a full run measures them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum, serde::Serialize)]
pub enum Group {
    /// Start-up time to healthy (clawgate, LiteLLM).
    Startup,
    /// Refused / hung / dead upstream (in-process router).
    Failover,
    /// The agent's own overhead per turn.
    Agent,
    /// Added latency at c=1, incl. Responses-in and Anthropic-in (translation).
    Latency,
    /// Added TTFT, inter-chunk p99, concurrent streams, incl. translation.
    Streaming,
    /// RSS idle, under 1,000 open streams, after.
    Memory,
    /// RSS idle, under 16 concurrent 20 MiB request bodies, 2 s after.
    Bodies,
    /// Fixed-rate throughput frontier, gateway pinned to one core.
    Throughput,
    /// The embedded engine vs. the llama.cpp server (needs --features llama).
    Engine,
    /// Both under CPU contention: 1 and 2 threads, idle and busy, OpenMP wait policies.
    EngineLoad,
    /// Agent turns on the Postgres backend beside the file backend; cooldown propagation.
    SharedState,
}

#[derive(Debug, Parser)]
#[command(
    name = "clawgate-bench",
    about = "clawgate's benchmark: every figure side by side in one run (see bench/README.md)"
)]
pub struct Args {
    /// Run only these groups (comma-separated; default: all).
    #[arg(long, value_delimiter = ',', value_enum)]
    pub only: Vec<Group>,
    /// Skip these groups.
    #[arg(long, value_delimiter = ',', value_enum)]
    pub skip: Vec<Group>,
    /// Leave LiteLLM out (its columns stay empty).
    #[arg(long)]
    pub no_litellm: bool,
    /// Non-streaming requests per clawgate series at c=1 (≥ 5,000 per the protocol).
    #[arg(long, default_value_t = 5_000)]
    pub requests: usize,
    /// Requests per LiteLLM series at c=1 (it is ~100× slower).
    #[arg(long, default_value_t = 1_000)]
    pub litellm_requests: usize,
    /// Warm-up requests per series, not counted.
    #[arg(long, default_value_t = 200)]
    pub warmup: usize,
    /// Streams per path for added TTFT / inter-chunk (one of each path at a time).
    #[arg(long, default_value_t = 40)]
    pub stream_rounds: usize,
    /// Streams per path for the back-to-back TTFT (0 ms mock, no idle time between streams).
    #[arg(long, default_value_t = 1000)]
    pub back_to_back_streams: usize,
    /// Concurrency levels for the streaming sweep.
    #[arg(long, value_delimiter = ',', default_value = "100,250,500,1000")]
    pub concurrency: Vec<usize>,
    /// Open streams for the memory figure.
    #[arg(long, default_value_t = 1_000)]
    pub memory_streams: usize,
    /// Concurrent clients for the large-body figure.
    #[arg(long, default_value_t = 16)]
    pub body_clients: usize,
    /// Size of each of their bodies, in MiB (the gateway's default limit is 20 MiB).
    #[arg(long, default_value_t = 20)]
    pub body_mib: usize,
    /// Starts per process for the start-up figure.
    #[arg(long, default_value_t = 5)]
    pub startup_runs: usize,
    /// Offered rates for the direct and clawgate frontiers (req/s).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "1000,2000,3000,4000,5000,6000,7000,8000,10000,12000,15000,20000"
    )]
    pub rates: Vec<u32>,
    /// Offered rates for the LiteLLM frontier (req/s).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "25,50,100,150,200,300,400,500,700,1000"
    )]
    pub litellm_rates: Vec<u32>,
    /// Seconds per rate step.
    #[arg(long, default_value_t = 3.0)]
    pub rate_seconds: f64,
    /// Session sizes (messages) for the agent figure.
    #[arg(long, value_delimiter = ',', default_value = "10,1000,10000")]
    pub agent_sizes: Vec<usize>,
    /// Timed turns per agent row.
    #[arg(long, default_value_t = 200)]
    pub agent_turns: usize,
    /// Failures timed for the cooldown-propagation figure (shared-state group).
    #[arg(long, default_value_t = 200)]
    pub propagation_rounds: usize,
    /// Sessions in the index for the turn-cost-against-index-size figure.
    #[arg(long, value_delimiter = ',', default_value = "10,10000")]
    pub agent_index_sizes: Vec<usize>,
    /// Alternating runs of the engine and the llama.cpp server (the first of each is cold).
    #[arg(long, default_value_t = 4)]
    pub engine_runs: usize,
    /// Runs per series of the engine-load group (the first of each is cold).
    #[arg(long, default_value_t = 3)]
    pub engine_load_runs: usize,
    /// The GGUF for the engine figures (default: the live tier's gemma-3-270m).
    #[arg(long, value_name = "PATH")]
    pub gguf: Option<PathBuf>,
    /// Internal: run one engine series in this process and print it as JSON (the engine-load
    /// group starts itself this way, so OpenMP sees the wait policy from the start).
    #[arg(long, hide = true)]
    pub engine_child: bool,
    /// Internal: threads of the `--engine-child` series.
    #[arg(long, hide = true, default_value_t = 2)]
    pub child_threads: usize,
    /// Requests per series for the refused-upstream failover figure.
    #[arg(long, default_value_t = 2_000)]
    pub failover_requests: usize,
    /// Requests for the hung-upstream figure (each waits the whole first-event timeout).
    #[arg(long, default_value_t = 20)]
    pub hung_requests: usize,
    /// First-event timeout for the hung-upstream figure, in milliseconds.
    #[arg(long, default_value_t = 1_000)]
    pub first_event_timeout_ms: u64,
    /// Requests sent while the dead upstream cools down.
    #[arg(long, default_value_t = 1_000)]
    pub dead_requests: usize,
    /// The `clawgate` binary (default: next to this one).
    #[arg(long, value_name = "PATH")]
    pub clawgate: Option<PathBuf>,
    /// The `mock-upstream` binary (default: next to this one).
    #[arg(long, value_name = "PATH")]
    pub mock: Option<PathBuf>,
    /// The `litellm` executable (default: the live tier's venv).
    #[arg(long, value_name = "PATH")]
    pub litellm: Option<PathBuf>,
    /// The `oha` executable (default: on PATH or in ~/.cargo/bin).
    #[arg(long, value_name = "PATH")]
    pub oha: Option<PathBuf>,
    /// Where the JSON results go.
    #[arg(long, value_name = "DIR", default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/results"))]
    pub out_dir: PathBuf,
}

impl Args {
    fn groups(&self) -> Vec<Group> {
        let all = Group::value_variants().to_vec();
        let chosen = if self.only.is_empty() {
            all
        } else {
            all.into_iter().filter(|g| self.only.contains(g)).collect()
        };
        chosen
            .into_iter()
            .filter(|g| !self.skip.contains(g))
            .collect()
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.engine_child {
        let gguf = args.gguf.clone().context("--engine-child needs --gguf")?;
        return tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(engine_load::child_main(
                &gguf,
                args.child_threads,
                args.engine_runs,
            ));
    }
    procs::install_signal_cleanup()?;
    let machine = Machine::describe();
    let programs = Programs {
        clawgate: args
            .clawgate
            .clone()
            .or_else(|| procs::sibling_binary("clawgate")),
        mock: args
            .mock
            .clone()
            .or_else(|| procs::sibling_binary("mock-upstream")),
        litellm: if args.no_litellm {
            None
        } else {
            args.litellm.clone().or_else(peers::default_litellm)
        },
        oha: args.oha.clone().or_else(|| procs::find_program("oha")),
    };
    let mut results = Results::new(machine, std::env::args().collect::<Vec<_>>().join(" "));
    groups::run_all(&args.groups(), &programs, &args, &mut results);
    results.load_average_end = report::load_average();
    let rows = rows::build(&results);
    println!(
        "clawgate-bench, {} ({} × {}, load {} at start, {} at end)",
        results.machine.date,
        results.machine.cores,
        results.machine.cpu,
        results.machine.load_average,
        results.load_average_end,
    );
    println!("{}", report::table(&rows));
    for (group, why) in &results.not_measured {
        println!("not measured: {group:?}: {why}");
    }
    results.rows = rows;
    let path = report::write_json(&results, &results.machine.date, &args.out_dir)?;
    eprintln!("results: {}", path.display());
    Ok(())
}
