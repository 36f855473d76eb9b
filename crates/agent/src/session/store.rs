//! `sessions.json`: the small mutable map from session key to [`SessionEntry`], in OpenClaw's
//! shape. Every change is a read-modify-write under `sessions.json.lock` (so a CLI chat and a
//! gateway on the same state dir do not lose each other's rows), written atomically (temp file,
//! optional fsync, rename), and unknown fields written by OpenClaw are kept as they were.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use fs4::fs_std::FileExt;
use serde::{Deserialize, Serialize};

use crate::error::AgentError;

/// One row of `sessions.json` (the model-relevant subset of OpenClaw's `SessionEntry`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionEntry {
    pub session_id: String,
    /// Transcript file name, relative to the sessions folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_file: Option<String>,
    #[serde(default)]
    pub session_started_at: u64,
    #[serde(default)]
    pub last_interaction_at: u64,
    #[serde(default)]
    pub updated_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_override: Option<String>,
    /// `"user"` for `/model`; clawgate never writes `"auto"` (fallback is turn-local).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_override_source: Option<String>,
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
    #[serde(default)]
    pub total_tokens: u64,
    /// Best-effort size of the context sent last (reported, else estimated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_tokens: Option<u64>,
    #[serde(default)]
    pub compaction_count: u32,
    /// `"on"` or `"off"`; absent means the agent default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_level: Option<String>,
    /// The fallback model the user was last told about (notice de-duplication).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_notice_model: Option<String>,
    /// Fields this crate does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl SessionEntry {
    pub fn reasoning_on(&self, default: bool) -> bool {
        match self.reasoning_level.as_deref() {
            Some("on") | Some("stream") => true,
            Some(_) => false,
            None => default,
        }
    }
}

/// The `sessions.json` of one agent.
#[derive(Debug, Clone)]
pub struct SessionStore {
    dir: PathBuf,
    durable: bool,
}

impl SessionStore {
    /// `dir` is `<state>/agents/<agentId>/sessions`. `durable` fsyncs each rewrite.
    pub fn new(dir: impl Into<PathBuf>, durable: bool) -> Self {
        SessionStore {
            dir: dir.into(),
            durable,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join("sessions.json")
    }

    /// All rows; a missing file is an empty store.
    pub fn load(&self) -> Result<BTreeMap<String, SessionEntry>, AgentError> {
        let path = self.path();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(e) => return Err(AgentError::io(&path, e)),
        };
        if text.trim().is_empty() {
            return Ok(BTreeMap::new());
        }
        serde_json::from_str(&text).map_err(|e| AgentError::Corrupt {
            path,
            message: format!("not a session map: {e}"),
        })
    }

    pub fn get(&self, key: &str) -> Result<Option<SessionEntry>, AgentError> {
        Ok(self.load()?.remove(key))
    }

    /// Read-modify-write one row under the store lock. `change` gets the current row (if any)
    /// and returns the row to store.
    pub fn update<F>(&self, key: &str, change: F) -> Result<SessionEntry, AgentError>
    where
        F: FnOnce(Option<SessionEntry>) -> SessionEntry,
    {
        std::fs::create_dir_all(&self.dir).map_err(|e| AgentError::io(&self.dir, e))?;
        let lock_path = self.dir.join("sessions.json.lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| AgentError::io(&lock_path, e))?;
        lock.lock_exclusive()
            .map_err(|e| AgentError::io(&lock_path, e))?;
        let result = self.update_locked(key, change);
        let _ = FileExt::unlock(&lock);
        result
    }

    fn update_locked<F>(&self, key: &str, change: F) -> Result<SessionEntry, AgentError>
    where
        F: FnOnce(Option<SessionEntry>) -> SessionEntry,
    {
        let mut all = self.load()?;
        let row = change(all.remove(key));
        all.insert(key.to_string(), row.clone());
        self.write_all(&all)?;
        Ok(row)
    }

    fn write_all(&self, all: &BTreeMap<String, SessionEntry>) -> Result<(), AgentError> {
        let path = self.path();
        let mut text = serde_json::to_string_pretty(all).map_err(|e| AgentError::Corrupt {
            path: path.clone(),
            message: e.to_string(),
        })?;
        text.push('\n');
        let mut tmp =
            tempfile::NamedTempFile::new_in(&self.dir).map_err(|e| AgentError::io(&self.dir, e))?;
        tmp.write_all(text.as_bytes())
            .map_err(|e| AgentError::io(tmp.path(), e))?;
        if self.durable {
            tmp.as_file()
                .sync_all()
                .map_err(|e| AgentError::io(tmp.path(), e))?;
        }
        tmp.persist(&path)
            .map_err(|e| AgentError::io(&path, e.error))?;
        if self.durable
            && let Ok(dir) = File::open(&self.dir)
        {
            let _ = dir.sync_all();
        }
        Ok(())
    }
}
