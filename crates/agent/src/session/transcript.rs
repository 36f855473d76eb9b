//! The append-only `<sessionId>.jsonl` transcript: a header line
//! `{type:"session", id, cwd, timestamp}`, then one JSON entry per line, each with `id` and
//! `parentId`. The file is the full history; compaction only appends a `compaction` entry.
//!
//! Crash safety comes from the write pattern: each entry is one `write` of a
//! whole line (preceded by a newline when the file does not end with one, so an entry never glues
//! onto a torn line). A process killed mid-write leaves at most one torn line at the end, which
//! the loader skips with a warning. One writer per transcript: [`TranscriptWriter`] holds an
//! exclusive `fs4` lock on `<sessionId>.lock` for as long as it lives. Its calls block, so the
//! backend ([`FileSessions`](crate::session::FileSessions)) runs them on the blocking pool;
//! a durable backend also fsyncs the transcript once per turn, before the answer goes out.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use clawgate_wire::{ContentBlock, Message, Role, StopReason, Usage};
use fs4::fs_std::FileExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::AgentError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionHeader {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    pub cwd: String,
    pub timestamp: String,
    #[serde(
        rename = "parentSession",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub parent_session: Option<String>,
    /// clawgate's own field: the key the session was created under, so
    /// `clawgate sessions repair` can rebuild the index from the transcripts.
    #[serde(
        rename = "sessionKey",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub session_key: Option<String>,
}

/// A message as stored: canonical content blocks plus what the answer cost and who gave it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredMessage {
    pub role: Role,
    pub content: Vec<ContentBlock>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<StopReason>,
}

impl StoredMessage {
    pub fn to_message(&self) -> Message {
        Message {
            role: self.role,
            content: self.content.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompactionRecord {
    pub summary: String,
    /// First entry kept verbatim after the summary; `None` when everything was summarised.
    pub first_kept_entry_id: Option<String>,
    pub tokens_before: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EntryBody {
    Message(StoredMessage),
    Compaction(CompactionRecord),
    /// An entry type this crate does not use (`custom`, `branch_summary`, …), kept as read.
    Other(Value),
}

#[derive(Debug, Clone, PartialEq)]
pub struct TranscriptEntry {
    pub id: String,
    pub parent_id: Option<String>,
    pub timestamp: String,
    pub body: EntryBody,
}

impl TranscriptEntry {
    /// The entry as one JSON line (no newline).
    pub fn to_json(&self) -> Value {
        let mut obj = serde_json::Map::new();
        let kind = match &self.body {
            EntryBody::Message(_) => "message".to_string(),
            EntryBody::Compaction(_) => "compaction".to_string(),
            EntryBody::Other(v) => v
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("custom")
                .to_string(),
        };
        obj.insert("type".into(), Value::String(kind));
        obj.insert("id".into(), Value::String(self.id.clone()));
        obj.insert(
            "parentId".into(),
            self.parent_id.clone().map_or(Value::Null, Value::String),
        );
        obj.insert("timestamp".into(), Value::String(self.timestamp.clone()));
        match &self.body {
            EntryBody::Message(m) => {
                obj.insert(
                    "message".into(),
                    serde_json::to_value(m).unwrap_or(Value::Null),
                );
            }
            EntryBody::Compaction(c) => {
                if let Ok(Value::Object(fields)) = serde_json::to_value(c) {
                    obj.extend(fields);
                }
            }
            EntryBody::Other(v) => {
                if let Value::Object(fields) = v {
                    for (k, val) in fields {
                        obj.entry(k.clone()).or_insert_with(|| val.clone());
                    }
                }
            }
        }
        Value::Object(obj)
    }

    fn from_json(v: Value) -> Result<Self, String> {
        let id = v
            .get("id")
            .and_then(Value::as_str)
            .ok_or("entry without id")?
            .to_string();
        let parent_id = v
            .get("parentId")
            .and_then(Value::as_str)
            .map(str::to_string);
        let timestamp = v
            .get("timestamp")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let body = match v.get("type").and_then(Value::as_str) {
            Some("message") => {
                let m = v
                    .get("message")
                    .cloned()
                    .ok_or("message entry without message")?;
                EntryBody::Message(serde_json::from_value(m).map_err(|e| e.to_string())?)
            }
            Some("compaction") => {
                EntryBody::Compaction(serde_json::from_value(v).map_err(|e| e.to_string())?)
            }
            Some(_) => EntryBody::Other(v),
            None => return Err("entry without type".into()),
        };
        Ok(TranscriptEntry {
            id,
            parent_id,
            timestamp,
            body,
        })
    }
}

/// A transcript as read from disk. Read-only; needs no lock.
#[derive(Debug, Clone)]
pub struct LoadedTranscript {
    pub header: Option<SessionHeader>,
    /// Valid entries in file order.
    pub entries: Vec<TranscriptEntry>,
    /// Lines that could not be read (torn last line after a crash, hand edits), never fatal.
    pub warnings: Vec<String>,
}

impl LoadedTranscript {
    /// The entries on the path from the root to the newest entry (the active branch). Our own
    /// writer never branches, so for clawgate files this is every entry; OpenClaw trees with
    /// branches resolve to the branch written last.
    pub fn active_branch(&self) -> Vec<&TranscriptEntry> {
        let Some(last) = self.entries.last() else {
            return Vec::new();
        };
        let index: std::collections::HashMap<&str, usize> = self
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.id.as_str(), i))
            .collect();
        let mut chain = vec![last];
        let mut cursor = last.parent_id.as_deref();
        while let Some(pid) = cursor {
            let Some(&i) = index.get(pid) else { break };
            let entry = &self.entries[i];
            if chain.len() > self.entries.len() {
                break; // a parent loop in a hand-edited file
            }
            chain.push(entry);
            cursor = entry.parent_id.as_deref();
        }
        chain.reverse();
        chain
    }
}

pub fn load_transcript(path: &Path) -> Result<LoadedTranscript, AgentError> {
    let bytes = std::fs::read(path).map_err(|e| AgentError::io(path, e))?;
    Ok(parse_transcript(&bytes, path))
}

/// Parses a transcript's bytes (JSON lines); `path` names it in warnings.
pub fn parse_transcript(bytes: &[u8], path: &Path) -> LoadedTranscript {
    let mut out = LoadedTranscript {
        header: None,
        entries: Vec::new(),
        warnings: Vec::new(),
    };
    let line_count = bytes.split(|b| *b == b'\n').count();
    for (n, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let last = n + 1 == line_count;
        let parsed = serde_json::from_slice::<Value>(raw).map_err(|e| e.to_string());
        let value = match parsed {
            Ok(v) => v,
            Err(e) => {
                let what = if last {
                    "torn last line"
                } else {
                    "unreadable line"
                };
                let warning = format!("{}:{}: {what} skipped ({e})", path.display(), n + 1);
                tracing::warn!("{warning}");
                out.warnings.push(warning);
                continue;
            }
        };
        if value.get("type").and_then(Value::as_str) == Some("session") {
            match serde_json::from_value::<SessionHeader>(value) {
                Ok(h) if out.header.is_none() => out.header = Some(h),
                Ok(_) => {}
                Err(e) => {
                    out.warnings
                        .push(format!("{}:{}: bad header ({e})", path.display(), n + 1))
                }
            }
            continue;
        }
        match TranscriptEntry::from_json(value) {
            Ok(entry) => out.entries.push(entry),
            Err(e) => {
                let warning = format!("{}:{}: entry skipped ({e})", path.display(), n + 1);
                tracing::warn!("{warning}");
                out.warnings.push(warning);
            }
        }
    }
    out
}

/// The single writer of one transcript. Holds the session's lock file while alive.
#[derive(Debug)]
pub struct TranscriptWriter {
    path: PathBuf,
    file: File,
    _lock: SessionLock,
    needs_newline: bool,
}

#[derive(Debug)]
struct SessionLock {
    file: File,
}

impl Drop for SessionLock {
    fn drop(&mut self) {
        let _ = FileExt::unlock(&self.file);
    }
}

impl TranscriptWriter {
    /// Open (creating with a header when new) and lock the transcript at `path` (normally
    /// `<dir>/<session_id>.jsonl`); the lock file is `<dir>/<session_id>.lock`.
    pub fn open(
        dir: &Path,
        path: PathBuf,
        session_id: &str,
        key: &str,
        header: impl FnOnce() -> SessionHeader,
    ) -> Result<Self, AgentError> {
        std::fs::create_dir_all(dir).map_err(|e| AgentError::io(dir, e))?;
        let lock_path = dir.join(format!("{session_id}.lock"));
        let lock_file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| AgentError::io(&lock_path, e))?;
        let locked = lock_file
            .try_lock_exclusive()
            .map_err(|e| AgentError::io(&lock_path, e))?;
        if !locked {
            return Err(AgentError::SessionLocked {
                key: key.to_string(),
                path: lock_path,
            });
        }
        let lock = SessionLock { file: lock_file };
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(|e| AgentError::io(&path, e))?;
        let len = file.metadata().map_err(|e| AgentError::io(&path, e))?.len();
        let mut needs_newline = false;
        if len > 0 {
            let mut last = [0u8; 1];
            file.seek(SeekFrom::Start(len - 1))
                .and_then(|_| file.read_exact(&mut last))
                .map_err(|e| AgentError::io(&path, e))?;
            needs_newline = last[0] != b'\n';
        }
        let mut writer = TranscriptWriter {
            path,
            file,
            _lock: lock,
            needs_newline,
        };
        if len == 0 {
            let line = serde_json::to_value(header()).unwrap_or(Value::Null);
            writer.write_line(&line)?;
        }
        Ok(writer)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn append(&mut self, entry: &TranscriptEntry) -> Result<(), AgentError> {
        self.write_line(&entry.to_json())
    }

    /// fsync: what was appended survives power loss, not only a killed process.
    pub fn sync(&mut self) -> Result<(), AgentError> {
        self.file
            .sync_data()
            .map_err(|e| AgentError::io(&self.path, e))
    }

    fn write_line(&mut self, value: &Value) -> Result<(), AgentError> {
        let json = serde_json::to_string(value).map_err(|e| AgentError::Corrupt {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        let mut line = String::with_capacity(json.len() + 2);
        if self.needs_newline {
            line.push('\n');
        }
        line.push_str(&json);
        line.push('\n');
        // One write of the whole line: a crash leaves either the line or a torn tail of it.
        self.file
            .write_all(line.as_bytes())
            .and_then(|_| self.file.flush())
            .map_err(|e| AgentError::io(&self.path, e))?;
        self.needs_newline = false;
        Ok(())
    }
}

pub fn transcript_path(dir: &Path, session_id: &str) -> PathBuf {
    dir.join(format!("{session_id}.jsonl"))
}

/// A fresh entry id: 12 hex digits of a v4 UUID (48 random bits; OpenClaw uses 8).
pub fn new_entry_id() -> String {
    let mut s = uuid::Uuid::new_v4().simple().to_string();
    s.truncate(12);
    s
}
