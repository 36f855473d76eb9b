//! `clawgate gateway`: serve the OpenAI (chat completions, Responses) and Anthropic (Messages)
//! APIs on one port, in front of the configured models and agents. Thin: flags, logging setup
//! and the runtime here; everything else is `clawgate_gateway` and `clawgate_runtime`. Prints
//! `clawgate gateway listening on http://ADDR` on stdout once it accepts connections (tests and
//! benchmarks read the port from it when started with `--port 0`). SIGTERM / ctrl-c stop it
//! gracefully; SIGHUP reloads the config (a bad config is refused and the old one kept).

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use super::{Context, report_load_error};
use clap::{Args, ValueEnum};
use clawgate_config::schema::GatewayBind;
use clawgate_gateway::{Gateway, GatewayOptions, RequestLimits, ServicesLoader, listen_addr};
use clawgate_runtime::{RuntimeError, Services, ServicesOptions};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct GatewayArgs {
    /// Port to listen on (default: gateway.port, 18789; 0 = any free port).
    #[arg(long)]
    pub port: Option<u16>,
    /// `loopback`, `lan` (all interfaces) or an IP address (default: gateway.bind, loopback).
    /// Anything but loopback needs gateway.auth.token.
    #[arg(long, value_parser = parse_bind, value_name = "BIND")]
    pub bind: Option<GatewayBind>,
    /// Log format on stderr (`RUST_LOG` sets the level; default info).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Allow web pages from this origin (repeatable; `*` for any), besides
    /// gateway.controlUi.allowedOrigins. Other pages are refused.
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    pub cors_origins: Vec<String>,
    /// Largest request body, in bytes.
    #[arg(long, default_value_t = 20 * 1024 * 1024, value_name = "BYTES")]
    pub max_body_bytes: usize,
    /// Request bodies held at once across all requests, in bytes (at least --max-body-bytes);
    /// past it requests wait up to 10 s, then get 503.
    #[arg(long, default_value_t = 64 * 1024 * 1024, value_name = "BYTES")]
    pub max_inflight_body_bytes: usize,
    /// Seconds until an answer must start (the whole answer when not streamed).
    #[arg(long, default_value_t = 600, value_name = "SECS")]
    pub request_timeout: u64,
    /// Event loops serving connections, each on a thread of its own (default: one per core).
    /// A connection stays on the loop that accepted it.
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
}

pub(crate) fn parse_bind(text: &str) -> Result<GatewayBind, String> {
    match text {
        "loopback" => Ok(GatewayBind::Loopback),
        "lan" => Ok(GatewayBind::Lan),
        other => other
            .parse()
            .map(GatewayBind::Address)
            .map_err(|_| format!("expected loopback, lan or an IP address, got `{other}`")),
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

pub fn run(ctx: &Context, args: GatewayArgs) -> anyhow::Result<ExitCode> {
    init_logging(args.log_format);
    let loaded = match ctx.load() {
        Ok(loaded) => loaded,
        Err(code) => return Ok(code),
    };
    // This thread's runtime is the first event loop (and runs discovery, reloads and
    // signals); `Gateway::start` starts the others (see `GatewayOptions::lanes`).
    let lanes = args.workers.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        // With the `embedded` feature, `llama-cpp` providers run in-process; a reload keeps the
        // factory (`ServicesOptions::reusing`).
        let services = match Services::build(loaded, ServicesOptions::default()) {
            Ok(services) => services,
            Err(RuntimeError::Config(err)) => {
                report_load_error(&err);
                return Ok(ExitCode::from(1));
            }
            Err(err) => {
                eprintln!("error: {err}");
                return Ok(ExitCode::from(1));
            }
        };
        let addr = listen_addr(services.config(), args.port, args.bind.as_ref());
        let opts = ctx.opts.clone();
        let loader: ServicesLoader = Arc::new(move |current: &Services| {
            Ok(Services::load(
                &opts,
                ServicesOptions::default().reusing(current),
            )?)
        });
        let mut options = GatewayOptions::new(addr);
        options.config_options = Some(ctx.opts.clone());
        options.lanes = lanes.max(1);
        options.on_idle = Some(Arc::new(|| {
            crate::release_allocator_caches();
        }));
        options.cors_origins = args.cors_origins;
        options.limits = RequestLimits {
            max_body_bytes: args.max_body_bytes,
            body_budget_bytes: args.max_inflight_body_bytes,
            request_timeout: Duration::from_secs(args.request_timeout.max(1)),
            ..RequestLimits::default()
        };
        let gateway = match Gateway::start(services, Some(loader), options).await {
            Ok(gateway) => gateway,
            Err(err) => {
                eprintln!("error: {err}");
                return Ok(ExitCode::from(1));
            }
        };
        let mut stdout = std::io::stdout();
        writeln!(
            stdout,
            "clawgate gateway listening on http://{}",
            gateway.local_addr()
        )?;
        stdout.flush()?;
        let services = gateway.services();
        if services.uses_generated_token() {
            // Never the token itself: logs are kept and shared; the file is owner-only.
            eprintln!(
                "note: no gateway.auth.token is set, so agents with exec/write/edit and the \
                 Control UI need the gateway's own token, kept in {} (`clawgate dashboard` \
                 prints the page's link with it)",
                clawgate_runtime::gateway_token::gateway_token_path(
                    &services.loaded().location.state_dir
                )
                .display()
            );
        }
        gateway.run_until_signal().await?;
        Ok(ExitCode::SUCCESS)
    })
}
