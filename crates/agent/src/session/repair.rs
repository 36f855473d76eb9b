//! `clawgate sessions repair`: rebuild an agent's session index from the transcripts. Rows
//! still readable (in `sessions.json` and its journal) are kept as they are; every transcript
//! with a session header that no row points to gets a row back, under the key its header
//! names (clawgate writes `sessionKey` into headers) or `agent:<agentId>:recovered:<id>`. When
//! two transcripts claim one key, the most recently active keeps it. An unreadable
//! `sessions.json` is moved aside (`sessions.json.bad-<ms>`), never deleted, and no transcript
//! is ever touched. The new index is written atomically under the index lock.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::UNIX_EPOCH;

use serde::Serialize;

use crate::error::AgentError;
use crate::session::store::SessionStore;
use crate::session::{EntryBody, SessionEntry, load_transcript};
use clawgate_wire::Role;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecoveredSession {
    pub key: String,
    pub session_id: String,
    /// Relative to the state dir.
    pub file: String,
    pub messages: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SkippedFile {
    pub file: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RepairReport {
    /// The index, relative to the state dir.
    pub index: String,
    /// What the index was: `ok`, `missing`, `empty` or `unreadable`.
    pub index_state: String,
    /// Rows kept from the old index.
    pub kept: usize,
    /// Rows of the old index that could not be read (their keys).
    pub dropped_rows: Vec<String>,
    pub recovered: Vec<RecoveredSession>,
    pub skipped: Vec<SkippedFile>,
    /// Where an unreadable index was moved, relative to the state dir.
    pub backup: Option<String>,
}

fn ms_of(timestamp: &str) -> Option<u64> {
    humantime::parse_rfc3339_weak(timestamp.trim())
        .ok()?
        .duration_since(UNIX_EPOCH)
        .ok()
        .map(|d| d.as_millis() as u64)
}

impl SessionStore {
    /// Rebuilds the index of agent `agent_id` (see the module header); `now_ms` names the
    /// backup of an unreadable index.
    pub fn repair(&self, agent_id: &str, now_ms: u64) -> Result<RepairReport, AgentError> {
        let _guard = self.lock_exclusive()?;
        let path = self.path();
        let mut report = RepairReport {
            index: self.display(&path).display().to_string(),
            index_state: "ok".into(),
            kept: 0,
            dropped_rows: Vec::new(),
            recovered: Vec::new(),
            skipped: Vec::new(),
            backup: None,
        };
        let mut map: BTreeMap<String, SessionEntry> = BTreeMap::new();
        match std::fs::read_to_string(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                report.index_state = "missing".into();
            }
            Err(e) => return Err(self.io(&path, e)),
            Ok(text) if text.trim().is_empty() => report.index_state = "empty".into(),
            Ok(text) => match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(serde_json::Value::Object(rows)) => {
                    for (key, row) in rows {
                        match serde_json::from_value::<SessionEntry>(row) {
                            Ok(entry) if !entry.session_id.is_empty() => {
                                map.insert(key, entry);
                            }
                            _ => report.dropped_rows.push(key),
                        }
                    }
                    if !report.dropped_rows.is_empty() {
                        report.index_state = "unreadable".into();
                    }
                }
                _ => report.index_state = "unreadable".into(),
            },
        }
        let (ops, _) = self.read_journal_from(0)?;
        for op in ops {
            crate::session::store::apply(&mut map, op);
        }
        report.kept = map.len();
        self.recover_transcripts(agent_id, &mut map, &mut report)?;
        if matches!(report.index_state.as_str(), "empty" | "unreadable") {
            let backup = self.dir().join(format!("sessions.json.bad-{now_ms}"));
            std::fs::rename(&path, &backup).map_err(|e| self.io(&path, e))?;
            report.backup = Some(self.display(&backup).display().to_string());
        }
        self.write_snapshot(&map)?;
        Ok(report)
    }

    fn recover_transcripts(
        &self,
        agent_id: &str,
        map: &mut BTreeMap<String, SessionEntry>,
        report: &mut RepairReport,
    ) -> Result<(), AgentError> {
        let dir = self.dir();
        let indexed: HashMap<String, ()> = map
            .values()
            .flat_map(|e| {
                let file = crate::session::entry_transcript_path(dir, e);
                [
                    e.session_id.clone(),
                    file.file_name()
                        .map(|f| f.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                ]
            })
            .map(|k| (k, ()))
            .collect();
        let mut files: Vec<_> = match std::fs::read_dir(dir) {
            Ok(read) => read
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
                .filter(|p| p.file_name().is_some_and(|n| n != "sessions.journal.jsonl"))
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(self.io(dir, e)),
        };
        files.sort();
        // key → candidates (entry, messages, file)
        let mut claims: BTreeMap<String, Vec<(SessionEntry, usize, String)>> = BTreeMap::new();
        for file in files {
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let shown = self.display(&file).display().to_string();
            let loaded = match load_transcript(&file) {
                Ok(t) => t,
                Err(e) => {
                    report.skipped.push(SkippedFile {
                        file: shown,
                        reason: format!("unreadable: {}", io_reason(&e)),
                    });
                    continue;
                }
            };
            let Some(header) = loaded.header.clone() else {
                report.skipped.push(SkippedFile {
                    file: shown,
                    reason: "no session header line".into(),
                });
                continue;
            };
            if indexed.contains_key(&header.id) || indexed.contains_key(&name) {
                continue;
            }
            let (entry, messages) = entry_from(&loaded, &header.id, &name, &file);
            let key = header
                .session_key
                .clone()
                .filter(|k| crate::session::check_session_key(k).is_ok())
                .unwrap_or_else(|| recovered_key(agent_id, &header.id));
            claims
                .entry(key)
                .or_default()
                .push((entry, messages, shown));
        }
        for (key, mut candidates) in claims {
            candidates.sort_by_key(|c| std::cmp::Reverse(c.0.updated_at));
            for (i, (entry, messages, file)) in candidates.into_iter().enumerate() {
                let key = if i == 0 && !map.contains_key(&key) {
                    key.clone()
                } else {
                    recovered_key(agent_id, &entry.session_id)
                };
                report.recovered.push(RecoveredSession {
                    key: key.clone(),
                    session_id: entry.session_id.clone(),
                    file,
                    messages,
                });
                map.insert(key, entry);
            }
        }
        Ok(())
    }
}

fn recovered_key(agent_id: &str, session_id: &str) -> String {
    format!("agent:{agent_id}:recovered:{session_id}")
}

fn io_reason(error: &AgentError) -> String {
    match error {
        AgentError::Io { source, .. } => source.to_string(),
        other => other.to_string(),
    }
}

/// A row for a transcript: its times from the header and last entry, its token counts from
/// the answers' usage.
fn entry_from(
    loaded: &crate::session::LoadedTranscript,
    session_id: &str,
    file_name: &str,
    path: &Path,
) -> (SessionEntry, usize) {
    let started = loaded
        .header
        .as_ref()
        .and_then(|h| ms_of(&h.timestamp))
        .unwrap_or(0);
    let modified = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(started, |d| d.as_millis() as u64);
    let last = loaded
        .entries
        .last()
        .and_then(|e| ms_of(&e.timestamp))
        .unwrap_or(modified);
    let (mut input, mut output, mut messages, mut compactions) = (0u64, 0u64, 0usize, 0u32);
    for entry in &loaded.entries {
        match &entry.body {
            EntryBody::Message(m) => {
                messages += 1;
                if m.role == Role::Assistant
                    && let Some(usage) = m.usage
                {
                    input += usage.input_tokens.unwrap_or(0);
                    output += usage.output_tokens.unwrap_or(0);
                }
            }
            EntryBody::Compaction(_) => compactions += 1,
            EntryBody::Other(_) => {}
        }
    }
    let entry = SessionEntry {
        session_id: session_id.to_string(),
        session_file: Some(file_name.to_string()),
        session_started_at: started,
        last_interaction_at: last,
        updated_at: last,
        input_tokens: input,
        output_tokens: output,
        total_tokens: input + output,
        compaction_count: compactions,
        ..SessionEntry::default()
    };
    (entry, messages)
}
