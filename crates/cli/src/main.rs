//! The `clawgate` binary: clap commands with human and `--json` output. Thin by design: all
//! behaviour lives in the library crates; this file is the command enum and the dispatch.
//!
//! Exit codes: 0 ok, 1 invalid config or the operation failed, 2 usage (clap's own errors).

mod commands;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use commands::agent_cmd::AgentArgs;
use commands::config_cmd::ConfigCommand;
use commands::gateway_cmd::GatewayArgs;
use commands::models_cmd::ModelsCommand;
use commands::sessions_cmd::SessionsCommand;

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
    /// Serve the OpenAI and Anthropic APIs in front of the configured models and agents.
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
}

fn main() -> ExitCode {
    // Before anything else: the engine's OpenMP reads its wait policy when the process starts.
    clawgate_runtime::restart_with_engine_wait_policy();
    let cli = Cli::parse();
    let ctx = commands::Context::new(cli.config, cli.state_dir);
    let result = match cli.command {
        Command::Agent(args) => commands::agent_cmd::run(&ctx, args),
        Command::Config { command } => commands::config_cmd::run(&ctx, command),
        Command::Models { command } => commands::models_cmd::run(&ctx, command),
        Command::Gateway(args) => commands::gateway_cmd::run(&ctx, args),
        Command::Sessions { command } => commands::sessions_cmd::run(&ctx, command),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}
