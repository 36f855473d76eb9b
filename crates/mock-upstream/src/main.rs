//! The `mock-upstream` binary: runs one mock server until SIGINT/SIGTERM, for benchmarks and
//! for tests that need a separate process. Prints the base URL (`http://127.0.0.1:PORT`) as
//! its first stdout line once it accepts connections.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;

use clap::Parser;
use mock_upstream::{Fault, MockConfig, MockModel, MockServer, OverflowServer, Quirk, Script};

#[derive(Debug, Parser)]
#[command(
    name = "mock-upstream",
    about = "A scriptable fake LLM upstream: OpenAI chat + Responses, Anthropic, Ollama, LM Studio listings",
    after_help = "Per request: header `x-mock-script: {json Script}`. Control API: POST/DELETE /__mock/script \
                  (body: a Script or a list, ?times=N), GET/DELETE /__mock/requests, GET /__mock/stats."
)]
struct Cli {
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Port (0 = any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Delay before response headers, ms.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Delay before the first streamed frame, ms.
    #[arg(long, default_value_t = 0)]
    ttft_ms: u64,
    /// Answer text pieces per response.
    #[arg(long, default_value_t = mock_upstream::DEFAULT_CHUNKS)]
    chunks: usize,
    /// Pause between streamed frames, ms.
    #[arg(long, default_value_t = 0)]
    chunk_interval_ms: u64,
    /// Never report token usage.
    #[arg(long)]
    no_usage: bool,
    /// Fail every request this way (see the list below).
    #[arg(long, value_parser = parse_fault, help = fault_help())]
    fault: Option<Fault>,
    /// Whose wording `context_overflow` uses.
    #[arg(long, value_parser = parse_overflow, help = overflow_help())]
    overflow_server: Option<OverflowServer>,
    /// Context limit stated by overflow errors.
    #[arg(long)]
    context_limit: Option<u64>,
    /// `Retry-After` seconds for status_429.
    #[arg(long)]
    retry_after_secs: Option<u64>,
    /// Reproduce a server quirk (repeatable).
    #[arg(long = "quirk", value_parser = parse_quirk, help = quirk_help())]
    quirks: Vec<Quirk>,
    /// Fixed answer text (default: "mock answer to: <last user text>").
    #[arg(long)]
    text: Option<String>,
    /// Reasoning text to emit before every answer.
    #[arg(long)]
    reasoning: Option<String>,
    /// Advertised model `ID` or `ID:CONTEXT` (repeatable; default mock-model:8192).
    #[arg(long = "model")]
    models: Vec<String>,
    /// Answer 404 model_not_found for models not in the list.
    #[arg(long)]
    strict_models: bool,
    /// Requests kept in the log (0 = off; use 0 for benchmarks).
    #[arg(long, default_value_t = 1000)]
    request_log: usize,
    /// Tokio worker threads (default: one per core).
    #[arg(long)]
    workers: Option<usize>,
}

fn parse_fault(s: &str) -> Result<Fault, String> {
    s.parse()
}
fn parse_overflow(s: &str) -> Result<OverflowServer, String> {
    s.parse()
}
fn parse_quirk(s: &str) -> Result<Quirk, String> {
    s.parse()
}
fn names<T: ToString>(all: &[T]) -> String {
    all.iter().map(T::to_string).collect::<Vec<_>>().join(", ")
}
fn fault_help() -> String {
    format!("Fail every request this way: {}", names(&Fault::ALL))
}
fn overflow_help() -> String {
    format!(
        "Whose wording context_overflow uses: {}",
        names(&OverflowServer::ALL)
    )
}
fn quirk_help() -> String {
    format!(
        "Reproduce a server quirk (repeatable): {}",
        names(&Quirk::ALL)
    )
}

fn parse_model(spec: &str) -> Result<MockModel, String> {
    match spec.rsplit_once(':') {
        Some((id, ctx)) if ctx.chars().all(|c| c.is_ascii_digit()) && !ctx.is_empty() => {
            let ctx = ctx
                .parse()
                .map_err(|e| format!("bad context in `{spec}`: {e}"))?;
            Ok(MockModel::new(id, ctx))
        }
        _ => Ok(MockModel::new(spec, 8192)),
    }
}

fn config(cli: &Cli) -> Result<MockConfig, String> {
    let defaults = Script {
        latency_ms: Some(cli.latency_ms),
        ttft_ms: Some(cli.ttft_ms),
        chunks: Some(cli.chunks),
        chunk_interval_ms: Some(cli.chunk_interval_ms),
        usage: Some(!cli.no_usage),
        text: cli.text.clone(),
        reasoning: cli.reasoning.clone(),
        fault: cli.fault,
        overflow_server: cli.overflow_server,
        context_limit: cli.context_limit,
        retry_after_secs: cli.retry_after_secs,
        quirks: (!cli.quirks.is_empty()).then(|| cli.quirks.clone()),
        ..Script::default()
    };
    let mut config = MockConfig::default()
        .bind(SocketAddr::new(cli.host, cli.port))
        .script(defaults)
        .strict_models(cli.strict_models)
        .request_log_capacity(cli.request_log);
    if !cli.models.is_empty() {
        let models = cli
            .models
            .iter()
            .map(|m| parse_model(m))
            .collect::<Result<_, _>>()?;
        config = config.models(models);
    }
    Ok(config)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match config(&cli) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mock-upstream: {e}");
            return ExitCode::from(2);
        }
    };
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    if let Some(n) = cli.workers {
        builder.worker_threads(n.max(1));
    }
    let runtime = match builder.build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mock-upstream: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let server = match MockServer::try_start(config).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("mock-upstream: {e}");
                return ExitCode::FAILURE;
            }
        };
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", server.base_url());
        let _ = out.flush();
        drop(out);
        wait_for_signal().await;
        server.shutdown().await;
        ExitCode::SUCCESS
    })
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
