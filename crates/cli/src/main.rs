//! The `clawgate` binary: clap commands with human and `--json` output. Thin by design: all
//! behaviour lives in the library crates; this file is the command enum and the dispatch.
//!
//! Exit codes: 0 ok, 1 invalid config or the operation failed, 2 usage (clap's own errors).
//!
//! The global allocator is jemalloc with background purging: glibc's malloc kept the memory of
//! large freed buffers (16 concurrent 20 MiB bodies left ~250 MB resident for good), and
//! mimalloc only purges on later allocation activity in the freeing thread (~300 MB left 2 s
//! after); jemalloc's background thread hands dirty pages back after a second whatever the
//! program does (15 MB, idle 12 MB). Measured with `bench/run --only bodies`
//! (`bench/README.md`).

mod commands;
mod output;

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's start-up options (read by the allocator before `main`): background threads give
/// dirty pages back after `dirty_decay_ms` whether or not the program allocates again.
// The symbol is how jemalloc takes options compiled into a program (tikv-jemallocator's
// documented way); nothing else in the process defines it.
#[allow(non_upper_case_globals, unsafe_code)]
#[unsafe(export_name = "_rjem_malloc_conf")]
pub static malloc_conf: &[u8] = b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0\0";

/// The gateway's idle hook (`GatewayOptions::on_idle`, run on each event loop's thread when
/// the gateway goes quiet): this thread's cache of freed blocks goes back to the arenas, and
/// the arenas' unused pages back to the system at once, instead of staying with a thread that
/// may not allocate again for hours. False when the allocator refused a control.
pub(crate) fn release_allocator_caches() -> bool {
    // "arena.<MALLCTL_ARENAS_ALL>.purge": every arena.
    const CONTROLS: [&std::ffi::CStr; 2] = [c"thread.tcache.flush", c"arena.4096.purge"];
    CONTROLS.iter().all(|name| {
        // SAFETY: both controls take no old or new value (null pointers, zero lengths) and
        // `name` is a NUL-terminated string that outlives the call.
        #[allow(unsafe_code)]
        let status = unsafe {
            tikv_jemalloc_sys::mallctl(
                name.as_ptr(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                0,
            )
        };
        status == 0
    })
}

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use commands::agent_cmd::AgentArgs;
use commands::config_cmd::ConfigCommand;
use commands::dashboard_cmd::DashboardArgs;
use commands::gateway_cmd::GatewayArgs;
use commands::models_cmd::ModelsCommand;
use commands::sessions_cmd::SessionsCommand;
use commands::state_cmd::StateCommand;

#[derive(Debug, Parser)]
#[command(
    name = "clawgate",
    version,
    about = "Run OpenClaw-style agents on local LLM servers, with hosted models as fallbacks",
    after_help = "Example:\n  clawgate --config ./clawgate.json models list"
)]
struct Cli {
    /// Config file (default: $CLAWGATE_CONFIG, <state dir>/clawgate.json, ~/.openclaw/openclaw.json).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    /// State directory (default: $CLAWGATE_STATE_DIR or ~/.clawgate).
    #[arg(long, global = true, value_name = "PATH")]
    state_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Talk to an agent: one turn with -m, else a chat in the terminal.
    #[command(
        after_help = "Examples:\n  clawgate agent -m \"What is in README.md?\"\n  clawgate agent --session work\n  echo hi | clawgate agent --json"
    )]
    Agent(AgentArgs),
    /// Check and print the configuration.
    #[command(after_help = "Example:\n  clawgate config validate --json")]
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Print (and on a desktop open) the gateway's Control UI URL, with the token.
    #[command(after_help = "Example:\n  clawgate dashboard --no-open")]
    Dashboard(DashboardArgs),
    /// Serve the OpenAI and Anthropic APIs (and the Control UI at /) in front of the configured models and agents.
    #[command(after_help = "Example:\n  clawgate gateway --port 18789 --log-format json")]
    Gateway(GatewayArgs),
    /// List models and change the primary model, aliases and fallbacks.
    #[command(after_help = "Example:\n  clawgate models list --all")]
    Models {
        #[command(subcommand)]
        command: ModelsCommand,
    },
    /// List, show and export agent sessions.
    #[command(after_help = "Example:\n  clawgate sessions list")]
    Sessions {
        #[command(subcommand)]
        command: SessionsCommand,
    },
    /// Shared state (PostgreSQL): copy a state dir's sessions and cooldowns into it.
    #[command(after_help = "Example:\n  clawgate state migrate-from-files --json")]
    State {
        #[command(subcommand)]
        command: StateCommand,
    },
}

fn main() -> ExitCode {
    // Before anything else: the engine's OpenMP reads its wait policy when the process starts.
    clawgate_runtime::restart_with_engine_wait_policy();
    let cli = Cli::parse();
    let ctx = commands::Context::new(cli.config, cli.state_dir);
    let result = match cli.command {
        Command::Agent(args) => commands::agent_cmd::run(&ctx, args),
        Command::Config { command } => commands::config_cmd::run(&ctx, command),
        Command::Dashboard(args) => commands::dashboard_cmd::run(&ctx, args),
        Command::Models { command } => commands::models_cmd::run(&ctx, command),
        Command::Gateway(args) => commands::gateway_cmd::run(&ctx, args),
        Command::Sessions { command } => commands::sessions_cmd::run(&ctx, command),
        Command::State { command } => commands::state_cmd::run(&ctx, command),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    /// The controls exist in the linked jemalloc and give memory back: a thread that freed
    /// 8 MiB of small blocks holds fewer resident pages once it released them.
    #[test]
    fn releasing_the_allocator_caches_gives_pages_back() {
        let resident = || {
            let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
            status
                .lines()
                .find_map(|l| l.strip_prefix("RssAnon:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())
        };
        let blocks: Vec<Vec<u8>> = (0..64 * 1024).map(|i| vec![i as u8; 128]).collect();
        drop(blocks);
        let before = resident();
        assert!(super::release_allocator_caches());
        let after = resident();
        if let (Some(before), Some(after)) = (before, after) {
            assert!(
                after < before,
                "RssAnon {before} kB before, {after} kB after"
            );
        }
    }
}
