//! Sessions in OpenClaw's on-disk shape: `<state>/agents/<agentId>/sessions/sessions.json`
//! (with clawgate's journal beside it, see [`store`]) plus one append-only `<sessionId>.jsonl`
//! per session. The agent reaches them only through the [`SessionBackend`] traits, so a shared
//! backend can replace the files. An [`OpenSession`] is a session loaded once and kept in
//! memory (its active context and last entry id), so a turn appends lines and never re-reads
//! or re-parses the transcript.

pub mod backend;
mod entry;
pub mod files;
pub mod policy;
pub mod repair;
pub mod store;
pub mod transcript;

use std::path::{Path, PathBuf};

use clawgate_wire::Message;

use crate::clock::{Clock, rfc3339};
use crate::context::ActiveContext;
use crate::error::AgentError;
pub use backend::{SessionBackend, TranscriptHandle};
pub use files::FileSessions;
pub use policy::{
    MaintenanceMode, MaintenancePolicy, ResetMode, ResetPolicy, SessionPolicy, maintenance_victims,
};
pub use repair::{RecoveredSession, RepairReport, SkippedFile};
pub use store::{IndexStats, SessionEntry, SessionStore};
pub use transcript::{
    CompactionRecord, EntryBody, LoadedTranscript, SessionHeader, StoredMessage, TranscriptEntry,
    TranscriptWriter, load_transcript, new_entry_id, parse_transcript, transcript_path,
};

/// The longest session key accepted, in bytes (OpenClaw's `SESSION_KEY_MAX_LENGTH`). Keys
/// are index rows and log fields; a client must not be able to grow them without bound.
pub const MAX_SESSION_KEY_BYTES: usize = 512;

/// `agent:<agentId>:main`, the default (DM scope `main`) session key.
pub fn main_session_key(agent_id: &str) -> String {
    format!("agent:{agent_id}:main")
}

/// Refuses an empty key or one longer than [`MAX_SESSION_KEY_BYTES`].
pub fn check_session_key(key: &str) -> Result<(), AgentError> {
    if key.trim().is_empty() {
        return Err(AgentError::InvalidSessionKey(
            "a session key must not be empty".into(),
        ));
    }
    if key.len() > MAX_SESSION_KEY_BYTES {
        return Err(AgentError::InvalidSessionKey(format!(
            "a session key is at most {MAX_SESSION_KEY_BYTES} bytes; this one has {}",
            key.len()
        )));
    }
    Ok(())
}

/// `<state>/agents/<agentId>/sessions`.
pub fn sessions_dir(state_dir: &Path, agent_id: &str) -> PathBuf {
    state_dir.join("agents").join(agent_id).join("sessions")
}

/// The transcript of a row: its `sessionFile` (a name in `dir`, or an absolute path as OpenClaw
/// writes it), else `<sessionId>.jsonl`.
pub fn entry_transcript_path(dir: &Path, entry: &SessionEntry) -> PathBuf {
    match entry.session_file.as_deref().filter(|f| !f.is_empty()) {
        Some(file) if Path::new(file).is_absolute() => PathBuf::from(file),
        Some(file) => dir.join(file),
        None => transcript_path(dir, &entry.session_id),
    }
}

pub(crate) struct OpenSession {
    pub key: String,
    pub entry: SessionEntry,
    pub transcript: Box<dyn TranscriptHandle>,
    pub last_id: Option<String>,
    pub context: ActiveContext,
    pub message_count: usize,
    pub load_warnings: Vec<String>,
    /// Model notices already shown while this session was open: each is told once per open
    /// session (the terminal chat keeps its session open; the gateway opens it per turn).
    pub notices_told: std::collections::HashSet<String>,
}

impl OpenSession {
    /// Lock and load the transcript of `entry` (creating it with a header when new).
    pub async fn open(
        backend: &dyn SessionBackend,
        key: &str,
        entry: SessionEntry,
        cwd: &Path,
        clock: &dyn Clock,
    ) -> Result<Self, AgentError> {
        let header = SessionHeader {
            kind: "session".into(),
            id: entry.session_id.clone(),
            cwd: cwd.display().to_string(),
            timestamp: rfc3339(clock.now_ms()),
            parent_session: None,
            session_key: Some(key.to_string()),
        };
        let (transcript, loaded) = backend.open_transcript(key, &entry, header).await?;
        let mut context = ActiveContext::default();
        let mut message_count = 0;
        let branch = loaded.active_branch();
        let last_id = branch.last().map(|e| e.id.clone());
        for entry in branch {
            match &entry.body {
                EntryBody::Message(m) => {
                    message_count += 1;
                    context.push(entry.id.clone(), m.to_message());
                }
                EntryBody::Compaction(c) => {
                    context.apply_compaction(&c.summary, c.first_kept_entry_id.as_deref());
                }
                EntryBody::Other(_) => {}
            }
        }
        Ok(OpenSession {
            key: key.to_string(),
            entry,
            transcript,
            last_id,
            context,
            message_count,
            load_warnings: loaded.warnings,
            notices_told: std::collections::HashSet::new(),
        })
    }

    fn next_entry(&mut self, body: EntryBody, clock: &dyn Clock) -> TranscriptEntry {
        TranscriptEntry {
            id: new_entry_id(),
            parent_id: self.last_id.clone(),
            timestamp: rfc3339(clock.now_ms()),
            body,
        }
    }

    /// Append a message to the transcript and the active context; returns its entry id.
    pub async fn append_message(
        &mut self,
        stored: StoredMessage,
        clock: &dyn Clock,
    ) -> Result<String, AgentError> {
        let message: Message = stored.to_message();
        let entry = self.next_entry(EntryBody::Message(stored), clock);
        self.transcript.append(&entry).await?;
        self.last_id = Some(entry.id.clone());
        self.message_count += 1;
        self.context.push(entry.id.clone(), message);
        Ok(entry.id)
    }

    pub async fn append_compaction(
        &mut self,
        record: CompactionRecord,
        clock: &dyn Clock,
    ) -> Result<String, AgentError> {
        let summary = record.summary.clone();
        let first_kept = record.first_kept_entry_id.clone();
        let entry = self.next_entry(EntryBody::Compaction(record), clock);
        self.transcript.append(&entry).await?;
        self.last_id = Some(entry.id.clone());
        self.context
            .apply_compaction(&summary, first_kept.as_deref());
        Ok(entry.id)
    }
}
