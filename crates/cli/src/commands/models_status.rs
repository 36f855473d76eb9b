//! `clawgate models status [--probe] [--json] [--check]`: can the configured chain serve right
//! now? Per provider: base URL, api, whether a key is present (redacted, with where it came
//! from), and its cooldown state from the state dir's cooldown store; with `--probe`, whether
//! it answers its model list and how fast, whether each configured model is served, and the
//! context window the server really runs with when it differs from the config (the most
//! common local-model misconfiguration), and what the providers learned about their servers.
//! `--check` turns "the primary cannot serve" into exit code 1, for scripts and health checks.
//!
//! The report is `clawgate_runtime::model_status` (shared with the gateway's Control UI), built
//! on `clawgate_runtime::Services`, the one config → providers → router assembly, so this
//! command sees exactly what the gateway uses. Rendering for people is in
//! `models_status_render.rs`; the JSON shape is the runtime's.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use clawgate_config::LoadedConfig;
use clawgate_runtime::model_status::{StatusOptions, collect};
use clawgate_runtime::model_status_json::status_json;
use clawgate_runtime::{Services, ServicesOptions};

use super::models_status_render::print_human;
use crate::output::print_json;

#[derive(Debug, Args)]
pub struct ModelsStatusArgs {
    /// Ask each provider for its model list: reachability, latency, served models, context.
    #[arg(long)]
    pub probe: bool,
    /// Time allowed for each probe, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 5_000)]
    pub probe_timeout: u64,
    /// Every provider of the registry, not only the configured ones and those in the chain.
    #[arg(long)]
    pub all: bool,
    /// Exit 1 when the primary model cannot serve (no key, cooling down, unreachable).
    #[arg(long)]
    pub check: bool,
    #[arg(long)]
    pub json: bool,
}

pub fn run(loaded: &LoadedConfig, args: ModelsStatusArgs) -> anyhow::Result<ExitCode> {
    let services = match Services::build(loaded.clone(), ServicesOptions::default()) {
        Ok(services) => services,
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(ExitCode::from(1));
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let options = StatusOptions {
        probe: args.probe,
        probe_timeout: Duration::from_millis(args.probe_timeout),
        all: args.all,
    };
    // The spinner ticks on its own thread while the probes run.
    let spinner = (args.probe && std::io::stdout().is_terminal() && !args.json).then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_message("probing providers…");
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    });
    let report = runtime.block_on(async {
        // With shared state, show every replica's cooldowns, not an empty local view.
        if let Some(shared) = services.shared_state()
            && let Err(error) = shared.catch_up(services.cooldowns()).await
        {
            eprintln!("warning: {error}; cooldowns shown are this process's own");
        }
        collect(&services, &options).await
    });
    if let Some(bar) = spinner {
        bar.finish_and_clear();
    }
    if args.json {
        print_json(&status_json(&report))?;
    } else {
        print_human(&report);
    }
    Ok(if args.check && !report.check_problems.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
