//! `clawgate state migrate-from-files`: copies a state dir's sessions (every agent's index rows
//! and transcripts) and cooldowns into the shared database. Idempotent: rows already in the
//! database are kept as they are (they may be newer), transcript lines are keyed by their line
//! number, and a cooldown replaces one only when it is newer, so a second run copies nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clawgate_agent::session::{SessionEntry, SessionStore, entry_transcript_path};
use clawgate_router::{CooldownEntry, CooldownSchedule, CooldownStore};
use serde::Serialize;
use tokio_postgres::types::Json;

use crate::state::PgState;

/// What a run copied (and found already there).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MigrationSummary {
    pub agents: usize,
    pub sessions_copied: u64,
    pub sessions_present: u64,
    pub transcript_lines_copied: u64,
    pub transcript_lines_present: u64,
    pub transcripts_missing: u64,
    pub cooldowns_copied: u64,
    pub cooldowns_present: u64,
}

/// One agent's rows and transcript lines as read from the files.
struct AgentFiles {
    agent: String,
    rows: BTreeMap<String, SessionEntry>,
    /// Per session id: its lines, or `None` when the file is missing.
    transcripts: Vec<(String, Option<Vec<String>>)>,
}

fn read_agents(state_dir: &Path) -> Result<Vec<AgentFiles>, String> {
    let agents_dir = state_dir.join("agents");
    let mut names: Vec<String> = match std::fs::read_dir(&agents_dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .filter(|e| e.path().join("sessions").is_dir())
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(format!("{}: {e}", agents_dir.display())),
    };
    names.sort();
    let mut out = Vec::new();
    for agent in names {
        let store = SessionStore::for_agent(state_dir, &agent);
        let rows = store.load().map_err(|e| e.to_string())?;
        let mut transcripts = Vec::new();
        for entry in rows.values() {
            let path: PathBuf = entry_transcript_path(store.dir(), entry);
            let lines = match std::fs::read_to_string(&path) {
                Ok(text) => Some(
                    text.lines()
                        .filter(|l| !l.trim().is_empty())
                        .map(str::to_string)
                        .collect(),
                ),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(format!("{}: {e}", path.display())),
            };
            transcripts.push((entry.session_id.clone(), lines));
        }
        out.push(AgentFiles {
            agent,
            rows,
            transcripts,
        });
    }
    Ok(out)
}

/// Copies `state_dir` into the database; `progress` hears one line per step.
pub async fn migrate_from_files(
    state: &PgState,
    state_dir: &Path,
    progress: &mut (dyn FnMut(&str) + Send),
) -> Result<MigrationSummary, String> {
    state.migrate().await.map_err(|e| e.to_string())?;
    let dir = state_dir.to_path_buf();
    let agents = tokio::task::spawn_blocking(move || read_agents(&dir))
        .await
        .map_err(|e| e.to_string())??;
    let dir = state_dir.to_path_buf();
    let cooldowns: BTreeMap<String, CooldownEntry> = tokio::task::spawn_blocking(move || {
        let store = CooldownStore::open(&dir, CooldownSchedule::default());
        match store.load_warning() {
            Some(warning) => Err(warning.to_string()),
            None => Ok(store.snapshot()),
        }
    })
    .await
    .map_err(|e| e.to_string())??;
    let mut summary = MigrationSummary {
        agents: agents.len(),
        ..MigrationSummary::default()
    };
    let mut client = state.client().await.map_err(|e| e.to_string())?;
    let fail = |e: tokio_postgres::Error| state.query_error(e).to_string();
    for files in &agents {
        let tx = client.transaction().await.map_err(fail)?;
        for (key, entry) in &files.rows {
            let n = tx
                .execute(
                    "INSERT INTO sessions (agent_id, session_key, entry) VALUES ($1, $2, $3) \
                     ON CONFLICT (agent_id, session_key) DO NOTHING",
                    &[&files.agent, key, &Json(entry)],
                )
                .await
                .map_err(fail)?;
            summary.sessions_copied += n;
            summary.sessions_present += 1 - n;
        }
        for (session_id, lines) in &files.transcripts {
            let Some(lines) = lines else {
                summary.transcripts_missing += 1;
                continue;
            };
            for (index, line) in lines.iter().enumerate() {
                let seq = index as i64 + 1;
                let n = tx
                    .execute(
                        "INSERT INTO transcript_lines (agent_id, session_id, seq, line) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                        &[&files.agent, session_id, &seq, line],
                    )
                    .await
                    .map_err(fail)?;
                summary.transcript_lines_copied += n;
                summary.transcript_lines_present += 1 - n;
            }
        }
        tx.commit().await.map_err(fail)?;
        progress(&format!(
            "agent {}: {} session(s), {} transcript(s)",
            files.agent,
            files.rows.len(),
            files.transcripts.len()
        ));
    }
    for (name, entry) in &cooldowns {
        let updated_at = i64::try_from(entry.updated_at).unwrap_or(i64::MAX);
        let n = client
            .execute(
                "INSERT INTO cooldowns (name, entry, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO UPDATE SET entry = EXCLUDED.entry, \
                 updated_at = EXCLUDED.updated_at WHERE cooldowns.updated_at < EXCLUDED.updated_at",
                &[name, &Json(entry), &updated_at],
            )
            .await
            .map_err(fail)?;
        summary.cooldowns_copied += n;
        summary.cooldowns_present += 1 - n;
    }
    progress(&format!("cooldowns: {} entr(ies)", cooldowns.len()));
    Ok(summary)
}
