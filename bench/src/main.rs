//! `clawgate-bench`: the failover benchmark of `shared/spec/benchmark-protocol.md`, first
//! version (later issues add throughput, streaming, translation, memory and start-up). One
//! run measures every figure side by side on one machine, prints one table and writes the
//! numbers as JSON to `bench/results/`. Method and command: `bench/README.md`.
//!
//! A benchmark, not a test: nothing here asserts a timing; the table reports the gap to
//! each target.

mod failover;
mod gateway;
mod report;
mod stats;

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use mock_upstream::{Fault, MockConfig};

use crate::failover::Mocks;
use crate::report::{Machine, Results};

#[derive(Debug, Parser)]
#[command(
    name = "clawgate-bench",
    about = "Failover and gateway-overhead benchmark (see bench/README.md)"
)]
struct Args {
    /// Requests per series for the refused-upstream figure (after the warm-up).
    #[arg(long, default_value_t = 2_000)]
    requests: usize,
    /// Warm-up requests per series, not counted.
    #[arg(long, default_value_t = 200)]
    warmup: usize,
    /// Requests for the hung-upstream figure (each waits the whole first-event timeout).
    #[arg(long, default_value_t = 20)]
    hung_requests: usize,
    /// First-event timeout for the hung-upstream figure, in milliseconds.
    #[arg(long, default_value_t = 1_000)]
    first_event_timeout_ms: u64,
    /// Requests sent while the dead upstream cools down.
    #[arg(long, default_value_t = 1_000)]
    dead_requests: usize,
    /// Requests per series for the gateway figure (≥ 5,000 per the protocol).
    #[arg(long, default_value_t = 5_000)]
    gateway_requests: usize,
    /// The `clawgate` binary (default: next to this one, i.e. the same target profile).
    #[arg(long, value_name = "PATH")]
    clawgate: Option<PathBuf>,
    /// Skip the gateway figure.
    #[arg(long)]
    no_gateway: bool,
    /// Where the JSON results go.
    #[arg(long, value_name = "DIR", default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/results"))]
    out_dir: PathBuf,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let machine = Machine::describe();
    let mocks = Mocks::new()?;
    let healthy = mocks.start(MockConfig::default())?;
    let hanging = mocks.start(MockConfig::default().fault(Fault::HangBeforeHeaders))?;
    let dead_mocks = [Fault::Status503, Fault::Reset]
        .into_iter()
        .map(|fault| Ok((fault, mocks.start(MockConfig::default().fault(fault))?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let results = runtime.block_on(async {
        eprintln!("refused upstream: {} requests per series…", args.requests);
        let refused = failover::refused(&healthy, args.requests, args.warmup).await?;
        eprintln!("hung upstream: {} requests…", args.hung_requests);
        let timeout = Duration::from_millis(args.first_event_timeout_ms);
        let hung = failover::hung(&hanging, &healthy, args.hung_requests, timeout).await?;
        let mut dead_upstream = Vec::new();
        for (fault, dead) in &dead_mocks {
            eprintln!("dead upstream ({fault}): {} requests…", args.dead_requests);
            dead_upstream
                .push(failover::dead_attempts(dead, *fault, &healthy, args.dead_requests).await?);
        }
        let binary = args.clawgate.clone().or_else(gateway::default_binary);
        let gateway = match (args.no_gateway, binary) {
            (true, _) => None,
            (false, None) => {
                eprintln!(
                    "gateway figure skipped: no clawgate binary next to this one (--clawgate PATH)"
                );
                None
            }
            (false, Some(binary)) => {
                eprintln!("gateway: {} requests per series…", args.gateway_requests);
                let process = gateway::GatewayProcess::start(&binary, &healthy).await?;
                let figures =
                    gateway::added_latency(&healthy, &process, args.gateway_requests, args.warmup)
                        .await;
                process.stop().await;
                Some(figures?)
            }
        };
        Ok::<_, anyhow::Error>(Results {
            machine,
            command,
            refused,
            hung,
            dead_upstream,
            gateway,
        })
    })?;
    println!(
        "clawgate-bench, {} ({} × {}, load {})",
        results.machine.date,
        results.machine.cores,
        results.machine.cpu,
        results.machine.load_average
    );
    println!("{}", report::table(&results));
    let path = report::write_json(&results, &args.out_dir)?;
    eprintln!("results: {}", path.display());
    Ok(())
}
