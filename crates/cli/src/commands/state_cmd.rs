//! `clawgate state migrate-from-files`: copies the state dir's sessions (every agent's index
//! and transcripts) and cooldowns into the PostgreSQL database `state.url` names (or `--url`).
//! Safe to re-run: what is already there is kept, and a second run copies nothing.

use std::process::ExitCode;

use clap::Subcommand;
use clawgate_config::StateBackend;
use clawgate_state_postgres::{PgState, migrate_from_files, redact_url};

use super::Context;
use crate::output::print_json;

#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// Copy sessions and cooldowns from the state dir (--state-dir) into PostgreSQL.
    #[command(
        after_help = "Example:\n  clawgate state migrate-from-files --state-dir ~/.clawgate --json"
    )]
    MigrateFromFiles {
        /// The database (default: state.url from the config).
        #[arg(long, value_name = "URL")]
        url: Option<String>,
        /// Print a JSON summary instead of progress lines.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(ctx: &Context, command: StateCommand) -> anyhow::Result<ExitCode> {
    let StateCommand::MigrateFromFiles { url, json } = command;
    let loaded = match ctx.load() {
        Ok(loaded) => loaded,
        Err(code) => return Ok(code),
    };
    let state_config = &loaded.config.state;
    let url = match (url, &state_config.url) {
        (Some(url), _) => url,
        (None, Some(url)) if state_config.backend() == StateBackend::Postgres => url.clone(),
        _ => {
            eprintln!(
                "error: no database to copy into: set state.backend to \"postgres\" and \
                 state.url in the config, or pass --url postgres://..."
            );
            return Ok(ExitCode::from(1));
        }
    };
    let state_dir = loaded.location.state_dir.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(async {
        let state = PgState::new(&url)?;
        if !json {
            println!("copying {} into {}", state_dir.display(), redact_url(&url));
        }
        let mut progress = |line: &str| {
            if !json {
                println!("  {line}");
            }
        };
        migrate_from_files(&state, &state_dir, &mut progress)
            .await
            .map_err(anyhow::Error::msg)
    });
    let summary = match result {
        Ok(summary) => summary,
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(ExitCode::from(1));
        }
    };
    if json {
        print_json(&summary)?;
    } else {
        println!(
            "copied {} session(s), {} transcript line(s), {} cooldown(s); already there: {}, {}, {}",
            summary.sessions_copied,
            summary.transcript_lines_copied,
            summary.cooldowns_copied,
            summary.sessions_present,
            summary.transcript_lines_present,
            summary.cooldowns_present
        );
        if summary.transcripts_missing > 0 {
            println!(
                "{} row(s) name a transcript file that does not exist (rows copied, no lines)",
                summary.transcripts_missing
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
