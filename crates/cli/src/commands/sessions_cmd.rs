//! `clawgate sessions list|show|export|repair`: views of an agent's sessions
//! (`<state>/agents/<id>/sessions/`). The views read the index and the transcripts without
//! taking a session's lock, so they work while a chat or the gateway has the session open, and
//! they need no model: an invalid config only costs the default agent id (`main` is used).
//! `repair` rebuilds a lost or corrupted index from the transcripts (under the index lock; it
//! never deletes a transcript).

use std::process::ExitCode;
use std::time::{Duration, UNIX_EPOCH};

use clap::{Subcommand, ValueEnum};
use clawgate_agent::session::EntryBody;
use clawgate_agent::{AgentError, ExportFormat, SessionStore, SessionView};
use clawgate_runtime::{MAIN_AGENT, default_agent};
use serde_json::{Value, json};

use super::Context;
use crate::output::{print_json, table};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// The transcript file as it is on disk (OpenClaw's JSONL).
    Jsonl,
    /// A readable rendering of the conversation.
    Markdown,
}

#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// List the agent's sessions, most recently updated first.
    #[command(after_help = "Example:\n  clawgate sessions list --agent main --json")]
    List {
        #[arg(long, value_name = "ID")]
        agent: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Show one session (by key, bare name or session id) and its conversation.
    #[command(after_help = "Example:\n  clawgate sessions show agent:main:main")]
    Show {
        key: String,
        #[arg(long, value_name = "ID")]
        agent: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Print a session's transcript (JSONL as stored, or Markdown).
    #[command(after_help = "Example:\n  clawgate sessions export main --format markdown > chat.md")]
    Export {
        key: String,
        #[arg(long, value_enum, default_value = "jsonl")]
        format: FormatArg,
        #[arg(long, value_name = "ID")]
        agent: Option<String>,
    },
    /// Rebuild the session index from the transcripts (keeps every readable row; an
    /// unreadable sessions.json is moved aside, no transcript is deleted).
    #[command(after_help = "Example:\n  clawgate sessions repair --agent main --json")]
    Repair {
        #[arg(long, value_name = "ID")]
        agent: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

/// The state dir and the agent whose sessions to read.
fn store_for(ctx: &Context, agent: Option<String>) -> (SessionStore, String) {
    let state_dir = clawgate_config::locate(&ctx.opts).state_dir;
    let agent = agent.unwrap_or_else(|| match clawgate_config::load(&ctx.opts) {
        Ok(loaded) => default_agent(&loaded.config),
        Err(_) => MAIN_AGENT.to_string(),
    });
    (SessionStore::for_agent(&state_dir, &agent), agent)
}

/// A session by key, session id, or bare name (`work` = `agent:<id>:work`).
fn find(store: &SessionStore, agent: &str, key: &str) -> Result<SessionView, AgentError> {
    match store.show(key) {
        Err(AgentError::UnknownSession(_)) if !key.starts_with("agent:") => {
            store.show(&format!("agent:{agent}:{key}"))
        }
        other => other,
    }
}

fn time(ms: u64) -> String {
    if ms == 0 {
        return "-".into();
    }
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

fn summary_json(view: Option<&SessionView>, s: &clawgate_agent::SessionSummary) -> Value {
    let mut row = serde_json::to_value(s).unwrap_or_else(|_| json!({}));
    row["lastModel"] = json!(view.and_then(SessionView::last_model));
    row["updated"] = json!(time(s.updated_at));
    row
}

fn list(store: &SessionStore, agent: &str, as_json: bool) -> anyhow::Result<ExitCode> {
    let sessions = store.list()?;
    let views: Vec<Option<SessionView>> =
        sessions.iter().map(|s| store.show(&s.key).ok()).collect();
    if as_json {
        let rows: Vec<Value> = sessions
            .iter()
            .zip(&views)
            .map(|(s, v)| summary_json(v.as_ref(), s))
            .collect();
        print_json(&json!({ "agent": agent, "sessions": rows }))?;
        return Ok(ExitCode::SUCCESS);
    }
    if sessions.is_empty() {
        eprintln!(
            "no sessions for agent {agent} yet (start one with `clawgate agent` or `clawgate agent -m TEXT`)"
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = table(&[
        "KEY",
        "SESSION ID",
        "MODEL",
        "CONTEXT",
        "TOTAL TOKENS",
        "COMPACTIONS",
        "UPDATED",
    ]);
    for (s, view) in sessions.iter().zip(&views) {
        let model = match (
            &s.model_override,
            view.as_ref().and_then(SessionView::last_model),
        ) {
            (Some(o), _) => format!("{o} (/model)"),
            (None, Some(last)) => last,
            (None, None) => "-".into(),
        };
        t.add_row(vec![
            s.key.clone(),
            s.session_id.clone(),
            model,
            s.context_tokens
                .map_or_else(|| "-".into(), |c| c.to_string()),
            s.total_tokens.to_string(),
            s.compaction_count.to_string(),
            time(s.updated_at),
        ]);
    }
    println!("{t}");
    Ok(ExitCode::SUCCESS)
}

fn show(store: &SessionStore, view: &SessionView, as_json: bool) -> anyhow::Result<ExitCode> {
    let e = &view.entry;
    let branch = view.transcript.active_branch();
    let messages = branch
        .iter()
        .filter(|x| matches!(x.body, EntryBody::Message(_)))
        .count();
    if as_json {
        print_json(&json!({
            "key": view.key,
            "sessionId": e.session_id,
            "transcriptPath": view.transcript_path,
            "entry": e,
            "lastModel": view.last_model(),
            "header": view.transcript.header,
            "entries": branch.iter().map(|x| x.to_json()).collect::<Vec<_>>(),
            "warnings": view.transcript.warnings,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    let model = match (&e.model_override, view.last_model()) {
        (Some(o), last) => format!(
            "{o} (set with /model; last answer from {})",
            last.as_deref().unwrap_or("-")
        ),
        (None, Some(last)) => format!("{last} (last answer)"),
        (None, None) => "-".into(),
    };
    println!("Session     {}", view.key);
    println!("id          {}", e.session_id);
    println!("transcript  {}", view.transcript_path.display());
    println!("started     {}", time(e.session_started_at));
    println!("updated     {}", time(e.updated_at));
    println!("model       {model}");
    println!(
        "tokens      {} in, {} out, {} total; context ~{}",
        e.input_tokens,
        e.output_tokens,
        e.total_tokens,
        e.context_tokens
            .map_or_else(|| "?".into(), |c| c.to_string())
    );
    println!("compactions {}", e.compaction_count);
    println!("messages    {messages}");
    for warning in &view.transcript.warnings {
        eprintln!("warning: {warning}");
    }
    println!();
    print!("{}", store.export(&view.key, ExportFormat::Markdown)?);
    Ok(ExitCode::SUCCESS)
}

fn repair(store: &SessionStore, agent: &str, as_json: bool) -> anyhow::Result<ExitCode> {
    let now = std::time::SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let report = store.repair(agent, now)?;
    if as_json {
        print_json(&json!({ "agent": agent, "repair": report }))?;
        return Ok(ExitCode::SUCCESS);
    }
    let state = match report.index_state.as_str() {
        "ok" => "readable",
        other => other,
    };
    println!("index       {} (was {state})", report.index);
    if let Some(backup) = &report.backup {
        println!("moved aside {backup}");
    }
    println!("kept        {} row(s)", report.kept);
    for key in &report.dropped_rows {
        println!("unreadable  row {key} (dropped; its transcript is recovered below if found)");
    }
    println!("recovered   {} session(s)", report.recovered.len());
    for r in &report.recovered {
        println!(
            "  {}  {}  {} message(s)  {}",
            r.key, r.session_id, r.messages, r.file
        );
    }
    for s in &report.skipped {
        eprintln!("skipped {}: {}", s.file, s.reason);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run(ctx: &Context, command: SessionsCommand) -> anyhow::Result<ExitCode> {
    // These views read the files; with a shared store they would show stale or no sessions.
    if let Ok(loaded) = clawgate_config::load(&ctx.opts)
        && loaded.config.state.backend() == clawgate_config::StateBackend::Postgres
    {
        eprintln!(
            "error: clawgate sessions reads the session files under the state dir; this config \
             keeps sessions in PostgreSQL (state.backend \"postgres\"), which these views do \
             not read yet"
        );
        return Ok(ExitCode::from(1));
    }
    let result = match command {
        SessionsCommand::List { agent, json } => {
            let (store, agent) = store_for(ctx, agent);
            list(&store, &agent, json)
        }
        SessionsCommand::Show { key, agent, json } => {
            let (store, agent) = store_for(ctx, agent);
            match find(&store, &agent, &key) {
                Ok(view) => show(&store, &view, json),
                Err(e) => Err(e.into()),
            }
        }
        SessionsCommand::Repair { agent, json } => {
            let (store, agent) = store_for(ctx, agent);
            repair(&store, &agent, json)
        }
        SessionsCommand::Export { key, format, agent } => {
            let (store, agent) = store_for(ctx, agent);
            let format = match format {
                FormatArg::Jsonl => ExportFormat::Jsonl,
                FormatArg::Markdown => ExportFormat::Markdown,
            };
            find(&store, &agent, &key)
                .and_then(|view| store.export(&view.key, format))
                .map(|text| {
                    print!("{text}");
                    ExitCode::SUCCESS
                })
                .map_err(Into::into)
        }
    };
    match result {
        Ok(code) => Ok(code),
        Err(error) => {
            eprintln!("error: {error:#}");
            Ok(ExitCode::from(1))
        }
    }
}
